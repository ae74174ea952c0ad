"""Running requests over httpx: one attempt loop, thin synchronous and asynchronous drivers.

A chat call is an :class:`HTTPRequest` plus a sans-I/O :class:`BodyParser` (bytes in, fragments
out), run by :class:`HTTPExchange`. Its attempts are one generator, :func:`_attempts`: it
yields what to do next (send, read an error body, sleep) and decides from what comes back,
with the policy of :mod:`._policy`; the drivers only perform those steps, with httpx's sync or
async client. Once an answer starts, its body is read chunk by chunk into the parser; no
attempt is made again after that (the model would generate twice).

Multi-request work (listing models, probing status) is a :data:`Flow`, a generator of requests
run by :class:`HTTPOperation` under one set of deadlines. No httpx exception leaves this module:
each becomes a :class:`~jackfield.ProviderError` (or a :class:`~jackfield.ConfigError` for a
request that cannot be built at all).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import attrs

from jackfield._errors import (
    ConfigError,
    ProviderError,
    ServerError,
    ServiceConnectionError,
    TruncatedStreamError,
)
from jackfield._fragments import Fragment
from jackfield.http._clients import Clients
from jackfield.http._policy import Deadlines, Retries, RetryPolicy, Timeouts, with_retry_after
from jackfield.http._security import mask_headers
from jackfield.provider import Exchange, Operation

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BodyParser",
    "ErrorMapper",
    "Flow",
    "HTTPExchange",
    "HTTPOperation",
    "HTTPRequest",
    "HTTPResult",
    "ParserFactory",
]

T = TypeVar("T")
MAX_ERROR_BODY = 64 * 1024
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRIES = Retries()


@attrs.frozen(repr=False)
class HTTPRequest:
    """One request. Its repr masks credential headers."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    body: bytes | None = None

    def __repr__(self) -> str:
        size = "no body" if self.body is None else f"{len(self.body)} bytes"
        return f"<HTTPRequest {self.method} {self.url} {mask_headers(self.headers)} {size}>"


@attrs.frozen
class HTTPResult:
    """What a :data:`Flow` gets back for a request: a response, or the error instead."""

    status: int = 0
    headers: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    body: bytes = b""
    error: ProviderError | None = None

    @property
    def ok(self) -> bool:
        """A 2xx response."""
        return self.error is None and 200 <= self.status < 300


class BodyParser(Protocol):
    """Sans-I/O reader of a response body: bytes in, fragments out.

    ``progress`` counts the events that show the server is still generating (for the idle
    timeout); comments and keep-alives must not increase it. A parser that meets an error
    after assembling fragments from the same bytes returns those fragments and sets
    ``error``, which the driver raises right after delivering them.
    """

    progress: int
    error: ProviderError | None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        """Parse more body bytes."""

    def close(self) -> Sequence[Fragment]:
        """The body ended: return the last fragments, or raise (e.g. a truncated stream)."""


ParserFactory = Callable[[int, Mapping[str, str]], BodyParser]
"""Builds the parser for a successful response from its status and headers."""

ErrorMapper = Callable[[int, Mapping[str, str], bytes], ProviderError]
"""Turns a non-2xx response (status, headers, bounded body) into a taxonomy error."""

Flow = Generator[HTTPRequest, HTTPResult, T]
"""A sans-I/O request flow: yields requests, receives results, returns a value."""


# --- httpx, mapped to the taxonomy ------------------------------------------------------------


