"""Endpoint pools: several servers of the same models behind one instance.

Sans-I/O and thread-safe: :class:`EndpointPool` only decides (which endpoint a request goes
to, which ones are resting after failures); the exchange does the sending and tells it what
happened. Its clock and random source are passed in, so every rule is tested without waiting.

- **Choosing.** ``"p2c"`` (the default: two endpoints drawn at random, weighted, and the one
  with fewer requests in flight wins), ``"round_robin"``, or ``"weighted"`` (random, in
  proportion to the weights).
- **Affinity.** A request with an affinity key (a session, a conversation) goes to the endpoint
  rendezvous hashing gives that key: the same one every time, so the server's prefix cache for
  that conversation stays warm; when it rests, the key's next choice takes over, and the key
  goes back when it returns. Endpoints that come and go move only their own keys.
- **Resting (circuit breaker).** An endpoint that fails (a connection error, a timeout before
  the answer, a 5xx or 429) rests for a cooldown that doubles with each failure in a row, from
  ``cooldown`` up to ``max_cooldown``; an answer ends the row. When every endpoint rests, the
  one whose rest ends first is tried (half-open) rather than none.
- **Probes** (optional, :mod:`jackfield.http._probe`). A failed health probe rests an endpoint
  as a failed request would, before any request meets it; a healthy one ends its rest early
  (its failures in a row still count, so a server that answers probes but fails requests rests
  longer each time).
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import attrs

from jackfield._secret import Secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield.http._target import KeyHeader

__all__ = [
    "Balance",
    "Endpoint",
    "EndpointPool",
    "EndpointStatus",
    "Route",
    "at_endpoint",
    "endpoint_fault",
]

Balance = Literal["p2c", "round_robin", "weighted"]
"""How a pool chooses an endpoint for a request without an affinity key."""


@attrs.frozen
class Endpoint:
    """One server of a pool: its base URL, its share of the requests, and its own key."""

    url: str
    """The server's base URL, as ``base_url`` would be (``http://10.0.0.2:8080/v1``)."""
    weight: float = 1.0
    """Its share of the requests, relative to the others' (greater than 0)."""
    api_key: Secret | None = None
    """A key for this server alone; unset: the instance's ``api_key``."""


@attrs.frozen
class EndpointStatus:
    """What a pool knows of one endpoint now."""

    url: str
    weight: float
    in_flight: int
    failures: int
    """Failures in a row (0 after an answer)."""
    resting_for: float
    """Seconds until it is chosen again (0: it is chosen)."""
    requests: int
    """Requests sent to it since the pool was made."""
    probe: bool | None = None
    """Whether its last health probe passed (``None``: not probed, no ``probe_interval``)."""


class _State:
    __slots__ = ("endpoint", "failures", "in_flight", "probe", "requests", "until")

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.in_flight = 0
        self.failures = 0
        self.until = 0.0  # resting until this time of the clock
        self.requests = 0
        self.probe: bool | None = None


def _score(key: str, url: str, weight: float) -> float:
    """Weighted rendezvous score of ``url`` for ``key`` (the highest wins)."""
    digest = hashlib.blake2b(f"{key}\x00{url}".encode(), digest_size=8).digest()
    unit = (int.from_bytes(digest, "big") + 1) / (2**64 + 2)  # in (0, 1)
    return -weight / math.log(unit)


class EndpointPool:
    """The endpoints of one instance and their state (see the module docstring)."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        balance: Balance = "p2c",
        cooldown: float = 1.0,
        max_cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("a pool needs at least one endpoint")
        self._states = [_State(e) for e in endpoints]
        self.balance = balance
        self.cooldown, self.max_cooldown = cooldown, max_cooldown
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()
        self._next = 0  # round robin
        self._uniform = len({e.weight for e in endpoints}) == 1  # draws need no weights

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """The endpoints, in the configured order."""
        return tuple(s.endpoint for s in self._states)

    def pick(self, affinity: str | None = None, exclude: Iterable[str] = ()) -> Endpoint | None:
        """The endpoint for the next request (counted as in flight until :meth:`finished`):
        the affinity key's, else the balance's choice, among those not resting and not in
        ``exclude`` (URLs already tried by this request). ``None`` when every endpoint is
        excluded."""
        skip = set(exclude) if exclude else ()
        with self._lock:
            now = self._clock()
            open_ = (
                [s for s in self._states if s.endpoint.url not in skip] if skip else self._states
            )
            if not open_:
                return None
            ready = [s for s in open_ if s.until <= now]
            if not ready:  # every one rests: the one whose rest ends first (half-open)
                chosen = min(open_, key=lambda s: s.until)
            elif affinity is not None:
                chosen = max(
                    ready, key=lambda s: _score(affinity, s.endpoint.url, s.endpoint.weight)
                )
            else:
                chosen = self._balanced(ready)
            chosen.in_flight += 1
            chosen.requests += 1
            return chosen.endpoint

    def _balanced(self, ready: list[_State]) -> _State:
        if len(ready) == 1:
            return ready[0]
        if self.balance == "round_robin":
            self._next += 1
            return ready[self._next % len(ready)]
        if self.balance == "weighted":
            if self._uniform:
                return self._rng.choice(ready)
            return self._rng.choices(ready, [s.endpoint.weight for s in ready])[0]
        if self._uniform:  # two different ones, uniformly (1 µs less than random.sample)
            count, draw = len(ready), self._rng.random
            one, other = int(draw() * count), int(draw() * (count - 1))
            first, second = ready[one], ready[other + (other >= one)]
        else:
            first = self._rng.choices(ready, [s.endpoint.weight for s in ready])[0]
            others = [s for s in ready if s is not first]
            second = self._rng.choices(others, [s.endpoint.weight for s in others])[0]
        # fewer in flight per unit of weight wins
        return min((first, second), key=lambda s: s.in_flight / s.endpoint.weight)

    def finished(self, endpoint: Endpoint, *, failed: bool = False) -> None:
        """A request to ``endpoint`` ended: answered (its failures in a row end), or ``failed``
        (it rests for a cooldown that doubles with each failure in a row)."""
        with self._lock:
            state = self._state(endpoint)
            state.in_flight -= 1
            if not failed:
                state.failures = 0
                return
            self._rest(state)

    def _rest(self, state: _State) -> None:
        state.failures += 1
        rest = min(self.max_cooldown, self.cooldown * 2 ** (state.failures - 1))
        state.until = max(state.until, self._clock() + rest)

    def probed(self, endpoint: Endpoint, healthy: bool) -> None:
        """A health probe of ``endpoint`` passed (``healthy``: its rest, if any, ends; its
        failures in a row still count) or failed (it rests, as after a failed request)."""
        with self._lock:
            state = self._state(endpoint)
            state.probe = healthy
            if healthy:
                state.until = 0.0
            else:
                self._rest(state)

    def answered(self, endpoint: Endpoint) -> None:
        """``endpoint`` answered (its answer may still be streaming): its failures in a row end."""
        with self._lock:
            state = self._state(endpoint)
            state.failures = 0
            state.until = 0.0

    def _state(self, endpoint: Endpoint) -> _State:
        for state in self._states:
            if state.endpoint.url == endpoint.url:
                return state
        raise KeyError(endpoint.url)

    def status(self) -> list[EndpointStatus]:
        """Each endpoint's state now, in the configured order."""
        with self._lock:
            now = self._clock()
            return [
                EndpointStatus(
                    s.endpoint.url,
                    s.endpoint.weight,
                    s.in_flight,
                    s.failures,
                    max(0.0, s.until - now),
                    s.requests,
                    s.probe,
                )
                for s in self._states
            ]


