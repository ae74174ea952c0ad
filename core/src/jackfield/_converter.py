"""The one configured cattrs converter every jackfield type goes through.

Rules, chosen so that bad input fails loudly and with a path:

* extra keys are errors (``forbid_extra_keys``), and validation is detailed so every
  problem is reported with its location;
* primitives are strict: ``"1"`` is not an int, ``True`` is not a number, ``1`` is not a str;
* ``dict[str, Any]`` / ``Mapping[str, Any]`` fields are free-form JSON objects: any JSON value
  is accepted inside them (copied), anything that is not JSON is rejected with its path;
* ``bytes`` travel as base64 strings; tuples unstructure to lists; enums to their values;
* fragments are tagged by ``"type"``, messages by ``"role"``, content parts by ``"type"``.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import enum
import math
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from jackfield._errors import Issue, Path, ValidationError
from jackfield._fragments import FRAGMENT_TAGS, Fragment, RunFragment
from jackfield._messages import ContentPart, ImagePart, Message, TextPart
from jackfield._secret import Secret

__all__ = [
    "JSONValueError",
    "check_json",
    "converter",
    "dump_fragment",
    "load_fragment",
    "make_converter",
    "structure_checked",
    "validation_issues",
]

_JSON_SCALARS = (str, int, float, bool, type(None))
_LITERAL: Any = Literal


class JSONValueError(TypeError):
    """A value inside a free-form JSON field is not JSON; ``path`` locates it."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


_MAX_JSON_DEPTH = 200


