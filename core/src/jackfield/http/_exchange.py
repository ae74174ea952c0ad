"""One chat call over HTTP: a request streamed into fragments, synchronously or asynchronously.

:class:`HTTPExchange` runs its attempts with the loop of :mod:`._drive` until one answers, then
reads the answer's body chunk by chunk into the call's sans-I/O :class:`BodyParser`, checking
the deadlines after each. No attempt is made again once the answer has begun: the model would
generate twice.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from jackfield._errors import MalformedStreamError, ProviderError, StreamLimitError
from jackfield._fragments import Fragment
from jackfield._secret import NO_SCRUB, Scrubber
from jackfield._wire.limits import ANSWER_BYTES
from jackfield.http._clients import Clients
from jackfield.http._drive import (
    MAX_ERROR_BODY,
    SEND,
    ReadError,
    Sleep,
    Step,
    abody_of,
    adrive,
    answered,
    aread_bounded,
    attempts,
    body_of,
    drive,
    foreign,
    mapped,
    read_bounded,
)
from jackfield.http._policy import Deadlines, Retries, RetryPolicy, Timeouts, with_retry_after
from jackfield.http._pool import Route
from jackfield.http._requests import BodyParser, ErrorMapper, HTTPRequest, ParserFactory, Reviser
from jackfield.http._transport import draining, in_collector
from jackfield.provider import Exchange

if TYPE_CHECKING:
    import httpx

__all__ = ["HTTPExchange"]

DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRIES = Retries()


class HTTPExchange(Exchange):
    """Runs one request whose successful body is read by a :class:`BodyParser`; a
    :class:`Reviser` may replace a refused request (see :func:`._drive.attempts`)."""

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
        reviser: Reviser | None = None,
        max_answer: int = ANSWER_BYTES,
        scrub: Scrubber = NO_SCRUB,
        route: Route | None = None,
    ) -> None:
        self.clients = clients
        self.request = request
        self.parser_factory = parser_factory
        self.error_mapper = error_mapper
        self.timeouts = timeouts
        self.retries = retries
        self.label = label
        self.reviser = reviser
        self.revised = False
        self.max_answer = max_answer
        self.scrub = scrub
        self.route = route
        self._url = request.url  # where the attempt went (an endpoint of a pool's)
        self._response: Any = None
        self._tell: Any = None  # observers (jackfield._observe), when the provider has some
        self._headers: dict[str, str] = {}  # what observers add (traceparent ...)
        self.request_id: str | None = None
        """The call's ``X-Request-Id``: the request's own, else one made for it (sent with every
        attempt, and on the errors the call raises)."""

    def observe(self, tell: Any) -> None:
        """Tell ``tell`` (observers) of each attempt, retry and failover, and send the headers
        they give."""
        self._tell = tell
        self._headers = {**tell.headers(), **self._headers}
        tell.call.request_id = self._identify()

    def _identify(self) -> str:
        """The call's request id (see :attr:`request_id`), made on first use."""
        if self.request_id is None:
            for name, value in self.request.headers.items():
                if name.lower() == "x-request-id":
                    self.request_id = value
                    break
            else:  # 32 random hex digits, as uuid4().hex, at a quarter of its cost
                self.request_id = os.urandom(16).hex()
                self._headers["X-Request-Id"] = self.request_id
        return self.request_id

    def _build(self, client: Any, deadlines: Deadlines) -> httpx.Request:
        import httpx

        connect, read = deadlines.attempt()
        self._identify()
        url, headers = self.request.url, {**self.request.headers, **self._headers}
        if self.route is not None:
            url, headers = self.route.send(url, headers)
        self._url = url
        if self._tell is not None:
            self._tell.call.attempts += 1
            current = self.route.current if self.route is not None else None
            self._tell.call.server = current.url if current is not None else url
            self._tell("attempt", url)
        request: httpx.Request = client.build_request(
            self.request.method,
            url,
            headers=headers,
            content=self.request.body,
            timeout=httpx.Timeout(connect=connect, read=read, write=connect, pool=connect),
        )
        return request

    def _on_error(self, response: Any, body: bytes) -> ProviderError:
        error = self.error_mapper(response.status_code, response.headers, body)
        error.sent_request_id = self.request_id
        return with_retry_after(error, response.headers)

    def _loop(self, deadlines: Deadlines, first: Any) -> Generator[Step, Any, Any]:
        revise = self._revise if self.reviser is not None else None
        failover = self._failover if self.route is not None else None
        policy = RetryPolicy(self.retries, deadlines)
        return attempts(policy, self._on_error, first, revise, failover)

    def _failover(self, error: ProviderError) -> bool:
        assert self.route is not None
        url = self.route.current.url if self.route.current is not None else self._url
        switch = self.route.failed(error)
        if switch and self._tell is not None:
            self._tell("failed_over", error, url)
        return switch

    def _revise(self, error: ProviderError) -> bool:
        assert self.reviser is not None
        revised = self.reviser.revise(self.request, error)
        if revised is None:
            return False
        self.request, self.revised = revised, True
        return True

    def _answered(self, response: Any) -> None:
        self._response = response
        if self.route is not None:
            self.route.answered()
        if self.revised:
            assert self.reviser is not None
            self.reviser.settled()

    def _failed(self, exc: Exception, deadlines: Deadlines, chunks: int, *, started: bool) -> Any:
        error = mapped(exc, self.label, self._url, deadlines, chunks, started=started)
        if isinstance(error, ProviderError):
            error.sent_request_id = self.request_id
        error.__cause__ = exc
        return error

    def _parser(self, response: Any, deadlines: Deadlines) -> BodyParser:
        # httpcore reads the body with the read timeout in effect when the body starts.
        response.request.extensions["timeout"]["read"] = deadlines.body_read()
        return self.parser_factory(response.status_code, response.headers)

    # sync -------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Sequence[Fragment]]:
        return self._run()

    def _step(self, client: Any, deadlines: Deadlines, step: Step) -> Any:
        if step is SEND:
            try:
                return client.send(self._build(client, deadlines), stream=True)
            except foreign() as exc:
                return self._failed(exc, deadlines, 0, started=False)
        if isinstance(step, ReadError):
            try:
                body = read_bounded(body_of(step.response, self.label), MAX_ERROR_BODY)
                return body[:MAX_ERROR_BODY]
            except (*foreign(), MalformedStreamError):  # type: ignore[misc]
                return b""
            finally:
                step.response.close()
        assert isinstance(step, Sleep)
        if self._tell is not None:
            self._tell("retried", step.error, step.seconds)
        time.sleep(step.seconds)
        return None

    def _run(self) -> Iterator[Sequence[Fragment]]:
        client = self.clients.sync()
        deadlines = Deadlines(self.timeouts, self.label)
        response = self._step(client, deadlines, SEND)
        if not answered(response):
            response = drive(
                self._loop(deadlines, response), lambda step: self._step(client, deadlines, step)
            )
        self._answered(response)
        chunks = size = 0
        body: Any = None
        try:
            parser = self._parser(response, deadlines)
            body = iter(body_of(response, self.label))
            # Held by the pools while it runs: never garbage with an abandoned stream, so the
            # collector never finalises httpx's generators (which close under the pool lock).
            self.clients.bodies.add(body)
            feed, check, cap = parser.feed, deadlines.check, self.max_answer
            any_bytes = self.timeouts.keep_alive_is_progress
            for chunk in body:
                chunks += 1
                size += len(chunk)
                if size > cap:
                    raise self._too_large()
                fragments = feed(chunk)
                check(chunks if any_bytes else parser.progress, chunks)
                if fragments:
                    yield fragments
                if parser.error is not None:
                    raise parser.error
                if parser.finished:  # a complete answer: what follows is not parsed
                    _drain(body)
                    break
            tail = parser.close()
            if tail:
                yield tail
            if parser.error is not None:
                raise parser.error
        except foreign() as exc:
            raise self._failed(exc, deadlines, chunks, started=True) from exc
        except ProviderError as exc:  # from a 200 body: servers echo secrets there too
            self.scrub.error(exc)
            raise
        finally:
            self._close(response, body)

    def _close(self, response: Any, body: Any = None) -> None:
        if in_collector():
            # Abandoned in a reference cycle and finalised by the collector, which may run
            # while this thread holds httpcore's pool lock (not reentrant): closing here could
            # wait on it forever, and so could dropping the body's iterator (httpx's generators
            # close the connection when finalised). Both wait for the pools' next use.
            self.clients.deferred.append((response, body))
        else:
            response.close()
            self.clients.bodies.discard(body)

    def _too_large(self) -> StreamLimitError:
        return StreamLimitError(
            f"{self.label}: the answer is larger than {self.max_answer} bytes "
            "(limits.answer_bytes), counted after decompression"
        )

    def close(self) -> None:
        # The stream always closes its exchange: a pool's endpoint is no longer in flight.
        if self.route is not None:
            self.route.closed()
        if self._response is not None:
            self._close(self._response)

    # async ------------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Sequence[Fragment]]:
        return self._arun()

    async def _astep(self, client: Any, deadlines: Deadlines, step: Step) -> Any:
        if step is SEND:
            try:
                return await client.send(self._build(client, deadlines), stream=True)
            except foreign() as exc:
                return self._failed(exc, deadlines, 0, started=False)
        if isinstance(step, ReadError):
            try:
                body = await aread_bounded(abody_of(step.response, self.label), MAX_ERROR_BODY)
                return body[:MAX_ERROR_BODY]
            except (*foreign(), MalformedStreamError):  # type: ignore[misc]
                return b""
            finally:
                await step.response.aclose()
        assert isinstance(step, Sleep)
        if self._tell is not None:
            self._tell("retried", step.error, step.seconds)
        await asyncio.sleep(step.seconds)
        return None

    async def _arun(self) -> AsyncIterator[Sequence[Fragment]]:
        client = self.clients.async_()
        deadlines = Deadlines(self.timeouts, self.label)
        response = await self._astep(client, deadlines, SEND)
        if not answered(response):
            response = await adrive(
                self._loop(deadlines, response),
                lambda step: self._astep(client, deadlines, step),
            )
        self._answered(response)
        chunks = size = 0
        body: Any = None
        try:
            parser = self._parser(response, deadlines)
            body = abody_of(response, self.label).__aiter__()
            feed, check, cap = parser.feed, deadlines.check, self.max_answer
            any_bytes = self.timeouts.keep_alive_is_progress
            async for chunk in body:
                chunks += 1
                size += len(chunk)
                if size > cap:
                    raise self._too_large()
                fragments = feed(chunk)
                check(chunks if any_bytes else parser.progress, chunks)
                if fragments:
                    yield fragments
                if parser.error is not None:
                    raise parser.error
                if parser.finished:  # a complete answer: what follows is not parsed
                    await _adrain(body)
                    break
            tail = parser.close()
            if tail:
                yield tail
            if parser.error is not None:
                raise parser.error
        except foreign() as exc:
            raise self._failed(exc, deadlines, chunks, started=True) from exc
        except ProviderError as exc:  # from a 200 body: servers echo secrets there too
            self.scrub.error(exc)
            raise
        finally:
            # Left before its end ([DONE], an error, a consumer gone), the body's iterator is
            # closed here, in this task, not by a task the loop schedules when it is garbage.
            close = getattr(body, "aclose", None)
            if close is not None:
                await close()
            await response.aclose()

    async def aclose(self) -> None:
        if self.route is not None:
            self.route.closed()
        if self._response is not None:
            await self._response.aclose()


