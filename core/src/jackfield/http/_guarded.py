"""httpcore network streams that obey :class:`~jackfield.http._transport.DeadlineTimeout`
(see :mod:`jackfield.http._transport`); imported when the first pool is built."""

from __future__ import annotations

import weakref
from typing import Any

import httpcore

from jackfield.http._transport import answer_began, clamp

__all__ = ["AsyncBackend", "AsyncStream", "Backend", "Stream", "abandon", "guard", "install"]


def guard(client: Any) -> None:
    """Make every connection ``client`` (an httpx client) opens obey :class:`DeadlineTimeout`;
    transports that are not httpx's own (tests, recorded transcripts) are left as they are."""
    for transport in (client._transport, *client._mounts.values()):
        install(getattr(transport, "_pool", None))


def abandon(client: Any) -> None:
    """Close the sockets of an async client whose event loop is gone (``asyncio.run`` per
    call): it can no longer be closed the async way, and would hold its sockets until the
    collector found it."""
    for transport in (client._transport, *client._mounts.values()):
        backend = getattr(getattr(transport, "_pool", None), "_network_backend", None)
        for stream in list(getattr(backend, "streams", ())):
            sock = stream.get_extra_info("socket")  # asyncio's wrapper of the socket
            raw = getattr(sock, "_sock", sock)
            if raw is not None:
                raw.close()  # the fd is released; closing it again later does nothing


def install(pool: Any) -> None:
    """Wrap the network backend of an httpcore pool (or proxy), if it has httpcore's own."""
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, (Backend, AsyncBackend)):
        return
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = Backend(backend)
    elif isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = AsyncBackend(backend)


class Stream(httpcore.NetworkStream):
    """A connection whose every operation waits at most until the call's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._waiting = False  # a request was written, no byte of its answer read yet

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._stream.read(max_bytes, clamp(timeout))
        if self._waiting and data:
            self._waiting = False
            answer_began.set(True)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not self._waiting:
            self._waiting = True
            answer_began.set(False)
        self._stream.write(buffer, clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return Stream(self._stream.start_tls(ssl_context, server_hostname, clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class Backend(httpcore.NetworkBackend):
    """httpcore's backend, its connections guarded."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, clamp(timeout), local_address, socket_options
        )
        return Stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return Stream(self._backend.connect_unix_socket(path, clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class AsyncStream(httpcore.AsyncNetworkStream):
    """The async guarded connection."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._waiting = False  # as in Stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._stream.read(max_bytes, clamp(timeout))
        if self._waiting and data:
            self._waiting = False
            answer_began.set(True)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not self._waiting:
            self._waiting = True
            answer_began.set(False)
        await self._stream.write(buffer, clamp(timeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._stream.start_tls(ssl_context, server_hostname, clamp(timeout))
        return AsyncStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class AsyncBackend(httpcore.AsyncNetworkBackend):
    """httpcore's async backend, its connections guarded and known (``streams``), so their
    sockets can be closed when their event loop is gone."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend
        self.streams: weakref.WeakSet[AsyncStream] = weakref.WeakSet()

    def _keep(self, stream: httpcore.AsyncNetworkStream) -> AsyncStream:
        guarded = AsyncStream(stream)
        self.streams.add(guarded)
        return guarded

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, clamp(timeout), local_address, socket_options
        )
        return self._keep(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, clamp(timeout), socket_options)
        return self._keep(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)
