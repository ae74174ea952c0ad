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
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jackfield._config.locate import Locator
from jackfield._config.model import AgentConfig, Config, InstanceConfig, split_model_reference
from jackfield._errors import ConfigError, ConfigFileError, Issue, OptionsError, Path
from jackfield._options import AGENT, Resolved, instance_layers, layer_name, structure

if TYPE_CHECKING:
    from jackfield._registry import Registry

__all__ = ["parse_config"]

_NAME = re.compile(r"[a-z][a-z0-9._-]*\Z")
_TOP_KEYS = ("providers", "agents")
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
        agents: dict[str, AgentConfig] = {}
        for name, section in (self.table(data.get("agents", {}), ("agents",)) or {}).items():
            agent = self.agent(name, section, instances)
            if agent is not None:
                agents[name] = agent
        if self.issues:
            raise ConfigFileError(self.source, self.issues)
        return Config(instances, agents, self.source)

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
                    self.issue(
                        (*path, "type"),
                        "missing: which provider is this? One of: " + ", ".join(known),
                    )
                    return None
                preset = name
                provider = self.registry.instance(name).provider
            elif not isinstance(provider, str) or provider not in known:
                self.issue(
                    (*path, "type"),
                    f"unknown provider {provider!r}{self.close(str(provider), known)} "
                    f"(installed: {', '.join(known) or 'none'})",
                )
                return None
        elif not isinstance(provider, str):
            self.issue((*path, "type"), "missing: which provider is this?")
            return None
        instance = InstanceConfig(provider, {**shorthand, **options_table}, description, preset)
        self.check_options(instance, name, shorthand_keys=set(shorthand))
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
    ) -> None:
        if self.registry is None:
            return
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
        instance = instances.get(instance_name)
        if instance is None and self.registry is not None:
            if instance_name not in self.registry.instance_names():
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
