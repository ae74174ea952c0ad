"""Layered options: JSON Merge Patch, provenance, and structuring into typed options classes.

Options arrive in named layers of plain mappings, lowest priority first:
``preset -> instance -> agent -> call`` above the options class's own defaults. :func:`resolve`
merges them with :func:`merge_patch` (RFC 7396: objects merge recursively, ``None`` deletes a
key, anything else replaces, arrays included) and remembers which layer set every leaf.
:func:`structure` turns the merged mapping into a provider's attrs options class through the
shared converter; every error names the path and the layer that supplied the bad value.

Layer names are built here and nowhere else: a kind (:data:`PRESET`, :data:`INSTANCE`,
:data:`AGENT`, :data:`CALL`, :data:`OVERRIDE`) and, for the named ones, ``kind:name``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from jackfield._errors import ConfigError, Issue, OptionsError, Path, format_path
from jackfield._secret import MASK, is_secret_header, mask_url

__all__ = [
    "AGENT",
    "CALL",
    "INSTANCE",
    "OVERRIDE",
    "PRESET",
    "Layer",
    "Resolved",
    "field_docs",
    "instance_layers",
    "layer_name",
    "merge_patch",
    "resolve",
    "structure",
]

T = TypeVar("T")
Layer = tuple[str, "Mapping[str, Any]"]
"""A named option layer: ``("agent:coder", {"temperature": 0.2})``."""

PRESET = "preset"
"""A ready-made instance's options, registered by a plugin (``preset:lmstudio``)."""
INSTANCE = "instance"
"""A provider instance's options, from the configuration or the caller (``instance:local``)."""
AGENT = "agent"
"""An agent's overrides and model (``agent:coder``)."""
CALL = "call"
"""The options given to one call (``provider.stream(..., temperature=0)``)."""
OVERRIDE = "override"
"""Options a tool lays over an instance for its own purpose (short timeouts for a probe)."""
_PLAIN = "options"  # a plain mapping given to structure(): one layer, never named in issues


def layer_name(kind: str, name: str | None = None) -> str:
    """The name of a layer: ``layer_name(AGENT, "coder") == "agent:coder"``."""
    return f"{kind}:{name}" if name is not None else kind


def instance_layers(
    name: str,
    options: Mapping[str, Any] | None,
    *,
    preset: str | None = None,
    preset_options: Mapping[str, Any] | None = None,
) -> Resolved:
    """The layers of a provider instance: its preset's options (when it builds on one), then
    its own. Every place that builds an instance (the registry, a host, the configuration
    check) stacks them here."""
    layers: list[Layer] = []
    if preset is not None:
        layers.append((layer_name(PRESET, preset), preset_options or {}))
    layers.append((layer_name(INSTANCE, name), options or {}))
    return resolve(*layers)


MAX_DEPTH = 100
"""How deeply option values may nest (objects and arrays). Deeper input is an error, not a
crash: every walk over options (and the JSON encoder after them) then stays far from Python's
recursion limit."""


class _TooDeep(Exception):
    pass


def _copy(value: Any, depth: int = 0) -> Any:
    if isinstance(value, (Mapping, list, tuple)) and depth >= MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, Mapping):
        return {k: _copy(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v, depth + 1) for v in value]
    return value


