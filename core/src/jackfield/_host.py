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
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

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
from jackfield._messages import MessagesLike
from jackfield._options import (
    AGENT,
    OVERRIDE,
    Resolved,
    instance_layers,
    layer_name,
    own_affinity,
)
from jackfield._pipeline import Binding, ChatRequest, Pipeline
from jackfield._registry import Registry, load_registry
from jackfield.provider import Provider

if TYPE_CHECKING:
    from jackfield._logs import ConversationLog, LoggedCall, LogSetting
    from jackfield._mcp import MCPServer
    from jackfield._messages import Tool
    from jackfield._stream import AsyncFragmentStream, FragmentStream
    from jackfield._tools import Executable, ToolLike

__all__ = ["Agent", "Host"]


class Agent(Pipeline[Any]):
    """A provider instance plus a model, a system prompt, tools and option overrides.

    An agent calls exactly as its provider does (:class:`~jackfield.provider.Pipeline`): its
    own layer (``agent:<name>``) sits between the instance's options and the call's.
    When the host has a log (``Host(log=...)``), each call is a turn of a logged conversation:
    ``conversation``'s, else a new one per call.

    Its tools (offered with every call, run by :meth:`run`): the configured tool descriptions,
    its ``functions`` and the tools of its ``mcp`` servers (each server starts when the agent's
    tools are first needed); none when made with ``tools=False``.
    """

    def __init__(
        self,
        host: Host,
        name: str,
        instance: str,
        config: AgentConfig,
        conversation: str | None = None,
        *,
        tools: bool = True,
    ) -> None:
        self.host = host
        self.name = name
        self.instance = instance
        self.config = config
        self.system_prompt = config.system_prompt
        self.tools = config.tools if tools else ()
        self.use_tools = tools
        self.conversation = conversation
        self._binding: Binding | None = None
        self._runnable: tuple[Tool | Executable, ...] | None = None

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

    def _tools(self) -> tuple[Tool | Executable, ...]:
        if self._runnable is None:
            self._runnable = self.host.tools_of(self.name, self.config) if self.use_tools else ()
        return self._runnable

    def _max_steps(self) -> int:
        return self.config.max_steps

    def request(
        self,
        messages: MessagesLike,
        *,
        tools: Iterable[ToolLike] = (),
        stream: bool = True,
        **options: Any,
    ) -> ChatRequest[Any]:
        if self.conversation is not None and own_affinity(self, options):
            options["affinity"] = self.conversation  # its turns on one server of a pool
        return super().request(messages, tools=tools, stream=stream, **options)

    def _for_run(self, messages: MessagesLike) -> Agent:
        if self.host.log is None or self.conversation is not None:
            return self
        from jackfield._messages import Conversation, SystemMessage

        sent = Conversation.of(messages).messages
        system = sent[0].content if sent and isinstance(sent[0], SystemMessage) else None
        cid = self.host.log.start(self.name, system=system)  # every step a turn of it
        agent = Agent(self.host, self.name, self.instance, self.config, cid, tools=self.use_tools)
        agent._runnable = self._runnable
        return agent

    # with a log, the turn is recorded when the answer ends (nothing is done per fragment) -------

    def _open(
        self, request: ChatRequest[Any], messages: MessagesLike, options: Mapping[str, Any]
    ) -> FragmentStream:
        if self.host.log is None:
            return self.provider.open_stream(request)
        logged = self._logged(messages, options)  # an unknown conversation fails before it opens
        return logged.follow(self.provider.open_stream(request))

    def _aopen(
        self, request: ChatRequest[Any], messages: MessagesLike, options: Mapping[str, Any]
    ) -> AsyncFragmentStream:
        if self.host.log is None:
            return self.provider.open_astream(request)
        logged = self._logged(messages, options)
        return logged.afollow(self.provider.open_astream(request))

    def _logged(self, messages: MessagesLike, options: Mapping[str, Any]) -> LoggedCall:
        from jackfield._logs import LoggedCall

        assert self.host.log is not None
        return LoggedCall(self.host.log, self.name, self.conversation, messages, options)

    def __repr__(self) -> str:
        return f"<Agent {self.name!r} on {self.instance!r}>"


