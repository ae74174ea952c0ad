# Optional[X] is typing.Union and X | None is types.UnionType: both are tested on purpose.
# ruff: noqa: UP045
"""JSON Schema both ways (``jackfield._schema``): a Python type's schema, a value checked against
a schema, and a model's JSON answer read.

Examples pin the messages; property tests check that (a) what the converter makes of an attrs
instance always fits its class's schema, (b) values made for a schema fit it and a value of the
wrong type does not, (c) the checker never raises, whatever the schema and the value, and (d) on
the keywords it checks, it agrees with the ``jsonschema`` package.
"""

from __future__ import annotations

import enum
import keyword
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Optional

import attrs
import jsonschema
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield._schema import _SECRET, class_schema, parse_json_answer, type_schema, validate
from jackfield._secret import Secret
from tests.core.strategies import json_values

# --- Python types to JSON Schema -------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


@attrs.define
class Point:
    """A point on a plane."""

    x: int
    """Across, in pixels."""
    y: int = 0
    """Down, see :class:`~jackfield.Tool` and ``y``."""


@attrs.define
class Node:
    name: str
    children: list[Node] = attrs.Factory(list)


class Model(pydantic.BaseModel):
    a: int
    inner: Model | None = None


def schema_of(t: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    defs: dict[str, Any] = {}
    return type_schema(t, defs), defs


@pytest.mark.parametrize(
    ("hint", "schema"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (Any, {}),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (int | str | None, {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}),
        (Optional[Any], {"anyOf": [{}, {"type": "null"}]}),  # raised KeyError before
        (
            Optional[Annotated[Any, "anything"]],
            {"anyOf": [{"description": "anything"}, {"type": "null"}]},
        ),
        (Literal["a", 1, True], {"enum": ["a", 1, True]}),
        (Literal[Colour.RED], {"enum": ["red"]}),  # the member's value, not the member
        (Colour, {"enum": ["red", "green"]}),
        (Size, {"enum": [1, 2]}),
        (list[str], {"type": "array", "items": {"type": "string"}}),
        (list, {"type": "array", "items": {}}),
        (typing.List[int], {"type": "array", "items": {"type": "integer"}}),  # noqa: UP006
        (set[int], {"type": "array", "items": {"type": "integer"}}),
        (Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        (  # a 1-tuple has one item (was: an array of any length)
            tuple[int],
            {"type": "array", "prefixItems": [{"type": "integer"}], "minItems": 1, "maxItems": 1},
        ),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (dict[str, Any], {"type": "object"}),
        (dict, {"type": "object"}),
        (Mapping[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (
            Annotated[int, "how many", "at most ten"],
            {"type": "integer", "description": "how many at most ten"},
        ),
        (
            Annotated[str | None, "a name"],
            {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "a name"},
        ),
        (object, {}),  # a type with no schema: anything
    ],
)
def test_type_schema(hint: Any, schema: dict[str, Any]) -> None:
    made, defs = schema_of(hint)
    assert made == schema
    assert defs == {}
    jsonschema.Draft202012Validator.check_schema(made)


def test_attrs_classes_are_definitions_referred_to() -> None:
    made, defs = schema_of(list[Point])
    assert made == {"type": "array", "items": {"$ref": "#/$defs/Point"}}
    assert defs == {
        "Point": {
            "type": "object",
            "description": "A point on a plane.",
            "properties": {
                "x": {"type": "integer", "description": "Across, in pixels."},
                "y": {"type": "integer", "description": "Down, see Tool and y."},
            },
            "required": ["x"],
            "additionalProperties": False,
        }
    }


def test_a_recursive_attrs_class_refers_to_itself() -> None:
    made, defs = schema_of(Node)
    assert made == {"$ref": "#/$defs/Node"}
    assert defs["Node"]["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/Node"},
    }
    assert "description" not in defs["Node"]  # attrs' made-up docstring is not a description
    root = {**made, "$defs": defs}
    assert validate({"name": "a", "children": [{"name": "b", "children": []}]}, root) == []
    assert validate({"name": "a", "children": [{"name": 2}]}, root) == [
        "$.children[0].name: expected string, got integer 2"
    ]


def test_pydantic_models_bring_their_own_schema() -> None:
    made, defs = schema_of(Optional[Model])
    assert made == {"anyOf": [{"$ref": "#/$defs/Model"}, {"type": "null"}]}
    assert defs["Model"]["properties"]["a"]["type"] == "integer"
    root = {**made, "$defs": defs}
    assert validate({"a": 1, "inner": {"a": 2}}, root) == []
    assert validate({"a": 1, "inner": {"a": "x"}}, root) != []


def test_class_schema_skips_fields() -> None:
    assert class_schema(Point, {}, skip=["x"]) == {
        "type": "object",
        "description": "A point on a plane.",
        "properties": {"y": {"type": "integer", "description": "Down, see Tool and y."}},
        "additionalProperties": False,
    }


@attrs.define
class Keyed:
    key: Secret
    """The key to use."""


def test_a_secrets_schema_is_a_copy_that_a_description_does_not_change() -> None:
    before = _SECRET["description"]
    schema = class_schema(Keyed, {})
    assert schema["properties"]["key"]["description"] == "The key to use."
    assert _SECRET["description"] == before  # was overwritten by the field's docstring
    assert validate({"key": {"env": "KEY"}}, schema) == []
    assert validate({"key": {"env": "KEY", "file": "k"}}, schema) != []


# --- checking values: examples ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "schema", "problems"),
    [
        ({"a": 1}, {"type": "object", "properties": {"a": {"type": "integer"}}}, []),
        (1.0, {"type": "integer"}, []),
        (True, {"type": "integer"}, ["$: expected integer, got boolean true"]),
        (None, {"type": ["string", "null"]}, []),
        ("x", {"enum": ["a", "b"]}, ['$: "x" is not one of "a", "b"']),
        (1, {"enum": [True, 1.0]}, []),
        (True, {"const": 1}, ["$: expected 1, got true"]),
        ({}, {"required": ["a", "b"]}, ["$: 'a' is missing", "$: 'b' is missing"]),
        (
            {"a": 1, "b-c": 2},
            {"properties": {"a": {}}, "additionalProperties": False},
            ["$: 'b-c' is not allowed (not in the schema)"],
        ),
        (
            {"x": "1"},
            {"additionalProperties": {"type": "integer"}},
            ['$.x: expected integer, got string "1"'],
        ),
        (
            {"tags": ["a", 2]},
            {"properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
            ["$.tags[1]: expected string, got integer 2"],
        ),
        (
            {"a b": 1},
            {"properties": {"a b": {"type": "string"}}},
            ['$["a b"]: expected string, got integer 1'],
        ),
        ("anything", {"format": "email"}, []),  # not checked here
        ("anything", {"minLength": 100}, ["$: 8 characters, at least 100 needed"]),
        (
            {"p": {"n": "x"}},
            {
                "properties": {"p": {"$ref": "#/$defs/P"}},
                "$defs": {"P": {"properties": {"n": {"type": "integer"}}}},
            },
            ['$.p.n: expected integer, got string "x"'],
        ),
        (
            3,
            {"anyOf": [{"type": "string"}, {"minimum": 5}]},
            ["$: matches none of the 2 choices (closest: $: expected string, got integer 3)"],
        ),
        (
            3,
            {"oneOf": [{"type": "integer"}, {"minimum": 1}]},
            ["$: matches 2 of the choices, oneOf allows one"],
        ),
        (1, {"type": "decimal"}, []),  # a type this checker does not know: the server's business
        (1, {"type": []}, []),
        (1, {"type": ["decimal", "string"]}, ["$: expected string, got integer 1"]),
        (1, True, []),
        (1, False, ["$: nothing is allowed here"]),
        # bounds
        (5, {"minimum": 5, "maximum": 5}, []),
        (5, {"exclusiveMinimum": 5}, ["$: 5 is not more than 5"]),
        (5.5, {"exclusiveMaximum": 5}, ["$: 5.5 is not less than 5"]),
        (4, {"minimum": 5}, ["$: 4 is not at least 5"]),
        (6, {"maximum": 5}, ["$: 6 is not at most 5"]),
        ("abc", {"maxLength": 2}, ["$: 3 characters, at most 2 allowed"]),
        ([1], {"minItems": 2}, ["$: 1 items, at least 2 needed"]),
        ([1, 2, 3], {"maxItems": 2}, ["$: 3 items, at most 2 allowed"]),
        ("abc", {"pattern": "^b"}, ["$: \"abc\" does not match '^b'"]),
        ("abc", {"pattern": "b"}, []),  # found anywhere, as JSON Schema says
        ("true", {"minimum": 5}, []),  # bounds are for their own kinds only
        # draft 4's boolean exclusiveMinimum (OpenAPI 3.0) is not a bound (was: "not more
        # than True")
        (0.5, {"minimum": 0, "exclusiveMinimum": True}, []),
        ("x", {"minLength": True}, []),
        # a pattern Python cannot read is not checked (was: OverflowError, re.error)
        ("a", {"pattern": "a{99999999999999999999}"}, []),
        ("a", {"pattern": "("}, []),
        # tuples: prefixItems, then items
        ([1, "a", True], {"prefixItems": [{"type": "integer"}, {"type": "string"}]}, []),
        (
            [1, "a", True],
            {"prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
            ["$[2]: nothing is allowed here"],
        ),
        (
            ["a", 1],
            {"prefixItems": [{"type": "integer"}]},
            ['$[0]: expected integer, got string "a"'],
        ),
        # patternProperties: matching names are not "additional" (was: reported as not allowed)
        (
            {"x1": 1, "x2": "a", "y": 1},
            {
                "patternProperties": {"^x": {"type": "integer"}},
                "additionalProperties": False,
            },
            ['$.x2: expected integer, got string "a"', "$: 'y' is not allowed (not in the schema)"],
        ),
        (
            {"x": 1},
            {"patternProperties": {"(": {"type": "string"}}, "additionalProperties": False},
            [],
        ),
        # $ref: its neighbours apply too (was: ignored)
        (
            {},
            {"$ref": "#/$defs/A", "required": ["x"], "$defs": {"A": {"type": "object"}}},
            ["$: 'x' is missing"],
        ),
        (
            "a",
            {"$ref": "#/$defs/A", "$defs": {"A": {"type": "object"}}},
            ['$: expected object, got string "a"'],
        ),
        (
            [1, "a"],
            {"items": {"$ref": "#/prefixItems/0"}, "prefixItems": [{"type": "integer"}]},
            ['$[1]: expected integer, got string "a"'],
        ),
        (
            "a",
            {"$ref": "#/$defs/a~1b", "$defs": {"a/b": {"type": "integer"}}},
            ['$: expected integer, got string "a"'],
        ),
        ("a", {"$ref": "#/$defs/missing"}, []),  # nothing to follow
        ("a", {"$ref": "https://example.org/schema"}, []),  # remote: not followed
        ("a", {"$ref": "#anchor", "type": "integer"}, ['$: expected integer, got string "a"']),
        # references that lead back to themselves end (was: RecursionError)
        (1, {"$ref": "#"}, []),
        (1, {"anyOf": [{"$ref": "#"}, {"type": "string"}]}, []),
        (
            "a",
            {
                "$ref": "#/$defs/a",
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
            },
            [],
        ),
        (
            [[1, ["x"]]],
            {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#"}}]},
            [
                '$: matches none of the 2 choices (closest: $: expected integer, got array [[1, ["x"]]])'
            ],
        ),
        # keywords of the wrong shape are not a schema's rules (were TypeErrors)
        ({}, {"required": 5}, []),
        ({}, {"required": "ab"}, []),
        (1, {"allOf": 5}, []),
        (1, {"anyOf": {"type": "string"}}, []),
        (
            {"a": 1},
            {"properties": ["a"], "additionalProperties": False},
            ["$: 'a' is not allowed (not in the schema)"],
        ),
    ],
)
def test_validate(value: Any, schema: Any, problems: list[str]) -> None:
    assert validate(value, schema) == problems


def test_values_that_are_not_json_are_named_by_their_type() -> None:
    assert validate((1, 2), {"type": "array"}) == ["$: expected array, got tuple [1, 2]"]
    assert validate({1: "a"}, {"additionalProperties": {"type": "integer"}}) == [
        '$[1]: expected integer, got string "a"'
    ]


def test_a_value_nested_past_pythons_recursion_limit_is_a_problem_not_a_crash() -> None:
    value: Any = "leaf"
    for _ in range(5000):
        value = [value]
    assert validate(value, {"items": {"$ref": "#"}}) == ["$: nested too deeply to check"]


def test_long_values_are_cut_in_messages() -> None:
    (problem,) = validate("x" * 100, {"type": "integer"})
    assert problem == '$: expected integer, got string "' + "x" * 36 + "..."


# --- a model's JSON answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        '  {"a": 1}\n',
        '```json\n{"a": 1}\n```',
        '```json\n{"a": 1}```',
        '```\n{"a": 1}\n```',
        '```json\r\n{"a": 1}\r\n```',  # was: not JSON
        '```{"a": 1}```',  # was: not JSON
        '```JSON  \n{"a": 1}\n\n```',
    ],
)
def test_parse_json_answer(text: str) -> None:
    assert parse_json_answer(text) == {"a": 1}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Sure! Here it is: {", "the answer is not JSON: Expecting value"),
        ("", "the answer is not JSON"),
        ("```json\n{\n```", "the answer is not JSON"),
        ("[" * 100_000, "nested too deeply"),  # was: RecursionError
    ],
)
def test_an_answer_that_is_not_json_is_a_value_error(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_json_answer(text)


# --- (a) what the converter makes of an attrs instance fits its class's schema -----------------


@attrs.define
class Inner:
    label: str
    weight: float = 1.0


FIELD_TYPES: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "int": (int, st.integers()),
    "str": (str, st.text(max_size=10)),
    "bool": (bool, st.booleans()),
    "float": (float, st.floats(allow_nan=False, allow_infinity=False)),
    "optional int": (Optional[int], st.none() | st.integers()),
    "list of str": (list[str], st.lists(st.text(max_size=5), max_size=3)),
    "dict of int": (
        dict[str, int],
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    ),
    "literal": (Literal["x", "y"], st.sampled_from(["x", "y"])),
    "enum": (Colour, st.sampled_from(Colour)),
    "int enum": (Size, st.sampled_from(Size)),
    "pair": (tuple[int, str], st.tuples(st.integers(), st.text(max_size=5))),
    "ints": (tuple[int, ...], st.lists(st.integers(), max_size=3).map(tuple)),
    "inner": (
        Inner,
        st.builds(Inner, st.text(max_size=5), st.floats(allow_nan=False, allow_infinity=False)),
    ),
    "optional inner": (Optional[Inner], st.none() | st.builds(Inner, st.text(max_size=5))),
    "inners": (list[Inner], st.lists(st.builds(Inner, st.text(max_size=5)), max_size=2)),
    "any": (Any, json_values),
}

field_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name)
)


