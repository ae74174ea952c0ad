"""The attempt loop and the drivers that run generators of steps, and httpx mapped to the
taxonomy: what :mod:`._exchange` and :mod:`._operation` share.

The attempts of a call are one generator, :func:`attempts`: it yields what to do next (send,
read an error body, sleep) and decides from what comes back, with the policy of
:mod:`._policy`. :func:`drive` and :func:`adrive` perform the steps of any such generator
(the attempt loop, a request flow) synchronously or asynchronously; they do no more. No httpx
exception leaves here unmapped: each becomes a :class:`~jackfield.ProviderError`, or a
:class:`~jackfield.ConfigError` for a request that cannot be built at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from jackfield._errors import (
    ConfigError,
    ProviderError,
    ServiceConnectionError,
    TruncatedStreamError,
)
from jackfield.http._policy import Deadlines, RetryPolicy
from jackfield.http._transport import adecoded, answer_began, codings, decoded

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_ERROR_BODY",
    "SEND",
    "ReadError",
    "Sleep",
    "adrive",
    "answered",
    "abody_of",
    "aread_bounded",
    "body_of",
    "attempts",
    "drive",
    "foreign",
    "mapped",
    "read_bounded",
]

T = TypeVar("T")
MAX_ERROR_BODY = 64 * 1024
"""The most of a failed response's body that is read (for its error message)."""


def mapped(
    exc: Exception, label: str, url: str, deadlines: Deadlines, chunks: int, *, started: bool
) -> ProviderError | ConfigError:
    """The taxonomy error for an exception httpx raised; ``started``: the body had begun."""
    import httpx

    if isinstance(exc, httpx.TimeoutException) and deadlines.passed():
        return deadlines.timeout("total", chunks)
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout)):
        return deadlines.timeout("connect", chunks)
    if isinstance(exc, httpx.TimeoutException):
        return deadlines.timeout("idle" if started and chunks else "first_byte", chunks)
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return ConfigError(f"{label}: cannot send a request to {url}: {exc}")
    if isinstance(exc, UnicodeEncodeError):  # a header value httpx cannot encode
        return ConfigError(f"{label}: a request header holds a character that cannot be sent")
    if started:
        return TruncatedStreamError(
            f"{label}: the connection to {url} broke after {chunks} chunk"
            f"{'s' if chunks != 1 else ''}: {_reason(exc)}"
        )
    if isinstance(exc, httpx.ConnectError):
        return ServiceConnectionError(f"{label}: cannot connect to {url}: {_reason(exc)}")
    error = ServiceConnectionError(f"{label}: request to {url} failed: {_reason(exc)}")
    if answer_began.get() or (
        isinstance(exc, httpx.RemoteProtocolError) and "without sending a response" not in str(exc)
    ):
        # The server received the request and began an answer it did not finish (a partial
        # status line, say): sending it again could run it twice. A connection closed before
        # any answer (a pooled one the server had dropped) is retried as before.
        error.retry = False
    return error


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "refused" in lowered or "all connection attempts failed" in lowered:
        return "connection refused (is the server running?)"
    return text


def foreign() -> tuple[type[Exception], ...]:
    """What httpx may raise while a request is built or sent."""
    import httpx

    return (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, UnicodeEncodeError)


def body_of(response: httpx.Response, label: str) -> Iterable[bytes]:
    """A response's body as it arrives: straight from ``response.stream`` (the transport's own
    byte stream, one layer below ``iter_raw()``, which only counts bytes and wraps each chunk in
    a list: a microsecond per chunk that streaming can do without) when it is not compressed,
    else decoded here in bounded pieces (:func:`._transport.decoded`), never by httpx, which
    would inflate a small body to any size in one read."""
    header = response.headers.get("content-encoding", "")
    if not codings(header):
        return cast("Iterable[bytes]", response.stream)
    return decoded(response.iter_raw(), header, label)


def abody_of(response: httpx.Response, label: str) -> AsyncIterable[bytes]:
    """:func:`body_of` for an async response."""
    header = response.headers.get("content-encoding", "")
    if not codings(header):
        return cast("AsyncIterable[bytes]", response.stream)
    return adecoded(response.aiter_raw(), header, label)


def read_bounded(chunks: Iterable[bytes], limit: int) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


async def aread_bounded(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


# --- the attempt loop ---------------------------------------------------------------------------


class Send:
    """Send the request; the driver answers with the response, or the mapped error."""


@attrs.frozen
class ReadError:
    """Read (a bounded part of) a failed response's body, then close it."""

    response: Any


@attrs.frozen
class Sleep:
    """Wait before the next attempt (after ``error``)."""

    seconds: float
    error: Any = attrs.field(default=None, eq=False)


SEND = Send()
Step = Send | ReadError | Sleep


def answered(outcome: Any) -> bool:
    """Whether an attempt's outcome is the answer: a response with a status below 300."""
    return not isinstance(outcome, (ProviderError, ConfigError)) and outcome.status_code < 300


def attempts(
    policy: RetryPolicy,
    on_error: Callable[[Any, bytes], ProviderError],
    first: Any = SEND,
    revise: Callable[[ProviderError], bool] | None = None,
    failover: Callable[[ProviderError], bool] | None = None,
) -> Generator[Step, Any, Any]:
    """Attempts until one answers (returned), or a failure is final (raised). ``first`` is the
    outcome of a first attempt already made, if one was (the drivers make it themselves, so
    that an answer at the first try costs no loop). ``revise(error)`` is asked first about
    each failure: true means the request was replaced, to be sent at once; the first error it
    replaced is the one raised if no answer comes. ``failover(error)`` is told of every failure
    first: true means another endpoint may answer, to be sent to at once (no wait, no retry
    spent)."""
    outcome = (yield SEND) if first is SEND else first
    refused: ProviderError | None = None
    while True:
        if answered(outcome):
            return outcome
        if isinstance(outcome, ConfigError):
            raise outcome
        if isinstance(outcome, ProviderError):
            error = outcome
        else:
            body = yield ReadError(outcome)
            error = on_error(outcome, body)
        switch = failover is not None and failover(error)
        if revise is not None and revise(error):
            refused = refused or error
            outcome = yield SEND
            continue
        if switch:
            outcome = yield SEND
            continue
        wait = policy.delay(error)
        if wait is None:
            raise refused or error
        yield Sleep(wait, error)
        outcome = yield SEND


def drive(steps: Generator[Any, Any, T], do: Callable[[Any], Any]) -> T:
    """Run a generator of steps (the attempt loop, a flow) synchronously: each step it
    yields is done by ``do``, whose result is sent back in."""
    result = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value
        result = do(step)


async def adrive(steps: Generator[Any, Any, T], do: Callable[[Any], Awaitable[Any]]) -> T:
    """Run a generator of steps asynchronously (see :func:`drive`)."""
    result = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value
        result = await do(step)
