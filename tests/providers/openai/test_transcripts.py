"""The recorded transcript corpus: every server family and quirk, replayed whole and split."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jackfield.testing.transcripts import Transcript
from tests.providers.openai.conftest import replay_provider
from tests.support import transcript_cases as cases

HERE = Path(__file__).parent / "transcripts"
CASES = sorted(p.stem for p in HERE.glob("*.json"))
_REASONING_FIELD = re.compile(rb'"(?:reasoning_content|reasoning|thinking)"\s*:\s*"[^"]')


def load(stem: str) -> tuple[dict[str, Any], Transcript]:
    return cases.load(HERE, stem)


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
    if meta["server"] == "generic":  # edge cases of the protocol, no server's evidence
        return pytest.param(stem, id=stem)
    marks = [
        pytest.mark.covers(meta["server"], f, "transcript") for f in features(meta, transcript)
    ]
    return pytest.param(stem, marks=marks, id=stem)


def replay(transcript: Transcript, chunks: list[bytes] | None = None, **options: Any) -> Any:
    return replay_provider(transcript, chunks=chunks, **options)[0]


def run(meta: dict[str, Any], transcript: Transcript, chunks: list[bytes] | None = None) -> Any:
    return cases.run(replay, meta, transcript, chunks)


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
    cases.check(meta, *run(meta, transcript))


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