def _too_deep(path: Path, layer: str) -> OptionsError:
    return OptionsError(
        f"layer {layer!r}", [Issue(path, f"nested more than {MAX_DEPTH} levels deep", layer)]
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` as an RFC 7396 JSON Merge Patch; return a new value.

    Neither input is modified and the result shares no mutable containers with them.

    >>> merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}, "f": [5]})
    {'a': 1, 'b': {'d': 3, 'e': 4}, 'f': [5]}
    """
    try:
        return _merge(target, patch, 0)
    except _TooDeep:
        raise ConfigError(
            f"a merge patch input is nested more than {MAX_DEPTH} levels deep"
        ) from None


def _merge(target: Any, patch: Any, depth: int) -> Any:
    if not isinstance(patch, Mapping):
        return _copy(patch, depth)
    if depth >= MAX_DEPTH:
        raise _TooDeep
    result = (
        {k: _copy(v, depth + 1) for k, v in target.items()} if isinstance(target, Mapping) else {}
    )
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value, depth + 1)
    return result


def _drop(provenance: dict[Path, str], path: Path) -> None:
    size = len(path)
    for key in [k for k in provenance if k[:size] == path]:
        del provenance[key]


def _apply(
    target: dict[str, Any],
    patch: Mapping[str, Any],
    prefix: Path,
    layer: str,
    provenance: dict[Path, str],
) -> None:
    for key, value in patch.items():
        if not isinstance(key, str):
            raise OptionsError(
                f"layer {layer!r}",
                [Issue(prefix, f"option keys must be strings, got {key!r}", layer)],
            )
        path = (*prefix, key)
        if value is None:
            target.pop(key, None)
            _drop(provenance, path)
        elif isinstance(value, Mapping):
            if len(path) >= MAX_DEPTH:
                raise _too_deep(path, layer)
            current = target.get(key)
            if not isinstance(current, dict):
                _drop(provenance, path)
                current = target[key] = {}
                provenance[path] = layer  # this layer created the object
            _apply(current, value, path, layer, provenance)
        else:
            _drop(provenance, path)
            try:
                target[key] = _copy(value, len(path))
            except _TooDeep:
                raise _too_deep(path, layer) from None
            provenance[path] = layer


@attrs.frozen
class Resolved:
    """Merged options plus where each leaf came from.

    ``value`` is the merged mapping; ``provenance`` maps a path (tuple of keys) to the name of
    the last layer that set it; ``layers`` lists the layer names in order.
    """

    value: Mapping[str, Any] = attrs.field(factory=dict)
    provenance: Mapping[Path, str] = attrs.field(factory=dict)
    layers: tuple[str, ...] = ()

    def with_layer(self, name: str, patch: Mapping[str, Any] | None) -> Resolved:
        """A new :class:`Resolved` with one more layer merged on top."""
        if patch is None:
            patch = {}
        if not isinstance(patch, Mapping):
            raise ConfigError(
                f"layer {name!r}: options must be a mapping, got {type(patch).__name__}"
            )
        value = _copy(self.value)
        provenance = dict(self.provenance)
        _apply(value, patch, (), name, provenance)
        return Resolved(value, provenance, (*self.layers, name))

    def source(self, path: Sequence[str | int]) -> str | None:
        """The layer that set the value at ``path`` (or the array or object containing it).

        ``None`` when no layer set it (a default) or ``path`` is not in the merged value.
        """
        key = tuple(path)
        if not _has(self.value, key):
            return None
        while key:
            layer = self.provenance.get(key)
            if layer is not None:
                return layer
            key = key[:-1]
        return None

    def leaves(self) -> Iterator[tuple[Path, Any]]:
        """Every leaf of the merged value (non-objects and empty objects) with its path."""
        yield from _leaves(self.value, ())

    def explain(self, effective: Mapping[str, Any] | None = None) -> str:
        """A table of every effective value and the layer that set it.

        ``effective`` is the fully structured options as a mapping (defaults included); values
        no layer set are then listed as ``(default)``.
        """
        rows = []
        for path, value in _leaves(effective if effective is not None else self.value, ()):
            origin = self.source(path)
            rows.append((format_path(path, root=""), _show(value, path), origin or "(default)"))
        if not rows:
            return "(no options set)"
        width_path = max(len(r[0]) for r in rows)
        width_value = max(len(r[1]) for r in rows)
        return "\n".join(
            f"{p.ljust(width_path)} = {v.ljust(width_value)}  <- {o}" for p, v, o in rows
        )


def _show(value: Any, path: Path = ()) -> str:
    """A value as the explain table shows it: credentials masked (a header named like a
    credential, a URL's password; secrets show their reference)."""
    if isinstance(value, str):
        if len(path) >= 2 and path[-2] == "headers" and is_secret_header(str(path[-1])):
            value = MASK
        else:
            value = mask_url(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=_shown)
    except ValueError:
        return repr(value)


def _shown(value: Any) -> Any:
    """JSON for values that are not JSON: secrets show their reference or a mask."""
    unstructure = getattr(value, "unstructure", None)
    return unstructure() if callable(unstructure) else str(value)


def _has(value: Any, path: Path) -> bool:
    for part in path:
        # Two branches on purpose: the int check narrows ``part`` for the list index.
        if isinstance(value, Mapping) and part in value:  # noqa: SIM114
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return False
    return True


def _present(value: Any, path: Path) -> Path:
    """The longest prefix of ``path`` that exists in ``value``."""
    while path and not _has(value, path):
        path = path[:-1]
    return path


def _leaves(value: Mapping[str, Any], prefix: Path) -> Iterator[tuple[Path, Any]]:
    for key, item in value.items():
        path = (*prefix, key)
        if isinstance(item, Mapping) and item:
            yield from _leaves(item, path)
        else:
            yield path, item


def resolve(*layers: Layer) -> Resolved:
    """Merge named layers, lowest priority first: ``resolve(("instance:local", {...}), ...)``."""
    resolved = Resolved()
    for entry in layers:
        item: object = entry
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ConfigError(f"a layer is a (name, mapping) pair, got {entry!r}")
        resolved = resolved.with_layer(*entry)
    return resolved


# --- structuring ---------------------------------------------------------------------------


def structure(
    cls: type[T], options: Resolved | Mapping[str, Any], *, target: str | None = None
) -> T:
    """Structure merged options into ``cls`` through the shared converter.

    Raises :class:`~jackfield.OptionsError` listing every problem with its path
    (``$.extra_body.samplers[2]``), what was expected, and the layer that set the value (a
    plain mapping is one unnamed layer).
    """
    from cattrs.errors import BaseValidationError

    from jackfield._converter import converter, validation_issues

    layered = isinstance(options, Resolved)
    if isinstance(options, Resolved):
        resolved = options
    else:
        try:
            resolved = Resolved().with_layer(_PLAIN, options)
        except OptionsError as exc:  # a key that is no string, a value nested too deep
            issues = [issue._replace(layer=None) for issue in exc.issues]
            raise OptionsError(target or cls.__name__, issues) from None
    try:
        return converter.structure(resolved.value, cls)
    except (BaseValidationError, TypeError, ValueError, KeyError) as exc:
        issues = [
            Issue(
                path,
                message,
                resolved.source(_present(resolved.value, path)) if layered else None,
            )
            for path, message in validation_issues(exc, cls)
        ]
        raise OptionsError(target or cls.__name__, issues) from None


# --- documentation ---------------------------------------------------------------------------


def field_docs(cls: type[Any]) -> dict[str, str]:
    """The attribute docstrings of an attrs class's fields, inherited ones included.

    An attribute docstring is the string right below a field in the class body (the convention
    Sphinx autodoc reads)::

        @attrs.define
        class Options:
            temperature: float | None = None
            '''Sampling temperature; unset leaves the server's default.'''

    Returns ``{field name: text}`` with whitespace collapsed, for the fields that have one.
    The configuration reference and the JSON Schema's descriptions come from here, so a
    provider documents its options once, next to their definitions. Reads the source, so it
    is meant for tooling, not for hot paths.
    """
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not attrs.has(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):  # no source (a class made at run time)
            continue
        body = ast.parse(source).body[0]
        if isinstance(body, ast.ClassDef):
            docs.update(_docstrings_below(body.body))
    names = {field.name for field in attrs.fields(cls)}
    return {name: " ".join(text.split()) for name, text in docs.items() if name in names}


def _docstrings_below(statements: Sequence[Any]) -> dict[str, str]:
    """``{name: text}`` for each assignment to a plain name directly followed by a string
    literal, in a class or module body (``ast`` statements)."""
    import ast
    import itertools

    found = {}
    for node, after in itertools.pairwise(statements):
        if not (
            isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = after.value.value
    return found


def own_affinity(caller: Any, options: Mapping[str, Any]) -> bool:
    """Whether ``caller``'s calls with ``options`` (a pipeline and its call options) should
    carry an affinity key of their own (a run's, a conversation's): they set none, and would go
    through a pool (``endpoints``) or to a router that reads one (``affinity_header``), so each
    goes to the server whose cache holds the conversation so far."""
    if "affinity" in options:
        return False
    try:
        typed = caller.options_for(**options)
    except ValueError:  # bad options fail where they are used, with their own error
        return False
    return getattr(typed, "affinity", 0) is None and bool(
        getattr(typed, "endpoints", None) or getattr(typed, "affinity_header", None)
    )
