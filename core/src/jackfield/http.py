"""An HTTP transport kit for providers: one driver, synchronous and asynchronous, over httpx.

A provider describes a call as an :class:`HTTPRequest` plus a sans-I/O :class:`BodyParser`
(bytes in, fragments out); :class:`HTTPExchange` runs it with either transport. It owns the
rules every HTTP provider needs and must not write twice: phase timeouts (connect, first byte,
idle between events, total), retries with exponential backoff and jitter that honour
``Retry-After`` and happen only before the first byte of a stream, HTTP errors mapped to the
error taxonomy, and closing the connection when the consumer stops. Multi-request flows
(listing models, probing status) are generators run by :class:`HTTPOperation`.

httpx is imported when the first client is built, so options classes can use
:class:`Timeouts` and :class:`Retries` without importing it.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import ssl
import threading
import time
import weakref
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
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
    ProviderError,
    SecurityWarning,
    ServerError,
    ServiceConnectionError,
    ServiceTimeoutError,
    TruncatedStreamError,
)
from jackfield._http_errors import error_for_response, error_from_payload
from jackfield.fragments import Fragment
from jackfield.provider import Exchange, Operation

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BodyParser",
    "Clients",
    "ErrorMapper",
    "HTTPExchange",
    "HTTPOperation",
    "HTTPRequest",
    "HTTPResult",
    "Limits",
    "ParserFactory",
    "Retries",
    "Timeouts",
    "error_for_response",
    "error_from_payload",
    "is_loopback",
    "mask_headers",
    "parse_retry_after",
    "warn_if_key_exposed",
]

T = TypeVar("T")

SENSITIVE_HEADER_PARTS = ("authorization", "key", "token", "secret", "cookie", "password")
MASK = "********"
MAX_ERROR_BODY = 64 * 1024


@attrs.frozen
class Timeouts:
    """Deadlines in seconds (``None`` disables one).

    ``connect``: opening the connection. ``first_byte``: from sending the request to the first
    event of the answer (prompt processing and model loading happen here). ``idle``: the
    longest gap between events of a stream; keep-alive comments do not count as events. While
    a server is completely silent after the first event, a read waits at most the larger of
    ``first_byte`` and ``idle``. ``total``: the whole call, retries and their waits included.
    ``keep_alive_is_progress``: count every chunk of bytes as progress, keep-alive comments
    included (for a server that thinks silently for longer than ``idle`` but pings meanwhile).
    """

    connect: float | None = 10.0
    """Seconds to open the TCP (and TLS) connection; the same limit applies to sending the request
    and to waiting for a free pooled connection. ``None`` waits forever."""
    first_byte: float | None = 300.0
    """Seconds from sending the request to the first event of the answer (prompt processing and
    model loading happen here); each retry starts it again. ``None`` waits forever."""
    idle: float | None = 120.0
    """Longest gap in seconds between two events of a streamed answer; keep-alive comments do not
    count as events. ``None``: no limit."""
    total: float | None = None
    """Seconds for the whole call, retries and the waits between them included; ``None`` (the
    default): no limit."""
    keep_alive_is_progress: bool = False
    """Count every chunk of bytes as progress for ``idle``, keep-alive comments included: for a
    server that pings while it thinks for longer than ``idle``."""


def _positive(instance: Any, attribute: Any, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be a positive number, got {value}")


@attrs.frozen
class Limits:
    """Caps on what one answer may hold, so that a broken or hostile server cannot make a
    call grow without bound. Going over one fails the call with
    :class:`~jackfield.StreamLimitError`, and what arrived before stays in the error's
    ``partial`` response.

    ``event_bytes``: one line or event of a stream. ``body_bytes``: a whole answer read at
    once (a non-streamed chat, a model list). ``choices``: choices in one answer.
    ``tool_calls``: tool calls in one answer, all choices together.
    ``tool_argument_chars``: the arguments (JSON text) of one tool call.
    """

    event_bytes: int = attrs.field(default=16 * 1024 * 1024, validator=_positive)
    """Largest line or event of a streamed answer, counted in characters after UTF-8 decoding;
    default 16 MiB."""
    body_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=_positive)
    """Largest answer read whole, in bytes: a non-streamed chat, a model list, a status probe or an
    embeddings answer; default 64 MiB."""
    choices: int = attrs.field(default=64, validator=_positive)
    """Most choices in one answer."""
    tool_calls: int = attrs.field(default=512, validator=_positive)
    """Most tool calls in one answer, all choices together."""
    tool_argument_chars: int = attrs.field(default=8 * 1024 * 1024, validator=_positive)
    """Longest arguments (JSON text) of one tool call, in characters; default 8 Mi (8,388,608)."""


@attrs.frozen
class Retries:
    """Retrying failed attempts before any byte of the answer arrived.

    Connection errors and HTTP 408, 409, 429 and 5xx are retried up to ``attempts`` times,
    waiting ``backoff * 2**n`` seconds (capped at ``max_backoff``, with jitter), or the
    server's ``Retry-After`` when it gives one (up to ``max_retry_after``). Never retried once
    a stream has started. The total deadline caps attempts and waits together.
    """

    attempts: int = 2
    """How many times a failed chat request is retried, so at most ``attempts + 1`` requests are
    sent; ``0`` never retries."""
    backoff: float = 0.5
    """Seconds of the first wait before a retry; retry ``n`` (from 0) waits ``backoff * 2**n``,
    capped at ``max_backoff``, then scaled by a random 50-100%."""
    max_backoff: float = 8.0
    """Upper bound in seconds on one computed backoff wait (before the random scaling)."""
    max_retry_after: float = 60.0
    """Longest ``Retry-After`` in seconds that is waited for; a server asking for longer fails the
    call at once instead of being retried."""


RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credential-like values replaced by a mask."""
    masked = {}
    for name, value in headers.items():
        lower = name.lower()
        if any(part in lower for part in SENSITIVE_HEADER_PARTS):
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {MASK}" if rest and lower == "authorization" else MASK
        masked[name] = value
    return masked


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
    """What an :class:`HTTPOperation` flow gets back for a request: a response or an error."""

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


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = host.strip("[]").lower()
    return host == "localhost" or host.startswith("127.") or host == "::1"