@st.composite
def attrs_instances(draw: st.DrawFn) -> tuple[type, Any]:
    """A new attrs class of 0-6 fields of the kinds above (some with defaults), and an instance."""
    names = draw(st.lists(field_names, unique=True, max_size=6))
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    values: dict[str, Any] = {}
    for name in names:
        hint, values_of = FIELD_TYPES[draw(st.sampled_from(sorted(FIELD_TYPES)))]
        annotations[name] = hint
        value = draw(values_of)
        if draw(st.booleans()):
            namespace[name] = attrs.field(default=value)  # not required in the schema
        if draw(st.booleans()) or name not in namespace:
            values[name] = value
    cls = attrs.define(kw_only=True)(type("Made", (), namespace))
    return cls, cls(**values)


@given(attrs_instances())
def test_an_unstructured_attrs_instance_fits_its_class_schema(made: tuple[type, Any]) -> None:
    cls, instance = made
    defs: dict[str, Any] = {}
    schema = {**class_schema(cls, defs), "$defs": defs}
    data = jackfield.converter.unstructure(instance)
    assert validate(data, schema) == []
    assert jsonschema.Draft202012Validator(schema).is_valid(data)
    assert set(schema.get("required", [])) <= set(data)


# --- (b) values made for a schema fit it; a value of another type does not --------------------

