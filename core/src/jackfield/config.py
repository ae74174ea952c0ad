"""The configuration file: provider instances and agents, validated with paths and lines.

A TOML file with two tables::

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

Everything is checked when the file is loaded, through the same converter and option layers
providers use: unknown keys (with a did-you-mean), wrong types, unknown providers and
instances. Each problem names the file, the line when it can be found, the key path
(``agents.coder.options.temperature``) and what was expected. Secrets given by reference
(``api_key = { env = "OPENAI_API_KEY" }``) are read only when the instance is first used.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._errors import ConfigError, OptionsError
from jackfield.messages import Tool
from jackfield.options import Resolved, format_path, resolve, structure

if TYPE_CHECKING:
    from jackfield.registry import Registry

__all__ = [
    "CONFIG_ENV",
    "AgentConfig",
    "Config",
    "ConfigFileError",
    "ConfigIssue",
    "InstanceConfig",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
    "split_model_reference",
    "user_config_path",
]

CONFIG_ENV = "JACKFIELD_CONFIG"
"""The environment variable naming the configuration file when ``--config`` is not given."""
_NAME = re.compile(r"[a-z][a-z0-9._-]*\Z")
_TOP_KEYS = ("providers", "agents")
_INSTANCE_KEYS = ("type", "description", "options")
_AGENT_KEYS = ("model", "system_prompt", "description", "options", "extra_body", "tools")


@attrs.frozen
class ConfigIssue:
    """One problem in a configuration: the key path, what is wrong, and the line if known."""

    path: str
    """Dotted key path of the problem, such as ``agents.coder.options.temperature``; empty for a
    problem with the whole file."""
    message: str
    """What is wrong, and what was expected."""
    line: int | None = None
    """Line of the problem in the TOML file (from 1) when it can be found, else ``None``."""


class ConfigFileError(ConfigError):
    """The configuration cannot be used; ``issues`` lists every problem found."""

    def __init__(self, source: str, issues: Sequence[ConfigIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        lines = []
        for issue in self.issues:
            where = f"{source}:{issue.line}" if issue.line else source
            key = f" {issue.path}:" if issue.path else ""
            lines.append(f"{where}:{key} {issue.message}")
        super().__init__("\n".join(lines))


@attrs.frozen
class InstanceConfig:
    """A configured provider instance: which provider, and its options (an option layer)."""

    provider: str
    """The provider's name: the section's ``type`` (such as ``"openai-compatible"``), or the
    provider of the ready-made instance the section is named after."""
    options: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    """The instance's option layer: the keys set directly in the section merged with its ``options``
    table."""
    description: str = ""
    """Free text."""
    preset: str | None = None
    """The ready-made instance this one builds on (a section without ``type`` named after one),
    whose options are the layer below this one; ``None`` if none."""


@attrs.frozen
class AgentConfig:
    """A configured agent: a model reference, a system prompt, tools and option overrides."""

    model: str
    """``"<instance>:<model>"``, split on the first colon (``"ollama:qwen3:8b"`` works), or an
    instance name alone to use the instance's own ``model``."""
    system_prompt: str | None = None
    """Sent as a system message before every conversation of this agent; ``None`` or empty sends
    none."""
    description: str = ""
    """Free text."""
    options: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    """Option overrides for this agent: a layer over the instance's options and under the call's."""
    extra_body: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    """Vendor extras, merged over the instance's ``extra_body`` with JSON Merge Patch."""
    tools: tuple[Tool, ...] = ()
    """Tools offered on every call of this agent, before the call's own: each a table with ``name``,
    ``description``, ``parameters`` (a JSON Schema) and ``source``."""

    @property
    def layer(self) -> dict[str, Any]:
        """The agent's option layer: its options, the model and extra_body."""
        _, model = split_model_reference(self.model)
        layer: dict[str, Any] = dict(self.options)
        if model:
            layer["model"] = model
        if self.extra_body:
            layer["extra_body"] = dict(self.extra_body)
        return layer


@attrs.frozen
class Config:
    """A whole validated configuration."""

    instances: Mapping[str, InstanceConfig] = attrs.field(factory=dict, hash=False)
    """The configured provider instances (``[providers.<name>]``) by name; ready-made instances are
    not listed unless configured."""
    agents: Mapping[str, AgentConfig] = attrs.field(factory=dict, hash=False)
    """The configured agents (``[agents.<name>]``) by name."""
    source: str = "<no configuration>"
    """Where the configuration came from: the file's path, the name given with a mapping
    (``"<mapping>"`` by default), or ``"<no configuration>"``."""


