"""Optional features a server refuses: recognised from its refusal, dropped once, remembered.

The refusals are the shapes servers send (OpenAI's ``param``, FastAPI's ``detail[].loc``, a
plain message), written here as transcripts of our own.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import BadRequestError, ProviderError, SystemMessage, Tool, UserMessage
from jackfield.testing.transcripts import Transcript
from jackfield_openai._quirks import QUIRKS, adapt, refused_quirk
from tests.providers.openai.conftest import replay_provider, sse_transcript

ANSWER = sse_transcript(
    '{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}',
    '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
    "[DONE]",
)
TOOL = Tool("lookup", "Look a word up.", {"type": "object", "properties": {}})


def refusal(status: int, payload: Any) -> Transcript:
    body = json.dumps(payload).encode()
    return Transcript(status, (("content-type", "application/json"),), body)


def openai_error(message: str, param: str | None, code: str | None = None) -> Any:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return {"error": error}


# Refusals as servers word them.
MAX_TOKENS = openai_error(  # OpenAI's reasoning models
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "max_tokens",
    "unsupported_parameter",
)
DEVELOPER = openai_error(  # OpenAI's o1-mini
    "Unsupported value: 'messages[0].role' does not support 'developer' with this model.",
    "messages[0].role",
    "unsupported_value",
)
SYSTEM = openai_error(
    "Unsupported value: 'messages[0].role' does not support 'system' with this model.",
    "messages[0].role",
    "unsupported_value",
)
UNRECOGNIZED = openai_error(  # Azure OpenAI's older API versions
    "Unrecognized request argument supplied: parallel_tool_calls", None
)
EXTRA_FORBIDDEN = {  # a pydantic model with extra="forbid" behind FastAPI
    "detail": [
        {
            "type": "extra_forbidden",
            "loc": ["body", "stream_options"],
            "msg": "Extra inputs are not permitted",
            "input": {"include_usage": True},
        }
    ]
}
STRICT_FORBIDDEN = {
    "detail": [
        {
            "type": "extra_forbidden",
            "loc": ["body", "tools", 0, "function", "strict"],
            "msg": "Extra inputs are not permitted",
            "input": True,
        }
    ]
}


def sent(transport: Any, n: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(transport.requests[n].content)
    return body


@pytest.mark.parametrize(
    ("status", "payload", "options", "check"),
    [
        (422, EXTRA_FORBIDDEN, {}, lambda body: "stream_options" not in body),
        (
            400,
            MAX_TOKENS,
            {"max_tokens": 5},
            lambda body: body.get("max_completion_tokens") == 5 and "max_tokens" not in body,
        ),
        (
            400,
            UNRECOGNIZED,
            {"parallel_tool_calls": False},
            lambda body: "parallel_tool_calls" not in body,
        ),
        (
            422,
            STRICT_FORBIDDEN,
            {"strict_tools": True},
            lambda body: "strict" not in body["tools"][0]["function"],
        ),
        (
            400,
            DEVELOPER,
            {"system_role": "developer"},
            lambda body: body["messages"][0]["role"] == "system",
        ),
        (400, SYSTEM, {}, lambda body: body["messages"][0]["role"] == "developer"),
    ],
    ids=["stream_options", "max_tokens", "parallel_tool_calls", "strict", "developer", "system"],
)
def test_a_refused_feature_is_dropped_once_and_remembered(
    status: int, payload: Any, options: dict[str, Any], check: Any
) -> None:
    provider, transport = replay_provider(refusal(status, payload), ANSWER, ANSWER)
    conversation = [SystemMessage("Be brief."), UserMessage("Hi")]
    first = provider.stream(conversation, tools=[TOOL], model="m", **options).collect()
    assert first.text == "Hi"
    assert len(transport.requests) == 2
    assert not check(sent(transport, 0))
    assert check(sent(transport, 1))
    # Remembered for this endpoint and model: the next call goes out adapted at once.
    second = provider.stream(conversation, tools=[TOOL], model="m", **options).collect()
    assert second.text == "Hi"
    assert len(transport.requests) == 3
    assert check(sent(transport, 2))
    assert provider.dry_run(conversation, tools=[TOOL], model="m", **options)["body"] == sent(
        transport, 2
    )
    (where, what), *_ = provider.learned().items()
    assert where == "http://127.0.0.1:9/v1 (model m)"
    assert len(what) == 1
    assert f"learned from {where}: {what[0]}" in provider.explain()


def test_learning_is_per_model() -> None:
    provider, transport = replay_provider(refusal(400, MAX_TOKENS), ANSWER)
    provider.complete("Hi", model="o1", max_tokens=5)
    provider.complete("Hi", model="gpt-4o", max_tokens=5)
    assert [("max_tokens" in sent(transport, n)) for n in range(3)] == [True, False, True]


def test_several_refusals_in_turn_each_drop_their_feature() -> None:
    provider, transport = replay_provider(
        refusal(422, EXTRA_FORBIDDEN), refusal(400, MAX_TOKENS), ANSWER
    )
    assert provider.stream("Hi", max_tokens=3).collect().text == "Hi"
    last = sent(transport, 2)
    assert "stream_options" not in last
    assert last["max_completion_tokens"] == 3
    assert len(next(iter(provider.learned().values()))) == 2


def test_when_the_adapted_request_fails_too_the_first_refusal_is_raised_and_nothing_learned() -> (
    None
):
    other = openai_error("messages: too many", "messages")
    provider, transport = replay_provider(refusal(422, EXTRA_FORBIDDEN), refusal(400, other))
    with pytest.raises(BadRequestError, match="Extra inputs are not permitted"):
        provider.stream("Hi").collect()
    assert len(transport.requests) == 2
    assert provider.learned() == {}


def test_learning_can_be_turned_off() -> None:
    provider, transport = replay_provider(refusal(422, EXTRA_FORBIDDEN), ANSWER)
    with pytest.raises(BadRequestError):
        provider.stream("Hi", learn_quirks=False).collect()
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    "payload",
    [
        openai_error("max_tokens must be at least 1, got -1.", "max_tokens"),  # a bad value
        openai_error("Invalid 'max_tokens': integer below minimum value.", "max_tokens"),
        openai_error("This model's maximum context length is 8 tokens.", "messages"),
        {  # vLLM 0.32, asked for more tokens than its context
            "error": {
                "message": "max_tokens=5000 cannot be greater than max_model_len=1024. Please "
                "request fewer output tokens. (parameter=max_tokens, value=5000)",
                "type": "BadRequestError",
                "param": "max_tokens",
                "code": 400,
            }
        },
        {"error": "Unauthorized"},
    ],
)
def test_refusals_of_values_are_not_quirks(payload: Any) -> None:
    provider, transport = replay_provider(refusal(400, payload), ANSWER)
    with pytest.raises(ProviderError):
        provider.stream("Hi", max_tokens=-1).collect()
    assert len(transport.requests) == 1


def test_a_server_error_is_never_taken_for_a_refused_feature() -> None:
    provider, transport = replay_provider(refusal(500, EXTRA_FORBIDDEN), ANSWER)
    with pytest.raises(ProviderError):
        provider.stream("Hi", retries={"attempts": 0}).collect()
    assert len(transport.requests) == 1


# --- the pure rules ------------------------------------------------------------------------------

roles = st.sampled_from(["system", "developer", "user", "assistant"])
bodies = st.fixed_dictionaries(
    {"messages": st.lists(st.fixed_dictionaries({"role": roles, "content": st.text()}))},
    optional={
        "stream_options": st.just({"include_usage": True}),
        "max_tokens": st.integers(1, 10),
        "max_completion_tokens": st.integers(1, 10),
        "parallel_tool_calls": st.booleans(),
        "tools": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.just("function"),
                    "function": st.fixed_dictionaries(
                        {"name": st.text()}, optional={"strict": st.just(True)}
                    ),
                }
            ),
            max_size=3,
        ),
    },
)


@given(bodies)
def test_a_quirk_removes_what_it_is_about_and_leaves_the_body_given_alone(body: Any) -> None:
    for quirk in QUIRKS:
        before = copy.deepcopy(body)
        if quirk.applies(body):
            adapted = quirk.apply(body)
            assert not quirk.applies(adapted), quirk.name
            assert body == before
            assert adapted["messages"] is body["messages"] or len(adapted["messages"]) == len(
                body["messages"]
            )


@given(bodies, st.lists(st.sampled_from([q.name for q in QUIRKS]), unique=True))
def test_adapting_twice_is_adapting_once(body: Any, names: list[str]) -> None:
    once = adapt(body, names)
    assert adapt(once, names) == once


@given(bodies)
def test_no_refusal_but_a_bad_request(body: Any) -> None:
    for status in (401, 404, 429, 500, 503):
        error = ProviderError("x: Unsupported parameter: 'stream_options'", status=status)
        assert refused_quirk(error, body) is None


def test_status_shows_what_was_learned() -> None:
    import httpx

    from jackfield_openai._provider import OpenAIProvider

    answers = iter([refusal(422, EXTRA_FORBIDDEN), ANSWER])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "m", "owned_by": "vllm"}]})
        transcript = next(answers)
        return httpx.Response(
            transcript.status, headers=list(transcript.headers), content=transcript.body
        )

    transport = httpx.MockTransport(handler)
    provider = OpenAIProvider.from_options(
        {"base_url": "http://127.0.0.1:9/v1", "model": "m"}, name="local", transport=transport
    )
    assert "learned" not in provider.status().details
    assert provider.stream("Hi").collect().text == "Hi"
    learned = provider.status().details["learned"]
    assert learned == {
        "http://127.0.0.1:9/v1 (model m)": ["no stream_options (so no usage on streamed answers)"]
    }
