"""Python tools (``jackfield._tools``): the schema a function's hints and docstring give, how a
:class:`FunctionTool` runs a call, the decorator, the toolbox, loading ``module:function``, and the
``register_tools`` plugin hook (a plugin's mistakes are its problems, never another's)."""

from __future__ import annotations

import asyncio
import enum
import functools
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Annotated, Any, Literal

import attrs
import jsonschema
import pydantic
import pytest

import jackfield
from jackfield import (
    ConfigError,
    DuplicateProviderError,
    FunctionTool,
    Tool,
    ToolCall,
    ToolOutput,
    UnknownProviderError,
    tool,
)
from jackfield._tools import Executable, Toolbox, function_schema, load_function
from jackfield.hookspecs import hookimpl
from jackfield.testing import ScriptedProvider

HERE = __name__  # "tests.core.test_tools": tools below are loaded by import path


def parameters(function: Any) -> dict[str, Any]:
    _summary, schema = function_schema(function)
    jsonschema.Draft202012Validator.check_schema(schema)  # always a valid JSON Schema
    return schema


# --- docstrings ------------------------------------------------------------------------------


def google(query: str, limit: int = 10, *args: Any, exact: bool = False, **kwargs: Any) -> str:
    """Search the notes for a query.

    Matches are ranked by how often
    the words appear.

    Args:
        query (str): the words to look for; a longer
            description goes on the next line.
        limit: at most this many results.
        *args: ignored.
        exact: match whole words only.
        **kwargs: ignored too.

    Returns:
        query: not a parameter, a line of the results section.
    """
    return query


def numpy_style(x: float, y: float = 0.0, *values: float, z: float = 0.0, **options: Any) -> float:
    """Move a point.

    Parameters
    ----------
    x : float
        Across,
        in metres.
    y : float, optional
        Down.
    *values
        Not in the schema.
    **options
        Neither.

    Returns
    -------
    float
        Where it went.

    Other Parameters
    ----------------
    z : float
        Up.

    See Also
    --------
    sphinx : another style.
    """
    return x + y


def sphinx(path: str, mode: str = "r") -> str:
    """Open a file.

    :param path: where the file is,
        relative to the project.
    :param str mode: how to open it.
    :type mode: str
    :returns: the text.
    """
    return path


def keyword_arguments(*, colour: str, size: int = 1) -> str:
    """Paint.

    Keyword Arguments:
        colour: the paint's colour.
        size: the brush.
    """
    return colour


def annotated(
    city: Annotated[str, "the city's name"], days: Annotated[int, "how many days"] = 3
) -> str:
    """Forecast the weather.

    Args:
        city: overridden by the annotation.
    """
    return city


def no_docs(a, b=None):
    return a


def test_google_docstrings() -> None:
    summary, schema = function_schema(google)
    assert (
        summary == "Search the notes for a query. Matches are ranked by how often the words appear."
    )
    assert schema == {
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "description": "the words to look for; a longer description goes on the next line.",
            },
            "limit": {
                "type": "integer",
                "description": "at most this many results.",
                "default": 10,
            },
            "exact": {
                "type": "boolean",
                "description": "match whole words only.",
                "default": False,
            },
        },
        "required": ["query"],
        "additionalProperties": False,
    }


def test_numpy_docstrings() -> None:
    summary, schema = function_schema(numpy_style)
    assert summary == "Move a point."
    assert schema["properties"] == {
        "x": {"type": "number", "description": "Across, in metres."},
        # *values and **options do not run into y's description (they did)
        "y": {"type": "number", "description": "Down.", "default": 0.0},
        "z": {"type": "number", "description": "Up.", "default": 0.0},  # was not described
    }
    assert schema["required"] == ["x"]


def test_sphinx_docstrings() -> None:
    summary, schema = function_schema(sphinx)
    assert summary == "Open a file."
    assert schema["properties"] == {
        "path": {"type": "string", "description": "where the file is, relative to the project."},
        "mode": {"type": "string", "description": "how to open it.", "default": "r"},
    }


def test_a_keyword_arguments_section_describes_parameters() -> None:
    # the section was recognised but its entries were dropped
    assert parameters(keyword_arguments)["properties"] == {
        "colour": {"type": "string", "description": "the paint's colour."},
        "size": {"type": "integer", "description": "the brush.", "default": 1},
    }


