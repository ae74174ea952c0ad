"""The wire layer, round 2: long split lines, bodies that say they are complete, odd values.

- Buffering a line costs time in proportion to its length however finely it is split (an 8 MiB
  line in 1 KB pieces cost 14-35 s of CPU when each piece was added to the bytes so far).
- ``[DONE]`` (OpenAI) and the final ``done`` object (Ollama) set the parser's ``finished``;
  ``close()`` then gives the final fragments exactly as at the end of the body, and nothing fed
  after counts. The end-to-end test (a server keeping the connection open) is with the
  exchange's tests.
- The default think-tag splitter holds at most a bounded amount of leading whitespace.
- One non-finite number or lone surrogate in a chunk costs that value, not the answer; a chunk
  that cannot be read at all is a MalformedStreamError with the answer so far in ``partial``.

Times are bounded by CPU-time ceilings far above what the linear code needs and far below what
the quadratic code took (each says why), run in a child process with a hard CPU limit so the
old code fails in bounded time; the think-tag bound is a count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import (
    Completion,
    Fragment,
    MalformedStreamError,
    Response,
    TextDelta,
    ThoughtDelta,
    dump_fragment,
)
from jackfield.http import EventParser, UnexpectedBodyParser
from jackfield.provider import NDJSONDecoder, SSEDecoder, ThinkSplitter
from jackfield.testing.transcripts import Transcript
from jackfield_ollama._options import OllamaOptions
from jackfield_ollama._provider import _parser as ollama_parser
from jackfield_ollama._wire import OllamaAssembler
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._parsers import SSEParser, whole_body_parser
from tests.providers.openai.conftest import replay_provider
from tests.reliability.evidence import FACTS, count

fault = pytest.mark.reliability

MiB = 1024 * 1024


def event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def text_chunk(text: str, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}}], **extra}


FINISH = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
USAGE = {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
ANSWER = [event(text_chunk("Hel")), event(text_chunk("lo")), event(FINISH), event(USAGE)]
DONE = b"data: [DONE]\n\n"


def cut(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def sse_parser() -> SSEParser:
    return SSEParser(ChunkAssembler(), max_event_size=16 * MiB)


def run_until_finished(parser: Any, pieces: Sequence[bytes]) -> tuple[list[Fragment], int]:
    """Feed as the exchange does with the ``finished`` contract: close as soon as it is set.
    Returns the fragments and how many pieces were fed."""
    out: list[Fragment] = []
    fed = 0
    for piece in pieces:
        fed += 1
        out += parser.feed(piece)
        assert parser.error is None
        if parser.finished:
            break
    out += parser.close()
    return out, fed


def run_to_the_end(parser: Any, pieces: Sequence[bytes]) -> list[Fragment]:
    out: list[Fragment] = []
    for piece in pieces:
        out += parser.feed(piece)
    return [*out, *parser.close()]


# --- 8: long lines in small pieces ----------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_CPU, ({cpu}, {cpu}))
    resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
    from jackfield.provider import NDJSONDecoder, SSEDecoder
    size, piece_size = {size}, {piece}
    piece = b"x" * piece_size
    start = time.process_time()
    if "{kind}" == "sse":
        decoder = SSEDecoder(max_line_size=2 * size, max_event_size=2 * size)
        decoder.feed(b"data: ")
        for _ in range(size // piece_size):
            assert decoder.feed(piece) == []
        (value,) = decoder.feed(b"\\n\\n")
        length = len(value.data)
    else:
        decoder = NDJSONDecoder(max_line_size=2 * size)
        decoder.feed(b'"')
        for _ in range(size // piece_size):
            assert decoder.feed(piece) == []
        (value,) = decoder.feed(b'"\\n')
        length = len(value)
    print(time.process_time() - start, length)
    """
)


def _feed_long_line(kind: str, size: int, piece: int) -> float:
    """CPU seconds a child process spends feeding one ``size``-byte line in ``piece``-byte
    pieces (the child has a hard 20 s CPU limit and 1 GiB of address space)."""
    code = _CHILD.format(kind=kind, size=size, piece=piece, cpu=20, memory=1024 * MiB)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (  # -9 or -24: killed at the CPU limit
        f"the child failed ({done.returncode}) or ran out of CPU time: {done.stderr[-500:]}"
    )
    seconds, length = done.stdout.split()
    assert int(length) == size  # the whole line arrived, nothing lost
    return float(seconds)


