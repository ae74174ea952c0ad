"""The JSON Schema of the configuration file, generated from the attrs classes that validate it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._config.model import AgentConfig

if TYPE_CHECKING:
    from jackfield._registry import Registry

__all__ = ["json_schema"]


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
        union: dict[str, Any] = {"anyOf": []}
        for arg in args:  # nested choices flattened, each once (``str | Secret``)
            member = _type_schema(arg, defs)
            nested = set(member) <= {"anyOf", "description"}
            if nested and "description" in member:
                union.setdefault("description", member["description"])
            for choice in member["anyOf"] if nested else [member]:
                if choice not in union["anyOf"]:
                    union["anyOf"].append(choice)
        return union
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

    from jackfield._options import field_docs

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
