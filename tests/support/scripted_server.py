"""A small HTTP/1.1 server on 127.0.0.1 that answers each request from a script.

It runs an asyncio loop in a background thread, so sync and async clients can talk to it over
real sockets. Each reply can delay its headers, send its body in chunks with pauses between
them (chunked transfer encoding by default), and end cleanly, close the connection, or reset
it. The server records every request, and notices when a client goes away mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs


@attrs.frozen
class Pause:
    """Wait this many seconds before the next body piece."""

    seconds: float


@attrs.define
class Reply:
    """How to answer one request.

    ``body`` pieces are bytes (each sent as one HTTP chunk) or :class:`Pause`. ``end`` is
    ``"done"`` (the terminating chunk), ``"close"`` (close the connection without it: an
    incomplete chunked body) or ``"reset"`` (abort the TCP connection).
    """

    status: int = 200
    headers: dict[str, str] = attrs.field(factory=lambda: {"content-type": "text/event-stream"})
    body: Sequence[bytes | Pause] = ()
    header_delay: float = 0.0
    chunked: bool = True
    end: str = "done"
    reset_before_headers: bool = False


@attrs.define
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Script = Sequence[Reply] | Callable[[Received], Reply]


class ScriptedServer:
    """Serve ``script`` (replies in order, the last one repeating, or a function of the request)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Received] = []
        self.disconnects: list[int] = []  # body pieces sent when a client went away
        self.completed = 0
        self.open_connections = 0
        self.accepted = 0  # connections accepted in all
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> ScriptedServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll until ``condition()`` holds (server state changes on its own thread)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.01)
        return condition()

    # serving -------------------------------------------------------------------------------

    def _reply_for(self, received: Received) -> Reply:
        if callable(self.script):
            return self.script(received)
        index = min(len(self.requests) - 1, len(self.script) - 1)
        return self.script[index]

    async def _read_request(self, reader: asyncio.StreamReader) -> Received | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return Received(method, path, headers, body)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        self.accepted += 1
        try:
            while True:
                received = await self._read_request(reader)
                if received is None:
                    return
                self.requests.append(received)
                reply = self._reply_for(received)
                if not await self._send(reply, reader, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self.open_connections -= 1
            with contextlib.suppress(Exception):
                writer.close()

    async def _send(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Send one reply; False when the connection is finished with."""
        if reply.reset_before_headers:
            _reset(writer)
            return False
        if reply.header_delay:
            await asyncio.sleep(reply.header_delay)
        head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        pieces = [p for p in reply.body if isinstance(p, bytes)]
        if reply.chunked:
            head.append("transfer-encoding: chunked")
        else:
            head.append(f"content-length: {sum(map(len, pieces))}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        sent = 0
        try:
            await writer.drain()
            for piece in reply.body:
                if isinstance(piece, Pause):
                    await asyncio.sleep(piece.seconds)
                    continue
                if reader.at_eof() or writer.transport.is_closing():
                    raise ConnectionResetError  # the client went away
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if reply.chunked else piece)
                await writer.drain()
                sent += 1
            if reply.end == "reset":
                _reset(writer)
                return False
            if reply.end == "close":
                writer.close()
                return False
            if reply.chunked:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            self.disconnects.append(sent)
            return False
        self.completed += 1
        return True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort with a TCP RST (linger 0), as a crashing server or proxy would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def sse(*payloads: Any, done: bool = True) -> list[bytes]:
    """Body pieces for a chat stream: each payload (dict or str) as one ``data:`` event."""
    import json

    pieces = [
        b"data: "
        + (p if isinstance(p, bytes) else (p if isinstance(p, str) else json.dumps(p)).encode())
        + b"\n\n"
        for p in payloads
    ]
    if done:
        pieces.append(b"data: [DONE]\n\n")
    return pieces


@contextlib.contextmanager
def serving(script: Script) -> Iterator[ScriptedServer]:
    """``with serving([...]) as server:`` — always stopped, also when the test fails."""
    server = ScriptedServer(script).start()
    try:
        yield server
    finally:
        server.stop()
