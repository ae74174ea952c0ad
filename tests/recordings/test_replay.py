"""Responses other projects recorded from real OpenAI-compatible servers, replayed through the
provider: every one must read as the independent reader who wrote its ``expect`` read it.

Opt-in (``nox -s recordings``): the cases live outside this repository, in the JSON file named by
``$JACKFIELD_RECORDINGS`` (``../shared/recordings/openai-compatible.json`` in this workplace),
and are never copied into it. Each streamed body is replayed whole, event by event, and cut at
arbitrary points; a whole body is read by ``complete()``; an error answer must raise its typed
error with the server's message; a model list must list the same ids.
"""

from __future__ import annotations

import base64
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield.testing.transcripts import ReplayTransport, Transcript
from jackfield_openai._provider import OpenAIProvider

SOURCE = Path(os.environ.get("JACKFIELD_RECORDINGS", "../shared/recordings/openai-compatible.json"))
FAST = {"retries": {"attempts": 0}, "timeouts": {"connect": 2, "first_byte": 5, "idle": 5}}


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(SOURCE.read_text(encoding="utf-8"))
    return cases


CASES = _cases()


def _body(case: dict[str, Any]) -> bytes:
    response = case["response"]
    if response.get("body_encoding") == "base64":
        return base64.b64decode(response["body"])
    body: str = response["body"]
    return body.encode("utf-8")


def _transcript(case: dict[str, Any]) -> Transcript:
    response = case["response"]
    headers = (("content-type", response["content_type"]),) if response["content_type"] else ()
    return Transcript(response["status"], headers, _body(case))


def _provider(case: dict[str, Any], chunks: list[bytes] | None = None) -> OpenAIProvider:
    transport = ReplayTransport(_transcript(case), chunks=chunks)
    provider = OpenAIProvider.from_options(
        {"base_url": "http://127.0.0.1:9/v1", **FAST},
        name="replay",
        transport=transport,
        async_transport=transport,
    )
    assert isinstance(provider, OpenAIProvider)
    return provider


