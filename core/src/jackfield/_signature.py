"""A function as a tool's description: its summary and the JSON Schema of its parameters,
from its type hints and its docstring (Google, NumPy or Sphinx style)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["function_schema"]


def function_schema(function: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """A function's description and the JSON Schema of its keyword arguments, from its type
    hints and docstring.

    The description is the docstring's text before its parameter section. Each parameter's
    description comes from that section, in Google (``Args:``), NumPy (``Parameters``) or
    Sphinx (``:param name:``) style, or from ``Annotated[type, "text"]``. A parameter without
    a default is required; a default that JSON can hold is given as ``default``. ``*args``,
    ``**kwargs`` and a parameter named ``self`` or ``cls`` are not part of the schema.
    """
    import typing

    from jackfield._schema import type_schema

    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception:  # noqa: BLE001 - a hint that cannot be resolved is left open
        hints = {}
    summary, notes = _docstring(inspect.getdoc(function) or "")
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in ("self", "cls"):
            continue
        schema = dict(type_schema(hints.get(name, parameter.annotation), defs))
        if name in notes and "description" not in schema:
            schema["description"] = notes[name]
        if parameter.default is parameter.empty:
            required.append(name)
        elif _jsonable(parameter.default):
            schema["default"] = parameter.default
        properties[name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    if defs:
        parameters["$defs"] = defs
    return summary, parameters


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters"
    r"|Returns?|Raises|Yields|Examples?|Notes?|See Also|Warnings?|References)\s*:?\s*$"
)
_PARAMETER_SECTIONS = frozenset(
    (
        "args",
        "arguments",
        "parameters",
        "params",
        "keyword args",
        "keyword arguments",
        "other parameters",
    )
)
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$")
_SPHINX_ITEM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary of a (cleaned) docstring, and each parameter's description."""
    lines = doc.splitlines()
    notes: dict[str, str] = {}
    summary: list[str] = []
    index = 0
    while index < len(lines):  # the summary: everything before the first section
        line = lines[index]
        if _SECTION.match(line.strip()) or _SPHINX_ITEM.match(line.strip()):
            break
        summary.append(line)
        index += 1
    section: str | None = None
    current: str | None = None
    while index < len(lines):
        raw = lines[index]
        line = raw.strip()
        index += 1
        sphinx = _SPHINX_ITEM.match(line)
        if sphinx:
            current = sphinx.group(1)
            notes[current] = sphinx.group(2).strip()
            section = "sphinx"
            continue
        heading = _SECTION.match(line)
        if heading and not raw.startswith((" ", "\t")):
            section = heading.group(1).lower()
            current = None
            if index < len(lines) and set(lines[index].strip()) == {"-"}:
                index += 1  # NumPy's underline
                section = f"numpy {section}"
            continue
        if not line:
            current = None if section != "sphinx" else current
            continue
        if section in _PARAMETER_SECTIONS:
            item = _GOOGLE_ITEM.match(line)
            if item and not raw.startswith(("        ", "\t\t")):
                current = item.group(1).lstrip("*")
                notes[current] = item.group(2).strip()
            elif current is not None:
                notes[current] = f"{notes[current]} {line}".strip()
        elif section is not None and section.removeprefix("numpy ") in _PARAMETER_SECTIONS:
            item = _NUMPY_ITEM.match(line)
            if item and not raw.startswith((" ", "\t")):
                current = item.group(1)
                notes[current] = ""
            elif current is not None:
                notes[current] = f"{notes[current]} {line}".strip()
        elif section == "sphinx" and current is not None and raw.startswith((" ", "\t")):
            notes[current] = f"{notes[current]} {line}".strip()
    text = " ".join(" ".join(summary).split())
    return text, {name: " ".join(note.split()) for name, note in notes.items() if note}
