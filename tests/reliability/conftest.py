"""Reliability tests: every fault and hostile input leaves nothing behind, and says so.

Each test carries ``@pytest.mark.reliability(area, case, outcome)``: what was tried and the
typed outcome. Passing tests become rows of docs/reliability.md (``nox -s soak`` writes it
from $JACKFIELD_RELIABILITY_FILE; dev/docs/reliability_page.py renders it). Tests add numbers
(fuzz examples run, streams held) through :data:`evidence.FACTS`.

Every test here is checked for leaks: after it, this process has no more open file
descriptors (sockets included) and no more threads than before it.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import evidence
from tests.reliability.resources import open_fds


def _threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.ident is not None}


@pytest.fixture(autouse=True)
def no_leaks() -> Any:
    """Fail the test if it leaves open file descriptors or threads behind."""
    if not os.path.isdir("/proc/self/fd"):  # pragma: no cover - Linux has it
        yield
        return
    gc.collect()
    fds, threads = open_fds(), _threads()
    yield
    deadline = time.monotonic() + 3.0  # threads and sockets of stopped servers wind down
    while True:
        gc.collect()
        extra_fds = {k: v for k, v in open_fds().items() if fds.get(k) != v}
        extra_threads = _threads() - threads
        if (not extra_fds and not extra_threads) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra_fds, f"file descriptors left open: {sorted(extra_fds.values())}"
    assert not extra_threads, f"threads left running: {len(extra_threads)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed:
        for mark in item.iter_markers("reliability"):
            area, case, result = mark.args
            evidence.ROWS.append(
                {"area": area, "case": case, "outcome": result, "test": item.nodeid}
            )


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("JACKFIELD_RELIABILITY_FILE")
    if target:
        Path(target).write_text(
            json.dumps({"rows": evidence.ROWS, "facts": evidence.FACTS}, indent=1),
            encoding="utf-8",
        )
