"""SSEDecoder: the WHATWG event-stream parsing rules, limits, and split invariance."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import MalformedStreamError, StreamLimitError
from jackfield._wire.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes, **kwargs: Any) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**kwargs)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def datas(*chunks: bytes) -> list[str]:
    return [event.data for event in decode(*chunks)]


# --- the standard's own examples --------------------------------------------------------------


def test_spec_example_stock_ticker() -> None:
    assert datas(b"data: YHOO\ndata: +2\ndata: 10\n\n") == ["YHOO\n+2\n10"]


def test_spec_example_comments_and_ids() -> None:
    stream = (
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n\n"
    )
    assert decode(stream) == [
        ServerSentEvent("first event", id="1"),
        ServerSentEvent("second event", id=""),
        ServerSentEvent(" third event", id=""),
    ]


def test_spec_example_empty_data() -> None:
    # Two events (data "" and "\n"); the last "data:" is never terminated, so it is dropped.
    assert datas(b"data\n\ndata\ndata\n\ndata:") == ["", "\n"]


def test_spec_example_space_after_colon_is_optional() -> None:
    assert datas(b"data:test\n\ndata: test\n\n") == ["test", "test"]


# --- line ends ---------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_end_works(eol: bytes) -> None:
    stream = b"data: a" + eol + b"data: b" + eol + eol + b"data: c" + eol + eol
    assert datas(stream) == ["a\nb", "c"]


def test_cr_at_chunk_end_and_lf_at_next_chunk_start_are_one_line_end() -> None:
    assert datas(b"data: a\r", b"\ndata: b\r\n\r\n") == ["a\nb"]


def test_cr_then_later_chunk_without_lf() -> None:
    assert datas(b"data: a\r", b"data: b\r\r") == ["a\nb"]


def test_mixed_line_ends_in_one_chunk() -> None:
    assert datas(b"data: a\r\ndata: b\rdata: c\n\r\n") == ["a\nb\nc"]


# --- fields ------------------------------------------------------------------------------------


def test_only_one_space_after_the_colon_is_stripped() -> None:
    assert datas(b"data:  two spaces\n\n") == [" two spaces"]


def test_colons_in_the_value_are_kept() -> None:
    assert datas(b'data: {"a": "b:c"}\n\n') == ['{"a": "b:c"}']


def test_event_type_applies_to_one_event_only() -> None:
    events = decode(b"event: add\ndata: 1\n\ndata: 2\n\n")
    assert [(e.event, e.data) for e in events] == [("add", "1"), ("message", "2")]


def test_event_type_is_reset_by_a_blank_line_without_data() -> None:
    assert [e.event for e in decode(b"event: foo\n\ndata: x\n\n")] == ["message"]


def test_id_persists_until_changed_and_nul_ids_are_ignored() -> None:
    events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n")
    assert [(e.data, e.id) for e in events] == [("a", "7"), ("b", "7"), ("c", "7"), ("d", "")]


def test_id_set_by_a_block_without_data_still_applies() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 3\n\n") == []
    assert decoder.last_event_id == "3"
    assert decoder.feed(b"data: x\n\n") == [ServerSentEvent("x", id="3")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"retry: 1500", 1500),
        (b"retry:0", 0),
        (b"retry: 15a", None),
        (b"retry: -1", None),
        (b"retry: 1.5", None),
        (b"retry:", None),
        ("retry: \u0661\u0662".encode(), None),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_retry_only_when_all_ascii_digits(line: bytes, expected: int | None) -> None:
    decoder = SSEDecoder()
    (event,) = decoder.feed(line + b"\ndata: x\n\n")
    assert event.retry == expected
    assert decoder.retry == expected


def test_unknown_fields_and_comments_are_ignored() -> None:
    assert datas(b"foo: bar\n: comment\n:\nDATA: no\ndata: yes\n\n") == ["yes"]


def test_keep_alive_comments_dispatch_nothing() -> None:
    assert decode(b":\n\n: ping - 2024-01-01 00:00:00\r\n\r\n") == []


# --- bytes -------------------------------------------------------------------------------------


def test_one_leading_bom_is_stripped() -> None:
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]


def test_a_bom_split_across_chunks_is_still_stripped() -> None:
    assert datas(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == ["a"]


def test_only_one_bom_is_stripped() -> None:
    # The second BOM becomes part of the field name, which is then unknown.
    assert datas(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []


def test_a_bom_later_in_the_stream_is_data() -> None:
    assert datas(b"data: a\n\n", "data: \ufeffb\n\n".encode()) == ["a", "\ufeffb"]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert datas(b"data: \xff\xfe ok\n\n") == ["\ufffd\ufffd ok"]


def test_multibyte_characters_split_across_chunks_decode_whole() -> None:
    raw = "data: é€😀\n\n".encode()
    assert datas(*[raw[i : i + 1] for i in range(len(raw))]) == ["é€😀"]


def test_incomplete_multibyte_character_at_the_end_is_replaced() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: \xe2\x82")
    decoder.close()
    assert decoder.unterminated == ServerSentEvent("\ufffd")


# --- end of stream -----------------------------------------------------------------------------


def test_an_unterminated_event_is_discarded_but_kept_for_inspection() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n\ndata: [DONE]\n") == [ServerSentEvent("1")]
    assert decoder.close() == []
    assert decoder.unterminated == ServerSentEvent("[DONE]")


def test_an_unterminated_last_line_is_parsed_for_inspection() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: [DONE]")
    assert decoder.close() == []
    assert decoder.unterminated == ServerSentEvent("[DONE]")


def test_a_clean_end_leaves_nothing_unterminated() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: 1\n\n: bye\n")
    decoder.close()
    assert decoder.unterminated is None


def test_close_is_idempotent_and_feed_after_close_fails() -> None:
    decoder = SSEDecoder()
    decoder.close()
    assert decoder.close() == []
    with pytest.raises(MalformedStreamError, match=r"after close"):
        decoder.feed(b"data: x\n\n")


# --- limits ------------------------------------------------------------------------------------


def test_a_line_longer_than_the_limit_raises() -> None:
    with pytest.raises(StreamLimitError, match=r"longer than 16 characters"):
        decode(b"data: " + b"x" * 20 + b"\n\n", max_line_size=16)


def test_an_unterminated_line_growing_past_the_limit_raises_before_it_ends() -> None:
    decoder = SSEDecoder(max_line_size=16)
    decoder.feed(b"data: 0123456789")
    with pytest.raises(StreamLimitError):
        decoder.feed(b"abcdef")


def test_an_unterminated_line_in_a_multiline_chunk_is_bounded() -> None:
    decoder = SSEDecoder(max_line_size=16)
    with pytest.raises(StreamLimitError):
        decoder.feed(b"data: a\n" + b"x" * 40)


def test_an_event_larger_than_the_limit_raises() -> None:
    with pytest.raises(StreamLimitError, match=r"event's data is larger than 32"):
        decode(b"data: 0123456789\n" * 4 + b"\n", max_event_size=32)


def test_lines_at_the_limit_are_fine() -> None:
    assert datas(b"data: " + b"x" * 10 + b"\n\n") == ["x" * 10]
    assert decode(b"data: " + b"x" * 10 + b"\n\n", max_line_size=16)[0].data == "x" * 10


# --- split invariance against a reference parser -----------------------------------------------


def reference(raw: bytes) -> list[ServerSentEvent]:
    """A deliberately plain, character-at-a-time reading of the standard."""
    text = raw.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines, current, i = [], [], 0
    while i < len(text):
        char = text[i]
        if char in "\r\n":
            lines.append("".join(current))
            current = []
            if char == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
        else:
            current.append(char)
        i += 1
    events, data, event_type, last_id, retry = [], "", "", "", None
    for line in lines:
        if line == "":
            if data == "":
                event_type = ""
                continue
            events.append(ServerSentEvent(data[:-1], event_type or "message", last_id, retry))
            data, event_type = "", ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            value = value[1:] if value.startswith(" ") else value
        else:
            field, value = line, ""
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


field_lines = st.one_of(
    st.builds(lambda v: f"data: {v}", st.text(max_size=12)),
    st.builds(lambda v: f"data:{v}", st.text(max_size=6)),
    st.just("data"),
    st.builds(lambda v: f"event: {v}", st.sampled_from(["add", "", "ping"])),
    st.builds(lambda v: f"id: {v}", st.sampled_from(["1", "a\0b", "", "xyz"])),
    st.builds(lambda v: f"retry: {v}", st.sampled_from(["100", "1x", "", "7"])),
    st.builds(lambda v: f":{v}", st.text(max_size=6)),
    st.just(""),
    st.just(""),
    st.builds(lambda v: f"unknown: {v}", st.text(max_size=4)),
)
line_ends = st.sampled_from(["\n", "\r", "\r\n"])


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(field_lines, line_ends), max_size=20))
    text = "".join(line + end for line, end in lines)
    if draw(st.booleans()):
        text += draw(field_lines)  # an unterminated tail
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw
    if raw and draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\x80"])) + raw[at:]
    return raw


def split(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(raw)) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(raw[start:point])
        start = point
    pieces.append(raw[start:])
    return pieces


@given(streams(), st.lists(st.integers(0, 400), max_size=12))
def test_events_do_not_depend_on_how_bytes_are_split(raw: bytes, cuts: list[int]) -> None:
    expected = reference(raw)
    assert decode(raw) == expected
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == expected
    assert decode(*split(raw, cuts)) == expected


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=8))
def test_arbitrary_bytes_never_fail_and_match_the_reference(raw: bytes, cuts: list[int]) -> None:
    assert decode(*split(raw, cuts)) == reference(raw)


# --- opt-in extra fields -----------------------------------------------------------------------


def test_extra_fields_are_ignored_by_default() -> None:
    assert decode(b'error: {"message": "boom"}\n\ndata: [DONE]\n\n') == [ServerSentEvent("[DONE]")]


def test_extra_fields_dispatch_as_their_own_events_when_asked_for() -> None:
    stream = b'error: {"message": "boom"}\n\ndata: [DONE]\n\n'
    assert decode(stream, extra_fields=("error",)) == [
        ServerSentEvent('{"message": "boom"}', "error"),
        ServerSentEvent("[DONE]"),
    ]


def test_an_extra_field_in_a_block_with_data_comes_first() -> None:
    events = decode(b"data: x\nerror: e\n\n", extra_fields=("error",))
    assert events == [ServerSentEvent("e", "error"), ServerSentEvent("x")]


# --- the single-event fast path ----------------------------------------------------------------


def decode_fast(*chunks: bytes) -> list[ServerSentEvent]:
    """Like decode(), but every chunk single_data() accepts bypasses feed()."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        data = decoder.single_data(chunk)
        if data is None:
            events += decoder.feed(chunk)
        else:
            value = data.decode("utf-8", "replace")
            events.append(ServerSentEvent(value, "message", decoder.last_event_id, decoder.retry))
    decoder.close()
    return events


