"""One chat call over HTTP: a request streamed into fragments, synchronously or asynchronously.

:class:`HTTPExchange` runs its attempts with the loop of :mod:`._drive` until one answers, then
reads the answer's body chunk by chunk into the call's sans-I/O :class:`BodyParser`, checking
the deadlines after each. No attempt is made again once the answer has begun: the model would
generate twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from jackfield._errors import ProviderError
from jackfield._fragments import Fragment
from jackfield.http._clients import Clients
from jackfield.http._drive import (
    MAX_ERROR_BODY,
    SEND,
    ReadError,
    Sleep,
    Step,
    adrive,
    answered,
    aread_bounded,
    attempts,
    drive,
    foreign,
    mapped,
    plain_stream,
    read_bounded,
)
from jackfield.http._policy import Deadlines, Retries, RetryPolicy, Timeouts, with_retry_after
from jackfield.http._requests import BodyParser, ErrorMapper, HTTPRequest, ParserFactory, Reviser
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

    def _loop(self, deadlines: Deadlines, first: Any) -> Generator[Step, Any, Any]:
        revise = self._revise if self.reviser is not None else None
        return attempts(RetryPolicy(self.retries, deadlines), self._on_error, first, revise)

    def _revise(self, error: ProviderError) -> bool:
        assert self.reviser is not None
        revised = self.reviser.revise(self.request, error)
        if revised is None:
            return False
        self.request, self.revised = revised, True
        return True

    def _answered(self, response: Any) -> None:
        self._response = response
        if self.revised:
            assert self.reviser is not None
            self.reviser.settled()

    def _failed(self, exc: Exception, deadlines: Deadlines, chunks: int, *, started: bool) -> Any:
        error = mapped(exc, self.label, self.request.url, deadlines, chunks, started=started)
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
                return read_bounded(step.response.iter_bytes(), MAX_ERROR_BODY)[:MAX_ERROR_BODY]
            except foreign():
                return b""
            finally:
                step.response.close()
        assert isinstance(step, Sleep)
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
        chunks = 0
        try:
            parser = self._parser(response, deadlines)
            body = (
                cast("Iterable[bytes]", response.stream)
                if plain_stream(response)
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
        except foreign() as exc:
            raise self._failed(exc, deadlines, chunks, started=True) from exc
        finally:
            response.close()

    def close(self) -> None:
        if self._response is not None:
            self._response.close()

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
                body = await aread_bounded(step.response.aiter_bytes(), MAX_ERROR_BODY)
                return body[:MAX_ERROR_BODY]
            except foreign():
                return b""
            finally:
                await step.response.aclose()
        assert isinstance(step, Sleep)
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
        chunks = 0
        try:
            parser = self._parser(response, deadlines)
            body = (
                cast("AsyncIterable[bytes]", response.stream)
                if plain_stream(response)
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
        except foreign() as exc:
            raise self._failed(exc, deadlines, chunks, started=True) from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()
