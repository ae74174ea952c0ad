"""Body parsers every HTTP provider needs, and the rule they share.

The rule: a parser that meets an error after assembling fragments from the same bytes delivers
those fragments first (it returns them and sets ``error``, which the driver raises right after),
so what arrived is never lost.

A body that says it is complete before the connection ends (OpenAI's ``[DONE]``, Ollama's final
``done`` object) sets the parser's ``finished``; the driver then calls ``close()`` at once, which
gives the last fragments exactly as at the end of the body, and stops reading. Values after the
one that finished the body (in the same chunk) are not assembled, and whatever is fed after it
is ignored.
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

    ``ended``, asked after each value, says whether the body has said it is complete (Ollama's
    ``done``); a subclass may set ``finished`` itself instead (OpenAI's ``[DONE]``). Once
    ``finished``, later values and bytes are ignored and :meth:`close` gives ``finish``'s
    fragments without asking the decoder for more.

    Each value counts as progress for the idle timeout. A decoder that returns values and then
    holds an error met later in the same bytes (its ``error``, as
    :class:`~jackfield.provider.NDJSONDecoder` does) has it raised after those values, unless
    one of them finished the body.
    """

    __slots__ = ("_assemble", "_decoder", "_ended", "_finish", "error", "finished", "progress")

    def __init__(
        self,
        decoder: Decoder,
        assemble: Callable[[Any], Sequence[Fragment]],
        finish: Callable[[], Sequence[Fragment]],
        *,
        ended: Callable[[], bool] | None = None,
    ) -> None:
        self._decoder = decoder
        self._assemble = assemble
        self._finish = finish
        self._ended = ended
        self.progress = 0
        self.error: ProviderError | None = None
        self.finished = False

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        """The fragments of the values these bytes complete (none once ``finished``)."""
        if self.finished:
            return EMPTY
        values = self._decoder.feed(chunk)
        if not values:
            return EMPTY
        out = self.deliver(values)
        held: ProviderError | None = getattr(self._decoder, "error", None)
        if held is not None:
            self._held(held, out)
        return out

    def _held(self, error: ProviderError, out: list[Fragment]) -> None:
        """The decoder's error after the values it returned: raised now, or after ``out``."""
        if self.finished or self.error is not None:
            return  # the body was complete before it; or an earlier error comes first
        if not out:
            raise error
        self.error = error

    def deliver(self, values: Iterable[Any]) -> list[Fragment]:
        """Assemble decoded values; an error after some fragments waits in ``error``; values
        after the one that finished the body are ignored."""
        out: list[Fragment] = []
        assemble = self._assemble
        ended = self._ended
        for value in values:
            if self.finished:
                break
            self.progress += 1
            try:
                out += assemble(value)
            except ProviderError as exc:
                if not out:
                    raise
                self.error = exc
                break
            if ended is not None and ended():
                self.finished = True
        return out

    def close(self) -> Sequence[Fragment]:
        """The body ended, or said it was complete: the last values' fragments, then
        ``finish``'s."""
        if self.finished:  # what the decoder still holds came after the end
            return self._finish()
        out = self.deliver(self._decoder.close())
        if self.error is not None:
            return out
        return [*out, *self._finish()]


class WholeBodyParser:
    """A body read whole (up to ``limit`` bytes), then parsed once by ``assemble``."""

    __slots__ = ("_assemble", "_body", "_label", "_limit", "error", "finished", "progress")

    def __init__(
        self, assemble: Callable[[bytes], Sequence[Fragment]], *, limit: int, label: str
    ) -> None:
        self._assemble = assemble
        self._body = bytearray()
        self._limit = limit
        self._label = label
        self.progress = 0
        self.error: ProviderError | None = None
        self.finished = False  # the body's end is the end of the connection

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

    __slots__ = (
        "_body",
        "_content_type",
        "_expected",
        "_hint",
        "_label",
        "error",
        "finished",
        "progress",
    )

    SHOWN = 2048

    def __init__(self, content_type: str, label: str, *, expected: str, hint: str) -> None:
        self._content_type = content_type
        self._label = label
        self._expected = expected
        self._hint = hint
        self._body = bytearray()
        self.progress = 0
        self.error: ProviderError | None = None
        self.finished = False  # never: it ends in an error

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