one_event = st.builds(
    lambda prefix, value: f"{prefix}{value}\n\n".encode("utf-8", "surrogatepass"),
    st.sampled_from(["data: ", "data:", "data:  "]),
    st.text(max_size=10),
)


@given(st.lists(st.one_of(one_event, streams()), max_size=8))
def test_the_fast_path_gives_what_feed_gives(chunks: list[bytes]) -> None:
    assert decode_fast(*chunks) == reference(b"".join(chunks))


@pytest.mark.parametrize(
    ("before", "chunk"),
    [
        (b"", b"data: {}\r\n\r\n"),  # CR line ends
        (b"", b"data: a\ndata: b\n\n"),  # two data lines
        (b"", b"event: x\ndata: a\n\n"),  # not only data
        (b"", b"data: a\n"),  # not the end of the event
        (b"data: half", b" done\n\n"),  # the decoder holds part of a line
        (b"data: x\n", b"data: y\n\n"),  # the decoder holds data of this event
        (b"event: add\n", b"data: y\n\n"),  # the decoder holds this event's type
        (b"data: x\r", b"\ndata: y\n\n"),  # a CR waits for its LF
    ],
)
def test_the_fast_path_declines_what_it_cannot_take_whole(before: bytes, chunk: bytes) -> None:
    decoder = SSEDecoder()
    if before:
        decoder.feed(before)
    else:
        decoder.feed(b": hello\n")  # past the stream start (a BOM check)
    assert decoder.single_data(chunk) is None


def test_the_fast_path_answers_between_events_and_leaves_the_decoder_alone() -> None:
    decoder = SSEDecoder()
    assert decoder.single_data(b"data: first\n\n") is None  # the stream may start with a BOM
    assert [e.data for e in decoder.feed(b"id: 7\ndata: first\n\n")] == ["first"]
    assert decoder.single_data(b'data: {"a": 1}\n\n') == b'{"a": 1}'
    assert decoder.single_data(b"data:x\n\n") == b"x"
    assert [(e.data, e.id) for e in decoder.feed(b"data: next\n\n")] == [("next", "7")]
    decoder.close()
    assert decoder.single_data(b"data: late\n\n") is None


def test_the_fast_path_leaves_oversized_events_to_feed() -> None:
    decoder = SSEDecoder(max_event_size=8)
    decoder.feed(b": start\n")
    assert decoder.single_data(b"data: 1234\n\n") == b"1234"
    assert decoder.single_data(b"data: 123456789\n\n") is None
    with pytest.raises(StreamLimitError):
        decoder.feed(b"data: 123456789\n\n")
