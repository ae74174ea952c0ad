"""The host API: provider instances and agents from a configuration, selected by name.

::

    with Host.load() as host:  # --config / $JACKFIELD_CONFIG / user file
        for fragment in host.agent("coder").stream("Explain this diff."):
            ...
        host.agent("ollama:qwen3:8b").complete("Hi")  # a model reference works too

A :class:`Host` owns the registry, one provider instance per configured (or preset) instance
name — so one connection pool each, closed when the host closes — and the agents. Option
layers, lowest first: provider defaults, the preset (for preset instances), the instance, the
agent, the call; merged with JSON Merge Patch. :meth:`Agent.explain` shows which layer set
each effective value.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from jackfield._config import (
    AgentConfig,
    Config,
    InstanceConfig,
    find_config,
    load_config,
    parse_config,
    split_model_reference,
)
from jackfield._errors import ConfigError, UnknownProviderError
from jackfield._options import AGENT, OVERRIDE, Resolved, instance_layers, layer_name
from jackfield._pipeline import Binding, Pipeline
from jackfield._registry import Registry, load_registry
from jackfield.provider import Provider

__all__ = ["Agent", "Host"]


class Agent(Pipeline[Any]):
    """A provider instance plus a model, a system prompt, tools and option overrides.

    An agent calls exactly as its provider does (:class:`~jackfield.provider.Pipeline`): its
    own layer (``agent:<name>``) sits between the instance's options and the call's.
    """

    def __init__(self, host: Host, name: str, instance: str, config: AgentConfig) -> None:
        self.host = host
        self.name = name
        self.instance = instance
        self.config = config
        self.system_prompt = config.system_prompt
        self.tools = config.tools
        self._binding: Binding | None = None

    @property
    def provider(self) -> Provider[Any]:
        """The instance's provider (shared with every agent of the instance)."""
        return self.host.provider(self.instance)

    @property
    def binding(self) -> Binding:
        """Every option layer below the call (preset, instance, agent), the system prompt and
        the agent's tools."""
        if self._binding is None:
            layers = self.host.layers(self.instance).with_layer(
                layer_name(AGENT, self.name), self.config.layer
            )
            self._binding = Binding(
                layers,
                target=f"agent {self.name!r}",
                system_prompt=self.system_prompt,
                tools=self.tools,
            )
        return self._binding

    @property
    def layers(self) -> Resolved:
        """Every option layer below the call: the preset's, the instance's, the agent's."""
        return self.binding.layers

    def _bound(self) -> tuple[Provider[Any], Binding]:
        return self.provider, self.binding

    def __repr__(self) -> str:
        return f"<Agent {self.name!r} on {self.instance!r}>"


class Host:
    """Provider instances and agents by name. Use it as a (sync or async) context manager."""

    def __init__(self, config: Config | None = None, *, registry: Registry | None = None):
        self.registry = registry if registry is not None else load_registry()
        self.config = config if config is not None else Config()
        self._providers: dict[str, Provider[Any]] = {}
        self._making = threading.Lock()  # one provider per instance, whichever thread asks

    # building -------------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, registry: Registry | None = None) -> Host:
        """A host configured from a TOML file (validated now; secrets read on first use)."""
        registry = registry if registry is not None else load_registry()
        return cls(load_config(path, registry=registry), registry=registry)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, source: str = "<mapping>", registry: Registry | None = None
    ) -> Host:
        """A host configured from a mapping shaped like the TOML file."""
        registry = registry if registry is not None else load_registry()
        return cls(parse_config(data, source=source, registry=registry), registry=registry)

    @classmethod
    def load(
        cls, config: str | os.PathLike[str] | None = None, *, registry: Registry | None = None
    ) -> Host:
        """A host from ``config``, else ``$JACKFIELD_CONFIG``, else the per-user file, else
        no file at all (preset instances still work)."""
        path = find_config(config)
        if path is None:
            return cls(registry=registry)
        return cls.from_file(path, registry=registry)

    # instances ------------------------------------------------------------------------------------

    def instance_names(self) -> list[str]:
        """Configured instances and ready-made (preset) ones."""
        return sorted({*self.config.instances, *self.registry.instance_names()})

    def instance(self, name: str) -> InstanceConfig:
        """The configuration of an instance (configured, or a ready-made preset)."""
        configured = self.config.instances.get(name)
        if configured is not None:
            return configured
        if name in self.registry.instance_names():
            spec = self.registry.instance(name)
            return InstanceConfig(spec.provider, {}, spec.description, name)
        known = self.instance_names()
        raise UnknownProviderError(
            name, known, difflib.get_close_matches(name, known, n=3), kind="instance"
        )

    def layers(self, instance: str) -> Resolved:
        """The option layers of an instance: its preset's (if any), then its own."""
        config = self.instance(instance)
        preset = config.preset
        preset_options = self.registry.instance(preset).options if preset is not None else None
        return instance_layers(
            instance, config.options, preset=preset, preset_options=preset_options
        )

    def provider(self, instance: str) -> Provider[Any]:
        """The provider instance (created on first use, then shared; the host closes it)."""
        provider = self._providers.get(instance)
        if provider is None:
            with self._making:
                provider = self._providers.get(instance)
                if provider is None:
                    provider = self._providers[instance] = self.create(instance)
        return provider

    def create(self, instance: str, options: Mapping[str, Any] | None = None) -> Provider[Any]:
        """A new, unshared provider for ``instance`` with ``options`` as one more layer (for
        probes with short timeouts, say). The caller closes it."""
        config = self.instance(instance)
        layers = self.layers(instance)
        if options:
            layers = layers.with_layer(OVERRIDE, options)
        return self.registry.create(config.provider, layers, instance=instance)

    # agents ---------------------------------------------------------------------------------------

    def agent_names(self) -> list[str]:
        """Configured agents."""
        return sorted(self.config.agents)

    def agent(self, name_or_model: str) -> Agent:
        """A configured agent by name, or an ad-hoc one for a model reference
        (``"<instance>:<model>"``, or an instance name alone)."""
        if not name_or_model:
            raise ConfigError("an agent name or a model reference ('<instance>:<model>') is needed")
        config = self.config.agents.get(name_or_model)
        if config is None:
            config = AgentConfig(model=name_or_model)
            instance, _ = split_model_reference(name_or_model)
            if (
                instance not in self.config.instances
                and instance not in self.registry.instance_names()
            ):
                known = [*self.agent_names(), *self.instance_names()]
                raise UnknownProviderError(
                    name_or_model,
                    known,
                    difflib.get_close_matches(instance, known, n=3),
                    kind="agent or instance",
                    plural="agents and instances",
                )
        instance, _ = split_model_reference(config.model)
        return Agent(self, name_or_model, instance, config)

    # lifecycle ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every provider instance this host created."""
        for provider in self._providers.values():
            provider.close()
        self._providers.clear()

    async def aclose(self) -> None:
        """Close every provider instance, asynchronously."""
        for provider in self._providers.values():
            await provider.aclose()
        self._providers.clear()

    def __enter__(self) -> Host:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Host:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"<Host {self.config.source} instances={len(self.config.instances)} "
            f"agents={len(self.config.agents)}>"
        )