KINDS: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(-(10**6), 10**6),
    "number": st.floats(-1e6, 1e6).filter(lambda x: not x.is_integer()),
    "string": st.text(max_size=6),
    "array": st.lists(st.integers(), max_size=2),
    "object": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
}
ALLOWED = {"number": {"integer", "number"}}  # an integer is a number too
property_names = st.sampled_from(["a", "b", "c", "name", "x y"])


def _kinds_of(schema: Mapping[str, Any]) -> set[str]:
    """The JSON kinds a value of ``schema`` can have (for the schemas below)."""
    if "anyOf" in schema:
        return set().union(*(_kinds_of(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return {"string"}
    kind = schema["type"]
    return ALLOWED.get(kind, {kind})


simple_leaves = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "string", "minLength": 1, "maxLength": 4},
        {"type": "integer", "minimum": -5, "maximum": 5},
        {"enum": ["red", "green"]},
    ]
)


def _objects(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(property_names, children, min_size=1, max_size=3).flatmap(
        lambda properties: st.builds(
            lambda required, closed: {
                "type": "object",
                "properties": properties,
                "required": sorted(required),
                "additionalProperties": not closed,
            },
            st.sets(st.sampled_from(sorted(properties))),
            st.booleans(),
        )
    )


simple_schemas = st.recursive(
    simple_leaves,
    lambda children: (
        st.builds(lambda item: {"type": "array", "items": item}, children)
        | _objects(children)
        | st.builds(lambda a, b: {"anyOf": [a, b]}, children, children)
    ),
    max_leaves=8,
)


def values_of(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values that fit ``schema`` (one of :data:`simple_schemas`)."""
    if "anyOf" in schema:
        return st.one_of([values_of(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 6))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers()
    if kind == "array":
        return st.lists(values_of(schema["items"]), max_size=3)
    if kind == "object":
        return st.fixed_dictionaries(
            {name: values_of(schema["properties"][name]) for name in schema["required"]},
            optional={
                name: values_of(sub)
                for name, sub in schema["properties"].items()
                if name not in schema["required"]
            },
        )
    return KINDS[kind]


def wrong_kind(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values whose JSON kind ``schema`` does not allow."""
    return st.sampled_from(sorted(set(KINDS) - _kinds_of(schema))).flatmap(KINDS.__getitem__)


def mutated(schema: Mapping[str, Any], value: Any, draw: st.DrawFn) -> Any:
    """``value`` with one part (itself, a required member or an item) of the wrong kind."""
    if isinstance(value, dict) and schema.get("required") and draw(st.booleans()):
        name = draw(st.sampled_from(schema["required"]))
        return {**value, name: mutated(schema["properties"][name], value[name], draw)}
    if isinstance(value, list) and value and "items" in schema and draw(st.booleans()):
        index = draw(st.integers(0, len(value) - 1))
        copy = list(value)
        copy[index] = mutated(schema["items"], value[index], draw)
        return copy
    return draw(wrong_kind(schema))


@given(st.data(), simple_schemas)
def test_made_values_fit_and_a_value_of_another_kind_does_not(
    data: st.DataObject, schema: dict[str, Any]
) -> None:
    value = data.draw(values_of(schema), label="value")
    assert validate(value, schema) == []
    wrong = mutated(schema, value, data.draw)
    data.draw(st.just(wrong), label="mutated")
    problems = validate(wrong, schema)
    assert problems
    assert all(p.startswith("$") for p in problems)


# --- (c) the checker never raises ------------------------------------------------------------

KEYWORDS = [
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "prefixItems", "anyOf", "oneOf", "allOf", "$ref", "$defs", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
    "pattern", "patternProperties", "not", "format", "a", "x",
]  # fmt: skip
REFS = ["#", "#/$defs/a", "#/$defs/b", "#/properties/a", "#/items", "#/anyOf/0", "#a", "x", "#/"]
odd_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.sampled_from(["string", "integer", "object", "array", "null", "^a", "(", "a{99999999999}"])
    | st.sampled_from(REFS)
    | st.text(max_size=6)
)
odd_schemas = st.recursive(
    odd_scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYWORDS) | st.text(max_size=3), children, max_size=5)
        | st.dictionaries(st.sampled_from(["$ref"]), st.sampled_from(REFS), min_size=1)
    ),
    max_leaves=25,
)
odd_values = st.recursive(
    odd_scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "b", "x1", "é"]) | st.text(max_size=3), children, max_size=3
        )
    ),
    max_leaves=15,
)


