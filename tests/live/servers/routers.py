"""The routers suite (``tests/live/test_routers.py``): LiteLLM's proxy, vllm-router and
sglang-router in front of three llama.cpp servers, which that file starts itself. It has no
single server, so the checks every server runs do not apply: ``nox -s live-routers`` runs that
file alone."""

from __future__ import annotations

from collections.abc import Iterator

from tests.live.servers import Live

SERVER = "routers"
NOT_APPLICABLE: dict[str, str] = {}


def serve() -> Iterator[Live]:
    raise RuntimeError(
        "the routers suite has no single server for the shared checks: run "
        "tests/live/test_routers.py alone (nox -s live-routers)"
    )