def test_an_annotation_describes_a_parameter_before_the_docstring_does() -> None:
    summary, schema = function_schema(annotated)
    assert summary == "Forecast the weather."
    assert schema["properties"] == {
        "city": {"type": "string", "description": "the city's name"},
        "days": {"type": "integer", "description": "how many days", "default": 3},
    }


def test_a_function_without_hints_or_docstring_takes_anything() -> None:
    assert function_schema(no_docs) == (
        "",
        {
            "type": "object",
            "properties": {"a": {}, "b": {"default": None}},
            "required": ["a"],
            "additionalProperties": False,
        },
    )


# --- types -----------------------------------------------------------------------------------


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@attrs.define
class Place:
    """Where it is."""

    name: str
    """The place's name."""
    unit: Unit = Unit.CELSIUS


class Filter(pydantic.BaseModel):
    field: str
    value: int = 0


MARKER = object()


def typed(
    place: Place,
    unit: Unit,
    mode: Literal["fast", "slow"],
    note: str | None,
    tags: list[str],
    counts: dict[str, int],
    pair: tuple[int, str],
    many: tuple[float, ...],
    filters: list[Filter],
    extra: Filter | None = None,
    marker: object = MARKER,
    anything: Any = None,
) -> str:
    return repr(
        (place, unit, mode, note, tags, counts, pair, many, filters, extra, marker, anything)
    )