class Host:
    """Provider instances and agents by name. Use it as a (sync or async) context manager.

    ``log`` records every agent call in a conversation log (``host.log``): ``True`` for the
    user's log (unless ``jackfield logs off``), a path for a file of your own, or a
    ``ConversationLog``; off by default (see the "Conversations remembered" page).
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        registry: Registry | None = None,
        log: LogSetting = None,
    ):
        self.registry = registry if registry is not None else load_registry()
        self.config = config if config is not None else Config()
        self._providers: dict[str, Provider[Any]] = {}
        self._layers: dict[str, Resolved] = {}
        self._mcp: dict[str, MCPServer] = {}
        self.log: ConversationLog | None = None
        self._owns_log = False
        if log is not None and log is not False:
            from jackfield._logs import open_setting

            self.log, self._owns_log = open_setting(log)
        self._making = threading.Lock()  # one provider per instance, whichever thread asks

    # building -------------------------------------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        registry: Registry | None = None,
        log: LogSetting = None,
    ) -> Host:
        """A host configured from a TOML file (validated now; secrets read on first use)."""
        registry = registry if registry is not None else load_registry()
        return cls(load_config(path, registry=registry), registry=registry, log=log)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "<mapping>",
        registry: Registry | None = None,
        log: LogSetting = None,
    ) -> Host:
        """A host configured from a mapping shaped like the TOML file."""
        registry = registry if registry is not None else load_registry()
        config = parse_config(data, source=source, registry=registry)
        return cls(config, registry=registry, log=log)

    @classmethod
    def load(
        cls,
        config: str | os.PathLike[str] | None = None,
        *,
        registry: Registry | None = None,
        log: LogSetting = None,
    ) -> Host:
        """A host from ``config``, else ``$JACKFIELD_CONFIG``, else the per-user file, else
        no file at all (preset instances still work)."""
        path = find_config(config)
        if path is None:
            return cls(registry=registry, log=log)
        return cls.from_file(path, registry=registry, log=log)

    # instances ------------------------------------------------------------------------------------

    def instance_names(self) -> list[str]:
        """Configured instances and ready-made (preset) ones; not the disabled ones
        (``config.disabled``)."""
        names = {*self.config.instances, *self.registry.instance_names()}
        return sorted(names - set(self.config.disabled))

    def _usable(self, name: str) -> None:
        """A :class:`~jackfield.ConfigError` saying why, if ``name`` is a disabled instance."""
        reason = self.config.disabled.get(name)
        if reason is not None:
            raise ConfigError(f"instance {name!r} (in {self.config.source}) is disabled: {reason}")

    def instance(self, name: str) -> InstanceConfig:
        """The configuration of an instance (configured, or a ready-made preset)."""
        self._usable(name)
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
        """The option layers of an instance: its preset's (if any), then its own, then what
        both leave unset found in the environment (``env:OPENAI_BASE_URL``) or the keys file
        (``keys:openai``; see ``jackfield._keys.outside``), read on first use and kept."""
        layers = self._layers.get(instance)
        if layers is None:  # read once per host, like the provider it makes
            from jackfield._keys import outside

            config = self.instance(instance)
            preset = config.preset
            preset_options = self.registry.instance(preset).options if preset is not None else None
            layers = instance_layers(
                instance, config.options, preset=preset, preset_options=preset_options
            )
            layers = self._layers[instance] = outside(
                self.registry, instance, config.provider, layers
            )
        return layers

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

    def agent(
        self, name_or_model: str, *, conversation: str | None = None, tools: bool = True
    ) -> Agent:
        """A configured agent by name, or an ad-hoc one for a model reference
        (``"<instance>:<model>"``, or an instance name alone). With a log, its calls are turns
        of ``conversation`` (an id from ``host.log``), else each call starts a conversation.
        ``tools=False`` gives the agent without its tools."""
        if not name_or_model:
            raise ConfigError("an agent name or a model reference ('<instance>:<model>') is needed")
        config = self.config.agents.get(name_or_model)
        if config is None:
            config = AgentConfig(model=name_or_model)
            instance, _ = split_model_reference(name_or_model)
            if (
                instance not in self.config.instances
                and instance not in self.registry.instance_names()
                and instance not in self.config.disabled
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
        self._usable(instance)
        return Agent(self, name_or_model, instance, config, conversation, tools=tools)

    # tools ----------------------------------------------------------------------------------------

    def mcp_names(self) -> list[str]:
        """Configured MCP servers."""
        return sorted(self.config.mcp)

    def mcp(self, name: str) -> MCPServer:
        """The configured MCP server ``name`` (made on first use, started when its tools are
        first needed, stopped when the host closes)."""
        server = self._mcp.get(name)
        if server is None:
            config = self.config.mcp.get(name)
            if config is None:
                known = self.mcp_names()
                raise UnknownProviderError(
                    name, known, difflib.get_close_matches(name, known, n=3), kind="MCP server"
                )
            from jackfield._mcp import MCPServer

            with self._making:
                server = self._mcp.get(name)
                if server is None:
                    server = self._mcp[name] = MCPServer(name, config)
        return server

    def tools_of(self, agent: str, config: AgentConfig) -> tuple[Tool | Executable, ...]:
        """An agent's tools: its tool descriptions, its functions, its MCP servers' tools
        (starting those servers)."""
        from jackfield._agent_tools import agent_tools

        return agent_tools(self, agent, config)

    # lifecycle ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every provider instance this host created, and stop its MCP servers."""
        try:
            for provider in self._providers.values():
                provider.close()
        finally:
            self._providers.clear()
            self._close_rest()

    async def aclose(self) -> None:
        """Close every provider instance and MCP server, asynchronously."""
        try:
            for provider in self._providers.values():
                await provider.aclose()
            for server in self._mcp.values():
                await server.aclose()
        finally:
            self._providers.clear()
            self._close_rest()

    def _close_rest(self) -> None:
        try:
            for server in self._mcp.values():
                server.close()
        finally:
            self._mcp.clear()
            if self._owns_log and self.log is not None:
                self.log.close()

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