# --- after the answer's end ------------------------------------------------------------------

DRAIN_SECONDS = 0.02
"""How long the reads after an answer's end (``[DONE]``) may wait in all."""
DRAIN_READS = 4
"""How many pieces are read after an answer's end before the connection is given up."""


def _drain(body: Iterator[bytes]) -> None:
    """Read the end of the HTTP body after the answer's end, so the connection goes back to
    the pool (the end of a chunked body usually comes right after ``[DONE]``). A server that
    goes on talking, or keeps the connection open, gets :data:`DRAIN_READS` reads within
    :data:`DRAIN_SECONDS`; the connection is then closed with the response. What is read is
    not parsed."""
    token = draining.set(time.monotonic() + DRAIN_SECONDS)
    try:
        for _ in range(DRAIN_READS):
            next(body)
    except StopIteration:
        pass  # the body ended: the connection is reusable
    except Exception:  # noqa: BLE001 - a read that would wait, or a broken end: closed after
        pass
    finally:
        draining.reset(token)


async def _adrain(body: AsyncIterator[bytes]) -> None:
    """:func:`_drain` for an async body."""
    token = draining.set(time.monotonic() + DRAIN_SECONDS)
    try:
        for _ in range(DRAIN_READS):
            await body.__anext__()
    except StopAsyncIteration:
        pass
    except Exception:  # noqa: BLE001 - as in _drain
        pass
    finally:
        draining.reset(token)