def _mapped(
    exc: Exception, label: str, url: str, deadlines: Deadlines, chunks: int, *, started: bool
) -> ProviderError | ConfigError:
    """The taxonomy error for an exception httpx raised; ``started``: the body had begun."""
    import httpx

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
    return ServiceConnectionError(f"{label}: request to {url} failed: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "refused" in lowered or "all connection attempts failed" in lowered:
        return "connection refused (is the server running?)"
    return text


def _foreign() -> tuple[type[Exception], ...]:
    """What httpx may raise while a request is built or sent."""
    import httpx

    return (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, UnicodeEncodeError)


def _plain_stream(response: httpx.Response) -> bool:
    """Whether the body can be read straight from ``response.stream``: the transport's own
    byte stream, one layer below ``iter_raw()`` (which only counts bytes and wraps each chunk
    in a list: a microsecond per chunk that streaming can do without)."""
    return response.headers.get("content-encoding", "identity").lower() in ("", "identity")


def _read_bounded(chunks: Iterator[bytes], limit: int) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


async def _aread_bounded(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


# --- the attempt loop ---------------------------------------------------------------------------


class _Send:
    """Send the request; the driver answers with the response, or the mapped error."""


@attrs.frozen
class _ReadError:
    """Read (a bounded part of) a failed response's body, then close it."""

    response: Any


@attrs.frozen
class _Sleep:
    """Wait before the next attempt."""

    seconds: float


_SEND = _Send()
_Step = _Send | _ReadError | _Sleep


def _attempts(
    policy: RetryPolicy, on_error: Callable[[Any, bytes], ProviderError]
) -> Generator[_Step, Any, Any]:
    """Attempts until one answers 2xx (returned), or a failure is final (raised)."""
    while True:
        outcome = yield _SEND
        if isinstance(outcome, ProviderError):
            error = outcome
        elif isinstance(outcome, ConfigError):
            raise outcome
        elif outcome.status_code < 300:
            return outcome
        else:
            body = yield _ReadError(outcome)
            error = on_error(outcome, body)
        wait = policy.delay(error)
        if wait is None:
            raise error
        yield _Sleep(wait)


def _drive(steps: Generator[Any, Any, T], do: Callable[[Any], Any]) -> T:
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


async def _adrive(steps: Generator[Any, Any, T], do: Callable[[Any], Awaitable[Any]]) -> T:
    """Run a generator of steps asynchronously (see :func:`_drive`)."""
    result = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as stop:
            value: T = stop.value
            return value
        result = await do(step)


# --- the exchange -------------------------------------------------------------------------------


class HTTPExchange(Exchange):
    """Runs one request whose successful body is read by a :class:`BodyParser`."""

    def __init__(
        self,
        clients: Clients,
        request: HTTPRequest,
        parser_factory: ParserFactory,
        error_mapper: ErrorMapper,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retries: Retries = DEFAULT_RETRIES,
        label: str = "provider",
    ) -> None:
        self.clients = clients
        self.request = request
        self.parser_factory = parser_factory
        self.error_mapper = error_mapper
        self.timeouts = timeouts
        self.retries = retries
        self.label = label
        self._response: Any = None

    def _build(self, client: Any, deadlines: Deadlines) -> httpx.Request:
        import httpx

        connect, read = deadlines.attempt()
        request: httpx.Request = client.build_request(
            self.request.method,
            self.request.url,
            headers=self.request.headers,
            content=self.request.body,
            timeout=httpx.Timeout(connect=connect, read=read, write=connect, pool=connect),
        )
        return request

    def _on_error(self, response: Any, body: bytes) -> ProviderError:
        error = self.error_mapper(response.status_code, response.headers, body)
        return with_retry_after(error, response.headers)

    def _loop(self, deadlines: Deadlines) -> Generator[_Step, Any, Any]:
        return _attempts(RetryPolicy(self.retries, deadlines), self._on_error)

    def _failed(self, exc: Exception, deadlines: Deadlines, chunks: int, *, started: bool) -> Any:
        error = _mapped(exc, self.label, self.request.url, deadlines, chunks, started=started)
        error.__cause__ = exc
        return error

    def _parser(self, response: Any, deadlines: Deadlines) -> BodyParser:
        # httpcore reads the body with the read timeout in effect when the body starts.
        response.request.extensions["timeout"]["read"] = deadlines.body_read()
        return self.parser_factory(response.status_code, response.headers)

    # sync -------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Sequence[Fragment]]:
        return self._run()

    def _step(self, client: Any, deadlines: Deadlines, step: _Step) -> Any:
        if step is _SEND:
            try:
                return client.send(self._build(client, deadlines), stream=True)
            except _foreign() as exc:
                return self._failed(exc, deadlines, 0, started=False)
        if isinstance(step, _ReadError):
            try:
                return _read_bounded(step.response.iter_bytes(), MAX_ERROR_BODY)[:MAX_ERROR_BODY]
            except _foreign():
                return b""
            finally:
                step.response.close()
        assert isinstance(step, _Sleep)
        time.sleep(step.seconds)
        return None

    def _run(self) -> Iterator[Sequence[Fragment]]:
        client = self.clients.sync()
        deadlines = Deadlines(self.timeouts, self.label)
        response = _drive(self._loop(deadlines), lambda step: self._step(client, deadlines, step))
        self._response = response
        chunks = 0
        try:
            parser = self._parser(response, deadlines)
            body = (
                cast("Iterable[bytes]", response.stream)
                if _plain_stream(response)
                else response.iter_bytes()
            )
            feed, check = parser.feed, deadlines.check
            any_bytes = self.timeouts.keep_alive_is_progress
            for chunk in body:
                chunks += 1
                fragments = feed(chunk)
                check(chunks if any_bytes else parser.progress, chunks)
                if fragments:
                    yield fragments
                if parser.error is not None:
                    raise parser.error
            tail = parser.close()
            if tail:
                yield tail
            if parser.error is not None:
                raise parser.error
        except _foreign() as exc:
            raise self._failed(exc, deadlines, chunks, started=True) from exc
        finally:
            response.close()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()

    # async ------------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Sequence[Fragment]]:
        return self._arun()

    async def _astep(self, client: Any, deadlines: Deadlines, step: _Step) -> Any:
        if step is _SEND:
            try:
                return await client.send(self._build(client, deadlines), stream=True)
            except _foreign() as exc:
                return self._failed(exc, deadlines, 0, started=False)
        if isinstance(step, _ReadError):
            try:
                body = await _aread_bounded(step.response.aiter_bytes(), MAX_ERROR_BODY)
                return body[:MAX_ERROR_BODY]
            except _foreign():
                return b""
            finally:
                await step.response.aclose()
        assert isinstance(step, _Sleep)
        await asyncio.sleep(step.seconds)
        return None

    async def _arun(self) -> AsyncIterator[Sequence[Fragment]]:
        client = self.clients.async_()
        deadlines = Deadlines(self.timeouts, self.label)
        response = await _adrive(
            self._loop(deadlines), lambda step: self._astep(client, deadlines, step)
        )
        self._response = response
        chunks = 0
        try:
            parser = self._parser(response, deadlines)
            body = (
                cast("AsyncIterable[bytes]", response.stream)
                if _plain_stream(response)
                else response.aiter_bytes()
            )
            feed, check = parser.feed, deadlines.check
            any_bytes = self.timeouts.keep_alive_is_progress
            async for chunk in body:
                chunks += 1
                fragments = feed(chunk)
                check(chunks if any_bytes else parser.progress, chunks)
                if fragments:
                    yield fragments
                if parser.error is not None:
                    raise parser.error
            tail = parser.close()
            if tail:
                yield tail
            if parser.error is not None:
                raise parser.error
        except _foreign() as exc:
            raise self._failed(exc, deadlines, chunks, started=True) from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()


# --- request flows ------------------------------------------------------------------------------


class HTTPOperation(Operation[T]):
    """Runs a :data:`Flow` synchronously or asynchronously, under one set of deadlines.

    Transport failures do not raise: the flow receives an :class:`HTTPResult` whose ``error``
    is the taxonomy error, and decides. Response bodies are read whole, up to ``max_body``
    bytes (a larger body is an error result). The total deadline covers every request.
    """

    def __init__(
        self,
        clients: Clients,
        flow: Callable[[], Flow[T]],
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        label: str = "provider",
        max_body: int = 16 * 1024 * 1024,
    ) -> None:
        self.clients = clients
        self.flow = flow
        self.timeouts = timeouts
        self.label = label
        self.max_body = max_body

    def _stream_args(self, request: HTTPRequest, deadlines: Deadlines) -> dict[str, Any]:
        import httpx

        connect, read = deadlines.attempt()
        return {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "content": request.body,
            "timeout": httpx.Timeout(connect=connect, read=read, write=connect, pool=connect),
        }

    def _expired(self, deadlines: Deadlines) -> HTTPResult | None:
        remaining = deadlines.remaining()
        if remaining is not None and remaining <= 0:
            return HTTPResult(error=deadlines.timeout("total", 0))
        return None

    def _error(self, exc: Exception, request: HTTPRequest, deadlines: Deadlines) -> HTTPResult:
        error = _mapped(exc, self.label, request.url, deadlines, 0, started=False)
        if isinstance(error, ConfigError):
            raise error from exc
        return HTTPResult(error=error)

    def run(self) -> T:
        client = self.clients.sync()
        deadlines = Deadlines(self.timeouts, self.label)

        def fetch(request: HTTPRequest) -> HTTPResult:
            expired = self._expired(deadlines)
            if expired is not None:
                return expired
            try:
                with client.stream(**self._stream_args(request, deadlines)) as response:
                    body = _read_bounded(response.iter_bytes(), self.max_body)
                    return self._result(response, body, request)
            except _foreign() as exc:
                return self._error(exc, request, deadlines)

        return _drive(self.flow(), fetch)

    async def arun(self) -> T:
        client = self.clients.async_()
        deadlines = Deadlines(self.timeouts, self.label)

        async def fetch(request: HTTPRequest) -> HTTPResult:
            expired = self._expired(deadlines)
            if expired is not None:
                return expired
            try:
                async with client.stream(**self._stream_args(request, deadlines)) as response:
                    body = await _aread_bounded(response.aiter_bytes(), self.max_body)
                    return self._result(response, body, request)
            except _foreign() as exc:
                return self._error(exc, request, deadlines)

        return await _adrive(self.flow(), fetch)

    def _result(self, response: Any, body: bytes, request: HTTPRequest) -> HTTPResult:
        headers = {k.lower(): v for k, v in response.headers.items()}
        if len(body) > self.max_body:
            error = ServerError(
                f"{self.label}: the response of {request.url} is larger than {self.max_body} bytes",
                status=response.status_code,
            )
            return HTTPResult(response.status_code, headers, b"", error)
        return HTTPResult(response.status_code, headers, body)