def test_types_become_json_schema() -> None:
    schema = parameters(typed)
    properties = schema["properties"]
    assert properties["place"] == {"$ref": "#/$defs/Place"}
    assert properties["unit"] == {"enum": ["celsius", "fahrenheit"]}
    assert properties["mode"] == {"enum": ["fast", "slow"]}
    assert properties["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}}
    assert properties["counts"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert properties["pair"] == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "minItems": 2,
        "maxItems": 2,
    }
    assert properties["many"] == {"type": "array", "items": {"type": "number"}}
    assert properties["filters"] == {"type": "array", "items": {"$ref": "#/$defs/Filter"}}
    assert properties["extra"] == {
        "anyOf": [{"$ref": "#/$defs/Filter"}, {"type": "null"}],
        "default": None,
    }
    assert properties["marker"] == {}  # a default JSON cannot hold is left out, not required
    assert properties["anything"] == {"default": None}
    assert schema["required"] == [
        "place", "unit", "mode", "note", "tags", "counts", "pair", "many", "filters"
    ]  # fmt: skip
    assert schema["$defs"]["Place"] == {
        "type": "object",
        "description": "Where it is.",
        "properties": {
            "name": {"type": "string", "description": "The place's name."},
            "unit": {"enum": ["celsius", "fahrenheit"]},
        },
        "required": ["name"],
        "additionalProperties": False,
    }
    assert schema["$defs"]["Filter"]["properties"]["value"]["type"] == "integer"


def test_an_optional_any_parameter_has_a_schema() -> None:
    def maybe(value: Any | None = None) -> None:
        """Take anything or nothing."""

    # this raised KeyError: 'anyOf'
    assert parameters(maybe)["properties"] == {
        "value": {"anyOf": [{}, {"type": "null"}], "default": None}
    }


class Methods:
    def method(self, x: int) -> int:
        return x

    @classmethod
    def made(cls, y: str) -> str:
        return y


def test_self_and_cls_are_not_parameters() -> None:
    assert list(parameters(Methods.method)["properties"]) == ["x"]
    assert list(parameters(Methods().method)["properties"]) == ["x"]
    assert list(parameters(Methods.made)["properties"]) == ["y"]


# --- FunctionTool ----------------------------------------------------------------------------


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first.
        b: the second.
    """
    return a + b


def test_the_decorator_keeps_the_function_callable() -> None:
    assert add(2, 3) == 5
    assert add(a=2, b=3) == 5
    assert isinstance(add, FunctionTool)
    assert add.__name__ == "add"
    assert add.__doc__ is not None
    assert add.__doc__.startswith("Add two integers.")
    assert add.__wrapped__.__name__ == "add"
    assert repr(add) == "<FunctionTool 'add'>"
    assert add.tool == Tool(
        "add",
        "Add two integers.",
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer", "description": "the first."},
                "b": {"type": "integer", "description": "the second."},
            },
            "required": ["a", "b"],
            "additionalProperties": False,
        },
    )
    assert isinstance(add, Executable)


def test_the_decorator_with_a_name_a_description_and_a_source() -> None:
    @tool(name="plus", description="Add.", source="maths")
    def adding(a: int, b: int = 1) -> int:
        """Not what the model is told."""
        return a + b

    assert adding(1) == 2
    assert (adding.tool.name, adding.tool.description, adding.tool.source) == (
        "plus",
        "Add.",
        "maths",
    )
    assert tool()(adding.function).tool.name == "adding"


def test_a_tool_is_made_of_a_function_only() -> None:
    with pytest.raises(TypeError, match="a tool is a function, got int"):
        FunctionTool(3)  # type: ignore[arg-type]


def test_a_call_checks_its_arguments_against_the_schema() -> None:
    assert add.call({"a": 2, "b": 3}) == ToolOutput("5")
    with pytest.raises(ValueError, match=r"invalid arguments: \$: 'b' is missing"):
        add.call({"a": 2})
    with pytest.raises(ValueError, match=r'\$.a: expected integer, got string "2"'):
        add.call({"a": "2", "b": 3})
    with pytest.raises(ValueError, match=r"'c' is not allowed"):
        add.call({"a": 2, "b": 3, "c": 4})
    with pytest.raises(ValueError, match="arguments must be a JSON object, got list"):
        add.call([1, 2])  # type: ignore[arg-type]


def test_arguments_are_made_the_hinted_types() -> None:
    seen: dict[str, Any] = {}

    def take(
        place: Place,
        unit: Unit,
        pair: tuple[int, str],
        filters: list[Filter],
        extra: Filter | None = None,
        places: list[Place] | None = None,
        ratio: float = 0.0,
        count: int = 0,
    ) -> None:
        seen.update(locals())

    FunctionTool(take).call(
        {
            "place": {"name": "Oslo", "unit": "fahrenheit"},
            "unit": "celsius",
            "pair": [1, "a"],
            "filters": [{"field": "x", "value": 2}],
            "extra": {"field": "y"},
            "places": [{"name": "Rome"}],
            "ratio": 2,
            "count": 4.0,  # JSON Schema's integer: the function gets an int
        }
    )
    assert seen["place"] == Place("Oslo", Unit.FAHRENHEIT)
    assert seen["unit"] is Unit.CELSIUS
    assert seen["pair"] == (1, "a")
    # pydantic models inside a list or an optional (were passed on as dicts)
    assert seen["filters"] == [Filter(field="x", value=2)]
    assert seen["extra"] == Filter(field="y")
    assert seen["places"] == [Place("Rome")]
    assert seen["ratio"] == 2.0
    assert isinstance(seen["ratio"], float)
    assert seen["count"] == 4
    assert isinstance(seen["count"], int)


@attrs.define
class Strict:
    n: int = attrs.field(validator=attrs.validators.gt(0))


def take_strict(strict: Strict) -> None:
    raise AssertionError("not reached")


def test_an_argument_the_schema_allows_but_the_type_refuses_names_the_argument() -> None:
    with pytest.raises(ValueError, match="invalid argument 'strict'") as caught:
        FunctionTool(take_strict).call({"strict": {"n": -1}})
    assert "must be > 0" in str(caught.value)


def test_positional_only_parameters_are_passed_by_position() -> None:
    def power(base: int, exponent: int = 2, /, *, scale: int = 1) -> int:
        return scale * base**exponent

    runner = FunctionTool(power)
    assert runner.call({"base": 3}).content == "9"  # was: TypeError, passed by keyword
    assert runner.call({"base": 2, "exponent": 3, "scale": 2}).content == "16"
    assert asyncio.run(runner.acall({"base": 3, "exponent": 3})).content == "27"


def test_return_values_become_tool_output() -> None:
    @attrs.define
    class Found:
        title: str
        unit: Unit

    returns: list[Any] = [
        "plain text",
        None,
        {"a": [1, 2]},
        Found("x", Unit.CELSIUS),
        Filter(field="f"),
        3,
        [1, "b"],
        ToolOutput("kept", is_error=True, data=1),
    ]
    outputs = [FunctionTool(lambda value=value: value, name="give").call({}) for value in returns]
    assert outputs == [
        ToolOutput("plain text"),
        ToolOutput(""),
        ToolOutput('{"a": [1, 2]}'),
        ToolOutput('{"title": "x", "unit": "celsius"}'),
        ToolOutput('{"field": "f", "value": 0}'),
        ToolOutput("3"),
        ToolOutput('[1, "b"]'),
        ToolOutput("kept", is_error=True),
    ]
    assert [o.data for o in outputs] == [
        None,
        None,
        {"a": [1, 2]},
        {"title": "x", "unit": "celsius"},
        {"field": "f", "value": 0},
        3,
        [1, "b"],
        1,
    ]
    assert FunctionTool(lambda: "é", name="accent").call({}).content == "é"


def test_a_functions_exception_is_raised_to_the_run() -> None:
    def broken() -> None:
        raise LookupError("no such note")

    with pytest.raises(LookupError, match="no such note"):
        FunctionTool(broken).call({})
    with pytest.raises(LookupError, match="no such note"):
        asyncio.run(FunctionTool(broken).acall({}))


async def slow_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_an_async_function_runs_in_a_sync_call() -> None:
    assert FunctionTool(slow_double).call({"x": 4}).content == "8"


def test_an_async_function_runs_in_a_sync_call_made_inside_an_event_loop() -> None:
    async def inside() -> ToolOutput:
        return FunctionTool(slow_double).call({"x": 5})  # was: asyncio.run() cannot be called

    assert asyncio.run(inside()).content == "10"


class AsyncCallable:
    async def __call__(self, x: int) -> int:
        return x + 1


def test_an_object_with_an_async_call_is_awaited() -> None:
    runner = FunctionTool(AsyncCallable(), name="increment")
    assert runner.tool.parameters["required"] == ["x"]
    # was: the coroutine's repr as the result, never awaited
    assert runner.call({"x": 1}).content == "2"
    assert asyncio.run(runner.acall({"x": 2})).content == "3"


def test_a_sync_function_runs_in_a_worker_thread_in_an_async_call() -> None:
    threads: list[int] = []

    def where() -> str:
        threads.append(threading.get_ident())
        return "ok"

    async def main() -> tuple[ToolOutput, int]:
        return await FunctionTool(where).acall({}), threading.get_ident()

    output, loop_thread = asyncio.run(main())
    assert output.content == "ok"
    assert threads
    assert threads[0] != loop_thread


def test_an_async_function_is_awaited_in_an_async_call() -> None:
    assert asyncio.run(FunctionTool(slow_double).acall({"x": 1})).content == "2"


def test_a_partial_is_a_tool() -> None:
    def scale(x: int, factor: int) -> int:
        return x * factor

    triple = FunctionTool(functools.partial(scale, factor=3), name="triple")
    assert triple.call({"x": 2}).content == "6"


# --- Toolbox ---------------------------------------------------------------------------------


class Custom:
    """An executable tool that is not a function: what an MCP server's tool looks like."""

    tool = Tool("lookup", "Look it up.", source="server")

    def call(self, arguments: Mapping[str, Any]) -> ToolOutput:
        return ToolOutput("found")

    async def acall(self, arguments: Mapping[str, Any]) -> ToolOutput:
        return ToolOutput("found")


def test_a_toolbox_finds_a_calls_tool_by_source_and_name() -> None:
    described = Tool("hosted", "The host runs it.")

    def shout(text: str) -> str:
        return text.upper()

    box = Toolbox([add, described, Custom(), shout])
    assert len(box) == 4
    assert [t.name for t in box.tools] == ["add", "hosted", "lookup", "shout"]
    assert box.names() == ["add", "hosted", "server__lookup", "shout"]
    assert box.find(ToolCall("1", "add", "{}")) is add
    assert box.find(ToolCall("2", "hosted", "{}")) is described
    found = box.find(ToolCall("3", "lookup", "{}", source="server"))
    assert isinstance(found, Custom)
    assert box.find(ToolCall("4", "lookup", "{}")) is None  # no source: another tool
    shouting = box.find(ToolCall("5", "shout", "{}"))
    assert isinstance(shouting, FunctionTool)
    assert shouting.call({"text": "hi"}).content == "HI"


def test_a_later_tool_of_the_same_source_and_name_replaces_an_earlier_one() -> None:
    @tool(name="add")
    def other(a: int) -> int:
        return a

    box = Toolbox([add])
    box.add(other)
    assert len(box) == 1
    assert box.find(ToolCall("1", "add", "{}")) is other


def test_what_is_not_a_tool_is_refused() -> None:
    with pytest.raises(TypeError, match=r"not a tool: 3 \(give a function, a jackfield.Tool"):
        Toolbox([3])  # type: ignore[list-item]


# --- load_function ---------------------------------------------------------------------------


def plain_function(text: str) -> str:
    """Echo."""
    return text


NOT_CALLABLE = 42


class Holder:
    @staticmethod
    def inner(n: int) -> int:
        """Inside a class."""
        return n


@tool(source="box", description="Added.")
def sourced(a: int) -> int:
    return a


def test_load_function_imports_a_function_by_path() -> None:
    loaded = load_function(f"{HERE}:plain_function")
    assert loaded.tool.name == "plain_function"
    assert loaded.call({"text": "x"}).content == "x"
    assert load_function(f"{HERE}:Holder.inner").tool.description == "Inside a class."
    assert load_function(f"{HERE}:add") is add  # a tool already: itself
    assert load_function(f"{HERE}:add", name="add") is add
    renamed = load_function(f"{HERE}:plain_function", name="echo")
    assert renamed.tool.name == "echo"


def test_a_renamed_tool_keeps_its_description_and_source() -> None:
    renamed = load_function(f"{HERE}:sourced", name="other")
    # the source was dropped
    assert (renamed.tool.name, renamed.tool.description, renamed.tool.source) == (
        "other",
        "Added.",
        "box",
    )
    assert renamed(4) == 4


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "tests.core.no_such_module:f",
            "agent 'a': cannot import module 'tests.core.no_such_module': "
            "ModuleNotFoundError: No module named 'tests.core.no_such_module'",
        ),
        (f"{HERE}:missing", f"agent 'a': module '{HERE}' has no 'missing'"),
        (f"{HERE}:Holder.missing", f"agent 'a': module '{HERE}' has no 'Holder.missing'"),
        (f"{HERE}:NOT_CALLABLE", f"agent 'a': '{HERE}:NOT_CALLABLE' is a int, not a function"),
        ("no_colon", "agent 'a': write a tool as 'module:function', got 'no_colon'"),
        (f"{HERE}:", f"agent 'a': write a tool as 'module:function', got '{HERE}:'"),
        (":f", "agent 'a': write a tool as 'module:function', got ':f'"),
    ],
)
def test_load_function_errors_say_where_and_why(path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_function(path, "agent 'a'")
    assert str(caught.value) == message


def test_a_module_that_fails_to_import_is_a_config_error(tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "jackfield_test_broken_tools.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"-T x: cannot import module .*RuntimeError: boom"):
        load_function("jackfield_test_broken_tools:f", "-T x")


# --- the register_tools plugin hook ----------------------------------------------------------


def tools_plugin(*specs: dict[str, Any], providers: tuple[str, ...] = ()) -> Any:
    """A plugin object registering ``specs`` as tools (and ``providers``, scripted)."""

    @hookimpl
    def register_tools(register: Any) -> None:
        for spec in specs:
            register(**spec)

    @hookimpl
    def register_providers(register: Any) -> None:
        for name in providers:
            register(name, factory="jackfield.testing:ScriptedProvider")

    return SimpleNamespace(register_tools=register_tools, register_providers=register_providers)


def registry_with(*plugins: tuple[str, Any]) -> jackfield.Registry:
    registry = jackfield.load_registry(autoload=False)
    for name, plugin in plugins:
        registry.add_plugin(plugin, name, distribution=f"{name}-dist")
    return registry


def test_plugins_register_tools_by_import_path() -> None:
    registry = registry_with(
        ("maths", tools_plugin({"name": "add", "function": f"{HERE}:add", "description": "Sum."})),
        ("words", tools_plugin({"name": "echo-it", "function": f"{HERE}:plain_function"})),
    )
    assert registry.problems == []
    assert registry.tool_names() == ["add", "echo-it"]
    spec = registry.tool_spec("add")
    assert (spec.name, spec.function, spec.description) == ("add", f"{HERE}:add", "Sum.")
    assert (spec.plugin, spec.distribution) == ("maths", "maths-dist")
    assert spec.origin == "plugin 'maths' (distribution maths-dist)"
    assert [(p.name, p.tools) for p in registry.plugins] == [
        ("maths", ("add",)),
        ("words", ("echo-it",)),
    ]
    # the hook is part of the plugin manager too
    seen: list[str] = []
    registry.hook.register_tools(register=lambda name, **spec: seen.append(name))
    assert sorted(seen) == ["add", "echo-it"]


def test_an_unknown_tool_name_gets_a_did_you_mean() -> None:
    registry = registry_with(("maths", tools_plugin({"name": "add", "function": f"{HERE}:add"})))
    with pytest.raises(UnknownProviderError) as caught:
        registry.tool_spec("ad")
    assert str(caught.value).startswith("unknown tool 'ad'. Did you mean 'add'? Known tools: add.")


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (
            {"name": "two words", "function": "m:f"},
            "register_tools failed: ValueError: invalid tool name 'two words': letters, digits, "
            "'_' and '-', at most 64 characters",
        ),
        ({"name": "x" * 65, "function": "m:f"}, "at most 64 characters"),
        ({"name": "", "function": "m:f"}, "invalid tool name ''"),
        ({"name": "a.b", "function": "m:f"}, "invalid tool name 'a.b'"),
        ({"name": "a:b", "function": "m:f"}, "invalid tool name 'a:b'"),
        ({"name": 3, "function": "m:f"}, "invalid tool name 3"),
        (
            {"name": "t", "function": "m.f"},
            "register_tools failed: ValueError: tool 't': function must be an import path "
            "'package.module:function', got 'm.f'",
        ),
        ({"name": "t", "function": "m:f:g"}, "got 'm:f:g'"),
        ({"name": "t", "function": "m:"}, "got 'm:'"),
        ({"name": "t", "function": "my module:f"}, "got 'my module:f'"),
        ({"name": "t", "function": None}, "got None"),
        ({"name": "t", "function": "m:f", "description": 3}, "description must be a string"),
    ],
)
def test_a_bad_registration_is_the_plugins_problem(spec: dict[str, Any], error: str) -> None:
    registry = registry_with(
        ("good", tools_plugin({"name": "add", "function": f"{HERE}:add"}, providers=("fine",))),
        ("bad", tools_plugin(spec, providers=("still-fine",))),
        ("later", tools_plugin({"name": "later", "function": f"{HERE}:add"})),
    )
    (problem,) = registry.problems
    assert (problem.plugin, problem.distribution) == ("bad", "bad-dist")
    assert error in problem.error
    # nothing else is hurt: the other plugins' tools, and this plugin's providers
    assert registry.tool_names() == ["add", "later"]
    assert registry.names() == ["fine", "still-fine"]
    assert registry.tool_spec("later").plugin == "later"


