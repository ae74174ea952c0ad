"""The JSON Schema of the configuration file, generated from the attrs classes that validate it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jackfield._config.model import AgentConfig, MCPServerConfig
from jackfield._schema import class_schema

if TYPE_CHECKING:
    from jackfield._registry import Registry

__all__ = ["json_schema"]


def json_schema(registry: Registry) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for the configuration file, generated from the attrs
    classes: the agent section and the options class of every installed provider."""
    defs: dict[str, Any] = {}
    option_properties: dict[str, Any] = {}
    provider_names = registry.names()
    for name in provider_names:
        options_schema = class_schema(registry.options_class(name), defs)
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
    agent = class_schema(AgentConfig, defs)
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
            "mcp": {"type": "object", "additionalProperties": {"$ref": "#/$defs/mcp"}},
        },
        "additionalProperties": False,
        "$defs": {
            "instance": instance,
            "agent": agent,
            "mcp": class_schema(MCPServerConfig, defs),
            **defs,
        },
    }
