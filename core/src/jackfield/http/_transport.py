"""What the pools need beyond httpx's defaults: deadlines every socket operation obeys, bodies
decoded within a bound, pools a forked child does not share, and closing that is safe from a
finaliser.

- :class:`DeadlineTimeout` is a timeout that also carries the call's total deadline. httpx
  and httpcore pass timeouts through untouched to the network stream, and the streams
  :mod:`._guarded` makes clamp each read, write and connect to the time left (:func:`clamp`),
  so the total deadline holds while headers trickle in, while an error body is read, and
  between two bytes of a body, synchronously and asynchronously alike.
- :class:`Inflater` (and :func:`decoded`, :func:`adecoded`) undo ``gzip`` and ``deflate``
  piece by piece, never producing more than a piece at a time, so a small compressed body
  cannot become gigabytes in one read; the caller counts what comes out against its limit.
  Other codings are refused (the pools ask for these two alone).
- :data:`draining` bounds the reads that follow an answer's end (``[DONE]``): the end of the
  HTTP body, when it is already here or follows at once, is read so the connection goes back
  to the pool; a server that goes on talking or keeps the connection open costs at most a
  moment, then the connection is closed.
- :data:`answer_began` says whether the server sent any byte since this thread (or task) last
  wrote a request on a guarded connection: a connection that breaks after that point broke
  while the server was answering, so the request is not sent again (it may have run).
- :func:`in_collector` tells whether the cyclic garbage collector is running in this thread:
  a stream it finalises must not close its response there (httpcore's pool lock may be held by
  this very thread, and is not reentrant), so the close is deferred to the pool's next use.
- The pools of every :class:`~jackfield.http.Clients` are dropped, unclosed, in a forked child
  (:func:`os.register_at_fork`): the child opens its own connections instead of reading the
  parent's answers from shared sockets.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from jackfield._errors import MalformedStreamError

__all__ = [
    "CHUNK",
    "DeadlineTimeout",
    "Inflater",
    "adecoded",
    "answer_began",
    "clamp",
    "codings",
    "decoded",
    "draining",
    "in_collector",
    "on_fork",
]

CHUNK = 64 * 1024
"""The most a decoder produces at once."""

draining: ContextVar[float | None] = ContextVar("jackfield_draining", default=None)
"""While set: the monotonic time after which a read of this context no longer waits (reads
after an answer's end, see :func:`clamp`)."""

answer_began: ContextVar[bool] = ContextVar("jackfield_answer_began", default=False)
"""Whether a byte of an answer arrived since this context's last request was written."""


class DeadlineTimeout(float):
    """A timeout in seconds (its value) that also knows the monotonic time of the call's total
    deadline (``deadline``); a guarded stream waits at most until then."""

    __slots__ = ("deadline",)

    deadline: float

    def __new__(cls, value: float, deadline: float) -> DeadlineTimeout:
        made = float.__new__(cls, value)
        made.deadline = deadline
        return made


def clamp(timeout: Any) -> Any:
    """A timeout for one socket operation: a :class:`DeadlineTimeout` clamped to the time left
    before its deadline; any other timeout as it is; and, while :data:`draining`, no longer
    than the drain allows."""
    until = draining.get()
    if until is not None:
        left = until - time.monotonic()
        return max(left if timeout is None else min(float(timeout), left), 0.000_1)
    if type(timeout) is DeadlineTimeout:
        # A passed deadline still gets a moment, so the socket times out rather than turning
        # non-blocking (a timeout of 0).
        return max(min(float(timeout), timeout.deadline - time.monotonic()), 0.000_1)
    return timeout


# --- bounded decoding --------------------------------------------------------------------------

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
IDENTITY = ("", "identity")


def codings(header: str) -> list[str]:
    """The codings of a ``Content-Encoding`` header, in the order they were applied."""
    return [c.strip().lower() for c in header.split(",") if c.strip().lower() not in IDENTITY]


class Inflater:
    """Undoes the ``Content-Encoding`` codings of a body, piece by piece: each piece at most
    :data:`CHUNK` bytes, produced only when asked for, so no input, however well compressed,
    makes more than a piece at once. A coding other than gzip and deflate is a
    :class:`~jackfield.MalformedStreamError`."""

    def __init__(self, header: str, label: str) -> None:
        self.steps = codings(header)
        for coding in self.steps:
            if coding not in _WBITS:
                raise MalformedStreamError(
                    f"{label}: the answer is compressed with {coding!r}, which is not read here "
                    "(requests ask for gzip or deflate); have the server or proxy send one of "
                    "those, or none"
                )
        self._decoders = [_Decoder(coding) for coding in reversed(self.steps)]

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """What ``data`` decodes to, lazily."""
        return self._through(0, iter((data,)))

    def tail(self) -> Iterator[bytes]:
        """What the decoders still hold when the body ends."""
        for level, decoder in enumerate(self._decoders):
            yield from self._through(level + 1, decoder.flush())

    def _through(self, level: int, data: Iterator[bytes]) -> Iterator[bytes]:
        if level == len(self._decoders):
            yield from data
            return
        decoder = self._decoders[level]
        for piece in data:
            yield from self._through(level + 1, decoder.feed(piece))


class _Decoder:
    """One coding, undone a bounded piece at a time (gzip members may follow each other; a
    "deflate" body may be zlib-wrapped or raw, as servers differ)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.wbits = _WBITS[coding]
        self.zlib = zlib.decompressobj(self.wbits)
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                piece = self.zlib.decompress(data, CHUNK)
            except zlib.error:
                if self.started or self.coding != "deflate":
                    raise
                self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
                piece = self.zlib.decompress(data, CHUNK)
            self.started = True
            if piece:
                yield piece
            data = self.zlib.unconsumed_tail
            if not data and self.zlib.eof and self.zlib.unused_data:  # another gzip member
                data = self.zlib.unused_data
                self.zlib = zlib.decompressobj(self.wbits)

    def flush(self) -> Iterator[bytes]:
        piece = self.zlib.flush(CHUNK)
        if piece:
            yield piece


def decoded(chunks: Iterable[bytes], header: str, label: str) -> Iterator[bytes]:
    """``chunks`` of a body sent with ``Content-Encoding: header``, decoded in bounded pieces."""
    inflater = Inflater(header, label)
    for data in chunks:
        yield from inflater.pieces(data)
    yield from inflater.tail()


async def adecoded(chunks: AsyncIterable[bytes], header: str, label: str) -> AsyncIterator[bytes]:
    """:func:`decoded` for an async body."""
    inflater = Inflater(header, label)
    async for data in chunks:
        for piece in inflater.pieces(data):
            yield piece
    for piece in inflater.tail():
        yield piece


# --- finalisers and forks ------------------------------------------------------------------------

_COLLECTING = threading.local()


def _collector(phase: str, info: dict[str, Any]) -> None:
    _COLLECTING.active = phase == "start"


gc.callbacks.append(_collector)


def in_collector() -> bool:
    """Whether the cyclic garbage collector is running in this thread (finalisers run
    there, at whatever point an allocation triggered it)."""
    return getattr(_COLLECTING, "active", False)


_FORK_HOOKS: weakref.WeakSet[Any] = weakref.WeakSet()


def on_fork(owner: Any) -> None:
    """Call ``owner.forked()`` in a forked child (``owner`` is held weakly)."""
    _FORK_HOOKS.add(owner)


def _forked() -> None:  # pragma: no cover - runs in the child
    for owner in list(_FORK_HOOKS):
        owner.forked()


_register: Callable[..., None] | None = getattr(__import__("os"), "register_at_fork", None)
if _register is not None:
    _register(after_in_child=_forked)