def check_json(value: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Return a deep copy of ``value`` as plain JSON (dicts, lists, scalars) or raise.

    Tuples become lists; non-finite floats, non-string keys and other objects are rejected.
    """
    if isinstance(value, _JSON_SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            raise JSONValueError(f"{value} is not a JSON number", path)
        return value
    if len(path) > _MAX_JSON_DEPTH:
        raise JSONValueError(f"nested more than {_MAX_JSON_DEPTH} levels deep", path[:8])
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JSONValueError(f"object keys must be strings, got {key!r}", path)
            out[key] = check_json(item, (*path, key))
        return out
    if isinstance(value, (list, tuple)):
        return [check_json(item, (*path, i)) for i, item in enumerate(value)]
    if isinstance(value, Secret):
        return value
    raise JSONValueError(f"{type(value).__name__} is not a JSON value", path)


def _strict(kind: type, name: str, also: tuple[type, ...] = ()) -> Any:
    accepted = (kind, *also)

    def hook(value: Any, t: Any) -> Any:
        if t is not kind and isinstance(t, type) and issubclass(t, enum.Enum):
            return _structure_enum(value, t)  # str/int enums dispatch here first
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {name}, got a boolean")
        if type(value) not in accepted and not isinstance(value, kind):
            raise TypeError(f"expected {name}, got {type(value).__name__} {value!r}")
        return float(value) if kind is float else value  # ints are accepted as floats

    return hook


def _is_json_object(t: Any) -> bool:
    return get_origin(t) in (dict, Mapping) and get_args(t) == (str, Any)


def _structure_json_object(value: Any, _: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object (mapping), got {type(value).__name__}")
    result: dict[str, Any] = check_json(value)
    return result


def _is_str_or_other(t: Any) -> bool:
    """``str | X`` unions (other than Optional): a string is taken as is, anything else as X."""
    if get_origin(t) is not Union and type(t).__name__ != "UnionType":
        return False
    args = [a for a in get_args(t) if a is not type(None)]
    return len(args) == 2 and str in args


def _structure_enum(value: Any, t: type[enum.Enum]) -> Any:
    try:
        return t(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in t)
        raise ValueError(f"expected one of {choices}, got {value!r}") from None


def _structure_literal(value: Any, t: Any) -> Any:
    for allowed in get_args(t):
        if value == allowed and type(value) is type(allowed):
            return allowed
    choices = ", ".join(repr(a) for a in get_args(t))
    raise ValueError(f"expected one of {choices}, got {value!r}")


def _structure_bytes(value: Any, _: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected base64 text, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64: {exc}") from None


def _structure_secret(value: Any, _: Any) -> Secret:
    try:
        return Secret.coerce(value)
    except ValueError as exc:
        raise TypeError(str(exc)) from None


def _shown(value: Any) -> str:
    """A value as an error quotes it: its type and a short repr."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


class NotATableError(TypeError):
    """A value that is no mapping where a class (a table of keys) is expected."""

    def __init__(self, value: Any, cls: Any) -> None:
        super().__init__(f"expected a table, got {_shown(value)}")
        self.value = value
        self.cls = cls


def _is_sequence(t: Any) -> bool:
    """``list[X]``, ``Sequence[X]``, ``tuple[X, ...]``: arrays of one item type."""
    origin = get_origin(t)
    if origin in (list, Sequence, MutableSequence):
        return True
    args = get_args(t)
    return origin is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_typed_mapping(t: Any) -> bool:
    """``dict[K, V]`` and ``Mapping[K, V]`` other than free-form JSON objects."""
    return (
        get_origin(t) in (dict, Mapping, MutableMapping)
        and len(get_args(t)) == 2
        and not _is_json_object(t)
    )


def _noted(exc: Exception, index: int | str, t: Any) -> Exception:
    note = IterableValidationNote(f"Structuring @ {index!r}", index, t)
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
    return exc


def make_converter() -> cattrs.Converter:
    """Build a converter with jackfield's rules (see the module docstring)."""
    conv = cattrs.Converter(
        forbid_extra_keys=True,
        detailed_validation=True,
        unstruct_collection_overrides={tuple: list},
    )
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(float, _strict(float, "a number", also=(int,)))
    conv.register_structure_hook_func(_is_json_object, _structure_json_object)

    hook: Any = conv._structure_func.dispatch  # the hook of a type (any cattrs version)

    def structure_sequence(value: Any, t: Any) -> Any:
        # Our own, so a string is never taken for a list of its characters (cattrs' strict
        # list hooks need cattrs 24.1; the floor is 23.2).
        if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
            hint = ": put it in brackets, [ ... ]" if isinstance(value, Mapping) else ""
            raise TypeError(f"expected a list, got {_shown(value)}{hint}")
        item = get_args(t)[0]
        handler = hook(item)  # once, not once per element
        items, errors = [], []
        for index, element in enumerate(value):
            try:
                items.append(handler(element, item))
            except Exception as exc:  # noqa: BLE001, PERF203 - every element's problem is reported
                errors.append(_noted(exc, index, item))
        if errors:
            raise IterableValidationError(f"While structuring {t!r}", errors, t)
        return tuple(items) if get_origin(t) is tuple else items

    def structure_mapping(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a table, got {_shown(value)}")
        key_type, value_type = get_args(t)
        structure_key, structure_value = hook(key_type), hook(value_type)
        result, errors = {}, []
        for key, element in value.items():
            try:
                result[structure_key(key, key_type)] = structure_value(element, value_type)
            except Exception as exc:  # noqa: BLE001, PERF203 - every entry's problem is reported
                errors.append(_noted(exc, key, value_type))
        if errors:
            raise IterableValidationError(f"While structuring {t!r}", errors, t)
        return result

    def structure_attrs(cls: Any) -> Any:
        inner = conv.gen_structure_attrs_fromdict(cls)

        def structure(value: Any, t: Any) -> Any:
            if not isinstance(value, Mapping):
                raise NotATableError(value, cls)
            return inner(value, t)

        return structure

    conv.register_structure_hook_func(_is_sequence, structure_sequence)
    conv.register_structure_hook_func(_is_typed_mapping, structure_mapping)
    conv.register_structure_hook_factory(attrs.has, structure_attrs)
    conv.register_unstructure_hook_func(_is_json_object, lambda v: check_json(v))

    def structure_str_or_other(value: Any, t: Any) -> Any:
        if isinstance(value, str):
            return value
        other = next(a for a in get_args(t) if a is not str and a is not type(None))
        if value is None and type(None) in get_args(t):
            return None
        try:
            return conv.structure(value, other)
        except (TypeError, ValueError) as exc:
            message = str(exc)
            if not message.startswith("expected ") or isinstance(exc, NotATableError):
                raise
            # "expected true or false, got int 1" -> "expected a string, or true or false, ..."
            raise type(exc)(f"expected a string, or {message.removeprefix('expected ')}") from None

    def unstructure_str_or_other(t: Any) -> Any:
        other = next(a for a in get_args(t) if a is not str and a is not type(None))
        return lambda v: v if v is None or isinstance(v, str) else conv.unstructure(v, other)

    conv.register_structure_hook_func(_is_str_or_other, structure_str_or_other)
    conv.register_unstructure_hook_factory(_is_str_or_other, unstructure_str_or_other)
    conv.register_structure_hook_func(lambda t: get_origin(t) is _LITERAL, _structure_literal)
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_structure_hook(bytes, _structure_bytes)
    conv.register_unstructure_hook(bytes, lambda b: base64.b64encode(b).decode("ascii"))
    conv.register_structure_hook(Secret, _structure_secret)
    conv.register_unstructure_hook(Secret, lambda s: s)
    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), lambda e: e.value
    )
    stream_tags = {cls: tag for cls, tag in FRAGMENT_TAGS.items() if cls in get_args(Fragment)}
    _tagged_union(conv, Fragment, "type", stream_tags)
    _tagged_union(conv, RunFragment, "type", FRAGMENT_TAGS)
    _tagged_union(conv, Message, "role", {cls: cls.role for cls in get_args(Message)})
    _tagged_union(conv, ContentPart, "type", {TextPart: "text", ImagePart: "image"})
    return conv


def _tagged_union(
    conv: cattrs.Converter, union: Any, tag_name: str, tags: Mapping[type[Any], str]
) -> None:
    """Structure/unstructure ``union`` as JSON objects carrying ``tag_name`` (inputs untouched)."""
    by_tag = {tag: cls for cls, tag in tags.items()}
    expected = ", ".join(repr(t) for t in by_tag)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(
                f"expected an object with a {tag_name!r} key, got {type(value).__name__}"
            )
        tag = value.get(tag_name)
        cls = by_tag.get(tag) if isinstance(tag, str) else None
        if cls is None:
            raise ValueError(f"unknown {tag_name} {tag!r}, expected one of {expected}")
        return conv.structure({k: v for k, v in value.items() if k != tag_name}, cls)

    def unstructure(value: Any) -> Any:
        data = conv.unstructure(value, type(value))
        data[tag_name] = tags[type(value)]
        return data

    conv.register_structure_hook(union, structure)
    conv.register_unstructure_hook(union, unstructure)