def _cuts(body: bytes, how: str) -> list[bytes] | None:
    if how == "whole":
        return None
    if how == "events":
        events = [e + b"\n\n" for e in body.split(b"\n\n") if e]
        return events or None
    rng = random.Random(f"{how}:{len(body)}")
    points = sorted({rng.randrange(1, max(2, len(body))) for _ in range(max(1, len(body) // 40))})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True) if b > a]


def _no_reason(value: Any) -> bool:
    return value in (None, "", "null")


def _check_answer(case: dict[str, Any], response: jackfield.Response) -> None:
    expect = case["expect"]
    quirks = set(case.get("quirks") or ())
    choice = response.choice(0)
    split = expect.get("inline_think")
    if split is not None and choice.text != expect["text"]:
        # The think block was split out as reasoning. The whitespace right after each tag is
        # dropped (as servers' own reasoning parsers drop it); the rest must be the same.
        assert (choice.text, choice.thoughts) == (
            split["text"].lstrip(),
            split["thoughts"].lstrip(),
        )
    elif "text_json" in expect:
        assert json.loads(choice.text) == expect["text_json"]
    else:
        assert choice.text == expect["text"]
        if "reasoning only in reasoning_details" in quirks:
            kept = (choice.completion.metrics if choice.completion else {}).get("reasoning_details")
            assert kept, "the reasoning_details were not kept"
            readable = [
                i for i in kept if isinstance(i, dict) and (i.get("text") or i.get("summary"))
            ]
            assert bool(choice.thoughts) == bool(readable), "readable reasoning was not surfaced"
        else:
            assert choice.thoughts == expect["thoughts"]
    calls = [[call.name, call.parsed_arguments()] for call in choice.tool_calls]
    assert calls == expect["tool_calls"]
    for got, sent in zip(choice.tool_calls, expect["tool_call_ids"], strict=True):
        if sent is not None:  # an id the server gave is kept; a missing one is made up
            assert got.id == sent
    completion = choice.completion
    assert completion is not None
    raw = expect["finish_reason"]
    if _no_reason(raw):
        assert _no_reason(completion.raw_finish_reason)
    else:
        assert completion.raw_finish_reason == raw
    usage = expect["usage"]
    if usage is None:
        assert completion.usage is None or completion.usage.completion_tokens is None
    else:
        assert completion.usage is not None
        got = (completion.usage.prompt_tokens, completion.usage.completion_tokens)
        assert got == (usage["prompt_tokens"], usage["completion_tokens"])
    assert [c.index for c in response.choices] == expect["choices"]


# The columns of docs/compatibility.md that recorded families are evidence for (the hosted
# services without a column of their own are checked all the same, as no column's evidence).
COLUMNS = {"openai": "openai", "crusoe-vllm": "vllm", "ollama": "ollama", "ollama-cloud": "ollama"}


def _features(case: dict[str, Any]) -> list[str]:
    """The features of docs/compatibility.md a recorded case is evidence for."""
    kind, expect = case["kind"], case["expect"]
    if kind == "error" or (kind == "stream" and expect.get("error")):
        return ["errors"]
    if kind == "models":
        return ["model listing"]
    body = _body(case)
    calls = expect.get("tool_calls") or []
    found = {
        "streaming text": kind == "stream" and bool(expect.get("text")),
        "reasoning field": bool(expect.get("thoughts"))
        and any(f'"{key}"'.encode() in body for key in ("reasoning_content", "reasoning")),
        "think tags": bool(expect.get("inline_think")),
        "tool calls streamed": kind == "stream" and bool(calls),
        "parallel tool calls": len(calls) >= 2,
        "usage": bool(expect.get("usage")),
    }
    return [feature for feature, there in found.items() if there]


def _ids(kinds: tuple[str, ...]) -> list[Any]:
    params = []
    for case in CASES:
        if case["kind"] not in kinds:
            continue
        column = COLUMNS.get(case["family"])
        marks = (
            [pytest.mark.covers(column, f, "recorded") for f in _features(case)] if column else []
        )
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


@pytest.mark.parametrize("how", ["whole", "events", "cut-a", "cut-b"])
@pytest.mark.parametrize("case", _ids(("stream",)))
def test_a_streamed_answer_reads_as_recorded(case: dict[str, Any], how: str) -> None:
    provider = _provider(case, _cuts(_body(case), how))
    stream = provider.stream("hi")
    error = case["expect"]["error"]
    if error is None:
        for _ in stream:
            pass
        _check_answer(case, stream.response)
        return
    with pytest.raises(jackfield.ProviderError) as info:
        for _ in stream:
            pass
    assert error["message"] in str(info.value)
    partial = info.value.partial
    expect = case["expect"]
    if expect["thoughts"] or expect["text"]:
        assert partial is not None
        assert (partial.choice(0).thoughts, partial.choice(0).text) == (
            expect["thoughts"],
            expect["text"],
        )


@pytest.mark.parametrize("case", _ids(("complete",)))
def test_a_whole_answer_reads_as_recorded(case: dict[str, Any]) -> None:
    _check_answer(case, _provider(case).complete("hi"))


@pytest.mark.parametrize("case", _ids(("error",)))
def test_an_error_answer_is_a_typed_error_with_the_servers_message(case: dict[str, Any]) -> None:
    with pytest.raises(jackfield.ProviderError) as info:
        _provider(case).complete("hi")
    assert info.value.status == case["expect"]["status"]
    assert case["expect"]["message"] in str(info.value)


@pytest.mark.parametrize("case", _ids(("models",)))
def test_a_model_list_reads_as_recorded(case: dict[str, Any]) -> None:
    models = _provider(case).list_models()
    assert [m.id for m in models] == case["expect"]["model_ids"]
