"""Connection pools: one sync client and one async client per event loop, built on first use.

httpx is imported when the first client is built, never before: options classes and the
configuration check import this package without it.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import TYPE_CHECKING, Any

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


def _plain_context() -> ssl.SSLContext:
    """For plain-http servers: cheap to build, and it verifies against no CA at all, so a
    redirect to https fails closed instead of going out unverified."""
    import ssl

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