def warn_if_key_exposed(base_url: str, *, has_key: bool, enabled: bool = True) -> None:
    """Warn (:class:`~jackfield.SecurityWarning`) when an API key would travel over plain
    http to another machine, where anyone on the way can read it. ``enabled`` is the
    instance's ``warn_insecure_key`` option. The warning points at the caller's caller (the
    code that created the provider)."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if has_key and enabled and parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        import warnings

        warnings.warn(
            f"the API key would be sent over plain http to {base_url}; use https, "
            "or set warn_insecure_key = false if this network is trusted",
            SecurityWarning,
            stacklevel=3,
        )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# --- clients ----------------------------------------------------------------------------------

_SHARED_SSL: dict[str, ssl.SSLContext] = {}


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """One verified context per CA bundle, built once per process and shared."""
    key = str(verify)
    context = _SHARED_SSL.get(key)
    if context is None:
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif isinstance(verify, str):
            context = ssl.create_default_context(cafile=verify)
        else:
            context = ssl.create_default_context()
        _SHARED_SSL[key] = context
    return context


def _plain_context() -> ssl.SSLContext:
    """For plain-http servers: cheap to build, and it verifies against no CA at all, so a
    redirect to https fails closed instead of going out unverified."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Clients:
    """The connection pools of one provider instance: one sync client, one async per loop.

    ``https`` says whether a TLS context is needed (it is built once per process and shared);
    ``trust_env`` lets httpx read proxy settings from the environment (off for loopback);
    ``transport`` / ``async_transport`` replace the network (tests, recorded transcripts).
    """

    def __init__(
        self,
        *,
        https: bool,
        verify: bool | str = True,
        trust_env: bool = False,
        max_connections: int | None = None,
        transport: Any = None,
        async_transport: Any = None,
    ) -> None:
        self._transport = transport
        self._async_transport = async_transport
        self._https = https
        self._verify = verify
        self._trust_env = trust_env
        self._max_connections = max_connections
        self._sync: httpx.Client | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # threads racing to build the sync pool build one

    def _options(self) -> dict[str, Any]:
        import httpx

        return {
            "verify": _ssl_context(self._verify) if self._https else _plain_context(),
            "trust_env": self._trust_env,
            "follow_redirects": False,
            "timeout": None,
            "limits": httpx.Limits(
                max_connections=self._max_connections, max_keepalive_connections=100
            ),
        }

    def sync(self) -> httpx.Client:
        """The synchronous client, built on first use."""
        client = self._sync
        if client is None:
            import httpx

            with self._lock:
                client = self._sync
                if client is None:
                    client = httpx.Client(transport=self._transport, **self._options())
                    self._sync = client
        return client

    def async_(self) -> httpx.AsyncClient:
        """The async client of the running event loop, built on first use in that loop."""
        import httpx

        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = self._async[loop] = httpx.AsyncClient(
                transport=self._async_transport, **self._options()
            )
        return client

    def close(self) -> None:
        """Close the sync pool (async pools close with :meth:`aclose` or their loop)."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close every pool this loop can close."""
        self.close()
        loop = asyncio.get_running_loop()
        client = self._async.pop(loop, None)
        if client is not None:
            await client.aclose()