def split_model_reference(reference: str) -> tuple[str, str | None]:
    """``"ollama:qwen3:8b"`` -> ``("ollama", "qwen3:8b")``; ``"local"`` -> ``("local", None)``."""
    instance, colon, model = reference.partition(":")
    return instance, (model if colon and model else None)


# --- locating keys in the TOML text ----------------------------------------------------------

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\'))*)\s*='
)
_INLINE_KEY = re.compile(r'[{,]\s*([A-Za-z0-9_-]+|"[^"]*")\s*=')


def _key_parts(text: str) -> list[str]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text)
    return [a or b or c for a, b, c in parts]


class _Locator:
    """Line numbers of dotted key paths in a TOML text (best effort, for messages)."""

    def __init__(self, text: str | None) -> None:
        self.lines: dict[str, int] = {}
        if not text:
            return
        table: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            header = _TABLE.match(line)
            if header:
                table = _key_parts(header.group(1))
                for depth in range(1, len(table) + 1):
                    self.lines.setdefault(".".join(table[:depth]), number)
                continue
            key = _KEY.match(line)
            if key:
                path = [*table, *_key_parts(key.group(1))]
                self.lines.setdefault(".".join(path), number)
                for inner in _INLINE_KEY.findall(line[key.end() :]):
                    self.lines.setdefault(".".join([*path, *_key_parts(inner)]), number)

    def line(self, path: str) -> int | None:
        parts = path.split(".")
        while parts:
            found = self.lines.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return None


# --- parsing ------------------------------------------------------------------------------------