@fault(
    "streams",
    "one 8 MiB SSE line fed in 1 KB pieces (8,192 pieces)",
    "one event, in linear time (under 3 s of CPU; the quadratic buffer took 14-35 s)",
)
def test_a_long_sse_line_in_small_pieces_is_linear() -> None:
    # The linear decoder needs ~0.02 s here; the old one copied the line so far for every
    # piece (32 GiB of copying and re-splitting, 14-35 s). 3 s leaves 100x room for slow CI.
    seconds = _feed_long_line("sse", 8 * MiB, 1024)
    FACTS["CPU seconds: an 8 MiB SSE line in 1 KB pieces"] = round(seconds, 3)
    assert seconds < 3.0


@fault(
    "streams",
    "one 16 MiB NDJSON line fed in 512-byte pieces (32,768 pieces)",
    "one value, in linear time (under 3 s of CPU; the quadratic buffer took ~120 s)",
)
def test_a_long_ndjson_line_in_small_pieces_is_linear() -> None:
    # Linear: ~0.06 s. The old decoder joined the bytes so far to every piece: 256 GiB of
    # copying for this line (~120 s measured). 3 s is far from both.
    seconds = _feed_long_line("ndjson", 16 * MiB, 512)
    FACTS["CPU seconds: a 16 MiB NDJSON line in 512-byte pieces"] = round(seconds, 3)
    assert seconds < 3.0


@given(
    st.lists(st.binary(max_size=40), max_size=8),
    st.lists(st.integers(0, 400), max_size=12),
)
def test_sse_events_do_not_depend_on_how_a_split_line_was_buffered(
    lines: list[bytes], cuts: list[int]
) -> None:
    """Lines split into many pieces (some with no line end at all) decode as when whole."""
    raw = b"".join(b"data: " + line.replace(b"\n", b"").replace(b"\r", b"") for line in lines)
    raw += b"\n\n" + b"data: tail\r\n\r\n"

    def events(pieces: Sequence[bytes]) -> list[tuple[str, str]]:
        decoder = SSEDecoder(max_line_size=1000, max_event_size=1000)
        out = [e for piece in pieces for e in decoder.feed(piece)]
        decoder.close()
        return [(e.event, e.data) for e in out]

    assert events(cut(raw, cuts)) == events([raw])


@given(
    st.lists(st.text(max_size=30), max_size=6),
    st.lists(st.integers(0, 300), max_size=12),
)
def test_ndjson_values_do_not_depend_on_how_a_split_line_was_buffered(
    texts: list[str], cuts: list[int]
) -> None:
    raw = b"".join(json.dumps(t).encode() + b"\n" for t in texts)
    decoder = NDJSONDecoder(max_line_size=1000)
    values = [v for piece in cut(raw, cuts) for v in decoder.feed(piece)] + decoder.close()
    assert values == texts


def test_a_split_line_is_still_bounded_by_the_line_limit() -> None:
    sse = SSEDecoder(max_line_size=100, max_event_size=100)
    ndjson = NDJSONDecoder(max_line_size=100)
    with pytest.raises(Exception, match="longer than 100"):  # noqa: PT012
        for _ in range(20):
            sse.feed(b"x" * 10)
    with pytest.raises(Exception, match="longer than 100"):  # noqa: PT012
        for _ in range(20):
            ndjson.feed(b"x" * 10)


# --- 9: a body that says it is complete -----------------------------------------------------


def _clean_fragments() -> list[Fragment]:
    """The answer as it is at the end of a body that ends right after [DONE]."""
    return run_to_the_end(sse_parser(), [*ANSWER, DONE])


