"""Real llama.cpp replicas for the pool and router tests: each server behind a byte relay (a
tap) that records which server got which request (a ``REQ-<n>`` marker in its prompt), when
its answer began and what it said, and that can be cut like a dead server's sockets."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from jackfield_llamacpp.server import LlamaServer
from tests.compat.conftest import TEMPLATES

MARK = re.compile(rb"REQ-(\d+)")
ASK = {"max_tokens": 16, "temperature": 0}


def prompt(number: int) -> str:
    return f"REQ-{number}: write a short line about the number {number}."


# taps -----------------------------------------------------------------------------------------


@attrs.define(eq=False)
class Seen:
    """One request as a tap saw it."""

    request: int
    server: int
    sent_at: float
    """When its marker passed the tap."""
    first_byte: float | None = None
    """When the server's answer began (None: it never did)."""
    answer: bytearray = attrs.field(factory=bytearray)
    """The server's answer, as sent (status line, headers, body)."""


@attrs.define(eq=False)
class _Link:
    """One client connection through a tap; its requests come one after another."""

    lock: threading.Lock = attrs.field(factory=threading.Lock)
    upload: bytearray = attrs.field(factory=bytearray)
    current: Seen | None = None
    answering: bool = False


def _close(sock: socket.socket, *, reset: bool = False) -> None:
    with contextlib.suppress(OSError):
        if reset:  # a TCP RST, as the kernel sends for a dead process with unread data
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # Wake the relay's other thread blocked reading it: while a thread is in recv(),
            # close() releases nothing, and no RST would go (its client would wait forever).
            sock.shutdown(socket.SHUT_RD)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class Tap:
    """A byte relay in front of one server, noting what passes (see the module docstring)."""

    def __init__(self, index: int, upstream: int) -> None:
        self.index = index
        self.upstream = upstream
        self.seen: list[Seen] = []
        self.port = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.open(upstream)

    def open(self, upstream: int) -> None:
        """Listen (on the same port as before, if there was one), relaying to ``upstream``."""
        self.upstream = upstream
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            sockets, self._sockets = set(self._sockets), set()
        for sock in sockets:
            _close(sock)

    def requests(self) -> list[int]:
        """The requests that reached the server, in order."""
        with self._lock:
            return [s.request for s in self.seen]

    def waiting(self) -> list[Seen]:
        """The requests whose answer has not begun."""
        with self._lock:
            return [s for s in self.seen if s.first_byte is None]

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                _close(client, reset=True)
                continue
            upstream.settimeout(None)
            with self._lock:
                cut = self._listener is not listener  # cut while this one was being linked
                if not cut:
                    self._sockets |= {client, upstream}
            if cut:
                _close(client, reset=True)
                _close(upstream)
                return
            link = _Link()
            for target in (self._up, self._down):
                threading.Thread(target=target, args=(client, upstream, link), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket, link: _Link) -> None:
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(upstream)
                _close(client)
                return
            with link.lock:
                if link.answering:  # a new request on a kept-alive connection
                    link.answering, link.current = False, None
                    link.upload.clear()
                link.upload += data
                if link.current is None and (match := MARK.search(link.upload)):
                    link.current = Seen(int(match[1]), self.index, time.monotonic())
                    with self._lock:
                        self.seen.append(link.current)
            try:
                upstream.sendall(data)
            except OSError:
                _close(client, reset=True)
                return

    def _down(self, client: socket.socket, upstream: socket.socket, link: _Link) -> None:
        while True:
            reset = False
            try:
                data = upstream.recv(65536)
            except ConnectionResetError:
                data, reset = b"", True
            except OSError:
                data = b""
            if not data:
                _close(client, reset=reset)
                _close(upstream)
                return
            with link.lock:
                link.answering = True
                seen = link.current
                if seen is not None:
                    if seen.first_byte is None:
                        seen.first_byte = time.monotonic()
                    seen.answer += data
            try:
                client.sendall(data)
            except OSError:
                _close(upstream)
                return


def answer_text(raw: bytes) -> str:
    """The message text of a non-streamed chat answer as the server sent it."""
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out = bytearray()
        while body:
            size, _, rest = body.partition(b"\r\n")
            length = int(size.split(b";")[0], 16)
            if not length:
                break
            out += rest[:length]
            body = rest[length + 2 :]
        body = bytes(out)
    text: str = json.loads(body)["choices"][0]["message"]["content"]
    return text


# servers --------------------------------------------------------------------------------------

SETTINGS: dict[str, Any] = {
    "slots": 2,
    "context": 512,
    "threads": 1,
    # ChatML: the packaged model then runs on until max_tokens, so each answer takes a while
    "chat_template": (TEMPLATES / "chatml.jinja").read_text(),
}


@attrs.define(eq=False)
class Replica:
    """A llama.cpp server behind its tap; the tap's address is the one the pool knows."""

    server: LlamaServer
    tap: Tap
    alive: bool = True
    killed_at: float | None = None
    gone_after: float | None = None
    """Seconds from the kill until the process was gone."""

    @property
    def index(self) -> int:
        return self.tap.index

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.tap.port}/v1"

    def kill(self) -> float:
        """SIGKILL the server, refuse connections; the time it happened."""
        process = self.server.process
        assert process is not None
        self.killed_at = time.monotonic()
        process.kill()
        process.wait(timeout=10)
        self.gone_after = time.monotonic() - self.killed_at
        self.tap.cut()
        self.server.stop()  # its log file
        self.alive = False
        return self.killed_at

    def revive(self) -> None:
        """A new server behind the same address."""
        if self.alive:
            return
        self.server = LlamaServer(**SETTINGS).start()
        self.tap.open(self.server.port)
        self.alive, self.killed_at = True, None


def started_replicas() -> Iterator[list[Replica]]:
    """Three replicas started at once, stopped when the generator ends (a module fixture's
    body: ``yield from started_replicas()``)."""
    servers = [LlamaServer(**SETTINGS) for _ in range(3)]
    made: list[Replica] = []
    try:
        with ThreadPoolExecutor(3) as starting:
            list(starting.map(LlamaServer.start, servers))
        made += [Replica(s, Tap(i, s.port)) for i, s in enumerate(servers)]
        yield made
    finally:
        for replica in made:
            replica.tap.cut()
            replica.server.stop()
        for server in servers:
            server.stop()