@given(odd_values, odd_schemas)
def test_validate_never_raises(value: Any, schema: Any) -> None:
    problems = validate(value, schema)
    assert isinstance(problems, list)
    assert all(isinstance(p, str) and p.startswith("$") for p in problems)


@given(odd_values, odd_schemas, odd_schemas)
def test_validate_never_raises_with_definitions(value: Any, schema: Any, definition: Any) -> None:
    root = {"anyOf": [schema], "$defs": {"a": definition, "b": {"items": {"$ref": "#/$defs/a"}}}}
    problems = validate(value, root)
    assert all(isinstance(p, str) and p.startswith("$") for p in problems)


# --- (d) it agrees with jsonschema on the keywords it checks -----------------------------------

small_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 1.5, -2.5, 2.0])
    | st.text(alphabet="ab", max_size=3),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "ab"]), children, max_size=3)
    ),
    max_leaves=10,
)
small_ints = st.integers(0, 3)
numbers = st.integers(-3, 3) | st.sampled_from([0.5, -1.5, 2.0])
patterns = st.sampled_from(["^a", "b$", "^[ab]*$", "a.b", "^$", "ab", "^a+$"])
types = st.sampled_from(["null", "boolean", "integer", "number", "string", "array", "object"])
property_keys = st.sampled_from(["a", "b", "c", "ab"])
refs = st.sampled_from(["#/$defs/A", "#/$defs/B"])