def test_a_hook_that_raises_is_the_plugins_problem() -> None:
    @hookimpl
    def register_tools(register: Any) -> None:
        register("first", function=f"{HERE}:add")
        raise RuntimeError("half way")

    registry = registry_with(
        ("flaky", SimpleNamespace(register_tools=register_tools)),
        ("good", tools_plugin({"name": "add", "function": f"{HERE}:add"})),
    )
    (problem,) = registry.problems
    assert problem.error == "register_tools failed: RuntimeError: half way"
    assert registry.tool_names() == ["add", "first"]  # what it registered before stays


def test_a_tool_registered_twice_is_reported_and_refused() -> None:
    registry = registry_with(
        ("one", tools_plugin({"name": "add", "function": f"{HERE}:add"})),
        ("two", tools_plugin({"name": "add", "function": f"{HERE}:plain_function"})),
        ("three", tools_plugin({"name": "other", "function": f"{HERE}:add"})),
    )
    (problem,) = registry.problems
    assert (problem.plugin, problem.distribution) == ("two", "two-dist")
    assert problem.error == (
        "tool 'add' is also registered by plugin 'one' (distribution one-dist); "
        "neither is used until one is removed or disabled"
    )
    assert registry.tool_names() == ["add", "other"]
    with pytest.raises(DuplicateProviderError) as caught:
        registry.tool_spec("add")
    assert str(caught.value).startswith(
        "tool 'add' is registered by more than one plugin: plugin 'one' (distribution "
        "one-dist) and plugin 'two' (distribution two-dist)."
    )
    assert registry.tool_spec("other").plugin == "three"