def _close(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _dotted(prefix: str, path: Sequence[str | int]) -> str:
    rest = format_path(path, root="")
    if not rest:
        return prefix
    return f"{prefix}{rest}" if rest.startswith("[") else f"{prefix}.{rest}"


class _Parser:
    def __init__(self, source: str, text: str | None, registry: Registry | None) -> None:
        self.source = source
        self.locate = _Locator(text)
        self.registry = registry
        self.issues: list[ConfigIssue] = []

    def issue(self, path: str, message: str) -> None:
        self.issues.append(ConfigIssue(path, message, self.locate.line(path)))

    def table(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.issue(path, f"expected a table, got {type(value).__name__}")
        return None

    def parse(self, data: Mapping[str, Any]) -> Config:
        for key in data:
            if key not in _TOP_KEYS:
                self.issue(key, f"unknown section {key!r}{_close(key, _TOP_KEYS)}")
        instances: dict[str, InstanceConfig] = {}
        for name, section in (self.table(data.get("providers", {}), "providers") or {}).items():
            instance = self.instance(name, section)
            if instance is not None:
                instances[name] = instance
        agents: dict[str, AgentConfig] = {}
        for name, section in (self.table(data.get("agents", {}), "agents") or {}).items():
            agent = self.agent(name, section, instances)
            if agent is not None:
                agents[name] = agent
        if self.issues:
            raise ConfigFileError(self.source, self.issues)
        return Config(instances, agents, self.source)

    def name_ok(self, name: str, path: str) -> bool:
        if _NAME.match(name):
            return True
        self.issue(
            path, "names use lowercase letters, digits, '.', '_' and '-', starting with a letter"
        )
        return False

    # providers -----------------------------------------------------------------------------

    def instance(self, name: str, raw: Any) -> InstanceConfig | None:
        path = f"providers.{name}"
        section = self.table(raw, path)
        if section is None or not self.name_ok(name, path):
            return None
        provider, preset = section.get("type"), None
        description = section.get("description", "")
        if not isinstance(description, str):
            self.issue(f"{path}.description", "expected a string")
        options_table = section.get("options", {})
        if not isinstance(options_table, Mapping):
            self.issue(f"{path}.options", f"expected a table, got {type(options_table).__name__}")
            options_table = {}
        shorthand = {k: v for k, v in section.items() if k not in _INSTANCE_KEYS}
        for key in set(shorthand) & set(options_table):
            self.issue(f"{path}.{key}", "set either here or in the options table, not both")
        if self.registry is not None:
            if provider is None:
                if name in self.registry.instance_names():
                    preset = name
                    provider = self.registry.instance(name).provider
                else:
                    self.issue(
                        f"{path}.type",
                        "missing: which provider is this? One of: "
                        + ", ".join(self.registry.names()),
                    )
                    return None
            elif not isinstance(provider, str) or provider not in self.registry.names():
                known = self.registry.names()
                self.issue(
                    f"{path}.type",
                    f"unknown provider {provider!r}{_close(str(provider), known)} "
                    f"(installed: {', '.join(known) or 'none'})",
                )
                return None
        elif not isinstance(provider, str):
            self.issue(f"{path}.type", "missing: which provider is this?")
            return None
        options = {**shorthand, **options_table}
        instance = InstanceConfig(provider, options, description, preset)
        self.check_options(instance, name, shorthand_keys=set(shorthand))
        return instance

    def layers(self, name: str, instance: InstanceConfig) -> Resolved:
        preset_options: Mapping[str, Any] = {}
        if instance.preset is not None and self.registry is not None:
            preset_options = self.registry.instance(instance.preset).options
        return resolve(
            (f"preset:{instance.preset}", preset_options), (f"instance:{name}", instance.options)
        )

    def check_options(
        self, instance: InstanceConfig, name: str, *, shorthand_keys: set[str]
    ) -> None:
        if self.registry is None:
            return
        try:
            options_class = self.registry.options_class(instance.provider)
            structure(options_class, self.layers(name, instance))
        except OptionsError as exc:
            for issue in exc.issues:
                rel = issue.path[2:] if issue.path.startswith("$.") else issue.path.lstrip("$")
                top = re.split(r"[.\[]", rel, maxsplit=1)[0]
                prefix = (
                    f"providers.{name}" if top in shorthand_keys else f"providers.{name}.options"
                )
                self.issue(f"{prefix}.{rel}" if rel else prefix, issue.message)
        except ConfigError as exc:
            self.issue(f"providers.{name}", str(exc))

    # agents --------------------------------------------------------------------------------

    def agent(
        self, name: str, raw: Any, instances: Mapping[str, InstanceConfig]
    ) -> AgentConfig | None:
        from jackfield._converter import converter, validation_issues

        path = f"agents.{name}"
        section = self.table(raw, path)
        if section is None or not self.name_ok(name, path):
            return None
        try:
            agent: AgentConfig = converter.structure(dict(section), AgentConfig)
        except Exception as exc:  # noqa: BLE001 - every structuring failure becomes issues
            for where, message in validation_issues(exc, AgentConfig, (), "key"):
                self.issue(_dotted(path, where), message)
            return None
        instance_name, _ = split_model_reference(agent.model)
        instance = instances.get(instance_name)
        if instance is None and self.registry is not None:
            if instance_name in self.registry.instance_names():
                spec = self.registry.instance(instance_name)
                instance = InstanceConfig(spec.provider, {}, spec.description, instance_name)
            else:
                known = sorted({*instances, *self.registry.instance_names()})
                self.issue(
                    f"{path}.model",
                    f"unknown instance {instance_name!r}{_close(instance_name, known)}: "
                    "a model reference is '<instance>:<model>'",
                )
                return None
        if instance is not None and self.registry is not None:
            self.check_agent_options(name, agent, instance_name, instance)
        return agent

    def check_agent_options(
        self, name: str, agent: AgentConfig, instance_name: str, instance: InstanceConfig
    ) -> None:
        assert self.registry is not None
        layers = self.layers(instance_name, instance).with_layer(f"agent:{name}", agent.layer)
        try:
            structure(self.registry.options_class(instance.provider), layers)
        except OptionsError as exc:
            for issue in exc.issues:
                if issue.layer != f"agent:{name}":
                    continue  # the instance's own problems are reported with the instance
                rel = issue.path[2:] if issue.path.startswith("$.") else issue.path.lstrip("$")
                if rel == "model":
                    where = f"agents.{name}.model"
                elif rel.startswith("extra_body"):
                    where = f"agents.{name}.{rel}"
                else:
                    where = f"agents.{name}.options.{rel}"
                self.issue(where, issue.message)
        except ConfigError as exc:
            self.issue(f"agents.{name}", str(exc))


def parse_config(
    data: Mapping[str, Any],
    *,
    source: str = "<mapping>",
    text: str | None = None,
    registry: Registry | None = None,
) -> Config:
    """Validate a configuration mapping (``registry`` enables provider and option checks)."""
    if not isinstance(data, Mapping):
        raise ConfigFileError(source, [ConfigIssue("", "a configuration is a table (mapping)")])
    return _Parser(source, text, registry).parse(data)


def load_config(path: str | os.PathLike[str], *, registry: Registry | None = None) -> Config:
    """Read and validate a TOML configuration file."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(
            source, [ConfigIssue("", "the configuration file does not exist")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(source, [ConfigIssue("", f"cannot read the file: {exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigFileError(
            source,
            [ConfigIssue("", f"not valid TOML: {exc}", int(line.group(1)) if line else None)],
        ) from None
    except RecursionError:  # the TOML parser recurses into nested arrays and inline tables
        raise ConfigFileError(
            source, [ConfigIssue("", "not readable: arrays or tables are nested too deeply")]
        ) from None
    return parse_config(data, source=source, text=text, registry=registry)


def user_config_path() -> Path:
    """Where the per-user configuration lives on this platform."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "jackfield" / "config.toml"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file to use: ``explicit``, else ``$JACKFIELD_CONFIG``, else the
    per-user file if it exists, else none (working without a file is normal)."""
    for given, origin in ((explicit, "--config"), (os.environ.get(CONFIG_ENV), CONFIG_ENV)):
        if given:
            path = Path(given)
            if not path.is_file():
                raise ConfigFileError(
                    os.fspath(path),
                    [ConfigIssue("", f"the configuration file (from {origin}) does not exist")],
                )
            return path
    user = user_config_path()
    return user if user.is_file() else None


# --- JSON Schema ---------------------------------------------------------------------------------


def _type_schema(t: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema for a type annotation of an attrs field."""
    import types
    import typing

    from jackfield._secret import Secret

    origin, args = typing.get_origin(t), typing.get_args(t)
    if t is Any:
        return {}
    if t is type(None):
        return {"type": "null"}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if t in simple:
        return {"type": simple[t]}
    if t is Secret:
        return {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"env": {"type": "string"}},
                    "required": ["env"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"file": {"type": "string"}},
                    "required": ["file"],
                    "additionalProperties": False,
                },
            ],
            "description": "a secret: the value, or a reference read on first use",
        }
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is typing.Union or isinstance(t, types.UnionType):
        return {"anyOf": [_type_schema(a, defs) for a in args]}
    if origin in (list, tuple, Sequence) or t in (list, tuple):
        item = args[0] if args else Any
        return {"type": "array", "items": _type_schema(item, defs)}
    if origin in (dict, Mapping) or t in (dict, Mapping):
        value = args[1] if len(args) == 2 else Any
        schema: dict[str, Any] = {"type": "object"}
        if value is not Any:
            schema["additionalProperties"] = _type_schema(value, defs)
        return schema
    if attrs.has(t):
        name = t.__name__
        if name not in defs:
            defs[name] = {}
            defs[name] = _class_schema(t, defs)
        return {"$ref": f"#/$defs/{name}"}
    return {}


