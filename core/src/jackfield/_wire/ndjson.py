"""A sans-I/O decoder for newline-delimited JSON streams (Ollama's native API, and others).

Feed it bytes as they arrive; it returns the JSON values completed by those bytes::

    decoder = NDJSONDecoder()
    for chunk in byte_chunks:
        for value in decoder.feed(chunk):
            handle(value)
    decoder.close()  # raises if the stream ended inside a value

Lines end in LF (a CR before it is ignored); blank lines are skipped; a UTF-8 character split
across chunks is decoded whole. A line that is not valid JSON raises
:class:`~jackfield.MalformedStreamError` naming the line number; a line longer than
``max_line_size`` bytes raises :class:`~jackfield.StreamLimitError` before memory grows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jackfield._errors import MalformedStreamError, StreamLimitError, TruncatedStreamError
from jackfield._wire.limits import EVENT_BYTES

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder:
    """Incremental NDJSON parser. ``loads`` parses one line (``json.loads`` by default)."""

    __slots__ = ("_buffer", "_closed", "_line", "_loads", "max_line_size")

    def __init__(
        self,
        *,
        max_line_size: int = EVENT_BYTES,
        loads: Callable[[bytes], Any] = json.loads,
    ) -> None:
        self.max_line_size = max_line_size
        self._loads = loads
        self._buffer = b""
        self._line = 0
        self._closed = False

    def feed(self, chunk: bytes) -> list[Any]:
        """Parse more bytes; return the values whose lines they complete."""
        if self._closed:
            raise MalformedStreamError("NDJSONDecoder.feed() called after close()")
        data = self._buffer + chunk if self._buffer else chunk
        if b"\n" not in data:
            self._buffer = data
            self._check(len(data))
            return []
        lines = data.split(b"\n")
        self._buffer = lines.pop()
        self._check(len(self._buffer))
        values = []
        for line in lines:
            self._line += 1
            self._check(len(line))
            line = line.strip()
            if line:
                values.append(self._parse(line))
        return values

    def close(self) -> list[Any]:
        """The stream ended: return a last value without a final newline, if complete.

        Raises :class:`~jackfield.TruncatedStreamError` when the stream stopped inside a
        value (bytes that do not parse).
        """
        if self._closed:
            return []
        self._closed = True
        tail, self._buffer = self._buffer.strip(), b""
        if not tail:
            return []
        self._line += 1
        try:
            return [self._loads(tail)]
        except ValueError:
            raise TruncatedStreamError(
                f"the stream ended inside line {self._line}: {_snippet(tail)!r}"
            ) from None

    def _check(self, size: int) -> None:
        if size > self.max_line_size:
            raise StreamLimitError(
                f"a stream line is longer than {self.max_line_size} bytes; "
                "raise max_line_size if this server really sends that"
            )

    def _parse(self, line: bytes) -> Any:
        try:
            return self._loads(line)
        except ValueError:
            raise MalformedStreamError(
                f"line {self._line} of the stream is not valid JSON: {_snippet(line)!r}"
            ) from None


def _snippet(line: bytes, size: int = 120) -> str:
    text = line.decode("utf-8", "replace")
    return text if len(text) <= size else text[: size - 3] + "..."
