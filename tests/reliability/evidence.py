"""What the reliability tests found, for docs/reliability.md (see conftest.py)."""

from __future__ import annotations

from typing import Any

ROWS: list[dict[str, str]] = []
"""One row per passing test marked ``reliability(area, case, outcome)``."""

FACTS: dict[str, Any] = {}
"""Numbers the tests measured: fuzz examples run, streams held, RSS per round ..."""


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``name`` (fuzz examples, for instance)."""
    FACTS[name] = FACTS.get(name, 0) + n