def test_one_plugin_registering_a_tool_twice_is_refused_too() -> None:
    twice = tools_plugin(
        {"name": "add", "function": f"{HERE}:add"}, {"name": "add", "function": f"{HERE}:add"}
    )
    registry = registry_with(("twice", twice))
    assert [p.plugin for p in registry.problems] == ["twice"]
    with pytest.raises(DuplicateProviderError):
        registry.tool_spec("add")


def host_for(registry: jackfield.Registry, functions: list[str]) -> jackfield.Host:
    registry.add_plugin(jackfield.testing.plugin, "scripted")
    return jackfield.Host.from_mapping(
        {
            "providers": {"local": {"type": "scripted"}},
            "agents": {"helper": {"model": "local", "functions": functions}},
        },
        registry=registry,
    )


def test_a_registered_tool_is_loaded_when_an_agent_uses_it_under_its_registered_name() -> None:
    registry = registry_with(
        ("words", tools_plugin({"name": "echo-it", "function": f"{HERE}:plain_function"}))
    )
    with host_for(registry, ["echo-it", f"{HERE}:add"]) as host:
        tools = host.tools_of("helper", host.config.agents["helper"])
    assert [t.tool.name for t in tools] == ["echo-it", "add"]  # type: ignore[union-attr]
    provider = ScriptedProvider(
        script=lambda request: (
            [
                ToolCall("c0", "echo-it", '{"text": "hi"}'),
                jackfield.Completion(jackfield.FinishReason.TOOL_CALLS, "tool_calls"),
            ]
            if len(request.conversation.messages) == 1
            else jackfield.testing.reply_fragments(request.conversation.messages[-1].content)
        )
    )
    assert provider.run("x", tools=tools).collect().text == "hi"


