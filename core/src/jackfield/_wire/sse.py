"""A sans-I/O decoder for ``text/event-stream``, exactly as the WHATWG HTML standard parses it.

Feed it bytes as they arrive; it returns the events completed by those bytes::

    decoder = SSEDecoder()
    for chunk in byte_chunks:
        for event in decoder.feed(chunk):
            handle(event.data)
    decoder.close()

Rules (HTML Living Standard, "Parsing an event stream"): lines end in CRLF, LF or CR (a CR
at the end of one chunk and an LF at the start of the next are one line end); one leading BOM
is stripped; lines starting with ``:`` are comments; one space after the colon is dropped; a
line without a colon is a field name with an empty value; ``data`` lines are joined with
``\\n``; a blank line dispatches the event if its data is non-empty; ``id`` values containing
NUL are ignored; ``retry`` is used only when all ASCII digits; unknown fields are ignored;
invalid UTF-8 becomes U+FFFD (a multi-byte character split across chunks is decoded whole);
an event not terminated by a blank line when the stream ends is discarded.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable

import attrs

from jackfield._errors import MalformedStreamError, StreamLimitError
from jackfield._wire.limits import EVENT_BYTES

__all__ = ["SSEDecoder", "ServerSentEvent"]


@attrs.define
class ServerSentEvent:
    """One dispatched event (a plain slotted record: cheap to make, as the hot path needs).

    ``event`` is the type (``"message"`` unless the stream named one), ``data`` the joined data
    lines, ``id`` the last event id in effect, ``retry`` the reconnection time in effect in
    milliseconds (``None`` until the stream sets one).
    """

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Incremental event-stream parser. Sizes are counted in characters after decoding.

    ``max_line_size`` bounds one line (including a line still waiting for its end);
    ``max_event_size`` bounds the data of one event. Exceeding either raises
    :class:`~jackfield.StreamLimitError` instead of growing memory without bound.
    After :meth:`close`, ``unterminated`` holds the event the stream ended in the middle of
    (discarded, as the standard says), or ``None``.

    ``extra_fields`` is an opt-in departure from the standard for servers that send
    non-standard fields (llama.cpp once sent ``error: {...}``): a line whose field is listed
    dispatches, at the next blank line, an event whose ``event`` is the field name and whose
    ``data`` is the value. By default no field is extra and parsing is exactly WHATWG's.
    """

    __slots__ = (
        "_bom_pending",
        "_buffer",
        "_check_start",
        "_closed",
        "_data",
        "_data_size",
        "_decoder",
        "_event",
        "_extra",
        "_extra_fields",
        "_idle",
        "_plain",
        "_size",
        "_skip_lf",
        "last_event_id",
        "max_event_size",
        "max_line_size",
        "retry",
        "unterminated",
    )

    def __init__(
        self,
        *,
        max_line_size: int = EVENT_BYTES,
        max_event_size: int = EVENT_BYTES,
        extra_fields: Iterable[str] = (),
    ) -> None:
        self.max_line_size = max_line_size
        self.max_event_size = max_event_size
        self.last_event_id = ""
        self.retry: int | None = None
        self.unterminated: ServerSentEvent | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._plain = True  # no bytes wait in the incremental decoder: bytes.decode() will do
        self._bom_pending = True  # the stream's first character may be a BOM to drop
        self._skip_lf = False  # the last chunk ended in CR: an LF starting this one is its pair
        self._check_start = True  # either of the two above
        # The line still waiting for its end, in pieces (joined once, when it ends: adding each
        # piece to a string would copy the line again for every piece) and its size.
        self._buffer: list[str] = []
        self._size = 0
        self._closed = False
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._extra_fields = frozenset(extra_fields)
        self._extra: list[ServerSentEvent] = []
        self._idle = False  # between events with nothing pending: single_data() may answer

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse more bytes; return the events they complete (possibly none)."""
        self._idle = False
        events = self._feed(chunk)
        self._idle = (
            self._plain
            and not self._check_start
            and not self._buffer
            and not self._data
            and not self._event
            and not self._extra
        )
        return events

    def _feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._closed:
            raise MalformedStreamError("SSEDecoder.feed() called after close()")
        if self._plain:
            try:
                text = chunk.decode()
            except UnicodeDecodeError:  # a character split across chunks, or invalid bytes
                text = self._decode(chunk)
        else:
            text = self._decode(chunk)
        if self._check_start:
            text = self._start(text)
        if "\r" in text:
            if text[-1] == "\r":
                self._skip_lf = self._check_start = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        size = self._size + len(text)  # at most this much can be one line
        lines = text.split("\n")
        buffer = self._buffer
        if len(lines) == 1:  # no line end: the line goes on (only the new text was searched)
            if text:
                buffer.append(text)
                self._size = size
                if size > self.max_line_size:
                    self._line_too_long(size)
            return []
        if buffer:
            buffer.append(lines[0])
            lines[0] = "".join(buffer)
            buffer.clear()
        tail = lines.pop()
        if tail:
            buffer.append(tail)
        self._size = len(tail)
        if size > self.max_line_size:
            for line in (tail, *lines):
                if len(line) > self.max_line_size:
                    self._line_too_long(len(line))
        return self._process(lines)

    def single_data(self, chunk: bytes) -> bytes | None:
        r"""The fast path for the commonest chunk, one whole event of one ``data`` line.

        If the decoder is between events (nothing buffered or pending) and ``chunk`` is exactly
        ``data: <value>\n\n`` (or ``data:<value>``, LF line ends, no CR), returns the raw
        ``<value>`` bytes; feeding ``chunk`` would dispatch one event whose data is those bytes
        decoded as UTF-8 (with replacement) and leave the decoder as it is now. Otherwise
        returns ``None`` and the chunk must go to :meth:`feed`. The decoder is never changed.
        """
        if not self._idle or 13 in chunk:  # 13: CR, a line end of its own
            return None
        end = len(chunk) - 2
        if chunk.find(10) != end or chunk[-1] != 10:  # 10: LF; exactly "...\n\n"
            return None
        if chunk[:6] == b"data: ":
            start = 6
        elif chunk[:5] == b"data:":
            start = 5
        else:
            return None
        if end - start >= self.max_event_size or end > self.max_line_size:
            return None  # maybe too large: feed() decides, and says so
        return chunk[start:end]

    def close(self) -> list[ServerSentEvent]:
        """Signal the end of the stream; returns the events it completes (always none).

        An event the stream ended in the middle of is discarded, as the standard says; it is
        kept in ``unterminated`` (parsed as if it had been terminated) so callers can tell a
        cut-off stream from a clean end, or accept a server's final unterminated event.
        """
        if self._closed:
            return []
        self._closed = True
        self._idle = False
        tail = self._decoder.decode(b"", final=True)
        if self._check_start:
            tail = self._start(tail)
        tail = "".join(self._buffer) + tail
        self._buffer.clear()
        self._size = 0
        if tail:
            self._process([tail])
        if self._data:
            self.unterminated = self._dispatch()
        return []

    def _decode(self, chunk: bytes) -> str:
        decoder = self._decoder
        text: str = decoder.decode(chunk)
        self._plain = not decoder.getstate()[0]
        return text

    def _start(self, text: str) -> str:
        """Drop a BOM opening the stream, or the LF completing a CRLF split across chunks."""
        if not text:
            return text
        self._check_start = False
        if self._bom_pending:
            self._bom_pending = False
            return text[1:] if text[0] == "\ufeff" else text
        self._skip_lf = False
        return text[1:] if text[0] == "\n" else text

    def _line_too_long(self, size: int) -> None:
        raise StreamLimitError(
            f"an event-stream line is longer than {self.max_line_size} characters "
            f"(got at least {size}); raise max_line_size if this server really sends that"
        )

    def _process(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if self._extra:
                    events += self._extra
                    self._extra = []
                if data:
                    events.append(
                        ServerSentEvent(
                            data[0] if len(data) == 1 else "\n".join(data),
                            self._event or "message",
                            self.last_event_id,
                            self.retry,
                        )
                    )
                    data = self._data = []
                    self._data_size = 0
                    self._event = ""
                else:
                    self._event = ""
            elif line[0] == ":":
                continue
            elif line.startswith("data:"):
                value = line[6:] if line.startswith(" ", 5) else line[5:]
                data.append(value)
                self._data_size += len(value) + 1
                if self._data_size > self.max_event_size:
                    self._event_too_large()
            else:
                self._field(line)
        return events

    def _field(self, line: str) -> None:
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif field == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value)
        elif field == "data":  # "data" without a colon: an empty data line
            self._data.append("")
            self._data_size += 1
            if self._data_size > self.max_event_size:
                self._event_too_large()
        elif field in self._extra_fields:
            self._extra.append(ServerSentEvent(value, field, self.last_event_id, self.retry))

    def _event_too_large(self) -> None:
        raise StreamLimitError(
            f"an event's data is larger than {self.max_event_size} characters; "
            "raise max_event_size if this server really sends that"
        )

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        text = data[0] if len(data) == 1 else "\n".join(data)
        event = ServerSentEvent(text, self._event or "message", self.last_event_id, self.retry)
        self._data = []
        self._data_size = 0
        self._event = ""
        return event
