"""The provider registry: plugins found through entry points, providers created by name.

:func:`load_registry` loads every plugin of the ``jackfield`` entry-point group in isolation: a
plugin that fails to import, fails to register, or registers something invalid is recorded in
:attr:`Registry.problems` and the others still work. Environment variables control autoloading:
``JACKFIELD_DISABLE_PLUGINS`` (comma-separated plugin or distribution names, or ``all``) and
``JACKFIELD_LOAD_PLUGINS`` (load only these).

Listing providers runs on every CLI call and every host start, so it imports the plugin modules
and nothing else: not ``importlib.metadata`` (see ``_entry_points``), not pluggy, attrs,
``typing`` or ``re``. The registry calls the two registration hooks itself, with pluggy's
rules (implementations found by their marker, arguments checked against the specification,
passed by name); :attr:`Registry.plugin_manager` builds a pluggy ``PluginManager`` holding the
same plugins when a hook is to be called through pluggy. A provider's implementation is
imported by :meth:`Registry.load` / :meth:`Registry.create`.
"""

from __future__ import annotations

import os

from jackfield import _entry_points, hookspecs
from jackfield._specs import (
    InstanceSpec,
    PluginInfo,
    PluginProblem,
    ProviderSpec,
    ToolSpec,
    check_instance,
    check_provider,
    check_tool,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    import pluggy

    from jackfield._options import Resolved
    from jackfield.provider import Provider

__all__ = ["DISABLE_ENV", "LOAD_ENV", "Registry", "load_registry"]

DISABLE_ENV = "JACKFIELD_DISABLE_PLUGINS"
"""Plugins (entry-point or distribution names, comma-separated, or ``all``) not to load."""
LOAD_ENV = "JACKFIELD_LOAD_PLUGINS"
"""When set, the only plugins to load (entry-point or distribution names, comma-separated)."""


def _resolve_path(path: str) -> Any:
    import importlib

    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


# --- hooks, read the way pluggy reads them ---------------------------------------------------

_SPECS = {
    name: getattr(hookspecs, name)
    for name in dir(hookspecs)
    if hasattr(getattr(hookspecs, name), hookspecs.hookspec.attribute)
}


def _argnames(function: Any) -> tuple[str, ...]:
    """The arguments a hook function takes, as pluggy counts them: positional, without a
    default, ``self`` of a bound method left out."""
    code = getattr(function, "__code__", None)
    if code is None:  # not a plain function (a callable object ...): ask inspect
        import inspect

        return tuple(
            name
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            and parameter.default is parameter.empty
        )
    names: tuple[str, ...] = code.co_varnames[: code.co_argcount]
    defaults = getattr(function, "__defaults__", None)
    if defaults:
        names = names[: -len(defaults)]
    if getattr(function, "__self__", None) is not None:
        names = names[1:]
    return names


def _hookimpls(plugin: object) -> list[tuple[str, Any, dict[str, Any]]]:
    """``(hook name, function, options)`` for each hook implementation of a plugin."""
    found = []
    for attribute in dir(plugin):
        try:
            function = getattr(plugin, attribute)
        except Exception:  # noqa: BLE001 - an attribute that cannot be read is no hook
            continue
        options = getattr(function, hookspecs.hookimpl.attribute, None)
        if callable(function) and isinstance(options, dict):
            found.append((options.get("specname") or attribute, function, options))
    return found


class Registry:
    """Providers by name, plus the plugins that registered them and any load problems."""

    def __init__(self) -> None:
        self._specs: dict[str, list[ProviderSpec]] = {}
        self._instances: dict[str, list[InstanceSpec]] = {}
        self._tools: dict[str, list[ToolSpec]] = {}
        self.observing = False  # a plugin implements a call_* hook: providers tell them
        self._plugins: list[PluginInfo] = []
        self._objects: dict[str, object] = {}  # plugin name -> the plugin, for pluggy
        self._manager: pluggy.PluginManager | None = None
        self.problems: list[PluginProblem] = []
        """Plugins that failed to import or register, duplicate names, invalid specs."""
        self.disabled: list[str] = []
        """Entry points skipped because of JACKFIELD_DISABLE_PLUGINS / _LOAD_PLUGINS."""

    # --- loading ------------------------------------------------------------------------------

    def add_plugin(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        """Register a plugin object (a module or any object with hook implementations) and
        call its registration hooks. Problems are recorded in :attr:`problems`, never raised."""
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if label in self._objects or any(p is plugin for p in self._objects.values()):
            self._problem(label, distribution, "cannot be registered: it is registered already")
            return
        impls = _hookimpls(plugin)
        for hook, function, options in impls:
            spec = _SPECS.get(hook)
            if spec is None:
                if not options.get("optionalhook"):
                    self._problem(
                        label, distribution, f"implements unknown hook {hook!r}{_hint(hook)}"
                    )
                continue
            extra = [a for a in _argnames(function) if a not in _argnames(spec)]
            if extra:
                self._problem(
                    label,
                    distribution,
                    f"cannot be registered: its {hook} takes {', '.join(map(repr, extra))}, "
                    f"which the hook does not pass (it passes {', '.join(_argnames(spec))})",
                )
                return
        self._objects[label] = plugin
        if any(hook.startswith("call_") for hook, _, _ in impls):
            self.observing = True
        if self._manager is not None:
            self._manager.register(plugin, name=label)
        providers: list[str] = []
        instances: list[str] = []
        tools: list[str] = []

        def register_provider(
            name: str, *, factory: str, description: str = "", options: str | None = None
        ) -> None:
            check_provider(name, factory, description, options)
            spec = ProviderSpec(name, factory, description, options, label, distribution, version)
            self._add(self._specs, "provider", spec)
            providers.append(name)

        def register_instance(
            name: str,
            *,
            provider: str,
            options: Mapping[str, Any] | None = None,
            description: str = "",
        ) -> None:
            check_instance(name, provider, options, description)
            spec = InstanceSpec(
                name, provider, dict(options or {}), description, label, distribution
            )
            self._add(self._instances, "instance", spec)
            instances.append(name)

        def register_tool(name: str, *, function: str, description: str = "") -> None:
            check_tool(name, function, description)
            self._add(
                self._tools, "tool", ToolSpec(name, function, description, label, distribution)
            )
            tools.append(name)

        callbacks: dict[str, Callable[..., None]] = {
            "register_providers": register_provider,
            "register_instances": register_instance,
            "register_tools": register_tool,
        }
        for hook, callback in callbacks.items():
            arguments = {"register": callback}
            for implemented, function, _ in impls:
                if implemented != hook:
                    continue
                try:  # as pluggy calls a hook: the arguments the function names, in its order
                    function(*(arguments[a] for a in _argnames(function)))
                except Exception as exc:  # noqa: BLE001 - one plugin must not break the others
                    self._problem(label, distribution, f"{hook} failed: {_describe(exc)}")
        self._plugins.append(
            PluginInfo(
                label, distribution, version, tuple(providers), tuple(instances), tuple(tools)
            )
        )

    def _add(self, table: dict[str, list[Any]], kind: str, spec: Any) -> None:
        existing = table.setdefault(spec.name, [])
        existing.append(spec)
        if len(existing) == 2:
            self._problem(
                spec.plugin,
                spec.distribution,
                f"{kind} {spec.name!r} is also registered by {existing[0].origin}; "
                "neither is used until one is removed or disabled",
            )

    def _problem(self, plugin: str, distribution: str | None, error: str) -> None:
        self.problems.append(PluginProblem(plugin, distribution, error))

    def load_entry_points(self, group: str = hookspecs.PROJECT) -> None:
        """Load every plugin of an entry-point group, honouring the environment switches."""
        disabled = _env_names(DISABLE_ENV)
        only = _env_names(LOAD_ENV)
        if "all" in disabled:
            return
        entry_points = sorted(
            _entry_points.entry_points(group),
            key=lambda ep: (ep.name, ep.dist.name if ep.dist else ""),
        )
        for ep in entry_points:
            dist = ep.dist.name if ep.dist else None
            version = ep.dist.version if ep.dist else None
            names = {ep.name, dist}
            if names & disabled or (only and not names & only):
                self.disabled.append(ep.name)
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - isolation, as above
                self._problem(ep.name, dist, f"failed to import {ep.value!r}: {_describe(exc)}")
                continue
            self.add_plugin(plugin, ep.name, distribution=dist, version=version)

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """A pluggy ``PluginManager`` for the ``jackfield`` hooks holding every plugin that
        registered, built on first use (listing providers never needs it)."""
        if self._manager is None:
            import pluggy

            manager = pluggy.PluginManager(hookspecs.PROJECT)
            manager.add_hookspecs(hookspecs)
            for name, plugin in self._objects.items():
                manager.register(plugin, name=name)
            self._manager = manager
        return self._manager

    @property
    def hook(self) -> Any:
        """The hooks, called through pluggy: ``registry.hook.register_providers(register=f)``."""
        return self.plugin_manager.hook

    # --- reading -------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Registered provider names, sorted."""
        return sorted(self._specs)

    @property
    def plugins(self) -> list[PluginInfo]:
        """Plugins that loaded, with the providers each registered."""
        return list(self._plugins)

    def tool_names(self) -> list[str]:
        """Names of the Python tools plugins registered, sorted."""
        return sorted(self._tools)

    def tool_spec(self, name: str) -> ToolSpec:
        """The tool registered under ``name`` (did-you-mean on a miss)."""
        spec: ToolSpec = _only(self._tools, name, "tool")
        return spec

    def instance_names(self) -> list[str]:
        """Names of ready-made instances (presets), sorted."""
        return sorted(self._instances)

    def instance(self, name: str) -> InstanceSpec:
        """The ready-made instance registered under ``name`` (did-you-mean on a miss)."""
        spec: InstanceSpec = _only(self._instances, name, "instance")
        return spec

    def instance_layers(self, name: str, options: Mapping[str, Any] | None = None) -> Resolved:
        """The option layers of the ready-made instance ``name`` with ``options`` over its own."""
        from jackfield._options import instance_layers

        spec = self.instance(name)
        return instance_layers(name, options, preset=name, preset_options=spec.options)

    def create_instance(self, name: str, options: Mapping[str, Any] | None = None) -> Provider[Any]:
        """Create a ready-made instance, with ``options`` merged over its own."""
        spec = self.instance(name)
        return self.create(spec.provider, self.instance_layers(name, options), instance=name)

    def get(self, name: str) -> ProviderSpec:
        """The spec registered under ``name``.

        Raises :class:`~jackfield.UnknownProviderError` (with a did-you-mean) or
        :class:`~jackfield.DuplicateProviderError` when two plugins claim the name.
        """
        spec: ProviderSpec = _only(self._specs, name, "provider")
        return spec

    def load(self, name: str) -> type[Provider[Any]]:
        """Import and return the provider class (the first use of a provider imports it)."""
        import attrs

        from jackfield._errors import ProviderLoadError
        from jackfield.provider import Provider

        spec = self.get(name)
        try:
            factory = _resolve_path(spec.factory)
        except Exception as exc:
            raise ProviderLoadError(
                f"provider {name!r} from {spec.origin} cannot be imported from "
                f"{spec.factory!r}: {_describe(exc)}"
            ) from exc
        if not (isinstance(factory, type) and issubclass(factory, Provider)):
            raise ProviderLoadError(
                f"provider {name!r}: {spec.factory!r} is not a jackfield Provider subclass"
            )
        options_class = getattr(factory, "options_class", None)
        if not (isinstance(options_class, type) and attrs.has(options_class)):
            raise ProviderLoadError(
                f"provider {name!r}: {spec.factory!r} has no attrs options_class"
            )
        if spec.options is not None and self.options_class(name) is not options_class:
            raise ProviderLoadError(
                f"provider {name!r}: registered options class {spec.options!r} is not "
                f"{spec.factory}.options_class"
            )
        return factory

    def options_class(self, name: str) -> type[Any]:
        """The provider's options class, importing only its module when the spec names it.

        Hosts use this to validate configuration without importing the implementation.
        """
        import attrs

        from jackfield._errors import ProviderLoadError

        spec = self.get(name)
        if spec.options is None:
            return self.load(name).options_class
        try:
            options_class: Any = _resolve_path(spec.options)
        except Exception as exc:
            raise ProviderLoadError(
                f"provider {name!r}: options class {spec.options!r} cannot be imported: "
                f"{_describe(exc)}"
            ) from exc
        if not (isinstance(options_class, type) and attrs.has(options_class)):
            raise ProviderLoadError(f"provider {name!r}: {spec.options!r} is not an attrs class")
        result: type[Any] = options_class
        return result

    def create(
        self,
        name: str,
        options: Mapping[str, Any] | Resolved | None = None,
        *,
        instance: str | None = None,
    ) -> Provider[Any]:
        """Create a provider instance configured from an options mapping (or layers).

        ``instance`` names the instance (defaults to the provider name); it appears in
        errors and as the options layer name. Invalid options raise
        :class:`~jackfield.OptionsError` naming the path of each problem.
        """
        provider = self.load(name).from_options(options, name=instance or name)
        provider.provider_name = name
        if self.observing:
            from jackfield._observe import HookObserver

            provider.observers = (*provider.observers, HookObserver(self.hook))
        return provider

    def __repr__(self) -> str:
        return f"<Registry providers={self.names()} problems={len(self.problems)}>"


def _only(table: Mapping[str, list[Any]], name: str, kind: str) -> Any:
    """The one spec registered as ``name``: an error with a did-you-mean when there is none,
    another naming both plugins when two claim it."""
    specs = table.get(name)
    if not specs:
        from jackfield._errors import UnknownProviderError

        known = sorted(table)
        raise UnknownProviderError(name, known, _close(name, known), kind=kind)
    if len(specs) > 1:
        from jackfield._errors import DuplicateProviderError

        raise DuplicateProviderError(name, [s.origin for s in specs], kind=kind)
    return specs[0]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _close(word: str, known: list[str], cutoff: float = 0.5) -> list[str]:
    import difflib

    return difflib.get_close_matches(word, known, n=3, cutoff=cutoff)


def _hint(hook: str) -> str:
    close = _close(hook, sorted(_SPECS), cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _env_names(variable: str) -> set[str]:
    raw = os.environ.get(variable, "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def load_registry(*, autoload: bool = True, plugins: Iterable[object] = ()) -> Registry:
    """Discover plugins and return the registry.

    ``autoload`` loads the ``jackfield`` entry-point group (subject to
    ``JACKFIELD_DISABLE_PLUGINS`` / ``JACKFIELD_LOAD_PLUGINS``); ``plugins`` adds plugin
    objects directly (useful in tests and for hosts that bundle their own providers).
    """
    registry = Registry()
    if autoload:
        registry.load_entry_points()
    for plugin in plugins:
        registry.add_plugin(plugin)
    return registry
