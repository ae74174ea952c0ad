"""Recorded HTTP responses replayed through the real transport and parsers.

A transcript is a raw HTTP/1.1 response as a server sent it (status line, headers, blank line,
body bytes to EOF; the body not chunk-encoded). :class:`ReplayTransport` serves it to httpx,
cut into whatever pieces a test chooses, optionally with pauses, so the provider's real SSE
decoder and assembler run exactly as they would on a socket::

    transcript = Transcript.load("vllm-tool-calls.http")
    transport = ReplayTransport(transcript, chunks=transcript.split([10, 57]))
    provider = OpenAIProvider.from_options({...}, transport=transport)

Requires httpx (``jackfield[http]``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import attrs
import httpx

__all__ = ["ReplayTransport", "Transcript"]


@attrs.frozen
class Transcript:
    """One recorded response."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def parse(cls, raw: bytes) -> Transcript:
        """Read ``HTTP/1.1 200 OK\\r\\nname: value\\r\\n...\\r\\n\\r\\n<body>``."""
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a transcript needs a blank line (CRLF CRLF) after the headers")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError(f"not an HTTP status line: {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"not a header line: {line!r}")
            headers.append((name.strip().lower(), value.strip()))
        return cls(int(parts[1]), tuple(headers), body)

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        """Read a transcript file."""
        return cls.parse(Path(path).read_bytes())

    def split(self, cuts: Sequence[int]) -> list[bytes]:
        """The body cut at the given offsets (out-of-range offsets are clamped)."""
        points = sorted({max(0, min(c, len(self.body))) for c in cuts})
        pieces, start = [], 0
        for point in points:
            pieces.append(self.body[start:point])
            start = point
        pieces.append(self.body[start:])
        return [p for p in pieces if p]


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, chunks: Sequence[bytes], pause: float) -> None:
        self._chunks = chunks
        self._pause = pause
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if self._pause:
                time.sleep(self._pause)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            await asyncio.sleep(self._pause)
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class ReplayTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) answering every request with transcripts in turn.

    ``chunks`` cuts the body (default: one piece); ``pause`` sleeps between pieces. The
    requests it received are kept in ``requests``; the bodies it served in ``bodies``.
    """

    def __init__(
        self,
        *transcripts: Transcript,
        chunks: Sequence[bytes] | None = None,
        pause: float = 0.0,
    ) -> None:
        if not transcripts:
            raise ValueError("ReplayTransport needs at least one transcript")
        self.transcripts = transcripts
        self.chunks = chunks
        self.pause = pause
        self.requests: list[httpx.Request] = []
        self.bodies: list[_Body] = []

    def _response(self, request: httpx.Request) -> httpx.Response:
        request.read()
        transcript = self.transcripts[min(len(self.requests), len(self.transcripts) - 1)]
        self.requests.append(request)
        chunks = self.chunks if self.chunks is not None else [transcript.body]
        body = _Body(chunks, self.pause)
        self.bodies.append(body)
        return httpx.Response(
            transcript.status, headers=list(transcript.headers), stream=body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer the next request with the transcript's response (httpx's transport API)."""
        return self._response(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The same for an async client."""
        return self._response(request)