# --- deadlines and retries --------------------------------------------------------------------


class _Clock:
    """Tracks the deadlines of one call across attempts and stream events."""

    __slots__ = ("_deadline", "_events", "_last", "label", "timeouts")

    def __init__(self, timeouts: Timeouts, label: str) -> None:
        self.timeouts = timeouts
        self.label = label
        now = time.monotonic()
        self._deadline = None if timeouts.total is None else now + timeouts.total
        self._last = now
        self._events = 0

    def remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _cap(self, value: float | None) -> float | None:
        remaining = self.remaining()
        if remaining is None:
            return value
        remaining = max(remaining, 0.001)
        return remaining if value is None else min(value, remaining)

    def request_timeout(self) -> httpx.Timeout:
        """httpx timeouts for a new attempt (which restarts the first-byte wait)."""
        import httpx

        self._last = time.monotonic()
        connect = self._cap(self.timeouts.connect)
        read = self._cap(self.timeouts.first_byte)
        return httpx.Timeout(connect=connect, read=read, write=connect, pool=connect)

    def body_read_timeout(self) -> float | None:
        first, idle = self.timeouts.first_byte, self.timeouts.idle
        longest = None if first is None or idle is None else max(first, idle)
        return self._cap(longest)

    def check(self, events: int, chunks: int) -> None:
        """Called after each chunk: raise if the first-byte, idle or total deadline passed.

        Only new events count as progress, so a stream of keep-alive comments times out.
        """
        now = time.monotonic()
        if events != self._events:  # progress: the common case, kept short
            self._events = events
            self._last = now
            if self._deadline is None:
                return
        else:
            limit = self.timeouts.first_byte if events == 0 else self.timeouts.idle
            if limit is not None and now - self._last > limit:
                raise self.timeout("first_byte" if events == 0 else "idle", chunks)
        if self._deadline is not None and now > self._deadline:
            raise self.timeout("total", chunks)

    def timeout(self, phase: str, chunks: int) -> ServiceTimeoutError:
        limits = {
            "connect": self.timeouts.connect,
            "first_byte": self.timeouts.first_byte,
            "idle": self.timeouts.idle,
            "total": self.timeouts.total,
        }
        what = {
            "connect": "connecting",
            "first_byte": "waiting for the first byte of the answer",
            "idle": "waiting for the next event of the stream",
            "total": "the whole call",
        }[phase]
        return ServiceTimeoutError(
            f"{self.label}: timed out {what} ({phase} timeout {limits[phase]}s, "
            f"after {chunks} chunk{'s' if chunks != 1 else ''})",
            phase=phase,
            chunks=chunks,
        )


class _Attempts:
    """Decides whether a failed attempt is retried, and how long to wait first."""

    __slots__ = ("clock", "made", "retries")

    def __init__(self, retries: Retries, clock: _Clock) -> None:
        self.retries = retries
        self.clock = clock
        self.made = 0

    def delay(self, error: ProviderError) -> float | None:
        if self.made >= self.retries.attempts or not _retryable(error):
            return None
        wait = min(self.retries.max_backoff, self.retries.backoff * 2.0**self.made)
        wait *= 0.5 + random.random() / 2
        retry_after = error.retry_after
        if retry_after is not None:
            if retry_after > self.retries.max_retry_after:
                return None
            wait = max(wait, float(retry_after))
        remaining = self.clock.remaining()
        if remaining is not None and wait >= remaining:
            return None
        self.made += 1
        return wait