_ENDPOINT_FAULTS = ("ServiceConnectionError", "ServerError", "RateLimitError")


def endpoint_fault(error: BaseException) -> bool:
    """Whether a failure is the endpoint's (another may answer): no connection, a timeout
    before the answer, a 5xx, a 429. A 4xx other than 429 would be the same anywhere."""
    from jackfield._errors import ServiceTimeoutError

    if isinstance(error, ServiceTimeoutError):
        return error.phase in ("connect", "first_byte")
    return any(c.__name__ in _ENDPOINT_FAULTS for c in type(error).__mro__)


def at_endpoint(
    endpoint: Endpoint,
    base: str,
    url: str,
    headers: dict[str, str],
    *,
    label: str = "provider",
    key_header: KeyHeader = "authorization",
) -> tuple[str, dict[str, str]]:
    """A request to ``url`` (under ``base``) made ``endpoint``'s: its URL under the endpoint's,
    its key the endpoint's own when it has one (``headers`` is changed in place then)."""
    if url.startswith(base):
        url = endpoint.url + url[len(base) :]
    if endpoint.api_key is not None:
        from jackfield.http._target import Target

        target = Target(endpoint.url, label=label, key=endpoint.api_key, key_header=key_header)
        for name in [k for k in headers if k.lower() in ("authorization", "x-api-key")]:
            del headers[name]
        headers.update(target.auth_headers(reveal=True))
    return url, headers


class Route:
    """One request's way through a pool: each attempt to the endpoint the pool picks (not one
    this request tried already, while there is another), the request's URL and key made
    that endpoint's; failures noted, so the next attempt can go elsewhere at once."""

    __slots__ = ("affinity", "base", "current", "key_header", "label", "pool", "tried")

    def __init__(
        self,
        pool: EndpointPool,
        base: str,
        *,
        affinity: str | None = None,
        label: str = "provider",
        key_header: KeyHeader = "authorization",
    ) -> None:
        self.pool, self.base, self.affinity = pool, base, affinity
        self.label, self.key_header = label, key_header
        self.current: Endpoint | None = None
        self.tried: list[str] = []

    def send(self, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The URL and headers of the next attempt, at the endpoint picked for it."""
        endpoint = self.pool.pick(self.affinity, self.tried) or self.pool.pick(self.affinity)
        assert endpoint is not None  # a pool is never empty
        self.current = endpoint
        self.tried.append(endpoint.url)
        return at_endpoint(
            endpoint, self.base, url, headers, label=self.label, key_header=self.key_header
        )

    def failed(self, error: BaseException) -> bool:
        """The attempt failed with ``error``: whether to send to another endpoint at once (the
        endpoint's fault, ``error.retry`` not false, and one this request has not tried is
        there)."""
        endpoint, self.current = self.current, None
        if endpoint is None:
            return False
        fault = endpoint_fault(error)
        self.pool.finished(endpoint, failed=fault)
        # retry False: the answer had begun (bytes of a status line came), or the request
        # itself makes the server fail; sent again anywhere it could run twice, or fail again.
        again = getattr(error, "retry", None) is not False
        return fault and again and len(set(self.tried)) < len(self.pool.endpoints)

    def answered(self) -> None:
        """The attempt was answered: its endpoint's failures in a row end."""
        if self.current is not None:
            self.pool.answered(self.current)

    def closed(self) -> None:
        """The request ended (its answer read, or abandoned): no longer in flight."""
        endpoint, self.current = self.current, None
        if endpoint is not None:
            self.pool.finished(endpoint)