@fault(
    "streams",
    "[DONE], then the server keeps the connection open",
    "the parser is finished; close() gives the whole answer and its final Completion",
)
def test_done_finishes_an_openai_stream() -> None:
    parser = sse_parser()
    out: list[Fragment] = []
    for piece in ANSWER:
        out += parser.feed(piece)
        assert not parser.finished  # a finish reason and usage are not the end: [DONE] is
    assert parser.feed(DONE) == ()
    assert parser.finished
    out += parser.close()
    assert out == _clean_fragments()
    completion = out[-1]
    assert isinstance(completion, Completion)
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 2
    assert Response.fold(out).text == "Hello"


@fault(
    "streams",
    "events, an error event and garbage after [DONE], in the same chunk or later",
    "ignored: the answer is the one [DONE] completed",
)
@pytest.mark.parametrize("same_chunk", [True, False])
def test_whatever_comes_after_done_is_ignored(same_chunk: bool) -> None:
    after = [
        event(text_chunk(" and more")),
        b'data: {"error": {"message": "late"}}\n\n',
        b"data: not json\n\n",
        b"\xff\xfe garbage without a line end",
    ]
    parser = sse_parser()
    pieces = [b"".join(ANSWER) + DONE + b"".join(after)] if same_chunk else [*ANSWER, DONE, *after]
    out, fed = run_until_finished(parser, pieces)
    assert out == _clean_fragments()
    assert fed == (1 if same_chunk else len(ANSWER) + 1)  # nothing read after [DONE]
    # and feeding on regardless (a driver that does not stop) changes nothing
    progress = parser.progress
    for piece in after:
        assert parser.feed(piece) == ()
    assert parser.progress == progress
    assert parser.error is None


def test_done_split_across_chunks_finishes_on_the_general_path() -> None:
    parser = sse_parser()
    out, _ = run_until_finished(parser, [*ANSWER, b"data: [DO", b"NE]\n", b"\n", b"data: x\n\n"])
    assert parser.finished
    assert out == _clean_fragments()


def test_done_first_gives_an_empty_but_complete_answer() -> None:
    parser = sse_parser()
    out, _ = run_until_finished(parser, [DONE, event(text_chunk("late"))])
    assert [type(f) for f in out] == [Completion]


def test_whole_bodies_and_unexpected_bodies_never_finish_early() -> None:
    whole = whole_body_parser(ChunkAssembler(), limit=MiB)
    whole.feed(json.dumps({"choices": [{"index": 0, "message": {"content": "x"}}]}).encode())
    assert whole.finished is False
    odd = UnexpectedBodyParser("text/html", "t", expected="a chat response", hint="h")
    odd.feed(b"<html>")
    assert odd.finished is False


@given(
    st.lists(st.sampled_from(ANSWER), max_size=5),
    st.lists(
        st.sampled_from([event(text_chunk("z")), b"data: ]]\n\n", b": c\n\n", b"x"]), max_size=4
    ),
    st.lists(st.integers(0, 3000), max_size=8),
)
def test_done_ends_the_answer_wherever_the_bytes_are_cut(
    answer: list[bytes], after: list[bytes], cuts: list[int]
) -> None:
    """Closing when finished gives what a body ending right after [DONE] gives, whatever
    follows [DONE] and however the bytes are cut."""
    count("fuzz examples: [DONE] then more, cut anywhere")
    expected = run_to_the_end(sse_parser(), [*answer, DONE])
    out, _ = run_until_finished(sse_parser(), cut(b"".join([*answer, DONE, *after]), cuts))
    assert out == expected


def ollama_line(**fields: Any) -> bytes:
    return json.dumps(fields).encode() + b"\n"


OLLAMA = [
    ollama_line(model="m", message={"role": "assistant", "content": "Hel"}, done=False),
    ollama_line(model="m", message={"role": "assistant", "content": "lo"}, done=False),
]
OLLAMA_DONE = ollama_line(
    model="m", message={"content": ""}, done=True, done_reason="stop", eval_count=2,
    prompt_eval_count=3, eval_duration=10**9,
)  # fmt: skip


def ollama() -> EventParser:
    return ollama_parser(OllamaAssembler((), "ollama"), OllamaOptions(), stream=True)