def _claimed(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Schemas made of the keywords the checker claims to check, each in its valid form."""
    keyword_values: dict[str, st.SearchStrategy[Any]] = {
        "type": types | st.lists(types, min_size=1, max_size=3, unique=True),
        "enum": st.lists(small_values, min_size=1, max_size=3),
        "const": small_values,
        "properties": st.dictionaries(property_keys, children, max_size=3),
        "patternProperties": st.dictionaries(patterns, children, max_size=2),
        "required": st.lists(property_keys, max_size=3, unique=True),
        "additionalProperties": children,
        "items": children,
        "prefixItems": st.lists(children, min_size=1, max_size=3),
        "anyOf": st.lists(children, min_size=1, max_size=3),
        "oneOf": st.lists(children, min_size=1, max_size=3),
        "allOf": st.lists(children, min_size=1, max_size=2),
        "minimum": numbers,
        "maximum": numbers,
        "exclusiveMinimum": numbers,
        "exclusiveMaximum": numbers,
        "minLength": small_ints,
        "maxLength": small_ints,
        "minItems": small_ints,
        "maxItems": small_ints,
        "pattern": patterns,
    }
    return st.booleans() | st.fixed_dictionaries({}, optional=keyword_values)


claimed_leaves = st.booleans() | st.fixed_dictionaries(
    {}, optional={"type": types, "minimum": numbers, "maxLength": small_ints, "const": small_values}
)
claimed_schemas = st.recursive(claimed_leaves, _claimed, max_leaves=12)
with_refs = st.recursive(
    claimed_leaves | st.builds(lambda ref: {"$ref": ref}, refs),
    lambda children: (
        _claimed(children)
        | st.builds(
            lambda ref, s: {**s, "$ref": ref} if isinstance(s, dict) else s,
            refs,
            _claimed(children),
        )
    ),
    max_leaves=12,
)


def agree(value: Any, schema: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    ours = validate(value, schema)
    theirs = sorted(e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(value))
    assert (ours == []) == (theirs == []), (ours, theirs)


@given(small_values, claimed_schemas)
def test_the_checker_agrees_with_jsonschema(value: Any, schema: Any) -> None:
    agree(value, schema)


@given(small_values, with_refs, claimed_schemas, claimed_schemas)
def test_the_checker_agrees_with_jsonschema_on_local_references(
    value: Any, schema: Any, a: Any, b: Any
) -> None:
    root = {"allOf": [schema], "$defs": {"A": a, "B": b}}
    agree(value, root)


@pytest.mark.parametrize(
    ("value", "schema"),
    [  # cases the property tests found once, or that matter most: kept as examples
        (1.0, {"type": "integer"}),
        (True, {"enum": [1]}),
        ([1], {"enum": [[1.0]]}),
        ({"a": 1}, {"const": {"a": True}}),
        (2, {"oneOf": [{"minimum": 1}, {"maximum": 3}]}),
        ({}, {"$ref": "#/$defs/A", "required": ["a"], "$defs": {"A": {}}}),
        (
            {"ab": 1},
            {"patternProperties": {"^a": {"type": "integer"}}, "additionalProperties": False},
        ),
        ("ba", {"pattern": "a"}),
        ([1, "a"], {"prefixItems": [{"type": "integer"}], "items": {"type": "integer"}}),
        (0.5, {"exclusiveMinimum": 0.5}),
    ],
)
def test_the_checker_agrees_with_jsonschema_on_examples(value: Any, schema: Any) -> None:
    agree(value, schema)
