"""The OpenAI provider's fast paths change nothing.

- ``SSEParser.feed`` skips the event-stream decoder for a chunk that is one whole event of
  one data line, and the assembler for one text delta: fed any stream, cut anywhere, it gives
  what the general path (every chunk through the decoder and ``ChunkAssembler.chunk``) gives.
- ``ChunkAssembler.text_only`` derives its guards from the tables of fields the general path
  reads (``CHUNK_FIELDS`` ...): every field the general path reads is in those tables.
  (test_assembler.py checks ``text_only`` against the general path on generated chunks.)
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jackfield_openai import _assembler
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._parsers import SSEParser


class GeneralAssembler(ChunkAssembler):
    """The general assembly only."""

    def text_only(self, data: dict[str, Any]) -> Any:
        return None


class GeneralSSEParser(SSEParser):
    """Every chunk through the decoder and the general assembly."""

    def feed(self, chunk: bytes) -> Sequence[Any]:
        return self.deliver(self._sse.feed(chunk))


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


contents = st.text(alphabet="ab <>/thinkz\u00e9", max_size=6)
text_payloads = st.builds(lambda t: _chunk({"content": t}), contents)
payloads = st.one_of(
    text_payloads,
    text_payloads,
    text_payloads,
    st.builds(lambda t: _chunk({"reasoning_content": t}), st.sampled_from(["r", "s"])),
    st.just(_chunk({"role": "assistant", "content": ""}, model="m")),
    st.just(_chunk({"content": "x"}, usage={"completion_tokens": 1})),
    st.just(_chunk({}, "stop")),
    st.just({"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 3}}),
    st.just({"error": {"message": "slot crashed", "code": 500}}),
)
text_events = text_payloads.map(lambda p: b"data: " + json.dumps(p).encode() + b"\n\n")
events = st.one_of(
    text_events,
    text_events,
    text_events,
    payloads.map(lambda p: b"data: " + json.dumps(p).encode() + b"\n\n"),
    st.just(b"data: [DONE]\n\n"),
    st.just(b": keep-alive\n\n"),
    st.just(b"data: not json\n\n"),
    st.just(b'data: {"choices":\ndata: [{"index": 0, "delta": {"content": "two lines"}}]}\n\n'),
    st.just(b'event: error\ndata: {"message": "legacy"}\n\n'),
)


def _run(parser: SSEParser, chunks: list[bytes]) -> list[Any]:
    out: list[Any] = []
    try:
        for chunk in chunks:
            out.append(list(parser.feed(chunk)))
            if parser.error is not None:
                out.append(("error", type(parser.error), str(parser.error)))
                return out
        out.append(list(parser.close()))
    except Exception as exc:
        out.append(("raised", type(exc), str(exc)))
    out.append(parser.progress)
    return out


@settings(max_examples=300)
@given(
    st.lists(events, min_size=1, max_size=12),
    st.lists(st.integers(0, 400), max_size=6),
    st.sampled_from(["auto", "off"]),
    st.sampled_from([True, True, False]),
)
def test_the_sse_parser_gives_what_its_general_path_gives(
    stream: list[bytes], cuts: list[int], think: str, one_event_per_chunk: bool
) -> None:
    opening = b'data: {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}\n\n'
    body = [opening, *stream]
    if one_event_per_chunk:
        chunks = body
    else:
        joined = b"".join(body)
        points = sorted({c % (len(joined) + 1) for c in cuts} | {0, len(joined)})
        chunks = [joined[a:b] for a, b in itertools.pairwise(points) if b > a]

    fast = SSEParser(ChunkAssembler(think_tags=think, label="t"), max_event_size=1 << 20)
    general = GeneralSSEParser(
        GeneralAssembler(think_tags=think, label="t"), max_event_size=1 << 20
    )
    assert _run(fast, chunks) == _run(general, chunks)


def _keys_read(function: Any, variable: str) -> set[str]:
    """String keys ``function`` reads from ``variable`` (``v.get("k")``, ``v["k"]``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    keys = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == variable
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(node.args[0].value)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == variable
            and isinstance(node.slice, ast.Constant)
        ):
            keys.add(node.slice.value)
    return keys


def test_every_field_the_general_path_reads_is_in_the_tables_the_fast_path_uses() -> None:
    general = ChunkAssembler._chunk
    assert _keys_read(general, "data") <= set(_assembler.CHUNK_FIELDS)
    assert _keys_read(general, "choice") <= set(_assembler.CHOICE_FIELDS)
    assert _keys_read(ChunkAssembler._extras, "choice") <= set(_assembler.CHOICE_EXTRAS)
    assert _keys_read(ChunkAssembler._delta, "delta") <= set(_assembler.DELTA_FIELDS)
    # and the fast path reads nothing the tables do not name
    fast = _keys_read(ChunkAssembler.text_only, "data") | {"choices"}
    assert fast <= set(_assembler.CHUNK_FIELDS)
    assert _keys_read(ChunkAssembler.text_only, "choice") <= set(_assembler.CHOICE_FIELDS)
