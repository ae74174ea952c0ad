"""Live suites: the OpenAI-compatible provider against a real server installed from the
package registries and started on 127.0.0.1 (opt-in: ``nox -s live-<server>``).

``$JACKFIELD_LIVE`` names the server; ``tests/live/servers/<name>.py`` starts it
(``serve()``), says which column of docs/compatibility.md it is (``SERVER``) and which features
it cannot have, with the reason (``NOT_APPLICABLE``). The checks in
``test_openai_compatible.py`` run against every server; ``test_<name>.py`` holds a server's
own. Each check names the features it proves (``@feature(...)``); a passing check is evidence
for those cells, and the features a server cannot have are written down as n/a with their
reason instead of being tried.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import jackfield
from tests.conftest import record_evidence
from tests.live.servers import Live

NAME = os.environ.get("JACKFIELD_LIVE", "")


def server_module() -> ModuleType:
    if not NAME:
        raise pytest.UsageError("set JACKFIELD_LIVE to the server to run (nox -s live-<server>)")
    return importlib.import_module(f"tests.live.servers.{NAME.replace('-', '_')}")


def feature(*names: str) -> Callable[[Any], Any]:
    """The features of docs/compatibility.md a check proves when it passes."""

    def mark(test: Any) -> Any:
        return pytest.mark.live_feature(*names)(test)

    return mark


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live_feature(*names): features a live check proves")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    module = server_module()
    server = module.SERVER
    lacking: dict[str, str] = dict(getattr(module, "NOT_APPLICABLE", {}))
    elsewhere: dict[str, str] = dict(getattr(module, "ELSEWHERE", {}))
    elsewhere.update(getattr(module, "UNVERIFIED", {}))
    keep, drop = [], []
    for item in items:
        own = item.path.name.removeprefix("test_").removesuffix(".py")
        if own not in ("openai_compatible", NAME.replace("-", "_")):
            drop.append(item)  # another server's own checks
            continue
        names = [n for mark in item.iter_markers("live_feature") for n in mark.args]
        if names and all(n in lacking or n in elsewhere for n in names):
            drop.append(item)  # n/a (written down below), proven elsewhere, or unverifiable
            continue
        for name in names:
            if name not in lacking:
                item.add_marker(pytest.mark.covers(server, name, "live"))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    for name, reason in lacking.items():
        record_evidence({"server": server, "feature": name, "how": "n/a", "reason": reason})


def pytest_terminal_summary(terminalreporter: Any) -> None:
    module = server_module()
    for title, table in (
        ("n/a", getattr(module, "NOT_APPLICABLE", {})),
        ("proven elsewhere", getattr(module, "ELSEWHERE", {})),
        ("not tried (unverified)", getattr(module, "UNVERIFIED", {})),
    ):
        for feature, reason in table.items():
            terminalreporter.write_line(f"{module.SERVER}, {feature}: {title}: {reason}")


@pytest.fixture(scope="session")
def live() -> Iterator[Live]:
    """The server of this run, started once, stopped at the end."""
    with server_module().serve() as server:
        yield server


@pytest.fixture
def connect(live: Live) -> Iterator[Callable[..., Any]]:
    """``connect(**options)``: a provider for the live server, closed after the test."""
    made: list[jackfield.Provider[Any]] = []
    registry = jackfield.load_registry()

    def make(**options: Any) -> Any:
        settings = {"base_url": live.base_url, "model": live.model, **live.options, **options}
        if live.api_key is not None and "api_key" not in options:
            settings["api_key"] = live.api_key
        provider = registry.create("openai-compatible", settings, instance=NAME)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
