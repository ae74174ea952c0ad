"""What a configuration holds: provider instances and agents (validated, immutable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from jackfield._messages import Tool

__all__ = ["AgentConfig", "Config", "InstanceConfig", "split_model_reference"]


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
    disabled: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Instances that cannot be used, by name, each with the reason: the plugin providing it is
    not installed (the reason names the package), turned off, or failed to load. Such an instance
    is not in :attr:`instances`; using it, or an agent on it, is an error giving the reason, and
    everything else works."""


def split_model_reference(reference: str) -> tuple[str, str | None]:
    """``"ollama:qwen3:8b"`` -> ``("ollama", "qwen3:8b")``; ``"local"`` -> ``("local", None)``."""
    instance, colon, model = reference.partition(":")
    return instance, (model if colon and model else None)
