"""What a configuration holds: provider instances and agents (validated, immutable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from jackfield._messages import Tool
from jackfield._secret import Secret

__all__ = ["AgentConfig", "Config", "InstanceConfig", "MCPServerConfig", "split_model_reference"]


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
    ``description``, ``parameters`` (a JSON Schema) and ``source``. jackfield does not run them:
    a run stops at their calls and hands them to the host (or to its ``execute`` function)."""
    functions: tuple[str, ...] = ()
    """Python tools this agent may call, each a tool's name (a plugin's, see ``jackfield tools``)
    or ``"module:function"``, run in this process."""
    mcp: tuple[str, ...] = ()
    """MCP servers this agent may use, each ``"<server>"`` (all its tools) or
    ``"<server>:<tool>"`` (one tool), naming a ``[mcp.<server>]`` section. Their tools reach the
    model as ``<server>__<tool>``."""
    max_steps: int = 10
    """The most model calls one run of this agent makes (each tool round is one more); a run
    that reaches it ends with the calls of its last answer not run."""

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
class MCPServerConfig:
    """An MCP server (``[mcp.<name>]``): a command started over stdio, or a streamable-HTTP URL."""

    command: str | None = None
    """The program to start (found on ``PATH``), speaking MCP on its stdin and stdout."""
    args: tuple[str, ...] = ()
    """The program's arguments."""
    env: Mapping[str, Secret] = attrs.field(factory=dict, hash=False)
    """Environment variables for the program, on top of a minimal environment (``HOME``, ``PATH``,
    ``USER`` ...): the rest of jackfield's environment is not passed on. Values may be secret
    references (``{ env = "GITHUB_TOKEN" }``)."""
    cwd: str | None = None
    """The program's working directory (``~`` expanded); the current directory if unset."""
    url: str | None = None
    """The server's streamable-HTTP endpoint (``http://127.0.0.1:8000/mcp``), instead of a
    ``command``."""
    headers: Mapping[str, Secret] = attrs.field(factory=dict, hash=False)
    """HTTP headers sent to ``url`` (an ``Authorization`` token, say); values may be secret
    references."""
    timeout: float = 60.0
    """Seconds one tool call may take before it fails (as an error result the model reads)."""
    startup_timeout: float = 30.0
    """Seconds the server may take to start and list its tools."""
    description: str = ""
    """Free text."""


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
    disabled: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Instances that cannot be used, by name, each with the reason: the plugin providing it is
    not installed (the reason names the package), turned off, or failed to load. Such an instance
    is not in :attr:`instances`; using it, or an agent on it, is an error giving the reason, and
    everything else works."""
    mcp: Mapping[str, MCPServerConfig] = attrs.field(factory=dict, hash=False)
    """The configured MCP servers (``[mcp.<name>]``) by name; each starts when an agent that uses
    it first needs its tools."""


def split_model_reference(reference: str) -> tuple[str, str | None]:
    """``"ollama:qwen3:8b"`` -> ``("ollama", "qwen3:8b")``; ``"local"`` -> ``("local", None)``."""
    instance, colon, model = reference.partition(":")
    return instance, (model if colon and model else None)
