"""Connection pools: one sync client and one async client per event loop, built on first use.

httpx is imported when the first client is built, never before: options classes and the
configuration check import this package without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from jackfield._errors import ConfigError
from jackfield.http._transport import on_fork

if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = ["Clients"]

_SHARED_SSL: dict[str, ssl.SSLContext] = {}


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """One verified context per CA bundle, built once per process and shared."""
    import ssl

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


def _no_cookies() -> Any:
    """A cookie jar that keeps nothing: what a server sets is never stored, so it cannot grow
    without bound or follow requests around."""
    from http.cookiejar import CookieJar, DefaultCookiePolicy

    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _plain_context() -> ssl.SSLContext:
    """For plain-http servers: cheap to build, and it verifies against no CA at all, so a
    redirect to https fails closed instead of going out unverified."""
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


async def _closing(
    client: httpx.AsyncClient, forget: Callable[[], object]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        forget()
        await client.aclose()


def _closer(client: httpx.AsyncClient, forget: Callable[[], object]) -> AsyncGenerator[None, None]:
    """An async generator that closes ``client`` (after calling ``forget``) when it is closed,
    started in the running loop: the loop closes its started generators before it ends
    (``asyncio.run`` does), so an async pool is closed in its own loop even when nobody calls
    ``aclose``."""
    closer = _closing(client, forget)
    step: Any = closer.__anext__()  # the loop's first-iteration hook makes it the loop's
    with contextlib.suppress(StopIteration):  # it runs to its first yield at once
        step.send(None)
    return closer


class Clients:
    """The connection pools of one provider instance: one sync client, one async per loop.

    ``https`` says whether a TLS context is needed (it is built once per process and shared);
    ``trust_env`` lets httpx read proxy settings from the environment (off for loopback);
    ``transport`` / ``async_transport`` replace the network (tests, recorded transcripts).

    Every connection obeys the calls' total deadlines (:func:`._guarded.guard`); the pools
    ask for gzip or deflate alone (what :func:`._transport.decoded` reads within a bound) and
    keep no cookies. A forked child drops the parent's pools (its sockets are the parent's);
    an async pool whose event loop has closed has its sockets closed; a response a finaliser
    could not close is closed at the next use of the pools.
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
        endpoints: Sequence[str] = (),
    ) -> None:
        self._transport = transport
        self._endpoints = tuple(endpoints)
        self._async_transport = async_transport
        self._https = https
        self._verify = verify
        self._trust_env = trust_env
        self._max_connections = max_connections
        self.forked()
        on_fork(self)

    def forked(self) -> None:
        """Start without pools (at construction, and in a forked child, where the parent's are
        not this process's to use or to close)."""
        self._sync: httpx.Client | None = None
        self._async: dict[asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, Any]] = {}
        self._lock = threading.Lock()  # threads racing to build the sync pool build one
        self.bodies: set[Any] = set()
        """The iterators of the bodies being read by sync streams."""
        self.deferred: list[tuple[Any, Any]] = []
        """Responses a finaliser left open (closing there could deadlock), each with the
        iterator of its body still held: closed at the pools' next use."""

    def _options(self) -> dict[str, Any]:
        import httpx

        return {
            "verify": _ssl_context(self._verify) if self._https else _plain_context(),
            "trust_env": self._trust_env,
            "follow_redirects": False,
            "timeout": None,
            "headers": {"Accept-Encoding": "gzip, deflate"},
            "cookies": _no_cookies(),
            "limits": httpx.Limits(
                max_connections=self._max_connections, max_keepalive_connections=100
            ),
        }

    def _build(self, make: Any, transport: Any) -> Any:
        options = self._options()
        if len(self._endpoints) > 1 and transport is None and not self._trust_env:
            import httpx

            # One connection pool per endpoint of an endpoint pool: httpcore looks at every
            # connection of its pool (a poll() each) when a request starts and when it ends.
            # Each with the TLS context of its own scheme (a pool may mix http and https).
            kind = httpx.HTTPTransport if make is httpx.Client else httpx.AsyncHTTPTransport
            mounts = {}
            for url in self._endpoints:
                parsed = httpx.URL(url)
                https = parsed.scheme == "https"
                verify = _ssl_context(self._verify) if https else _plain_context()
                pattern = f"all://{parsed.netloc.decode('ascii')}"
                mounts[pattern] = kind(verify=verify, limits=options["limits"])
            options["mounts"] = mounts
        try:
            client = make(transport=transport, **options)
        except ImportError as exc:  # a SOCKS proxy in the environment, say, without socksio
            raise ConfigError(
                f"a proxy from the environment needs a package that is not installed ({exc}); "
                "install it (for SOCKS: pip install 'httpx[socks]'), or unset the proxy "
                "variable for this host (NO_PROXY)"
            ) from None
        from jackfield.http._guarded import guard

        guard(client)
        return client

    def sync(self) -> httpx.Client:
        """The synchronous client, built on first use."""
        if self.deferred:
            self._close_deferred()
        client = self._sync
        if client is None:
            import httpx

            with self._lock:
                client = self._sync
                if client is None:
                    client = self._build(httpx.Client, self._transport)
                    self._sync = client
        return client

    def async_(self) -> httpx.AsyncClient:
        """The async client of the running event loop, built on first use in that loop (the
        sockets of pools whose loop has closed are closed then)."""
        import httpx

        if self.deferred:
            self._close_deferred()
        loop = asyncio.get_running_loop()
        held = self._async.get(loop)
        if held is None:
            self._abandon_closed_loops()
            client = self._build(httpx.AsyncClient, self._async_transport)
            forget = functools.partial(self._async.pop, loop, None)
            held = self._async[loop] = (client, _closer(client, forget))
        return held[0]

    def _abandon_closed_loops(self) -> None:
        closed = [loop for loop in self._async if loop.is_closed()]
        if closed:
            from jackfield.http._guarded import abandon

            for loop in closed:
                abandon(self._async.pop(loop)[0])

    def _close_deferred(self) -> None:
        while self.deferred:
            response, body = self.deferred.pop()
            response.close()
            self.bodies.discard(body)  # finalised here, out of any finaliser

    def close(self) -> None:
        """Close the sync pool, and the sockets of async pools whose loop has closed (a pool
        whose loop still runs closes with :meth:`aclose` in that loop)."""
        with self._lock:
            client, self._sync = self._sync, None
        self._close_deferred()
        if client is not None:
            client.close()
        self._abandon_closed_loops()

    async def aclose(self) -> None:
        """Close every pool this loop can close."""
        self.close()
        loop = asyncio.get_running_loop()
        held = self._async.pop(loop, None)
        if held is not None:
            await held[1].aclose()  # closes the client
