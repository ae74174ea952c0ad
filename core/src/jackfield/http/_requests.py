"""What the HTTP kit passes around: requests, results, body parsers, flows."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Protocol, TypeVar

import attrs

from jackfield._errors import ProviderError
from jackfield._fragments import Fragment
from jackfield.http._security import mask_headers

__all__ = [
    "BodyParser",
    "ErrorMapper",
    "Flow",
    "HTTPRequest",
    "HTTPResult",
    "ParserFactory",
    "Reviser",
]

T = TypeVar("T")


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
    ``error``, which the driver raises right after delivering them. ``finished`` says the
    body holds a complete answer (OpenAI's ``[DONE]``, Ollama's ``done`` object): the driver
    stops reading then, calls :meth:`close` and closes the connection, even if the server
    keeps it open or sends more.
    """

    progress: int
    error: ProviderError | None
    finished: bool

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        """Parse more body bytes."""

    def close(self) -> Sequence[Fragment]:
        """The body ended: return the last fragments, or raise (e.g. a truncated stream)."""


class Reviser(Protocol):
    """Adapts a refused chat request, once per refusal it recognises (a provider's learning).

    :meth:`revise` is asked about every failed attempt before the retry policy: it returns the
    request to send instead at once (no backoff, no retry spent), or ``None``. When an answer
    finally comes to a revised request, :meth:`settled` is called, so what made the difference
    can be remembered; if none comes, the first refusal is raised, not what the revision got.
    """

    def revise(self, request: HTTPRequest, error: ProviderError) -> HTTPRequest | None:
        """The request to send instead of ``request``, which ``error`` refused, or ``None``."""

    def settled(self) -> None:
        """A revised request was answered."""


ParserFactory = Callable[[int, Mapping[str, str]], BodyParser]
"""Builds the parser for a successful response from its status and headers."""

ErrorMapper = Callable[[int, Mapping[str, str], bytes], ProviderError]
"""Turns a non-2xx response (status, headers, bounded body) into a taxonomy error."""

Flow = Generator[HTTPRequest, HTTPResult, T]
"""A sans-I/O request flow: yields requests, receives results, returns a value."""
