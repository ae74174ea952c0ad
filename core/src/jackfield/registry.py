"""The provider registry: plugins found through entry points, providers created by name.

:func:`load_registry` loads every plugin of the ``jackfield`` entry-point group in
isolation: a plugin that fails to import, fails to register, or registers something invalid
is recorded in :attr:`Registry.problems` and the others still work. Environment variables
control autoloading: ``JACKFIELD_DISABLE_PLUGINS`` (comma-separated plugin or distribution
names, or ``all``) and ``JACKFIELD_LOAD_PLUGINS`` (load only these).

Listing providers imports only the plugin modules; a provider's implementation is imported
by :meth:`Registry.load` / :meth:`Registry.create`. Listing is kept cheap on purpose (it runs
on every CLI call): no attrs, no importlib.metadata, no difflib until a name is unknown.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import pluggy

from jackfield import _entry_points, hookspecs
from jackfield._errors import DuplicateProviderError, ProviderLoadError, UnknownProviderError

if TYPE_CHECKING:
    from jackfield.options import Resolved
    from jackfield.provider import Provider

__all__ = [
    "InstanceSpec",
    "PluginInfo",
    "PluginProblem",
    "ProviderSpec",
    "Registry",
    "load_registry",
]

DISABLE_ENV = "JACKFIELD_DISABLE_PLUGINS"
LOAD_ENV = "JACKFIELD_LOAD_PLUGINS"

_NAME = re.compile(r"[a-z][a-z0-9._-]*\Z")
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*\Z")


class ProviderSpec(NamedTuple):
    """A registered provider: its name, where its code lives, and who registered it."""

    name: str
    factory: str
    description: str = ""
    options: str | None = None
    plugin: str = ""
    distribution: str | None = None
    version: str | None = None

    @property
    def origin(self) -> str:
        """``plugin 'x' (distribution d 1.0)`` — for messages."""
        if self.distribution:
            return f"plugin {self.plugin!r} (distribution {self.distribution} {self.version})"
        return f"plugin {self.plugin!r}"


class InstanceSpec(NamedTuple):
    """A ready-made provider instance: a name, the provider it uses, and its options."""

    name: str
    provider: str
    options: Mapping[str, Any]
    description: str = ""
    plugin: str = ""
    distribution: str | None = None

    @property
    def origin(self) -> str:
        """``plugin 'x' (distribution d)`` — for messages."""
        where = f" (distribution {self.distribution})" if self.distribution else ""
        return f"plugin {self.plugin!r}{where}"


class PluginProblem(NamedTuple):
    """A plugin that could not be (fully) loaded, and why."""

    plugin: str
    distribution: str | None
    error: str

    def __str__(self) -> str:
        where = f" from {self.distribution}" if self.distribution else ""
        return f"plugin {self.plugin!r}{where}: {self.error}"


class PluginInfo(NamedTuple):
    """A loaded plugin and the providers it registered."""

    name: str
    distribution: str | None
    version: str | None
    providers: tuple[str, ...]
    instances: tuple[str, ...] = ()


def _check_spec(name: Any, factory: Any, description: Any, options: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"invalid provider name {name!r}: use lowercase letters, digits, '.', '_' and '-', "
            "starting with a letter"
        )
    for label, path in (("factory", factory), ("options", options)):
        if path is None and label == "options":
            continue
        if not isinstance(path, str) or not _IMPORT_PATH.match(path):
            raise ValueError(
                f"provider {name!r}: {label} must be an import path 'package.module:Name', "
                f"got {path!r}"
            )
    if not isinstance(description, str):
        raise ValueError(f"provider {name!r}: description must be a string")


def _check_instance(name: Any, provider: Any, options: Any, description: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"invalid instance name {name!r}: use lowercase letters, digits, '.', '_' and '-', "
            "starting with a letter"
        )
    if not isinstance(provider, str) or not _NAME.match(provider):
        raise ValueError(f"instance {name!r}: invalid provider name {provider!r}")
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"instance {name!r}: options must be a mapping")
    if not isinstance(description, str):
        raise ValueError(f"instance {name!r}: description must be a string")


def _resolve_path(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


class Registry:
    """Providers by name, plus the plugins that registered them and any load problems."""

    def __init__(self) -> None:
        self._manager = pluggy.PluginManager(hookspecs.PROJECT)
        self._manager.add_hookspecs(hookspecs)
        self._specs: dict[str, list[ProviderSpec]] = {}
        self._instances: dict[str, list[InstanceSpec]] = {}
        self._plugins: list[PluginInfo] = []
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
        """Register a plugin object (a module or any object with hook implementations).

        Problems are recorded in :attr:`problems`, never raised.
        """
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        try:
            self._manager.register(plugin, name=label)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not break the others
            self._problem(label, distribution, f"cannot be registered: {_describe(exc)}")
            return
        for caller in self._manager.get_hookcallers(plugin) or ():
            if caller.spec is None:
                import difflib

                known = [n for n in dir(hookspecs) if n.startswith("register_")]
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self._problem(label, distribution, f"implements unknown hook {caller.name!r}{hint}")
        providers: list[str] = []
        instances: list[str] = []

        def register_provider(
            name: str, *, factory: str, description: str = "", options: str | None = None
        ) -> None:
            _check_spec(name, factory, description, options)
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
            _check_instance(name, provider, options, description)
            spec = InstanceSpec(
                name, provider, dict(options or {}), description, label, distribution
            )
            self._add(self._instances, "instance", spec)
            instances.append(name)

        hooks = self._manager.hook
        for hook, callback in (
            (hooks.register_providers, register_provider),
            (hooks.register_instances, register_instance),
        ):
            for impl in hook.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    impl.function(register=callback)
                except Exception as exc:  # noqa: BLE001 - isolation, as above
                    self._problem(label, distribution, f"{hook.name} failed: {_describe(exc)}")
        self._plugins.append(
            PluginInfo(label, distribution, version, tuple(providers), tuple(instances))
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

    # --- reading -------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Registered provider names, sorted."""
        return sorted(self._specs)

    @property
    def plugins(self) -> list[PluginInfo]:
        """Plugins that loaded, with the providers each registered."""
        return list(self._plugins)

    def instance_names(self) -> list[str]:
        """Names of ready-made instances (presets), sorted."""
        return sorted(self._instances)

    def instance(self, name: str) -> InstanceSpec:
        """The ready-made instance registered under ``name`` (did-you-mean on a miss)."""
        specs = self._instances.get(name)
        if not specs:
            import difflib

            known = self.instance_names()
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            raise UnknownProviderError(name, known, close, kind="instance")
        if len(specs) > 1:
            raise DuplicateProviderError(name, [s.origin for s in specs], kind="instance")
        return specs[0]

    def create_instance(self, name: str, options: Mapping[str, Any] | None = None) -> Provider[Any]:
        """Create a ready-made instance, with ``options`` merged over its own."""
        from jackfield.options import resolve

        spec = self.instance(name)
        layers = resolve((f"preset:{name}", spec.options), (f"instance:{name}", options or {}))
        return self.create(spec.provider, layers, instance=name)

    def get(self, name: str) -> ProviderSpec:
        """The spec registered under ``name``.

        Raises :class:`~jackfield.UnknownProviderError` (with a did-you-mean) or
        :class:`~jackfield.DuplicateProviderError` when two plugins claim the name.
        """
        specs = self._specs.get(name)
        if not specs:
            import difflib

            known = self.names()
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            raise UnknownProviderError(name, known, close)
        if len(specs) > 1:
            raise DuplicateProviderError(name, [s.origin for s in specs])
        return specs[0]

    def load(self, name: str) -> type[Provider[Any]]:
        """Import and return the provider class (the first use of a provider imports it)."""
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
        import attrs

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
        import attrs

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
        """Create a provider instance configured from an options mapping.

        ``instance`` names the instance (defaults to the provider name); it appears in
        errors and as the options layer name. Invalid options raise
        :class:`~jackfield.OptionsError` naming the JSON path of each problem.
        """
        return self.load(name).from_options(options, name=instance or name)

    def __repr__(self) -> str:
        return f"<Registry providers={self.names()} problems={len(self.problems)}>"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


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
