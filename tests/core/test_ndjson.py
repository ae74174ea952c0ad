"""NDJSONDecoder: lines, limits, and split invariance."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import MalformedStreamError, StreamLimitError, TruncatedStreamError
from jackfield._wire.ndjson import NDJSONDecoder
from tests.core.strategies import json_values


def decode(*chunks: bytes, **kwargs: Any) -> list[Any]:
    decoder = NDJSONDecoder(**kwargs)
    values = [v for chunk in chunks for v in decoder.feed(chunk)]
    return values + decoder.close()


def test_values_one_per_line() -> None:
    assert decode(b'{"a": 1}\n{"b": [2]}\n') == [{"a": 1}, {"b": [2]}]


def test_crlf_and_blank_lines() -> None:
    assert decode(b'{"a": 1}\r\n\r\n\n  \n{"b": 2}\r\n') == [{"a": 1}, {"b": 2}]


def test_a_last_line_without_newline_is_accepted_when_complete() -> None:
    assert decode(b'{"a": 1}\n{"done": true}') == [{"a": 1}, {"done": True}]


def test_a_stream_cut_inside_a_value_is_truncated() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"a": 1}\n{"message": {"content": "hel') == [{"a": 1}]
    with pytest.raises(TruncatedStreamError, match=r"ended inside line 2"):
        decoder.close()


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(
        MalformedStreamError, match=r"line 2 of the stream is not valid JSON: 'not json'"
    ):
        decode(b'{"a": 1}\nnot json\n')


def test_multibyte_characters_split_across_chunks() -> None:
    raw = json.dumps({"t": "é€😀"}, ensure_ascii=False).encode() + b"\n"
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == [{"t": "é€😀"}]


def test_line_limits() -> None:
    with pytest.raises(StreamLimitError):
        decode(b'{"a": "' + b"x" * 100 + b'"}\n', max_line_size=50)
    decoder = NDJSONDecoder(max_line_size=50)
    decoder.feed(b'{"a": "' + b"x" * 30)
    with pytest.raises(StreamLimitError):
        decoder.feed(b"x" * 30)


def test_feed_after_close() -> None:
    decoder = NDJSONDecoder()
    decoder.close()
    assert decoder.close() == []
    with pytest.raises(MalformedStreamError):
        decoder.feed(b"{}\n")


@given(
    st.lists(json_values, max_size=8),
    st.lists(st.integers(0, 500), max_size=10),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
)
def test_values_do_not_depend_on_how_bytes_are_split(
    values: list[Any], cuts: list[int], end: bytes, final_newline: bool
) -> None:
    lines = [json.dumps(v, ensure_ascii=False).encode() for v in values]
    raw = end.join(lines) + (end if final_newline and lines else b"")
    points = sorted({min(c, len(raw)) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(raw[start:point])
        start = point
    pieces.append(raw[start:])
    assert decode(raw) == values
    assert decode(*pieces) == values
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == values