@fault(
    "streams",
    "Ollama's final done object, then the server keeps the connection open",
    "the parser is finished; close() gives the answer and its final Completion",
)
def test_the_done_object_finishes_an_ollama_stream() -> None:
    expected = run_to_the_end(ollama(), [*OLLAMA, OLLAMA_DONE])
    parser = ollama()
    for piece in OLLAMA:
        parser.feed(piece)
        assert not parser.finished
    parser = ollama()
    out, fed = run_until_finished(parser, [*OLLAMA, OLLAMA_DONE, b"{not json\n", OLLAMA[0]])
    assert fed == 3
    assert out == expected
    completion = out[-1]
    assert isinstance(completion, Completion)
    assert completion.usage is not None
    assert completion.usage.total_tokens == 5
    assert Response.fold(out).text == "Hello"


def test_lines_after_the_done_object_in_the_same_chunk_are_ignored() -> None:
    expected = run_to_the_end(ollama(), [*OLLAMA, OLLAMA_DONE])
    for after in (OLLAMA[0], b"{not json\n", b'{"error": "late"}\n', b'{"trunc'):
        parser = ollama()
        out, _ = run_until_finished(parser, [b"".join([*OLLAMA, OLLAMA_DONE, after])])
        assert parser.finished
        assert out == expected


def test_a_bad_ndjson_line_after_good_ones_delivers_them_first() -> None:
    """The rule every parser follows: what arrived before an error in the same bytes is
    delivered, then the error is raised (its partial answer keeps it)."""
    parser = ollama()
    out = parser.feed(b"".join(OLLAMA) + b"{not json\n")
    assert Response.fold(list(out)).text == "Hello"
    assert isinstance(parser.error, MalformedStreamError)
    assert "line 3" in str(parser.error)
    with pytest.raises(MalformedStreamError):
        ollama().feed(b"{not json\n" + OLLAMA[0])  # nothing before it: raised at once


# --- 14: think tags after whitespace; odd values in a chunk ---------------------------------


@fault(
    "thinking",
    "200,000 whitespace deltas at the start of an answer (a JSON-mode failure)",
    "passed on as text once past 256 characters; work per delta bounded",
)
def test_leading_whitespace_is_not_held_back_forever() -> None:
    splitter = ThinkSplitter("auto")
    shown = 0
    most_held = 0
    for n in range(200_000):
        shown += sum(len(text) for _, text in splitter.feed(" "))
        most_held = max(most_held, len(splitter._held))
        if n == 1000:
            assert shown > 0  # the whitespace is showing, not waiting for the end
    shown += sum(len(text) for _, text in splitter.flush())
    assert shown == 200_000  # nothing lost
    # What a delta re-reads is bounded (it was every delta so far: 2e10 characters in all).
    assert most_held <= 256 + len("<think>")
    assert splitter.passthrough


@pytest.mark.parametrize("spaces", [0, 1, 255, 256])
def test_a_block_after_a_little_whitespace_is_still_reasoning(spaces: int) -> None:
    splitter = ThinkSplitter("auto")
    content = " " * spaces + "<think>plan</think>answer"
    segments = [s for ch in content for s in splitter.feed(ch)] + splitter.flush()
    assert "".join(t for thought, t in segments if thought) == "plan"
    assert "".join(t for thought, t in segments if not thought) == "answer"