def test_a_registered_tool_is_imported_only_when_used() -> None:
    registry = registry_with(
        ("lazy", tools_plugin({"name": "later", "function": "jackfield_test_no_such_module:f"}))
    )
    assert registry.problems == []  # registering imports nothing
    assert registry.tool_spec("later").function == "jackfield_test_no_such_module:f"
    with host_for(registry, ["later"]) as host, pytest.raises(ConfigError) as caught:
        host.tools_of("helper", host.config.agents["helper"])
    assert str(caught.value) == (
        "agent 'helper': functions[0] 'later' (plugin 'lazy' (distribution lazy-dist)): "
        "cannot import module 'jackfield_test_no_such_module': ModuleNotFoundError: "
        "No module named 'jackfield_test_no_such_module'"
    )


def test_an_agent_naming_an_unknown_or_doubled_tool_is_a_config_error() -> None:
    registry = registry_with(
        ("one", tools_plugin({"name": "add", "function": f"{HERE}:add"})),
        ("two", tools_plugin({"name": "add", "function": f"{HERE}:add"})),
    )
    with host_for(registry, ["ad"]) as host, pytest.raises(ConfigError) as unknown:
        host.tools_of("helper", host.config.agents["helper"])
    assert "agent 'helper': functions[0] 'ad': unknown tool 'ad'. Did you mean 'add'?" in str(
        unknown.value
    )
    with host_for(registry, ["add"]) as host, pytest.raises(ConfigError) as doubled:
        host.tools_of("helper", host.config.agents["helper"])
    assert "registered by more than one plugin" in str(doubled.value)


def test_a_name_servers_would_refuse_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="'<lambda>' cannot be a tool's name"):
        FunctionTool(lambda: None)
    with pytest.raises(ValueError, match="'a b' cannot be a tool's name"):
        FunctionTool(print, name="a b")
    assert FunctionTool(lambda: None, name="nothing").tool.name == "nothing"
