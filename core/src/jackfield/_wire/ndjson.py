"""A sans-I/O decoder for newline-delimited JSON streams (Ollama's native API, and others).

Feed it bytes as they arrive; it returns the JSON values completed by those bytes::

    decoder = NDJSONDecoder()
    for chunk in byte_chunks:
        for value in decoder.feed(chunk):
            handle(value)
    decoder.close()  # raises if the stream ended inside a value

Lines end in LF (a CR before it is ignored); blank lines are skipped; a UTF-8 character split
across chunks is decoded whole. A line longer than ``max_line_size`` bytes raises
:class:`~jackfield.StreamLimitError` before memory grows; buffering a long line costs time in
proportion to its length, however finely it is split.

A line that ``loads`` refuses is read again by :meth:`NDJSONDecoder.lenient_loads`, so one odd
value does not cost the whole answer: a number JSON cannot hold (``NaN``, ``Infinity``,
``1e999``) becomes ``None``, a lone surrogate (``"\\ud800"``) or invalid UTF-8 becomes U+FFFD.
A line that cannot be read at all raises :class:`~jackfield.MalformedStreamError` naming the
line number; when values before it came in the same chunk, they are returned first and the
error waits in ``error``, raised by the next :meth:`~NDJSONDecoder.feed` or
:meth:`~NDJSONDecoder.close` (a reader that has what it needs can stop there).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from jackfield._errors import (
    MalformedStreamError,
    ProviderError,
    StreamLimitError,
    TruncatedStreamError,
)
from jackfield._wire.limits import EVENT_BYTES

__all__ = ["NDJSONDecoder"]


class NDJSONDecoder:
    """Incremental NDJSON parser. ``loads`` parses one line (``json.loads`` by default)."""

    __slots__ = ("_buffer", "_closed", "_line", "_loads", "_size", "error", "max_line_size")

    def __init__(
        self,
        *,
        max_line_size: int = EVENT_BYTES,
        loads: Callable[[bytes], Any] = json.loads,
    ) -> None:
        self.max_line_size = max_line_size
        self._loads = loads
        # The line still waiting for its end, in pieces (joined once, when it ends: adding each
        # piece to the bytes so far would copy the line again for every piece) and its size.
        self._buffer: list[bytes] = []
        self._size = 0
        self._line = 0
        self._closed = False
        self.error: ProviderError | None = None
        """An error met after values of the same chunk (which were returned): raised next."""

    def feed(self, chunk: bytes) -> list[Any]:
        """Parse more bytes; return the values whose lines they complete."""
        if self.error is not None:
            raise self.error
        if self._closed:
            raise MalformedStreamError("NDJSONDecoder.feed() called after close()")
        buffer = self._buffer
        if b"\n" not in chunk:  # the line goes on (only the new bytes were searched)
            if chunk:
                buffer.append(chunk)
                self._size += len(chunk)
                self._check(self._size)
            return []
        lines = chunk.split(b"\n")
        if buffer:
            buffer.append(lines[0])
            lines[0] = b"".join(buffer)
            buffer.clear()
        tail = lines.pop()
        if tail:
            buffer.append(tail)
        self._size = len(tail)
        values: list[Any] = []
        try:
            for line in lines:
                self._line += 1
                self._check(len(line))
                line = line.strip()
                if line:
                    values.append(self._parse(line))
            self._check(len(tail))
        except ProviderError as exc:
            if not values:
                raise
            self.error = exc  # what came before is returned first; the rest is not read
            buffer.clear()
        return values

    def close(self) -> list[Any]:
        """The stream ended: return a last value without a final newline, if complete.

        Raises :class:`~jackfield.TruncatedStreamError` when the stream stopped inside a
        value (bytes that do not parse).
        """
        if self.error is not None:
            raise self.error
        if self._closed:
            return []
        self._closed = True
        tail = b"".join(self._buffer).strip()
        self._buffer.clear()
        if not tail:
            return []
        self._line += 1
        try:
            return [self._read(tail)]
        except ValueError:
            raise TruncatedStreamError(
                f"the stream ended inside line {self._line}: {_snippet(tail)!r}"
            ) from None

    @staticmethod
    def lenient_loads(data: str | bytes) -> Any:
        """Read JSON that a strict parser refused, without losing what can be kept.

        Accepts what Python's ``json`` accepts beyond the standard, then makes the value safe to
        use and to send back: a non-finite number (``NaN``, ``Infinity``, ``-Infinity``, or one
        too large for a float such as ``1e999``) becomes ``None``; a lone surrogate
        (``"\\ud800"``), in a string or a key, and invalid UTF-8 become U+FFFD. Raises
        ``ValueError`` when the text is still not JSON (or nests too deeply to read).
        """
        if not isinstance(data, str):
            data = bytes(data).decode("utf-8", "replace")
        try:
            value = json.loads(data)
        except RecursionError:
            raise ValueError("JSON nested too deeply to read") from None
        return _clean(value)

    def _read(self, line: bytes) -> Any:
        try:
            return self._loads(line)
        except (ValueError, RecursionError):
            return self.lenient_loads(line)

    def _check(self, size: int) -> None:
        if size > self.max_line_size:
            raise StreamLimitError(
                f"a stream line is longer than {self.max_line_size} bytes; "
                "raise max_line_size if this server really sends that"
            )

    def _parse(self, line: bytes) -> Any:
        try:
            return self._read(line)
        except ValueError:
            raise MalformedStreamError(
                f"line {self._line} of the stream is not valid JSON: {_snippet(line)!r}"
            ) from None


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _text(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _clean(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` and lone surrogates as U+FFFD (no recursion:
    as deep as the parser allowed)."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is not list and kind is not dict:
        return value
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if any(_SURROGATE.search(key) for key in item):
                pairs = list(item.items())
                item.clear()
                item.update((_text(key), child) for key, child in pairs)
            slots: Any = item.items()
        else:
            slots = enumerate(item)
        changes: list[tuple[Any, Any]] = []
        for key, child in slots:
            kind = type(child)
            if kind is str:
                if _SURROGATE.search(child):
                    changes.append((key, _SURROGATE.sub("\ufffd", child)))
            elif kind is float:
                if not math.isfinite(child):
                    changes.append((key, None))
            elif kind is list or kind is dict:
                stack.append(child)
        for key, child in changes:
            item[key] = child
    return value


def _snippet(line: bytes, size: int = 120) -> str:
    text = line.decode("utf-8", "replace")
    return text if len(text) <= size else text[: size - 3] + "..."
