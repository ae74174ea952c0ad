"""Deadlines and retries: pure policy, with the clock and the randomness given as arguments.

Nothing here touches a socket or sleeps, so every rule is tested with a fake clock: the drivers
in :mod:`jackfield.http._exchange` ask :class:`Deadlines` how long a read may wait and whether
a deadline passed, and ask :class:`RetryPolicy` whether (and after how long) to try again.
"""

from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from jackfield._errors import (
    TIMEOUT_PHASES,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    ServiceConnectionError,
    ServiceTimeoutError,
    TimeoutPhase,
)
from jackfield.http._transport import DeadlineTimeout

__all__ = [
    "RETRY_STATUSES",
    "Deadlines",
    "Retries",
    "RetryPolicy",
    "Timeouts",
    "parse_retry_after",
]

Clock = Callable[[], float]
"""Seconds from any fixed point, never going back (``time.monotonic``)."""


def _seconds(instance: Any, attribute: Any, value: float | None) -> None:
    """A deadline: a finite number of seconds above 0, or ``None`` for no limit."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"{attribute.name} must be a number of seconds above 0, or null for no limit; "
            f"got {value}"
        )


def _wait(instance: Any, attribute: Any, value: float) -> None:
    """A wait: a finite number of seconds, 0 or more."""
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a number of seconds, 0 or more; got {value}")


def _count(instance: Any, attribute: Any, value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be 0 or more; got {value}")


@attrs.frozen
class Timeouts:
    """Deadlines in seconds (``None`` disables one).

    ``connect``: opening the connection. ``first_byte``: from sending the request to the first
    event of the answer (prompt processing and model loading happen here). ``idle``: the
    longest gap between events of a stream; keep-alive comments do not count as events. While
    a server is completely silent after the first event, a read waits at most the larger of
    ``first_byte`` and ``idle``. ``total``: the whole call, retries and their waits included.
    ``keep_alive_is_progress``: count every chunk of bytes as progress, keep-alive comments
    included (for a server that thinks silently for longer than ``idle`` but pings meanwhile).
    """

    connect: float | None = attrs.field(default=10.0, validator=_seconds)
    """Seconds to open the TCP (and TLS) connection; the same limit applies to sending the request
    and to waiting for a free pooled connection. ``None`` waits forever."""
    first_byte: float | None = attrs.field(default=300.0, validator=_seconds)
    """Seconds from sending the request to the first event of the answer (prompt processing and
    model loading happen here); each retry starts it again. ``None`` waits forever."""
    idle: float | None = attrs.field(default=120.0, validator=_seconds)
    """Longest gap in seconds between two events of a streamed answer; keep-alive comments do not
    count as events. ``None``: no limit."""
    total: float | None = attrs.field(default=None, validator=_seconds)
    """Seconds for the whole call, retries and the waits between them included; ``None`` (the
    default): no limit."""
    keep_alive_is_progress: bool = False
    """Count every chunk of bytes as progress for ``idle``, keep-alive comments included: for a
    server that pings while it thinks for longer than ``idle``."""


@attrs.frozen
class Retries:
    """Retrying failed attempts before any byte of the answer arrived.

    Connection errors and HTTP 408, 409, 429 and 5xx are retried up to ``attempts`` times,
    waiting ``backoff * 2**n`` seconds (capped at ``max_backoff``, with jitter), or the
    server's ``Retry-After`` when it gives one (up to ``max_retry_after``). Never retried once
    a stream has started. The total deadline caps attempts and waits together.
    """

    attempts: int = attrs.field(default=2, validator=_count)
    """How many times a failed chat request is retried, so at most ``attempts + 1`` requests are
    sent; ``0`` never retries."""
    backoff: float = attrs.field(default=0.5, validator=_wait)
    """Seconds of the first wait before a retry; retry ``n`` (from 0) waits ``backoff * 2**n``,
    capped at ``max_backoff``, then scaled by a random 50-100%."""
    max_backoff: float = attrs.field(default=8.0, validator=_wait)
    """Upper bound in seconds on one computed backoff wait (before the random scaling)."""
    max_retry_after: float = attrs.field(default=60.0, validator=_wait)
    """Longest ``Retry-After`` in seconds that is waited for; a server asking for longer fails the
    call at once instead of being retried."""


RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt (unless the body blames the request)."""
_REQUEST_ERRORS = (BadRequestError, NotFoundError, AuthenticationError, PermissionDeniedError)


def parse_retry_after(value: str | None, *, now: Clock = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); ``now``
    gives the wall-clock time an HTTP-date is measured from."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²", which str.isdigit also accepts
        return float(value)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def with_retry_after(error: ProviderError, headers: Mapping[str, str]) -> ProviderError:
    """``error`` with ``retry_after`` read from the response headers, if the mapper set none."""
    if error.retry_after is None:
        error.retry_after = parse_retry_after(headers.get("retry-after"))
    return error