def _retryable(error: ProviderError) -> bool:
    if isinstance(error, ServiceConnectionError):
        return True
    if isinstance(error, ServiceTimeoutError):
        return error.phase == "connect"
    return error.status in RETRY_STATUSES


def _transport_error(
    exc: Exception, label: str, url: str, clock: _Clock, chunks: int, *, started: bool
) -> ProviderError:
    """Map an httpx exception to the taxonomy; ``started``: the response body had begun."""
    import httpx

    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return clock.timeout("connect", chunks)
    if isinstance(exc, httpx.TimeoutException):
        return clock.timeout("idle" if started and chunks else "first_byte", chunks)
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


def _with_retry_after(error: ProviderError, headers: Mapping[str, str]) -> ProviderError:
    if error.retry_after is None:
        error.retry_after = parse_retry_after(headers.get("retry-after"))
    return error


def _plain_stream(response: httpx.Response) -> bool:
    """Whether the body can be read straight from ``response.stream``: the transport's own
    byte stream, one layer below ``iter_raw()`` (which only counts bytes and wraps each chunk
    in a list: a microsecond per chunk that streaming can do without)."""
    return response.headers.get("content-encoding", "identity").lower() in ("", "identity")


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
        timeouts: Timeouts = Timeouts(),
        retries: Retries = Retries(),
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

    def _build(self, client: Any, clock: _Clock) -> httpx.Request:
        request: httpx.Request = client.build_request(
            self.request.method,
            self.request.url,
            headers=self.request.headers,
            content=self.request.body,
            timeout=clock.request_timeout(),
        )
        return request

    def _http_error(self, response: Any, body: bytes) -> ProviderError:
        headers = response.headers
        error = self.error_mapper(response.status_code, headers, body)
        return _with_retry_after(error, headers)

    @staticmethod
    def _start_body(response: Any, clock: _Clock) -> None:
        # httpcore reads the body with the read timeout in effect when the body starts.
        response.request.extensions["timeout"]["read"] = clock.body_read_timeout()

    # sync -----------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Sequence[Fragment]]:
        return self._run()

    def _run(self) -> Iterator[Sequence[Fragment]]:
        import httpx

        client = self.clients.sync()
        clock = _Clock(self.timeouts, self.label)
        attempts = _Attempts(self.retries, clock)
        while True:
            try:
                response = client.send(self._build(client, clock), stream=True)
            except httpx.HTTPError as exc:
                error = _transport_error(exc, self.label, self.request.url, clock, 0, started=False)
                wait = attempts.delay(error)
                if wait is None:
                    raise error from exc
                time.sleep(wait)
                continue
            if response.status_code < 300:
                break
            try:
                body = _read_bounded(response.iter_bytes())
            except httpx.HTTPError:
                body = b""
            finally:
                response.close()
            error = self._http_error(response, body)
            wait = attempts.delay(error)
            if wait is None:
                raise error
            time.sleep(wait)
        self._response = response
        chunks = 0
        try:
            parser = self.parser_factory(response.status_code, response.headers)
            self._start_body(response, clock)
            body_chunks = (
                cast("Iterable[bytes]", response.stream)
                if _plain_stream(response)
                else response.iter_bytes()
            )
            feed, check = parser.feed, clock.check
            any_bytes = self.timeouts.keep_alive_is_progress
            for chunk in body_chunks:
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
        except httpx.HTTPError as exc:
            raise _transport_error(
                exc, self.label, self.request.url, clock, chunks, started=True
            ) from exc
        finally:
            response.close()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()

    # async ----------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Sequence[Fragment]]:
        return self._arun()

    async def _arun(self) -> AsyncIterator[Sequence[Fragment]]:
        import httpx

        client = self.clients.async_()
        clock = _Clock(self.timeouts, self.label)
        attempts = _Attempts(self.retries, clock)
        while True:
            try:
                response = await client.send(self._build(client, clock), stream=True)
            except httpx.HTTPError as exc:
                error = _transport_error(exc, self.label, self.request.url, clock, 0, started=False)
                wait = attempts.delay(error)
                if wait is None:
                    raise error from exc
                await asyncio.sleep(wait)
                continue
            if response.status_code < 300:
                break
            try:
                body = await _aread_bounded(response.aiter_bytes())
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
            error = self._http_error(response, body)
            wait = attempts.delay(error)
            if wait is None:
                raise error
            await asyncio.sleep(wait)
        self._response = response
        chunks = 0
        try:
            parser = self.parser_factory(response.status_code, response.headers)
            self._start_body(response, clock)
            body_chunks = (
                cast("AsyncIterable[bytes]", response.stream)
                if _plain_stream(response)
                else response.aiter_bytes()
            )
            feed, check = parser.feed, clock.check
            any_bytes = self.timeouts.keep_alive_is_progress
            async for chunk in body_chunks:
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
        except httpx.HTTPError as exc:
            raise _transport_error(
                exc, self.label, self.request.url, clock, chunks, started=True
            ) from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()


