"""Active health probes of a pool's endpoints (the ``probe_interval`` option).

A :class:`Prober` asks each endpoint of an :class:`~jackfield.http.EndpointPool` whether it
is healthy, every ``interval`` seconds (give or take a tenth, so many clients do not probe in
step), in one background thread, and tells the pool (:meth:`EndpointPool.probed`): a dead or
loading server rests before a request meets it, and one that came back is used again before
its rest would have ended. Asking is the provider's business (``check``: one GET of the
server's health path); this module only keeps the time.

The thread is a daemon that holds the prober only weakly: it ends when :meth:`Prober.stop` is
called (the provider's ``close``), or when the prober is garbage collected. A forked child
probes from a thread of its own.
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Callable

from jackfield.http._pool import Endpoint, EndpointPool
from jackfield.http._transport import on_fork

__all__ = ["Prober"]


class Prober:
    """Probes each endpoint of ``pool`` every ``interval`` seconds with ``check(endpoint)``
    (true: healthy; an exception counts as unhealthy), once :meth:`start` is called."""

    def __init__(
        self,
        pool: EndpointPool,
        check: Callable[[Endpoint], bool],
        interval: float,
        *,
        name: str = "provider",
    ) -> None:
        self.pool, self.check, self.interval, self.name = pool, check, interval, name
        self.rounds = 0
        """Rounds of probes done (each endpoint once per round)."""
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def probe(self) -> None:
        """Probe each endpoint once, now, and tell the pool."""
        for endpoint in self.pool.endpoints:
            if self._stopped.is_set():
                return
            try:
                healthy = bool(self.check(endpoint))
            except Exception:  # noqa: BLE001 - the thread goes on; a probe that cannot ask fails
                healthy = False
            self.pool.probed(endpoint, healthy)
        self.rounds += 1

    def start(self) -> None:
        """Probe now, then every ``interval`` seconds, in a daemon thread (once)."""
        if self._thread is not None:
            return
        stopped = self._stopped
        self._thread = threading.Thread(
            target=_loop,
            args=(weakref.ref(self), stopped, self.interval),
            name=f"jackfield-probe-{self.name}",
            daemon=True,
        )
        weakref.finalize(self, stopped.set)
        on_fork(self)
        self._thread.start()

    def forked(self) -> None:
        """In a forked child, where the parent's thread is not: probe from a thread of its own
        (if the parent's was probing)."""
        if self._thread is None or self._stopped.is_set():
            return
        self._thread = None
        self._stopped = threading.Event()
        self.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop probing; wait up to ``timeout`` seconds for a probe under way to end."""
        self._stopped.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


def _loop(ref: weakref.ref[Prober], stopped: threading.Event, interval: float) -> None:
    jitter = random.Random()
    while not stopped.is_set():
        prober = ref()
        if prober is None:
            return
        prober.probe()
        del prober  # not held while waiting: a forgotten prober is collected, and stops
        stopped.wait(interval * jitter.uniform(0.9, 1.1))