@given(
    st.integers(200, 300),
    st.sampled_from(["<think>x</think>y", "y", "<thi"]),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_the_whitespace_bound_does_not_depend_on_how_content_was_cut(
    spaces: int, rest: str, cuts: list[int]
) -> None:
    content = "\n" * spaces + rest
    points = sorted({c % (len(content) + 1) for c in cuts})
    pieces = [content[a:b] for a, b in zip([0, *points], [*points, len(content)], strict=True)]

    def run(parts: Sequence[str]) -> list[tuple[bool, str]]:
        splitter = ThinkSplitter("auto")
        segments = [s for p in parts for s in splitter.feed(p)] + splitter.flush()
        thought = "".join(t for is_thought, t in segments if is_thought)
        text = "".join(t for is_thought, t in segments if not is_thought)
        return [(True, thought), (False, text)]

    expected = run([content])
    assert run(pieces) == expected
    if spaces > 256:
        assert expected == [(True, ""), (False, content)]  # text, exactly as it came


ODD_CHUNKS = {
    "lone surrogate": (
        b'data: {"choices":[{"index":0,"delta":{"content":"a\\ud800b"}}]}\n\n',
        "a\ufffdb",
    ),
    "lone low surrogate in a key and a value": (
        b'data: {"choices":[{"index":0,"delta":{"content":"\\udc00","\\udc01":1}}]}\n\n',
        "\ufffd",
    ),
    "NaN in timings": (
        b'data: {"choices":[{"index":0,"delta":{"content":"c"}}],"timings":{"x":NaN}}\n\n',
        "c",
    ),
    "Infinity in usage": (
        b'data: {"choices":[{"index":0,"delta":{"content":"d"}}],'
        b'"usage":{"prompt_tokens":Infinity,"completion_tokens":1e999,"total_tokens":-Infinity}}'
        b"\n\n",
        "d",
    ),
}


@fault(
    "streams",
    "a lone surrogate, NaN, Infinity or 1e999 in one chunk of an answer",
    "the chunk's text survives (surrogates as U+FFFD); a non-finite number becomes None",
)
@pytest.mark.parametrize("case", sorted(ODD_CHUNKS))
def test_one_odd_value_does_not_cost_the_answer(case: str) -> None:
    chunk, text = ODD_CHUNKS[case]
    for first in (chunk, chunk + event(text_chunk("!"))):  # fast path, then general path
        out = run_to_the_end(sse_parser(), [event(text_chunk(">")), first, event(FINISH), DONE])
        response = Response.fold(out)
        assert response.text.startswith(">" + text)
        for fragment in out:  # every fragment can be sent on and shown as JSON
            orjson.dumps(dump_fragment(fragment))
        completion = out[-1]
        assert isinstance(completion, Completion)
        if case == "Infinity in usage":
            assert completion.usage is not None
            assert completion.usage.prompt_tokens is None
            assert completion.usage.completion_tokens is None
            assert completion.usage.total_tokens is None
        if case == "NaN in timings":
            assert completion.metrics["x"] is None


def test_odd_values_in_a_whole_body_and_in_ollama_lines() -> None:
    body = b'{"choices":[{"index":0,"message":{"content":"a\\ud83db"},"finish_reason":"stop"}],'
    body += b'"usage":{"completion_tokens":NaN}}'
    parser = whole_body_parser(ChunkAssembler(), limit=MiB)
    parser.feed(body)
    out = list(parser.close())
    assert Response.fold(out).text == "a\ufffdb"
    line = b'{"model":"m","message":{"content":"\\ud800x","thinking":"t\\udfff"},"done":false}\n'
    done = b'{"done":true,"eval_count":1e999,"prompt_eval_count":NaN}\n'
    out = run_to_the_end(ollama(), [line, done])
    assert [f.text for f in out if isinstance(f, (TextDelta, ThoughtDelta))] == [
        "t\ufffd",
        "\ufffdx",
    ]
    completion = out[-1]
    assert isinstance(completion, Completion)
    assert completion.usage is None


@fault(
    "streams",
    "a chunk that is not JSON at all, mid-answer",
    "MalformedStreamError with the answer so far in partial",
)
def test_an_unreadable_chunk_keeps_the_answer_so_far() -> None:
    body = event(text_chunk("so far")) + b"data: {not json at all\n\n" + event(FINISH) + DONE
    transcript = Transcript(200, (("content-type", "text/event-stream"),), body)
    provider, _ = replay_provider(
        transcript, chunks=transcript.split([len(event(text_chunk("so far")))])
    )
    with provider, pytest.raises(MalformedStreamError, match="not valid JSON") as info:
        for _ in provider.stream("hi", model="m"):
            pass
    assert info.value.partial is not None
    assert info.value.partial.text == "so far"


def test_lenient_reading_still_refuses_what_is_not_json() -> None:
    for bad in (b"{", b"nan", b"[1,]", b"[" * 5000 + b"]" * 5000):
        with pytest.raises(ValueError):  # noqa: PT011 - the documented contract
            NDJSONDecoder.lenient_loads(bad)
    assert NDJSONDecoder.lenient_loads(b'[NaN, "\\ud800", {"\\udfff": -Infinity}]') == [
        None,
        "\ufffd",
        {"\ufffd": None},
    ]
