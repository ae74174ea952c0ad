"""Multi-request work over HTTP (listing models, probing status): a flow of requests, run
synchronously or asynchronously under one set of deadlines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from jackfield._errors import ConfigError, ServerError
from jackfield.http._clients import Clients
from jackfield.http._drive import (
    abody_of,
    adrive,
    aread_bounded,
    body_of,
    drive,
    foreign,
    mapped,
    read_bounded,
)
from jackfield.http._policy import Deadlines, Timeouts
from jackfield.http._requests import Flow, HTTPRequest, HTTPResult
from jackfield.provider import Operation

__all__ = ["HTTPOperation"]

T = TypeVar("T")
DEFAULT_TIMEOUTS = Timeouts()


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
        error = mapped(exc, self.label, request.url, deadlines, 0, started=False)
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
                    body = read_bounded(body_of(response, self.label), self.max_body)
                    return self._result(response, body, request)
            except foreign() as exc:
                return self._error(exc, request, deadlines)

        return drive(self.flow(), fetch)

    async def arun(self) -> T:
        client = self.clients.async_()
        deadlines = Deadlines(self.timeouts, self.label)

        async def fetch(request: HTTPRequest) -> HTTPResult:
            expired = self._expired(deadlines)
            if expired is not None:
                return expired
            try:
                async with client.stream(**self._stream_args(request, deadlines)) as response:
                    body = await aread_bounded(abody_of(response, self.label), self.max_body)
                    return self._result(response, body, request)
            except foreign() as exc:
                return self._error(exc, request, deadlines)

        return await adrive(self.flow(), fetch)

    def _result(self, response: Any, body: bytes, request: HTTPRequest) -> HTTPResult:
        headers = {k.lower(): v for k, v in response.headers.items()}
        if len(body) > self.max_body:
            error = ServerError(
                f"{self.label}: the response of {request.url} is larger than {self.max_body} bytes",
                status=response.status_code,
            )
            return HTTPResult(response.status_code, headers, b"", error)
        return HTTPResult(response.status_code, headers, body)