_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`.]+)`")


def _plain(rest: str) -> str:
    """reST inline markup as plain text, for JSON Schema descriptions."""
    return _ROLE.sub(r"\1", rest).replace("``", "")


def _class_schema(cls: Any, defs: dict[str, Any], *, skip: Iterable[str] = ()) -> dict[str, Any]:
    import typing

    from jackfield.options import field_docs

    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    properties = {}
    required = []
    for field in attrs.fields(cls):
        if field.name in skip:
            continue
        properties[field.name] = _type_schema(hints[field.name], defs)
        if field.name in docs:
            properties[field.name]["description"] = _plain(docs[field.name])
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if cls.__doc__:
        schema["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        schema["required"] = required
    return schema


def json_schema(registry: Registry) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for the configuration file, generated from the attrs
    classes: the agent section and the options class of every installed provider."""
    defs: dict[str, Any] = {}
    option_properties: dict[str, Any] = {}
    provider_names = registry.names()
    for name in provider_names:
        options_schema = _class_schema(registry.options_class(name), defs)
        defs[f"options:{name}"] = options_schema
        option_properties.update(options_schema["properties"])
    instance = {
        "type": "object",
        "description": "a provider instance: its provider, and options (top level or 'options')",
        "properties": {
            "type": {"enum": provider_names, "description": "the provider (optional for presets)"},
            "description": {"type": "string"},
            "options": {
                "type": "object",
                "properties": option_properties,
                "additionalProperties": False,
            },
            **option_properties,
        },
        "additionalProperties": False,
    }
    agent = _class_schema(AgentConfig, defs)
    agent["properties"]["options"] = {
        "type": "object",
        "properties": option_properties,
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "jackfield configuration",
        "type": "object",
        "properties": {
            "providers": {"type": "object", "additionalProperties": {"$ref": "#/$defs/instance"}},
            "agents": {"type": "object", "additionalProperties": {"$ref": "#/$defs/agent"}},
        },
        "additionalProperties": False,
        "$defs": {"instance": instance, "agent": agent, **defs},
    }
