"""Validating a configuration: every problem found at once, each with its key path and line.

A configuration has two tables::

    [providers.local]                 # an instance named "local"
    type = "openai-compatible"        # the provider (optional for preset names such as "ollama")
    preset = "llamacpp"               # any other key is an option of that provider ...
    extra_body = { cache_prompt = true }
    options = { temperature = 0.7 }   # ... or put options here; both merge

    [agents.coder]
    model = "local:qwen2.5-coder"     # "<instance>:<model>", split on the first colon
    system_prompt = "You are a careful programmer."
    options = { temperature = 0.1 }
    extra_body = { top_k = 20 }

Everything is checked through the same converter and option layers providers use: unknown keys
(with a did-you-mean), wrong types, unknown providers and instances. Secrets given by reference
(``api_key = { env = "OPENAI_API_KEY" }``) are read only when the instance is first used.

A section whose provider is not installed (its ``type``, or the ready-made instance it is named
after, comes with a plugin that is missing, turned off or broken) is no error: the instance is
disabled (:attr:`Config.disabled`, with a :class:`DisabledInstanceWarning` naming the package
to install) and the rest of the file works. A ``type`` spelled close to an installed provider's
name is a typo, and an error with a did-you-mean.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jackfield._config.locate import Locator
from jackfield._config.model import (
    AgentConfig,
    Config,
    InstanceConfig,
    MCPServerConfig,
    split_model_reference,
)
from jackfield._config.plugins import (
    FIRST_PARTY_PROVIDERS,
    DisabledInstanceWarning,
    missing_instance,
    missing_provider,
    typo_of,
)
from jackfield._errors import ConfigError, ConfigFileError, Issue, OptionsError, Path, RegistryError
from jackfield._options import AGENT, Resolved, instance_layers, layer_name, structure

if TYPE_CHECKING:
    from jackfield._registry import Registry

__all__ = ["parse_config"]

_NAME = re.compile(r"[a-z][a-z0-9._-]*\Z")
_TOP_KEYS = ("providers", "agents", "mcp")
_INSTANCE_KEYS = ("type", "description", "options")


SUGGESTIONS = 20
"""Did-you-mean hints offered per file: each costs a comparison with every known name, so a
file of thousands of typos gets hints for the first ones and stays fast."""


class _Parser:
    def __init__(self, source: str, text: str | None, registry: Registry | None) -> None:
        self.source = source
        self.locate = Locator(text)
        self.registry = registry
        self.issues: list[Issue] = []
        self.suggestions = SUGGESTIONS
        self._instance_names: list[str] | None = None
        self.disabled: dict[str, str] = {}
        self.notes: list[Issue] = []  # one per disabled instance, for the warnings

    def disable(self, name: str, path: Path, reason: str) -> None:
        """Leave the instance ``name`` out, saying why (once per instance)."""
        if name not in self.disabled:
            self.disabled[name] = reason
            self.notes.append(Issue(path, f"disabled: {reason}", line=self.locate.line(path)))

    def close(self, word: str, choices: Iterable[str]) -> str:
        """``; did you mean 'x'?`` for the nearest choice, while hints are left to give."""
        if self.suggestions <= 0 or len(word) > 100:
            return ""
        self.suggestions -= 1
        match = difflib.get_close_matches(word, list(choices), n=1)
        return f"; did you mean {match[0]!r}?" if match else ""

    def issue(self, path: Path, message: str) -> None:
        self.issues.append(Issue(path, message, line=self.locate.line(path)))

    def table(self, value: Any, path: Path) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.issue(path, f"expected a table, got {type(value).__name__}")
        return None

    def parse(self, data: Mapping[str, Any]) -> Config:
        for key in data:
            if key not in _TOP_KEYS:
                self.issue((key,), f"unknown section {key!r}{self.close(key, _TOP_KEYS)}")
        instances: dict[str, InstanceConfig] = {}
        for name, section in (self.table(data.get("providers", {}), ("providers",)) or {}).items():
            instance = self.instance(name, section)
            if instance is not None:
                instances[name] = instance
        servers: dict[str, MCPServerConfig] = {}
        for name, section in (self.table(data.get("mcp", {}), ("mcp",)) or {}).items():
            server = self.mcp_server(name, section)
            if server is not None:
                servers[name] = server
        agents: dict[str, AgentConfig] = {}
        for name, section in (self.table(data.get("agents", {}), ("agents",)) or {}).items():
            agent = self.agent(name, section, instances)
            if agent is not None:
                agents[name] = agent
                self.check_agent_tools(name, section, agent, servers)
        if self.issues:  # in the order of the file's lines (those without one last)
            self.issues.sort(key=lambda issue: (issue.line is None, issue.line or 0))
            raise ConfigFileError(self.source, self.issues)
        for note in self.notes:
            text = note.render(root="", source=self.source)
            warnings.warn(DisabledInstanceWarning(text), stacklevel=4)
        return Config(instances, agents, self.source, self.disabled, servers)

    def name_ok(self, name: str, path: Path) -> bool:
        if _NAME.match(name):
            return True
        self.issue(
            path, "names use lowercase letters, digits, '.', '_' and '-', starting with a letter"
        )
        return False

    # providers -----------------------------------------------------------------------------

    def instance(self, name: str, raw: Any) -> InstanceConfig | None:
        path = ("providers", name)
        section = self.table(raw, path)
        if section is None or not self.name_ok(name, path):
            return None
        provider, preset = section.get("type"), None
        description = section.get("description", "")
        if not isinstance(description, str):
            self.issue((*path, "description"), "expected a string")
        options_table = section.get("options", {})
        if not isinstance(options_table, Mapping):
            kind = type(options_table).__name__
            self.issue((*path, "options"), f"expected a table, got {kind}")
            options_table = {}
        shorthand = {k: v for k, v in section.items() if k not in _INSTANCE_KEYS}
        for key in sorted(set(shorthand) & set(options_table)):
            self.issue((*path, key), "set either here or in the options table, not both")
        if self.registry is not None:
            known = self.registry.names()
            if provider is None:
                if name not in self.registry.instance_names():
                    reason = missing_instance(name, self.registry)
                    if reason is not None:  # a first-party plugin's ready-made instance
                        self.disable(name, path, reason)
                        return None
                    close = self.close(name, self.registry.instance_names())
                    if close:  # "; did you mean 'ollama'?"
                        close = close.replace("mean", "mean the ready-made instance", 1)
                    self.issue(
                        (*path, "type"),
                        "missing: which provider is this? One of: " + ", ".join(known) + close,
                    )
                    return None
                preset = name
                provider = self.registry.instance(name).provider
            elif not isinstance(provider, str):
                self.issue((*path, "type"), f"expected a provider's name, got {provider!r}")
                return None
            elif provider not in known:
                if (  # type = "openai": a preset's name, not a missing plugin's
                    provider in self.registry.instance_names()
                    and provider not in FIRST_PARTY_PROVIDERS
                ):
                    owner = self.registry.instance(provider).provider
                    self.issue(
                        (*path, "type"),
                        f"{provider!r} is a ready-made instance of {owner!r}, not a provider: "
                        f'write type = "{owner}" and preset = "{provider}", or name the '
                        f"section [providers.{provider}] without a type",
                    )
                    return None
                typo = typo_of(provider, known)
                if typo is None:  # a provider of its own, whose plugin is not installed
                    self.disable(name, (*path, "type"), missing_provider(provider, self.registry))
                    return None
                self.issue(
                    (*path, "type"),
                    f"unknown provider {provider!r}; did you mean {typo!r}? "
                    f"(installed: {', '.join(known)})",
                )
                return None
        elif not isinstance(provider, str):
            self.issue((*path, "type"), "missing: which provider is this?")
            return None
        instance = InstanceConfig(provider, {**shorthand, **options_table}, description, preset)
        if not self.check_options(instance, name, shorthand_keys=set(shorthand)):
            return None
        return instance

    def layers(self, name: str, instance: InstanceConfig) -> Resolved:
        preset_options: Mapping[str, Any] = {}
        if instance.preset is not None and self.registry is not None:
            preset_options = self.registry.instance(instance.preset).options
        return instance_layers(
            name, instance.options, preset=instance.preset, preset_options=preset_options
        )

    def check_options(
        self, instance: InstanceConfig, name: str, *, shorthand_keys: set[str]
    ) -> bool:
        """Check the instance's options; ``False`` when its provider cannot be loaded (then
        the instance is disabled)."""
        if self.registry is None:
            return True
        section = ("providers", name)
        try:
            options_class = self.registry.options_class(instance.provider)
            structure(options_class, self.layers(name, instance))
        except OptionsError as exc:
            for issue in exc.issues:
                top = issue.path[0] if issue.path else None
                where = section if top in shorthand_keys else (*section, "options")
                self.issue((*where, *issue.path), issue.message)
        except ConfigError as exc:
            self.issue(section, str(exc))
        except RegistryError as exc:  # installed, but broken: it cannot be used, the rest can
            self.disable(name, section, str(exc))
            return False
        return True

    # MCP servers ---------------------------------------------------------------------------

    def mcp_server(self, name: str, raw: Any) -> MCPServerConfig | None:
        from jackfield._converter import converter, validation_issues

        path = ("mcp", name)
        section = self.table(raw, path)
        if section is None or not self.name_ok(name, path):
            return None
        try:
            server: MCPServerConfig = converter.structure(dict(section), MCPServerConfig)
        except Exception as exc:  # noqa: BLE001 - every structuring failure becomes issues
            for where, message in validation_issues(exc, MCPServerConfig, (), "key"):
                self.issue((*path, *where), message)
            return None
        if (server.command is None) == (server.url is None):
            self.issue(
                path,
                "an MCP server needs exactly one of 'command' (a program speaking MCP over stdio, "
                "such as command = \"mcp-server-time\") or 'url' (a streamable-HTTP endpoint, "
                'such as url = "http://127.0.0.1:8000/mcp")',
            )
            return None
        if server.url is not None:
            if not server.url.startswith(("http://", "https://")):
                self.issue((*path, "url"), f"{server.url!r} is not an http:// or https:// URL")
                return None
            for key in ("args", "env", "cwd"):
                if key in section:
                    self.issue((*path, key), f"'{key}' is for a 'command'; a 'url' server has none")
        elif "headers" in section:
            self.issue((*path, "headers"), "'headers' is for a 'url'; a 'command' server has none")
        for key in ("timeout", "startup_timeout"):
            if getattr(server, key) <= 0:
                self.issue((*path, key), "expected a number of seconds greater than 0")
        return server

    def check_agent_tools(
        self,
        name: str,
        section: Any,
        agent: AgentConfig,
        servers: Mapping[str, MCPServerConfig],
    ) -> None:
        for index, entry in enumerate(agent.mcp):
            server, _, tool = entry.partition(":")
            if server not in servers:
                known = sorted(servers)
                hint = self.close(server, known) or (
                    f": declare it in an [mcp.{server}] section"
                    + (f" (configured: {', '.join(known)})" if known else "")
                )
                self.issue(("agents", name, "mcp", index), f"unknown MCP server {server!r}{hint}")
            elif ":" in entry and not tool:
                self.issue(("agents", name, "mcp", index), f"write {server!r} or '{server}:<tool>'")
        if agent.max_steps < 1:
            self.issue(("agents", name, "max_steps"), "expected at least 1")
        for index, entry in enumerate(agent.functions):
            if not entry or entry.count(":") > 1:
                self.issue(
                    ("agents", name, "functions", index),
                    "write a tool's name or 'module:function'",
                )

    # agents --------------------------------------------------------------------------------

    def agent(
        self, name: str, raw: Any, instances: Mapping[str, InstanceConfig]
    ) -> AgentConfig | None:
        from jackfield._converter import converter, validation_issues

        path = ("agents", name)
        section = self.table(raw, path)
        if section is None or not self.name_ok(name, path):
            return None
        try:
            agent: AgentConfig = converter.structure(dict(section), AgentConfig)
        except Exception as exc:  # noqa: BLE001 - every structuring failure becomes issues
            for where, message in validation_issues(exc, AgentConfig, (), "key"):
                self.issue((*path, *where), message)
            return None
        instance_name, _ = split_model_reference(agent.model)
        if instance_name in self.disabled:
            return agent  # using it says why; its options cannot be checked without a plugin
        instance = instances.get(instance_name)
        if instance is None and self.registry is not None:
            if instance_name not in self.registry.instance_names():
                reason = missing_instance(instance_name, self.registry)
                if reason is not None:  # a first-party plugin's ready-made instance
                    self.disable(instance_name, (*path, "model"), reason)
                    return agent
                if self._instance_names is None:  # once per file, not once per agent
                    self._instance_names = sorted({*instances, *self.registry.instance_names()})
                known = self._instance_names
                self.issue(
                    (*path, "model"),
                    f"unknown instance {instance_name!r}{self.close(instance_name, known)}: "
                    "a model reference is '<instance>:<model>'",
                )
                return None
            spec = self.registry.instance(instance_name)
            instance = InstanceConfig(spec.provider, {}, spec.description, instance_name)
        if instance is not None and self.registry is not None:
            self.check_agent_options(name, agent, instance_name, instance)
        return agent

    def check_agent_options(
        self, name: str, agent: AgentConfig, instance_name: str, instance: InstanceConfig
    ) -> None:
        assert self.registry is not None
        section = ("agents", name)
        layer = layer_name(AGENT, name)
        layers = self.layers(instance_name, instance).with_layer(layer, agent.layer)
        try:
            structure(self.registry.options_class(instance.provider), layers)
        except RegistryError as exc:  # its provider is installed but broken
            self.disable(instance_name, (*section, "model"), str(exc))
        except OptionsError as exc:
            for issue in exc.issues:
                if issue.layer != layer:
                    continue  # the instance's own problems are reported with the instance
                if issue.path[:1] in (("model",), ("extra_body",)):
                    self.issue((*section, *issue.path), issue.message)
                else:
                    self.issue((*section, "options", *issue.path), issue.message)
        except ConfigError as exc:
            self.issue(section, str(exc))


def parse_config(
    data: Mapping[str, Any],
    *,
    source: str = "<mapping>",
    text: str | None = None,
    registry: Registry | None = None,
) -> Config:
    """Validate a configuration mapping (``registry`` enables provider and option checks;
    ``text``, the file's text, gives each problem its line)."""
    if not isinstance(data, Mapping):
        raise ConfigFileError(source, [Issue((), "a configuration is a table (mapping)")])
    return _Parser(source, text, registry).parse(data)
