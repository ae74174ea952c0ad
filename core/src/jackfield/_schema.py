"""JSON Schema, both ways: from Python types to a schema, and a value checked against one.

Pure functions, used by the configuration's schema, by tools (a function's parameters) and by
structured output (a class's schema, an answer checked against
it). The checker covers the keywords models and tools use (``type``, ``enum``, ``const``,
``properties``, ``patternProperties``, ``required``, ``additionalProperties``, ``items``,
``prefixItems``, ``anyOf``/``oneOf``/``allOf``, local ``$ref`` such as ``#/$defs/...``, bounds on
numbers, strings and arrays, ``pattern``) as JSON Schema 2020-12 defines them; other keywords are
not checked.
"""

from __future__ import annotations

import copy
import enum
import inspect
import json
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard

import attrs

__all__ = [
    "class_schema",
    "is_pydantic_model",
    "parse_json_answer",
    "type_schema",
    "validate",
]


# --- Python types to JSON Schema -------------------------------------------------------------


def is_pydantic_model(t: Any) -> bool:
    """Whether ``t`` is a pydantic model class (told without importing pydantic)."""
    return (
        isinstance(t, type)
        and callable(getattr(t, "model_json_schema", None))
        and callable(getattr(t, "model_validate", None))
    )


def type_schema(t: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema for a type annotation; named classes go into ``defs`` and are referred to
    as ``#/$defs/<name>``."""
    import types
    import typing

    from jackfield._secret import Secret

    origin, args = typing.get_origin(t), typing.get_args(t)
    if t is Any or t is inspect.Parameter.empty:
        return {}
    if origin is typing.Annotated:
        annotated = type_schema(args[0], defs)
        notes = [a for a in args[1:] if isinstance(a, str)]
        if notes:
            annotated = {**annotated, "description": " ".join(notes)}
        return annotated
    if t is type(None) or t is None:
        return {"type": "null"}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if t in simple:
        return {"type": simple[t]}
    if t is Secret:
        return copy.deepcopy(_SECRET)  # a copy: callers add descriptions to what they get
    if origin is typing.Literal:
        return {"enum": [a.value if isinstance(a, enum.Enum) else a for a in args]}
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return {"enum": [member.value for member in t]}
    if origin is typing.Union or isinstance(t, types.UnionType):
        union: dict[str, Any] = {"anyOf": []}
        for arg in args:  # nested choices flattened, each once (``str | Secret``)
            member = type_schema(arg, defs)
            nested = "anyOf" in member and set(member) <= {"anyOf", "description"}
            if nested and "description" in member:
                union.setdefault("description", member["description"])
            for choice in member["anyOf"] if nested else [member]:
                if choice not in union["anyOf"]:
                    union["anyOf"].append(choice)
        return union
    if origin is tuple and args and args != ((),) and args[-1] is not Ellipsis:  # fixed length
        return {
            "type": "array",
            "prefixItems": [type_schema(a, defs) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin in (list, tuple, set, frozenset, Sequence, Iterable) or t in (list, tuple, set):
        item = args[0] if args else Any
        return {"type": "array", "items": type_schema(item, defs)}
    if origin in (dict, Mapping) or t in (dict, Mapping):
        value = args[1] if len(args) == 2 else Any
        schema: dict[str, Any] = {"type": "object"}
        if value is not Any:
            schema["additionalProperties"] = type_schema(value, defs)
        return schema
    if attrs.has(t):
        name = t.__name__
        if name not in defs:
            defs[name] = {}
            defs[name] = class_schema(t, defs)
        return {"$ref": f"#/$defs/{name}"}
    if is_pydantic_model(t):
        schema = t.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        if set(schema) == {"$ref"}:  # a recursive model: already one of the definitions
            return dict(schema)
        defs[t.__name__] = schema
        return {"$ref": f"#/$defs/{t.__name__}"}
    return {}


_SECRET: dict[str, Any] = {
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

_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`.]+)`")


def _plain(rest: str) -> str:
    """reST inline markup as plain text, for JSON Schema descriptions."""
    return _ROLE.sub(r"\1", rest).replace("``", "")


def class_schema(cls: Any, defs: dict[str, Any], *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON Schema of an attrs class: its fields as properties (attribute docstrings as
    descriptions), those without a default required, nothing else allowed."""
    import typing

    from jackfield._options import field_docs

    hints = typing.get_type_hints(cls, include_extras=True)
    docs = field_docs(cls)
    properties = {}
    required = []
    for field in attrs.fields(cls):
        if field.name in skip:
            continue
        properties[field.name] = type_schema(hints[field.name], defs)
        if field.name in docs:
            properties[field.name]["description"] = _plain(docs[field.name])
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):  # not attrs' made-up one
        schema["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        schema["required"] = required
    return schema


# --- checking a value against a schema ---------------------------------------------------------

_JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_json_answer(text: str) -> Any:
    """The JSON value of a model's answer; a ```` ```json ```` fence around it is allowed.
    Raises ``ValueError`` (saying why) when the answer is not JSON."""
    body = text.strip()
    fenced = re.fullmatch(r"```[\w+-]*[ \t]*\r?\n?(.*?)\s*```", body, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the answer is not JSON: {exc}") from None
    except RecursionError:
        raise ValueError("the answer is not JSON this parser can read: nested too deeply") from None


def _is(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float))
    return True  # a type this validator does not know: the server's business


def _kind(value: Any) -> str:
    kinds = ("null", "boolean", "integer", "number", "string", "array", "object")
    return next((k for k in kinds if _is(value, k)), type(value).__name__)


def validate(value: Any, schema: Any, path: str = "$", *, root: Any = None) -> list[str]:
    """What is wrong with ``value`` under ``schema``, one line per problem (``[]``: nothing),
    each starting with the JSON path of the value (``$.items[2].name``)."""
    try:
        return _check(value, schema, path, schema if root is None else root, frozenset())
    except RecursionError:
        return [f"{path}: nested too deeply to check"]


def _check(value: Any, schema: Any, path: str, root: Any, refs: frozenset[str]) -> list[str]:
    """:func:`validate`'s work. ``refs`` are the references followed to reach ``schema`` at this
    same value: one met again leads back to itself and is not followed a second time."""
    if schema is False:
        return [f"{path}: nothing is allowed here"]
    if not isinstance(schema, Mapping):
        return []  # true, or not a schema: anything goes
    problems: list[str] = []
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in refs:
        target = _resolve(ref, root)
        if target is not None:  # its neighbours apply too (JSON Schema 2019-09 and later)
            problems += _check(value, target, path, root, refs | {ref})
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    kinds = [k for k in kinds if k in _JSON_TYPES]  # an unknown type is the server's business
    if kinds and not any(_is(value, k) for k in kinds):
        expected = " or ".join(kinds)
        return [*problems, f"{path}: expected {expected}, got {_kind(value)} {_shown(value)}"]
    if "enum" in schema and isinstance(schema["enum"], list) and not _within(value, schema["enum"]):
        choices = ", ".join(_shown(c, limit=None) for c in schema["enum"])
        problems.append(f"{path}: {_shown(value)} is not one of {choices}")
    if "const" in schema and not _within(value, [schema["const"]]):
        problems.append(
            f"{path}: expected {_shown(schema['const'], limit=None)}, got {_shown(value)}"
        )
    problems += _choices(value, schema, path, root, refs)
    if "not" in schema and not _check(value, schema["not"], path, root, refs):
        problems.append(f"{path}: {_shown(value)} matches a schema it must not match")
    problems += _bounds(value, schema, path)
    step = schema.get("multipleOf")
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and isinstance(step, (int, float))
        and not isinstance(step, bool)
        and step > 0
        and not _multiple(value, step)
    ):
        problems.append(f"{path}: {_shown(value)} is not a multiple of {step}")
    if isinstance(value, dict):
        problems += _members(value, schema, path, root)
    if isinstance(value, list):
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        for index, item in enumerate(value):
            item_schema = prefix[index] if index < len(prefix) else schema.get("items")
            if isinstance(item_schema, (Mapping, bool)):
                problems += _check(item, item_schema, f"{path}[{index}]", root, frozenset())
    return problems


def _members(value: dict[Any, Any], schema: Mapping[str, Any], path: str, root: Any) -> list[str]:
    """The problems of an object's members: ``required``, ``properties``,
    ``patternProperties`` and ``additionalProperties``."""
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    patterns = schema.get("patternProperties")
    patterns = patterns if isinstance(patterns, Mapping) else {}
    required = schema.get("required")
    required = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
    problems = [f"{path}: {name!r} is missing" for name in required if name not in value]
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        plain = isinstance(name, str) and _NAME.match(name)
        where = f"{path}.{name}" if plain else f"{path}[{_shown(name, limit=None)}]"
        matched = False
        for pattern, sub in patterns.items():
            found = _search(pattern, name)
            matched = matched or found is not False  # an unreadable pattern may match
            if found:
                problems += _check(item, sub, where, root, frozenset())
        if name in properties:
            problems += _check(item, properties[name], where, root, frozenset())
        elif matched:
            continue
        elif extra is False:
            problems.append(f"{path}: {name!r} is not allowed (not in the schema)")
        else:
            problems += _check(item, extra, where, root, frozenset())
    return problems


def _search(pattern: Any, text: Any) -> bool | None:
    """Whether the regular expression ``pattern`` is found in ``text``; ``None`` when Python
    cannot read the pattern (it is then not checked)."""
    if not isinstance(pattern, str):
        return None
    if not isinstance(text, str):
        return False
    try:
        return re.search(pattern, text) is not None
    except (re.error, OverflowError, RecursionError):
        return None


def _multiple(value: float, step: float) -> bool:
    """Whether ``value`` is a whole number of ``step`` (exactly for integers, within rounding
    for floats)."""
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    try:
        quotient = value / step
    except OverflowError:
        return True  # too large to tell: not reported
    return abs(quotient - round(quotient)) < 1e-9


def _resolve(ref: str, root: Any) -> Any:
    """The schema a local ``$ref`` (``#``, ``#/$defs/X``, ``#/definitions/X``, any JSON pointer
    after ``#``) points at; ``None`` for other references (remote ones, ``#anchor``)."""
    if ref != "#" and not ref.startswith("#/"):
        return None
    node = root
    for part in ref[2:].split("/") if ref != "#" else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def _choices(
    value: Any, schema: Mapping[str, Any], path: str, root: Any, refs: frozenset[str]
) -> list[str]:
    problems: list[str] = []
    every = schema.get("allOf")
    for sub in every if isinstance(every, list) else ():
        problems += _check(value, sub, path, root, refs)
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if not isinstance(options, list) or not options:
            continue
        results = [_check(value, sub, path, root, refs) for sub in options]
        passing = sum(1 for r in results if not r)
        if passing == 0:
            closest = min(results, key=len)
            problems += (
                closest
                if len(options) == 1
                else [
                    f"{path}: matches none of the {len(options)} choices "
                    f"(closest: {'; '.join(closest)})"
                ]
            )
        elif keyword == "oneOf" and passing > 1:
            problems.append(f"{path}: matches {passing} of the choices, oneOf allows one")
    return problems


def _number(value: Any) -> TypeGuard[float]:
    """A JSON number (an int or a float, not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounds(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    problems = []
    if _number(value):
        for key, fails, says in (
            ("minimum", operator.lt, "at least"),
            ("maximum", operator.gt, "at most"),
            ("exclusiveMinimum", operator.le, "more than"),
            ("exclusiveMaximum", operator.ge, "less than"),
        ):
            bound = schema.get(key)  # a boolean is draft 4's exclusiveMinimum: not checked
            if _number(bound) and fails(value, bound):
                problems.append(f"{path}: {_shown(value)} is not {says} {bound}")
    sized = (
        ("minLength", "maxLength", "characters")
        if isinstance(value, str)
        else ("minItems", "maxItems", "items")
        if isinstance(value, list)
        else None
    )
    if sized is not None:
        low, high, unit = sized
        least, most = schema.get(low), schema.get(high)
        if isinstance(least, int) and not isinstance(least, bool) and len(value) < least:
            problems.append(f"{path}: {len(value)} {unit}, at least {least} needed")
        if isinstance(most, int) and not isinstance(most, bool) and len(value) > most:
            problems.append(f"{path}: {len(value)} {unit}, at most {most} allowed")
    pattern = schema.get("pattern")
    if isinstance(value, str) and _search(pattern, value) is False:
        problems.append(f"{path}: {_shown(value)} does not match {pattern!r}")
    return problems


def _within(value: Any, choices: list[Any]) -> bool:
    return any(_same(value, choice) for choice in choices)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0``, but ``true`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _shown(value: Any, limit: int | None = 40) -> str:
    """A value as JSON for messages (cut to ``limit`` characters); ``repr`` if it is not JSON."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."
