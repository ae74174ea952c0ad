"""What plugins register, and what the registry reports about them: small immutable records,
and the checks their names and import paths must pass.

Listing providers imports this module, so it imports nothing (named tuples would import
``typing`` or ``collections``; the checks are written without ``re``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = [
    "InstanceSpec",
    "PluginInfo",
    "PluginProblem",
    "ProviderSpec",
    "ToolSpec",
    "check_instance",
    "check_provider",
    "check_tool",
]

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_NAME_CHARS = _LOWER | frozenset("0123456789._-")
_IDENTIFIER_START = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENTIFIER_CHARS = _IDENTIFIER_START | frozenset("0123456789")


class _Record:
    """A small immutable record (named tuples would import ``typing`` or ``collections``)."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), *self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)


class _Registered(_Record):
    """What a plugin registered (a provider, an instance, a tool)."""

    __slots__ = ()
    plugin: str
    distribution: str | None

    @property
    def origin(self) -> str:
        """``plugin 'x' (distribution d 1.0)`` — for messages."""
        if not self.distribution:
            return f"plugin {self.plugin!r}"
        version = getattr(self, "version", None)
        shown = f"{self.distribution} {version}" if version else self.distribution
        return f"plugin {self.plugin!r} (distribution {shown})"


class ProviderSpec(_Registered):
    """A registered provider: its name, where its code lives, and who registered it."""

    __slots__ = ("description", "distribution", "factory", "name", "options", "plugin", "version")
    name: str
    factory: str
    description: str
    options: str | None
    plugin: str
    distribution: str | None
    version: str | None

    def __init__(
        self,
        name: str,
        factory: str,
        description: str = "",
        options: str | None = None,
        plugin: str = "",
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        self._set(
            name=name,
            factory=factory,
            description=description,
            options=options,
            plugin=plugin,
            distribution=distribution,
            version=version,
        )


class InstanceSpec(_Registered):
    """A ready-made provider instance: a name, the provider it uses, and its options."""

    __slots__ = ("description", "distribution", "name", "options", "plugin", "provider")
    name: str
    provider: str
    options: Mapping[str, Any]
    description: str
    plugin: str
    distribution: str | None

    def __init__(
        self,
        name: str,
        provider: str,
        options: Mapping[str, Any],
        description: str = "",
        plugin: str = "",
        distribution: str | None = None,
    ) -> None:
        self._set(
            name=name,
            provider=provider,
            options=options,
            description=description,
            plugin=plugin,
            distribution=distribution,
        )


class ToolSpec(_Registered):
    """A Python tool a plugin registered: its name and the import path of its function."""

    __slots__ = ("description", "distribution", "function", "name", "plugin")
    name: str
    function: str
    description: str
    plugin: str
    distribution: str | None

    def __init__(
        self,
        name: str,
        function: str,
        description: str = "",
        plugin: str = "",
        distribution: str | None = None,
    ) -> None:
        self._set(
            name=name,
            function=function,
            description=description,
            plugin=plugin,
            distribution=distribution,
        )


class PluginProblem(_Record):
    """A plugin that could not be (fully) loaded, and why."""

    __slots__ = ("distribution", "error", "plugin")
    plugin: str
    distribution: str | None
    error: str

    def __init__(self, plugin: str, distribution: str | None, error: str) -> None:
        self._set(plugin=plugin, distribution=distribution, error=error)

    def __str__(self) -> str:
        where = f" from {self.distribution}" if self.distribution else ""
        return f"plugin {self.plugin!r}{where}: {self.error}"


class PluginInfo(_Record):
    """A loaded plugin and the providers and instances it registered."""

    __slots__ = ("distribution", "instances", "name", "providers", "tools", "version")
    name: str
    distribution: str | None
    version: str | None
    providers: tuple[str, ...]
    instances: tuple[str, ...]
    tools: tuple[str, ...]

    def __init__(
        self,
        name: str,
        distribution: str | None,
        version: str | None,
        providers: tuple[str, ...],
        instances: tuple[str, ...] = (),
        tools: tuple[str, ...] = (),
    ) -> None:
        self._set(
            name=name,
            distribution=distribution,
            version=version,
            providers=providers,
            instances=instances,
            tools=tools,
        )


# --- checks (no re: see the module docstring) ----------------------------------------------


def _is_name(value: Any) -> bool:
    """``[a-z][a-z0-9._-]*``."""
    return (
        isinstance(value, str)
        and value[:1] in _LOWER
        and all(c in _NAME_CHARS for c in value)
        and value.isascii()
    )


def _is_identifier_path(value: str) -> bool:
    """``a.b``, each part ``[A-Za-z_][A-Za-z0-9_]*``."""
    parts = value.split(".")
    return all(p[:1] in _IDENTIFIER_START and all(c in _IDENTIFIER_CHARS for c in p) for p in parts)


def _is_import_path(value: Any) -> bool:
    """``package.module:Name`` (``Name`` may be dotted)."""
    if not isinstance(value, str) or value.count(":") != 1:
        return False
    module, attribute = value.split(":")
    return _is_identifier_path(module) and _is_identifier_path(attribute)


_NAME_RULE = "use lowercase letters, digits, '.', '_' and '-', starting with a letter"


def check_provider(name: Any, factory: Any, description: Any, options: Any) -> None:
    if not _is_name(name):
        raise ValueError(f"invalid provider name {name!r}: {_NAME_RULE}")
    for label, path in (("factory", factory), ("options", options)):
        if path is None and label == "options":
            continue
        if not _is_import_path(path):
            raise ValueError(
                f"provider {name!r}: {label} must be an import path 'package.module:Name', "
                f"got {path!r}"
            )
    if not isinstance(description, str):
        raise ValueError(f"provider {name!r}: description must be a string")


def check_instance(name: Any, provider: Any, options: Any, description: Any) -> None:
    if not _is_name(name):
        raise ValueError(f"invalid instance name {name!r}: {_NAME_RULE}")
    if not _is_name(provider):
        raise ValueError(f"instance {name!r}: invalid provider name {provider!r}")
    if options is not None and not isinstance(options, dict):
        from collections.abc import Mapping

        if not isinstance(options, Mapping):
            raise ValueError(f"instance {name!r}: options must be a mapping")
    if not isinstance(description, str):
        raise ValueError(f"instance {name!r}: description must be a string")


def _is_tool_name(value: Any) -> bool:
    # the rule of jackfield._tools' _TOOL_NAME, without importing re (see the layer's rule)
    return (
        isinstance(value, str)
        and 0 < len(value) <= 64
        and all(c in _IDENTIFIER_CHARS or c == "-" for c in value)
    )


def check_tool(name: Any, function: Any, description: Any) -> None:
    if not _is_tool_name(name):
        raise ValueError(
            f"invalid tool name {name!r}: letters, digits, '_' and '-', at most 64 characters"
        )
    if not _is_import_path(function):
        raise ValueError(
            f"tool {name!r}: function must be an import path 'package.module:function', "
            f"got {function!r}"
        )
    if not isinstance(description, str):
        raise ValueError(f"tool {name!r}: description must be a string")
