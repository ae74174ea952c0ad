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
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from jackfield._errors import ConfigError, UnknownProviderError
from jackfield._response import Response
from jackfield._stream import AsyncFragmentStream, FragmentStream
from jackfield.config import (
    AgentConfig,
    Config,
    InstanceConfig,
    find_config,
    load_config,
    parse_config,
    split_model_reference,
)
from jackfield.messages import Conversation, MessagesLike, SystemMessage, Tool
from jackfield.options import Resolved, resolve, structure
from jackfield.provider import ChatRequest, Provider
from jackfield.registry import Registry, load_registry

__all__ = ["Agent", "Host"]


class Agent:
    """A provider instance plus a model, a system prompt, tools and option overrides."""

    def __init__(
        self,
        host: Host,
        name: str,
        instance: str,
        config: AgentConfig,
    ) -> None:
        self.host = host
        self.name = name
        self.instance = instance
        self.config = config
        self.system_prompt = config.system_prompt
        self.tools = config.tools
        self._layers: Resolved | None = None

    @property
    def provider(self) -> Provider[Any]:
        """The instance's provider (shared with every agent of the instance)."""
        return self.host.provider(self.instance)

    @property
    def layers(self) -> Resolved:
        """Every option layer below the call: defaults, preset, instance, agent."""
        if self._layers is None:
            self._layers = self.host.layers(self.instance).with_layer(
                f"agent:{self.name}", self.config.layer
            )
        return self._layers

    def _resolved(self, options: Mapping[str, Any]) -> Resolved:
        return self.layers.with_layer("call", options) if options else self.layers

    def options(self, **options: Any) -> Any:
        """The typed options of a call (``options`` as the call layer)."""
        provider = self.provider
        return structure(
            provider.options_class, self._resolved(options), target=f"agent {self.name!r}"
        )

    def explain(self, **options: Any) -> str:
        """Every effective option and the layer that set it (``extra_body`` leaf by leaf)."""
        from jackfield._converter import converter

        typed = self.options(**options)
        return self._resolved(options).explain(converter.unstructure(typed))

    def request(
        self,
        messages: MessagesLike,
        *,
        tools: Iterable[Tool] = (),
        stream: bool = True,
        **options: Any,
    ) -> ChatRequest[Any]:
        """The validated request a call would make (nothing is sent)."""
        conversation = Conversation.of(messages)
        if self.system_prompt:
            conversation = Conversation((SystemMessage(self.system_prompt), *conversation.messages))
        return ChatRequest(conversation, (*self.tools, *tools), self.options(**options), stream)

    def stream(
        self, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
    ) -> FragmentStream:
        """Stream a chat (see :meth:`jackfield.Provider.stream`)."""
        return self.provider.open_stream(self.request(messages, tools=tools, **options))

    def astream(
        self, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
    ) -> AsyncFragmentStream:
        """Stream a chat asynchronously."""
        return self.provider.open_astream(self.request(messages, tools=tools, **options))

    def complete(
        self, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
    ) -> Response:
        """Answer whole."""
        request = self.request(messages, tools=tools, stream=False, **options)
        return self.provider.open_stream(request).collect()

    async def acomplete(
        self, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
    ) -> Response:
        """Answer whole, asynchronously."""
        request = self.request(messages, tools=tools, stream=False, **options)
        return await self.provider.open_astream(request).collect()

    def dry_run(
        self, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
    ) -> dict[str, Any]:
        """What a ``stream(...)`` call would send, secrets masked; nothing is sent."""
        return self.provider.describe(self.request(messages, tools=tools, **options))

    def __repr__(self) -> str:
        return f"<Agent {self.name!r} on {self.instance!r}>"


class Host:
    """Provider instances and agents by name. Use it as a (sync or async) context manager."""

    def __init__(self, config: Config | None = None, *, registry: Registry | None = None):
        self.registry = registry if registry is not None else load_registry()
        self.config = config if config is not None else Config()
        self._providers: dict[str, Provider[Any]] = {}

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
        layers: list[tuple[str, Mapping[str, Any]]] = []
        if config.preset is not None:
            layers.append(
                (f"preset:{config.preset}", self.registry.instance(config.preset).options)
            )
        layers.append((f"instance:{instance}", config.options))
        return resolve(*layers)

    def provider(self, instance: str) -> Provider[Any]:
        """The provider instance (created on first use, then shared; the host closes it)."""
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
            layers = layers.with_layer("override", options)
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