converter = make_converter()
"""The shared converter: ``converter.structure(data, Cls)`` / ``converter.unstructure(obj)``."""


def validation_issues(
    exc: BaseException, cls: Any, path: Path = (), noun: str = "option"
) -> Iterator[tuple[Path, str]]:
    """Flatten a (detailed) cattrs error into ``(path, message)`` pairs, one per problem."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            if isinstance(note, AttributeValidationNote):
                yield from validation_issues(sub, note.type, (*path, note.name), noun)
            elif isinstance(note, IterableValidationNote):
                yield from validation_issues(sub, note.type, (*path, note.index), noun)
        for sub in without:
            yield from validation_issues(sub, exc.cl, path, noun)
    elif isinstance(exc, ForbiddenExtraKeysError):
        known = [a.name for a in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        for extra in sorted(exc.extra_fields):
            close = difflib.get_close_matches(extra, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield (*path, extra), f"unknown {noun} {extra!r}{hint}"
    elif isinstance(exc, JSONValueError):
        yield (*path, *exc.path), str(exc)
    elif isinstance(exc, KeyError):
        yield path, f"required {noun} is missing"
    elif isinstance(exc, NotATableError):
        yield path, _not_a_table(exc, path)
    else:
        field, message = _field_of(exc, cls)
        if field is not None:  # a validator naming its field: the issue is that field's
            yield (*path, field), message
        else:
            yield path, _describe(exc, cls)


_FIELD_MESSAGE = re.compile(r"'?([A-Za-z_][A-Za-z0-9_]*)'? (must .*)", re.DOTALL)


def _field_of(exc: BaseException, cls: Any) -> tuple[str | None, str]:
    """``("total", "must be ...")`` for a validator's "total must be ..." about a field of
    ``cls``; ``(None, message)`` otherwise."""
    message = str(exc)
    match = _FIELD_MESSAGE.match(message)
    fields = {a.name for a in attrs.fields(cls)} if attrs.has(cls) else set()
    if isinstance(exc, ValueError) and match and match.group(1) in fields:
        return match.group(1), match.group(2)
    return None, message


def _not_a_table(exc: NotATableError, path: Path) -> str:
    """What a table of ``exc.cls``'s keys looks like, and how to put the value in one."""
    keys = [a.name for a in attrs.fields(exc.cls)]
    message = f"expected a table with the keys {', '.join(keys)}; got {_shown(exc.value)}"
    key = _example_key(exc.value, exc.cls)
    if key is not None and isinstance(exc.value, (bool, int, float, str)):
        import json

        value = json.dumps(exc.value)
        if path and isinstance(path[-1], str):
            example = f"{path[-1]}.{key} = {value}"
        else:  # an element of an array
            example = f"{{ {key} = {value} }}"
        message += f": set one of its keys, e.g. {example}"
    return message


def _example_key(value: Any, cls: Any) -> str | None:
    """The field ``value`` most likely meant: of those that accept it, one unset by default
    (a limit that is off until set), else the first."""
    import typing

    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - unresolvable annotations: no example
        return None
    accepting = []
    for field in attrs.fields(cls):
        try:
            converter.structure(value, hints[field.name])
        except Exception:  # noqa: BLE001 - this field does not take the value
            continue
        accepting.append(field)
    for wanted in (attrs.NOTHING, None):  # a required key first, then a limit that is off
        for field in accepting:
            if field.default is wanted:
                return str(field.name)
    return str(accepting[0].name) if accepting else None


def _describe(exc: BaseException, cls: Any) -> str:
    message = str(exc)
    if message.startswith(("expected", "unknown")):
        return message
    name = getattr(cls, "__name__", None) or str(cls).replace("typing.", "")
    return f"expected {name}: {message}" if message else f"expected {name}"


def structure_checked(data: Any, cls: Any, target: str, noun: str = "field") -> Any:
    """``converter.structure`` raising :class:`~jackfield.ValidationError` with paths."""

    try:
        return converter.structure(data, cls)
    except (BaseValidationError, TypeError, ValueError, KeyError) as exc:
        issues = [Issue(p, m) for p, m in validation_issues(exc, cls, (), noun)]
        raise ValidationError(target, issues) from None


def dump_fragment(fragment: RunFragment) -> dict[str, Any]:
    """A fragment as a JSON object tagged by ``"type"`` (the CLI's ``--json`` line format)."""
    data: dict[str, Any] = converter.unstructure(fragment, RunFragment)
    return data


def load_fragment(data: Mapping[str, Any]) -> RunFragment:
    """The fragment a :func:`dump_fragment` object describes (validated)."""
    fragment: RunFragment = structure_checked(data, RunFragment, "fragment")
    return fragment
