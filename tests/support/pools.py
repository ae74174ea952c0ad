"""A pool of made-up endpoints on a clock the test moves (for the pool's rules)."""

from __future__ import annotations

import random
from typing import Any

from jackfield.http import Endpoint, EndpointPool


class Clock:
    """A monotonic clock that moves only when the test says (``clock.now += 1``)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pool_of(n: int, **kwargs: Any) -> tuple[EndpointPool, Clock]:
    """A pool of ``n`` endpoints (``http://10.0.0.<i>:8080/v1``), seeded, on its own clock."""
    clock = Clock()
    urls = [Endpoint(f"http://10.0.0.{i}:8080/v1") for i in range(n)]
    return EndpointPool(urls, clock=clock, rng=random.Random(7), **kwargs), clock
