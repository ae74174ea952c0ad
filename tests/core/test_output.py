"""Structured output: ``complete(..., output=X)`` asks for X the way the provider supports, checks
the answer, repairs it once, and returns the object (or raises OutputError with the raw text)."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import (
    AssistantMessage,
    Completion,
    ConfigError,
    FinishReason,
    OutputError,
    SystemMessage,
    TextDelta,
    Tool,
    ToolCall,
    ToolMessage,
    UserMessage,
    _default,
)
from jackfield._converter import converter
from jackfield._output import Output, default_strategies
from jackfield._schema import validate
from jackfield.provider import ChatRequest
from jackfield.testing import ScriptedOptions, ScriptedProvider, plugin, reply_fragments
from jackfield.testing.transcripts import Transcript
from tests.providers.openai.conftest import replay_provider

# --- what is asked for -------------------------------------------------------------------------


class Kind(enum.Enum):
    CAPITAL = "capital"
    TOWN = "town"


@attrs.frozen
class Country:
    """A country."""

    name: str
    code: str


@attrs.frozen
class City:
    """A city and where it is."""

    name: str
    population: int
    country: Country
    kind: Kind = Kind.TOWN
    nicknames: tuple[str, ...] = ()


PARIS = '{"name": "Paris", "population": 2100000, "country": {"name": "France", "code": "FR"}}'
PARIS_CITY = City("Paris", 2100000, Country("France", "FR"))
WRONG = '{"name": "Paris", "population": "many", "country": {"name": "France"}}'
LOCAL = "http://127.0.0.1:9/v1"  # never contacted: dry runs only
WRONG_PROBLEMS = (
    '$.population: expected integer, got string "many"',
    "$.country: 'code' is missing",
)


@attrs.frozen
class ShapedOptions(ScriptedOptions):
    """Scripted options with every field a strategy writes."""

    response_format: dict[str, Any] | None = None
    tool_choice: str | dict[str, Any] | None = None
    format: str | dict[str, Any] | None = None


class Shaped(ScriptedProvider):
    """A scripted provider that supports the strategies it is given."""

    options_class = ShapedOptions
    strategies: tuple[str, ...] = ("response_format", "json_schema", "format", "tool", "prompt")

    def output_strategies(self, options: Any) -> tuple[str, ...]:
        return self.strategies


def answers(*texts: str | Sequence[Any]) -> Callable[[ChatRequest[Any]], Sequence[Any]]:
    """A script answering each call with the next text (or list of fragments)."""
    given = iter(texts)

    def script(request: ChatRequest[Any]) -> Sequence[Any]:
        item = next(given)
        return reply_fragments(item) if isinstance(item, str) else item

    return script


def shaped(*texts: str | Sequence[Any], **options: Any) -> Shaped:
    return Shaped(ShapedOptions(**options), script=answers(*texts))


def tool_answer(arguments: str, name: str = "City") -> list[Any]:
    return [ToolCall("call-1", name, arguments), Completion(FinishReason.TOOL_CALLS)]


# --- strategies ----------------------------------------------------------------------------------


def test_default_strategies_follow_the_options_fields() -> None:
    assert default_strategies({"response_format", "tool_choice"}) == (
        "response_format",
        "tool",
        "prompt",
    )
    assert default_strategies({"response_format", "tool_choice"}, tools=False) == (
        "response_format",
        "prompt",
    )
    assert default_strategies({"response_format"}) == ("response_format", "prompt")
    assert default_strategies({"format", "model"}) == ("format", "prompt")
    assert default_strategies({"model"}) == ("prompt",)
    scripted = ScriptedProvider()
    assert scripted.output_strategies(scripted.options) == ("prompt",)
    registry = jackfield.load_registry()
    ollama = registry.create("ollama", {"base_url": "http://127.0.0.1:9", "model": "m"})
    assert ollama.output_strategies(ollama.options) == ("format", "prompt")
    openai = registry.create("openai-compatible", {"base_url": LOCAL})
    assert openai.output_strategies(openai.options) == ("response_format", "tool", "prompt")
    llamacpp = registry.create("openai-compatible", {"preset": "llamacpp", "base_url": LOCAL})
    assert llamacpp.output_strategies(llamacpp.options) == (
        "json_schema",
        "response_format",
        "tool",
        "prompt",
    )


def test_a_server_that_says_it_is_llamacpp_gets_its_json_schema_field() -> None:
    body = {"choices": [{"index": 0, "message": {"content": PARIS}, "finish_reason": "stop"}]}
    said = Transcript(
        200,
        (("content-type", "application/json"), ("server", "llama.cpp")),
        json.dumps(body).encode(),
    )
    provider, transport = replay_provider(said)
    with provider:
        assert provider.output_strategies(provider.options)[0] == "response_format"
        assert provider.complete("Paris?", output=City) == PARIS_CITY
        assert "response_format" in json.loads(transport.requests[0].content)
        assert provider.output_strategies(provider.options)[0] == "json_schema"
        assert provider.complete("Paris?", output=City) == PARIS_CITY
    second = json.loads(transport.requests[1].content)
    assert "response_format" not in second
    assert second["json_schema"]["required"] == ["name", "population", "country"]


CITY_SCHEMA = Output.of(City).schema


@pytest.mark.parametrize(
    ("strategy", "body"),
    [
        (
            "response_format",
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "City", "schema": CITY_SCHEMA},
                }
            },
        ),
        ("json_schema", {"json_schema": CITY_SCHEMA, "cache_prompt": False}),
        (
            "tool",
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "City",
                            "description": "A city and where it is.",
                            "parameters": CITY_SCHEMA,
                        },
                    }
                ],
                "tool_choice": {"type": "function", "function": {"name": "City"}},
            },
        ),
        ("prompt", {}),
    ],
)
def test_the_openai_body_of_each_strategy(strategy: str, body: dict[str, Any]) -> None:
    options = {"preset": "llamacpp", "base_url": LOCAL, "extra_body": {"cache_prompt": False}}
    with jackfield.load_registry().create("openai-compatible", options) as provider:
        described = provider.dry_run("Paris?", output=City, output_strategy=strategy)
    assert described["output"] == {"name": "City", "strategy": strategy}
    sent = described["body"]
    messages = sent.pop("messages")
    expected = {"stream": False, **body}
    if strategy != "json_schema":
        expected["cache_prompt"] = False
    assert sent == expected
    if strategy == "prompt":
        assert messages[0]["role"] == "system"
        assert json.dumps(CITY_SCHEMA, separators=(",", ":")) in messages[0]["content"]
        assert messages[1:] == [{"role": "user", "content": "Paris?"}]
    else:
        assert messages == [{"role": "user", "content": "Paris?"}]


def test_ollama_gets_its_native_format() -> None:
    options = {"base_url": "http://127.0.0.1:9", "model": "m"}
    with jackfield.load_registry().create("ollama", options) as provider:
        described = provider.dry_run("Paris?", output=City)
    assert described["body"]["format"] == CITY_SCHEMA
    assert described["output"] == {"name": "City", "strategy": "format"}


@pytest.mark.parametrize("strategy", ["response_format", "json_schema", "format", "tool", "prompt"])
def test_each_strategy_shapes_the_request_and_reads_the_answer(strategy: str) -> None:
    reply: str | list[Any] = tool_answer(PARIS) if strategy == "tool" else PARIS
    provider = shaped(reply, extra_body={"keep": 1})
    assert provider.complete("Paris?", output=City, output_strategy=strategy) == PARIS_CITY
    (request,) = provider.requests
    options = request.options
    assert request.stream is False
    assert options.response_format == (
        {"type": "json_schema", "json_schema": {"name": "City", "schema": CITY_SCHEMA}}
        if strategy == "response_format"
        else None
    )
    json_schema = {"json_schema": CITY_SCHEMA} if strategy == "json_schema" else {}
    assert options.extra_body == {"keep": 1, **json_schema}
    assert options.format == (CITY_SCHEMA if strategy == "format" else None)
    forced = {"type": "function", "function": {"name": "City"}}
    assert options.tool_choice == (forced if strategy == "tool" else None)
    tools = (Tool("City", "A city and where it is.", CITY_SCHEMA),) if strategy == "tool" else ()
    assert request.tools == tools
    messages = request.conversation.messages
    if strategy == "prompt":
        assert isinstance(messages[0], SystemMessage)
        assert messages[0].content.startswith("Answer with one JSON value that follows this")
        assert messages[1:] == (UserMessage("Paris?"),)
    else:
        assert messages == (UserMessage("Paris?"),)


def test_the_prompt_strategy_joins_the_system_prompt_there_is() -> None:
    provider = shaped(PARIS)
    given = [SystemMessage("Be brief."), UserMessage("Paris?")]
    provider.complete(given, output=City, output_strategy="prompt")
    first = provider.requests[0].conversation.messages[0]
    assert isinstance(first, SystemMessage)
    assert first.content.startswith("Be brief.\n\nAnswer with one JSON value")
    assert len(provider.requests[0].conversation.messages) == 2


def test_the_first_supported_strategy_is_used_and_a_tool_needs_an_object() -> None:
    provider = shaped(PARIS, "[1, 2]")
    provider.strategies = ("tool", "prompt")
    assert provider.complete("Paris?", output=City) == PARIS_CITY  # a tool call's text is read
    assert provider.requests[0].tools[0].name == "City"
    array = {"type": "array", "items": {"type": "integer"}}
    assert provider.complete("Numbers?", output=array) == [1, 2]
    assert provider.requests[1].tools == ()  # not a tool: an array cannot be its parameters
    with pytest.raises(ConfigError, match="'tool' needs a schema whose top is an object"):
        provider.complete("Numbers?", output=array, output_strategy="tool")


# --- what comes back ----------------------------------------------------------------------------


def test_an_attrs_class_with_nested_classes_comes_back_as_its_object() -> None:
    assert CITY_SCHEMA["$defs"] == {
        "Country": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "code": {"type": "string"}},
            "additionalProperties": False,
            "description": "A country.",
            "required": ["name", "code"],
        }
    }
    assert CITY_SCHEMA["properties"]["country"] == {"$ref": "#/$defs/Country"}
    text = (
        '{"name": "Paris", "population": 2100000, "kind": "capital", '
        '"country": {"name": "France", "code": "FR"}, "nicknames": ["Lutetia"]}'
    )
    city = shaped(text).complete("Paris?", output=City)
    assert city == City("Paris", 2100000, Country("France", "FR"), Kind.CAPITAL, ("Lutetia",))


class PydanticCountry(pydantic.BaseModel):
    name: str
    code: str


class PydanticCity(pydantic.BaseModel):
    name: str
    population: int
    country: PydanticCountry


def test_a_pydantic_model_is_validated_by_pydantic() -> None:
    provider = shaped(WRONG, PARIS)
    city = provider.complete("Paris?", output=PydanticCity, output_strategy="response_format")
    assert city == PydanticCity(
        name="Paris", population=2100000, country=PydanticCountry(name="France", code="FR")
    )
    sent = provider.requests[0].options.response_format
    assert sent["json_schema"]["name"] == "PydanticCity"
    assert sent["json_schema"]["schema"] == PydanticCity.model_json_schema()
    repair = provider.requests[1].conversation.messages[-1]
    assert isinstance(repair, UserMessage)
    assert "- $.population: Input should be a valid integer" in repair.content
    assert "- $.country.code: Field required" in repair.content


def test_pydantic_is_never_imported_for_other_outputs() -> None:
    code = textwrap.dedent(
        """
        import sys
        import attrs
        from jackfield.testing import ScriptedProvider, ScriptedOptions

        @attrs.frozen
        class A:
            x: int

        provider = ScriptedProvider(ScriptedOptions(reply='{"x": 1}'))
        assert provider.complete("x?", output=A) == A(1)
        assert provider.complete("x?", output={"type": "object"}) == {"x": 1}
        print("pydantic" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_json_schema_gives_the_json_value_and_names_it_by_its_title() -> None:
    schema = {
        "title": "a person",
        "type": "object",
        "properties": {"age": {"type": "integer", "minimum": 0}},
        "required": ["age"],
    }
    provider = shaped('{"age": -1}', '{"age": 36}')
    assert provider.complete("Age?", output=schema) == {"age": 36}
    assert provider.requests[0].options.response_format["json_schema"]["name"] == "a_person"
    repair = provider.requests[1].conversation.messages[-1]
    assert isinstance(repair, UserMessage)
    assert "\n- $.age: -1 is not at least 0\n" in repair.content


@pytest.mark.parametrize(
    "text",
    [
        PARIS,
        f"```json\n{PARIS}\n```",
        f"Here it is:\n```json\n{PARIS}\n```\nAnything else?",
        f"Sure! {PARIS} Hope that helps.",
    ],
)
def test_json_wrapped_in_a_fence_or_a_sentence_is_found(text: str) -> None:
    assert shaped(text).complete("Paris?", output=City) == PARIS_CITY


def test_attrs_validators_are_problems_of_the_answer() -> None:
    @attrs.frozen
    class Positive:
        n: int = attrs.field(validator=attrs.validators.gt(0))

    provider = shaped('{"n": 0}', '{"n": 3}')
    assert provider.complete("n?", output=Positive) == Positive(3)
    repair = provider.requests[1].conversation.messages[-1]
    assert isinstance(repair, UserMessage)
    assert "$.n" in repair.content


# --- the repair round --------------------------------------------------------------------------


def test_a_wrong_answer_is_sent_back_once_with_its_problems() -> None:
    provider = shaped(WRONG, PARIS)
    assert provider.complete("Paris?", output=City) == PARIS_CITY
    first, second = provider.requests
    assert second.options == first.options
    assert second.conversation.messages == (
        *first.conversation.messages,
        AssistantMessage(WRONG),
        UserMessage(
            "That answer cannot be used:\n"
            + "".join(f"- {problem}\n" for problem in WRONG_PROBLEMS)
            + "Answer again with only the JSON, corrected to follow the schema."
        ),
    )


def test_two_wrong_answers_raise_output_error_keeping_the_raw_text() -> None:
    provider = shaped("I do not know.", WRONG)
    with pytest.raises(OutputError) as info:
        provider.complete("Paris?", output=City)
    error = info.value
    assert error.text == WRONG
    assert error.problems == WRONG_PROBLEMS
    assert error.attempts == 2
    assert error.response is not None
    assert error.response.text == WRONG
    assert str(error).startswith(
        "provider 'Shaped': the answer does not match City's schema: "
        '$.population: expected integer, got string "many"; '
    )
    first_repair = provider.requests[1].conversation.messages[-1]
    assert isinstance(first_repair, UserMessage)
    assert first_repair.content.startswith(
        "That answer cannot be used:\n- the answer is not JSON: Expecting value"
    )


def test_an_answer_cut_by_the_token_limit_says_so() -> None:
    cut = [TextDelta('{"name": "Par'), Completion(FinishReason.LENGTH)]
    with pytest.raises(OutputError) as info:
        shaped(cut, cut).complete("Paris?", output=City)
    assert info.value.text == '{"name": "Par'
    assert info.value.problems[-1] == "it was cut short by the token limit (max_tokens)"
    assert info.value.problems[0].startswith("the answer is not JSON")


def test_a_forced_tool_call_is_repaired_with_a_tool_message() -> None:
    provider = shaped(tool_answer(WRONG), tool_answer(PARIS))
    assert provider.complete("Paris?", output=City, output_strategy="tool") == PARIS_CITY
    extra = provider.requests[1].conversation.messages[-2:]
    assert extra[0] == AssistantMessage("", tool_calls=(ToolCall("call-1", "City", WRONG),))
    assert isinstance(extra[1], ToolMessage)
    assert extra[1].tool_call_id == "call-1"
    assert extra[1].content.startswith("These arguments cannot be used:\n- $.population")
    assert extra[1].content.endswith("Call City again with arguments that follow its schema.")
    assert provider.requests[1].options.tool_choice == {
        "type": "function",
        "function": {"name": "City"},
    }


def test_a_forced_tool_the_server_ignored_is_read_from_the_text() -> None:
    provider = shaped("", tool_answer(PARIS))
    assert provider.complete("Paris?", output=City, output_strategy="tool") == PARIS_CITY
    repair = provider.requests[1].conversation.messages[-1]
    assert repair == UserMessage(
        "That answer cannot be used:\n- the answer is empty\n"
        "Answer again by calling City, corrected to follow the schema."
    )


@pytest.mark.anyio
async def test_acomplete_asks_checks_and_repairs_the_same_way() -> None:
    provider = shaped(WRONG, PARIS)
    assert await provider.acomplete("Paris?", output=City) == PARIS_CITY
    assert len(provider.requests) == 2
    assert provider.requests[1].conversation.messages[-2] == AssistantMessage(WRONG)
    failing = shaped(WRONG, WRONG)
    with pytest.raises(OutputError) as info:
        await failing.acomplete("Paris?", output=City)
    assert info.value.attempts == 2
    assert info.value.text == WRONG


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- agents, explain, dry runs, errors ------------------------------------------------------------


def agent_host(reply: str) -> jackfield.Host:
    registry = jackfield.load_registry(autoload=False, plugins=[plugin])
    return jackfield.Host.from_mapping(
        {
            "providers": {"local": {"type": "scripted"}},
            "agents": {
                "geo": {
                    "model": "local",
                    "system_prompt": "You know cities.",
                    "options": {"reply": reply},
                }
            },
        },
        registry=registry,
    )


def test_an_agent_answers_with_an_object_and_explains_how() -> None:
    with agent_host(PARIS) as host:
        agent = host.agent("geo")
        assert agent.complete("Paris?", output=City) == PARIS_CITY
        explained = agent.explain(output=City)
        assert explained.splitlines()[-1] == (
            "output: City as JSON Schema via prompt (supported here: prompt)"
        )
        assert "output:" not in agent.explain()
        described = agent.dry_run("Paris?", output=City)
        assert described["output"] == {"name": "City", "strategy": "prompt"}
        system = described["conversation"]["messages"][0]
        assert system["content"].startswith("You know cities.\n\nAnswer with one JSON value")
        schema = {"title": "place", "type": "object"}
        assert agent.explain(output=schema).endswith(
            "output: the schema 'place' via prompt (supported here: prompt)"
        )


def test_the_one_line_calls_take_output(monkeypatch: pytest.MonkeyPatch) -> None:
    with agent_host(PARIS) as host:
        monkeypatch.setattr(_default, "_host", host)
        assert jackfield.complete("geo", "Paris?", output=City) == PARIS_CITY
        schema = {"type": "object", "required": ["name"]}
        value = jackfield.complete("geo", "Paris?", output=schema, output_strategy="prompt")
        assert value["name"] == "Paris"
        assert jackfield.complete("geo", "Paris?").text == PARIS


@pytest.mark.anyio
async def test_the_async_one_line_call_takes_output(monkeypatch: pytest.MonkeyPatch) -> None:
    with agent_host(PARIS) as host:
        monkeypatch.setattr(_default, "_host", host)
        assert await jackfield.acomplete("geo", "Paris?", output=City) == PARIS_CITY


def test_strategies_the_provider_lacks_and_unknown_ones_are_config_errors() -> None:
    provider = ScriptedProvider()
    with pytest.raises(ConfigError) as info:
        provider.complete("x", output=City, output_strategy="response_format")
    assert str(info.value) == (
        "provider 'ScriptedProvider': output_strategy 'response_format' is not supported here; "
        "the provider supports prompt"
    )
    with pytest.raises(ConfigError, match="unknown output strategy 'grammar'; the strategies"):
        provider.explain(output=City, output_strategy="grammar")
    with pytest.raises(TypeError, match="output_strategy is given without output"):
        provider.complete("x", output_strategy="prompt")
    with pytest.raises(TypeError, match="got the value City"):
        provider.complete("x", output=PARIS_CITY)
    with pytest.raises(TypeError, match="got the class int"):
        provider.dry_run("x", output=int)
    assert provider.requests == []  # nothing was sent


@pytest.mark.parametrize(
    ("strategy", "options", "clash"),
    [
        ("response_format", {"response_format": {"type": "json_object"}}, "response_format"),
        ("json_schema", {"extra_body": {"grammar": "root ::= x"}}, "extra_body.grammar"),
        ("format", {"response_format": {"type": "json_object"}}, "response_format"),
        ("tool", {"tool_choice": "auto"}, "tool_choice"),
    ],
)
def test_options_that_shape_the_answer_already_are_a_conflict(
    strategy: str, options: dict[str, Any], clash: str
) -> None:
    provider = shaped(PARIS)
    with pytest.raises(ConfigError, match=f"output= and the option {clash} both shape the"):
        provider.complete("x", output=City, output_strategy=strategy, **options)
    assert provider.requests == []


def test_a_tool_of_the_output_s_name_is_a_conflict() -> None:
    provider = shaped(PARIS)
    with pytest.raises(ConfigError, match="a tool is named 'City' already"):
        provider.complete("x", tools=[Tool("City")], output=City, output_strategy="tool")


def test_without_output_complete_returns_the_response() -> None:
    response = ScriptedProvider(ScriptedOptions(reply="hi")).complete("x")
    assert response.text == "hi"


# --- a class's schema fits its own instances -------------------------------------------------


class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@attrs.frozen
class Leaf:
    label: str
    weight: float | None = None


@attrs.frozen
class Tree:
    """Nested classes, optional fields, collections, enums, literals."""

    name: str
    height: int
    size: Size
    shape: Literal["round", "tall"]
    leaves: list[Leaf]
    best: Leaf | None = None
    tags: dict[str, int] = attrs.field(factory=dict)
    pair: tuple[int, str] = (0, "")
    flags: tuple[bool, ...] = ()


finite = st.floats(allow_nan=False, allow_infinity=False)
leaves = st.builds(Leaf, st.text(max_size=6), st.none() | finite)
trees = st.builds(
    Tree,
    name=st.text(max_size=8),
    height=st.integers(-(2**53), 2**53),
    size=st.sampled_from(Size),
    shape=st.sampled_from(["round", "tall"]),
    leaves=st.lists(leaves, max_size=3),
    best=st.none() | leaves,
    tags=st.dictionaries(st.text(max_size=4), st.integers(-100, 100), max_size=3),
    pair=st.tuples(st.integers(-5, 5), st.text(max_size=3)),
    flags=st.lists(st.booleans(), max_size=3).map(tuple),
)


@given(trees)
def test_an_instance_as_json_fits_its_class_schema_and_reads_back_equal(tree: Tree) -> None:
    output = Output.of(Tree)
    data = json.loads(json.dumps(converter.unstructure(tree)))
    assert validate(data, output.schema) == []
    assert output.check(data) == (tree, [])
    assert output.read_text(json.dumps(data)).value == tree


@attrs.frozen
class Node:
    value: int
    children: list[Node] = attrs.field(factory=list)


def test_a_self_referring_class_has_a_schema_that_refers_to_itself() -> None:
    output = Output.of(Node)
    assert output.schema["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/Node"},
    }
    data = {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]}
    assert output.check(data)[1] == [
        '$.children[0].children[0].value: expected integer, got string "x"'
    ]
