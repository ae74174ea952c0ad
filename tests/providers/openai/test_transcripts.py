"""The recorded transcript corpus: every server family and quirk, replayed whole and split."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import switchboard
from switchboard import FragmentStream, ProviderError, Response, Tool
from switchboard.fragments import Fragment
from switchboard.testing.transcripts import Transcript
from tests.providers.openai.conftest import replay_provider

HERE = Path(__file__).parent / "transcripts"
CASES = sorted(p.stem for p in HERE.glob("*.json"))
_REASONING_FIELD = re.compile(rb'"(?:reasoning_content|reasoning|thinking)"\s*:\s*"[^"]')


def load(stem: str) -> tuple[dict[str, Any], Transcript]:
    meta = json.loads((HERE / f"{stem}.json").read_text(encoding="utf-8"))
    return meta, Transcript.load(HERE / f"{stem}.http")


def features(meta: dict[str, Any], transcript: Transcript) -> list[str]:
    """The compatibility-matrix features a transcript is evidence for."""
    if "error" in meta:
        found = ["errors"]
        if meta["error"]["type"] == "AuthenticationError":
            found.append("auth")
        return found
    expect, body = meta["expect"], transcript.body
    checks = {
        "streaming text": meta["stream"] and bool(expect.get("text")),
        "reasoning field": bool(expect.get("thoughts")) and bool(_REASONING_FIELD.search(body)),
        "think tags": bool(expect.get("thoughts")) and b"</think>" in body,
        "tool calls streamed": meta["stream"] and bool(expect.get("tool_calls")),
        "parallel tool calls": len(expect.get("tool_calls") or []) >= 2,
        "usage": bool(expect.get("usage")),
        "timings": b'"timings"' in body,
    }
    return [feature for feature, found in checks.items() if found]


def covered(stem: str) -> Any:
    meta, transcript = load(stem)
    marks = [pytest.mark.covers(meta["server"], f, "recorded") for f in features(meta, transcript)]
    return pytest.param(stem, marks=marks, id=stem)


def run(
    meta: dict[str, Any], transcript: Transcript, chunks: list[bytes] | None = None
) -> tuple[list[Fragment], ProviderError | None, Response]:
    provider, _ = replay_provider(transcript, chunks=chunks, **meta.get("options", {}))
    tools = [Tool(t["name"], source=t.get("source")) for t in meta.get("tools", [])]
    request = provider.request("hi", tools=tools, stream=meta["stream"])
    stream = FragmentStream(provider.chat_exchange(request), provider.name)
    fragments: list[Fragment] = []
    try:
        for fragment in stream:
            fragments.append(fragment)
    except ProviderError as exc:
        return fragments, exc, stream.response
    return fragments, None, stream.response


def check(
    meta: dict[str, Any], fragments: list[Fragment], error: ProviderError | None, response: Response
) -> None:
    if "error" in meta:
        expected = meta["error"]
        assert error is not None, f"expected {expected['type']}, got a response: {response!r}"
        assert type(error).__name__ == expected["type"], repr(error)
        if expected.get("status") is not None:
            assert error.status == expected["status"]
        if expected.get("message_contains"):
            assert expected["message_contains"] in str(error)
        partial = error.partial.text if error.partial is not None else ""
        assert partial == expected.get("partial_text", "")
        return
    assert error is None, f"unexpected {error!r}"
    expect = meta["expect"]
    for key in ("text", "thoughts"):
        if key in expect:
            assert getattr(response, key) == expect[key], key
    if "tool_calls" in expect:
        got = [
            {"id": c.id, "name": c.name, "source": c.source, "arguments": c.arguments}
            for c in response.tool_calls
        ]
        assert len(got) == len(expect["tool_calls"]), got
        for have, want in zip(got, expect["tool_calls"], strict=True):
            assert have == {**want, "id": want["id"] if want.get("id") is not None else have["id"]}
    completion = response.completion
    assert completion is not None
    if "finish_reason" in expect:
        assert completion.finish_reason.value == expect["finish_reason"]
    if "raw_finish_reason" in expect:
        assert completion.raw_finish_reason == expect["raw_finish_reason"]
    if "usage" in expect:
        usage = switchboard.converter.unstructure(completion.usage) if completion.usage else None
        assert usage == expect["usage"]
    if "model" in expect:
        assert completion.model == expect["model"]
    for key, value in expect.get("metrics", {}).items():
        assert completion.metrics.get(key) == value, key
    assert sum(isinstance(f, switchboard.Completion) for f in fragments) == len(response.choices)


def test_the_corpus_covers_every_server_family() -> None:
    servers = {load(stem)[0]["server"] for stem in CASES}
    assert {
        "openai",
        "llama.cpp",
        "vllm",
        "sglang",
        "ollama",
        "lmstudio",
        "text-generation-webui",
        "tabbyapi",
        "koboldcpp",
        "localai",
    } <= servers


@pytest.mark.parametrize("stem", [covered(stem) for stem in CASES])
def test_replayed_whole(stem: str) -> None:
    meta, transcript = load(stem)
    check(meta, *run(meta, transcript))


@pytest.mark.parametrize("stem", CASES)
def test_replayed_byte_by_byte(stem: str) -> None:
    meta, transcript = load(stem)
    whole = run(meta, transcript)
    body = transcript.body
    pieces = run(meta, transcript, [body[i : i + 1] for i in range(len(body))])
    assert pieces[0] == whole[0]
    assert repr(pieces[1]) == repr(whole[1])


@pytest.mark.parametrize("stem", CASES)
@settings(max_examples=15)
@given(cuts=st.lists(st.integers(0, 4000), max_size=10))
def test_replayed_split_anywhere(stem: str, cuts: list[int]) -> None:
    meta, transcript = load(stem)
    whole = run(meta, transcript)
    split = run(meta, transcript, transcript.split(cuts))
    assert split[0] == whole[0]
    assert repr(split[1]) == repr(whole[1])
