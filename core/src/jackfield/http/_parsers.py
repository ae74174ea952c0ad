"""Body parsers every HTTP provider needs, and the rule they share.

The rule: a parser that meets an error after assembling fragments from the same bytes delivers
those fragments first (it returns them and sets ``error``, which the driver raises right after),
so what arrived is never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from jackfield._errors import (
    MalformedStreamError,
    ProviderError,
    StreamLimitError,
    TruncatedStreamError,
)
from jackfield._fragments import Fragment

__all__ = ["Decoder", "EventParser", "UnexpectedBodyParser", "WholeBodyParser", "snippet"]

EMPTY: tuple[Fragment, ...] = ()


def snippet(data: str | bytes, size: int = 120) -> str:
    """The start of a body or an event, for an error message."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= size else text[: size - 3] + "..."


class Decoder(Protocol):
    """A sans-I/O decoder of a stream: bytes in, values out (SSE events, NDJSON values)."""

    def feed(self, chunk: bytes) -> Sequence[Any]:
        """The values these bytes complete."""

    def close(self) -> Sequence[Any]:
        """The stream ended: the values still held, or raise."""


class EventParser:
    """A body of many values: ``decoder`` cuts the bytes into values, ``assemble`` turns each
    into fragments (raising a :class:`~jackfield.ProviderError` for an error the server
    reported), and ``finish`` gives the last fragments when the body ends.

    Each value counts as progress for the idle timeout.
    """

    __slots__ = ("_assemble", "_decoder", "_finish", "error", "progress")

    def __init__(
        self,
        decoder: Decoder,
        assemble: Callable[[Any], Sequence[Fragment]],
        finish: Callable[[], Sequence[Fragment]],
    ) -> None:
        self._decoder = decoder
        self._assemble = assemble
        self._finish = finish
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        """The fragments of the values these bytes complete."""
        values = self._decoder.feed(chunk)
        return self.deliver(values) if values else EMPTY

    def deliver(self, values: Iterable[Any]) -> list[Fragment]:
        """Assemble decoded values; an error after some fragments waits in ``error``."""
        out: list[Fragment] = []
        assemble = self._assemble
        for value in values:
            self.progress += 1
            try:
                out += assemble(value)
            except ProviderError as exc:
                if not out:
                    raise
                self.error = exc
                break
        return out

    def close(self) -> Sequence[Fragment]:
        """The body ended: the last values' fragments, then ``finish``'s."""
        out = self.deliver(self._decoder.close())
        if self.error is not None:
            return out
        return [*out, *self._finish()]


class WholeBodyParser:
    """A body read whole (up to ``limit`` bytes), then parsed once by ``assemble``."""

    __slots__ = ("_assemble", "_body", "_label", "_limit", "error", "progress")

    def __init__(
        self, assemble: Callable[[bytes], Sequence[Fragment]], *, limit: int, label: str
    ) -> None:
        self._assemble = assemble
        self._body = bytearray()
        self._limit = limit
        self._label = label
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        """Keep the bytes (no fragments until the body is whole)."""
        self.progress += 1
        self._body += chunk
        if len(self._body) > self._limit:
            raise StreamLimitError(
                f"{self._label}: the response is larger than {self._limit} bytes (limits.body_bytes)"
            )
        return EMPTY

    def close(self) -> Sequence[Fragment]:
        """The body is whole: its fragments (an empty body is a truncated answer)."""
        if not self._body.strip():
            raise TruncatedStreamError(f"{self._label}: the response body is empty")
        return self._assemble(bytes(self._body))


class UnexpectedBodyParser:
    """A body of a type the provider does not read (an HTML page from a proxy, say): a clear
    error showing its start. ``expected`` says what was, ``hint`` what to check."""

    __slots__ = ("_body", "_content_type", "_expected", "_hint", "_label", "error", "progress")

    SHOWN = 2048

    def __init__(self, content_type: str, label: str, *, expected: str, hint: str) -> None:
        self._content_type = content_type
        self._label = label
        self._expected = expected
        self._hint = hint
        self._body = bytearray()
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        """Keep the start of the body, to show it; enough of it is an error at once."""
        self.progress += 1
        self._body += chunk[: self.SHOWN - len(self._body)]
        if len(self._body) >= self.SHOWN:  # enough to show; an endless body is not read on
            self.error = self._error()
        return EMPTY

    def close(self) -> Sequence[Fragment]:
        """Raise the error showing what came instead."""
        raise self._error()

    def _error(self) -> MalformedStreamError:
        return MalformedStreamError(
            f"{self._label}: expected {self._expected} but the server sent "
            f"{self._content_type or 'a body without a content type'}: "
            f"{snippet(bytes(self._body))!r} ({self._hint})"
        )