class Deadlines:
    """The deadlines of one call, across its attempts and the events of its answer."""

    __slots__ = ("_clock", "_deadline", "_events", "_last", "label", "timeouts")

    def __init__(self, timeouts: Timeouts, label: str, *, clock: Clock = time.monotonic) -> None:
        self.timeouts = timeouts
        self.label = label
        self._clock = clock
        now = clock()
        self._deadline = None if timeouts.total is None else now + timeouts.total
        self._last = now
        self._events = 0

    def remaining(self) -> float | None:
        """Seconds left of the total deadline (``None``: no total deadline)."""
        return None if self._deadline is None else self._deadline - self._clock()

    def _cap(self, value: float | None) -> float | None:
        remaining = self.remaining()
        if remaining is None:
            return value
        remaining = max(remaining, 0.001)
        capped = remaining if value is None else min(value, remaining)
        if self._deadline is not None and self._clock is time.monotonic:
            # Carries the deadline down to each socket operation (see http/_transport.py), so
            # it holds while headers trickle in and between two bytes of a body.
            return DeadlineTimeout(capped, self._deadline)
        return capped

    def passed(self) -> bool:
        """Whether the total deadline has passed (a timeout then is the total's)."""
        remaining = self.remaining()
        return remaining is not None and remaining <= 0.001

    def attempt(self) -> tuple[float | None, float | None]:
        """A new attempt starts (the first-byte wait restarts): the longest it may wait to
        connect (and send, and get a pooled connection) and to read the first byte."""
        self._last = self._clock()
        return self._cap(self.timeouts.connect), self._cap(self.timeouts.first_byte)

    def body_read(self) -> float | None:
        """The longest one read of the answer's body may wait for bytes."""
        first, idle = self.timeouts.first_byte, self.timeouts.idle
        longest = None if first is None or idle is None else max(first, idle)
        return self._cap(longest)

    def check(self, events: int, chunks: int) -> None:
        """Called after each chunk of the body with the events seen so far: raises if the
        first-byte, idle or total deadline passed. Only new events are progress, so a stream
        of keep-alive comments times out."""
        now = self._clock()
        if events != self._events:  # progress: the common case, kept short
            self._events = events
            self._last = now
            if self._deadline is None:
                return
        else:
            limit = self.timeouts.first_byte if events == 0 else self.timeouts.idle
            if limit is not None and now - self._last > limit:
                raise self.timeout("first_byte" if events == 0 else "idle", chunks)
        if self._deadline is not None and now > self._deadline:
            raise self.timeout("total", chunks)

    def timeout(self, phase: TimeoutPhase, chunks: int) -> ServiceTimeoutError:
        """The error for a deadline that passed, naming its phase and limit."""
        limit: Any = {
            "connect": self.timeouts.connect,
            "first_byte": self.timeouts.first_byte,
            "idle": self.timeouts.idle,
            "total": self.timeouts.total,
        }.get(phase)
        return ServiceTimeoutError(
            f"{self.label}: timed out {TIMEOUT_PHASES[phase]} ({phase} timeout {limit}s, "
            f"after {chunks} chunk{'s' if chunks != 1 else ''})",
            phase=phase,
            chunks=chunks,
        )


class RetryPolicy:
    """Whether a failed attempt is retried, and how long to wait first.

    ``random`` returns a number in [0, 1) that scales each backoff between 50 and 100%.
    """

    __slots__ = ("_random", "deadlines", "made", "retries")

    def __init__(
        self,
        retries: Retries,
        deadlines: Deadlines,
        *,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.retries = retries
        self.deadlines = deadlines
        self._random = random
        self.made = 0

    def delay(self, error: ProviderError) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None``: do not retry (the
        error is final, the attempts are spent, or the wait would pass the total deadline)."""
        if self.made >= self.retries.attempts or not retryable(error):
            return None
        wait = min(self.retries.max_backoff, self.retries.backoff * 2.0**self.made)
        wait *= 0.5 + self._random() / 2
        retry_after = error.retry_after
        if retry_after is not None:
            if retry_after > self.retries.max_retry_after:
                return None
            wait = max(wait, float(retry_after))
        remaining = self.deadlines.remaining()
        if remaining is not None and wait >= remaining:
            return None
        self.made += 1
        return wait


def retryable(error: ProviderError) -> bool:
    """Whether a failure before the answer began is worth another attempt: what the answer
    said (``error.retry``), else a connection that failed, a connect timeout, a status of
    :data:`RETRY_STATUSES` — unless its body blamed the request (a 500 typed as
    :class:`~jackfield.BadRequestError` or :class:`~jackfield.NotFoundError`, say), which fails
    the same way every time."""
    if error.retry is not None:
        return error.retry
    if isinstance(error, ServiceConnectionError):
        return True
    if isinstance(error, ServiceTimeoutError):
        return error.phase == "connect"
    return error.status in RETRY_STATUSES and not isinstance(error, _REQUEST_ERRORS)