def _read_bounded(chunks: Iterator[bytes], limit: int = MAX_ERROR_BODY) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


async def _aread_bounded(chunks: AsyncIterator[bytes], limit: int = MAX_ERROR_BODY) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


# --- request flows ------------------------------------------------------------------------------

Flow = Generator[HTTPRequest, HTTPResult, T]
"""A sans-I/O request flow: yields requests, receives results, returns a value."""


class HTTPOperation(Operation[T]):
    """Runs a :data:`Flow` synchronously or asynchronously.

    Transport failures do not raise: the flow receives an :class:`HTTPResult` whose ``error``
    is the taxonomy error, and decides. Response bodies are read whole, up to ``max_body``
    bytes (a larger body is an error result).
    """

    def __init__(
        self,
        clients: Clients,
        flow: Callable[[], Flow[T]],
        *,
        timeouts: Timeouts = Timeouts(),
        label: str = "provider",
        max_body: int = 16 * 1024 * 1024,
    ) -> None:
        self.clients = clients
        self.flow = flow
        self.timeouts = timeouts
        self.label = label
        self.max_body = max_body

    def run(self) -> T:
        import httpx

        client = self.clients.sync()
        flow = self.flow()
        result: HTTPResult | None = None
        while True:
            try:
                request = flow.send(result) if result is not None else next(flow)
            except StopIteration as stop:
                value: T = stop.value
                return value
            clock = _Clock(self.timeouts, self.label)
            try:
                with client.stream(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body,
                    timeout=clock.request_timeout(),
                ) as response:
                    body = _read_bounded(response.iter_bytes(), self.max_body + 1)
                    result = self._result(response, body, request)
            except httpx.HTTPError as exc:
                result = HTTPResult(
                    error=_transport_error(exc, self.label, request.url, clock, 0, started=False)
                )

    async def arun(self) -> T:
        import httpx

        client = self.clients.async_()
        flow = self.flow()
        result: HTTPResult | None = None
        while True:
            try:
                request = flow.send(result) if result is not None else next(flow)
            except StopIteration as stop:
                value: T = stop.value
                return value
            clock = _Clock(self.timeouts, self.label)
            try:
                async with client.stream(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body,
                    timeout=clock.request_timeout(),
                ) as response:
                    body = await _aread_bounded(response.aiter_bytes(), self.max_body + 1)
                    result = self._result(response, body, request)
            except httpx.HTTPError as exc:
                result = HTTPResult(
                    error=_transport_error(exc, self.label, request.url, clock, 0, started=False)
                )

    def _result(self, response: Any, body: bytes, request: HTTPRequest) -> HTTPResult:
        headers = {k.lower(): v for k, v in response.headers.items()}
        if len(body) > self.max_body:
            error = ServerError(
                f"{self.label}: the response of {request.url} is larger than {self.max_body} bytes",
                status=response.status_code,
            )
            return HTTPResult(response.status_code, headers, b"", error)
        return HTTPResult(response.status_code, headers, body)
