"""Shared test configuration: hypothesis profiles (from the root pyproject) and anyio."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# Opt-in suites, run by their own nox sessions: the replay of responses other projects recorded
# (their file lives outside this repository; ``nox -s recordings`` names it), and the live suites
# against servers installed for them (``nox -s live-<server>`` names the server).
collect_ignore = [
    *([] if os.environ.get("JACKFIELD_RECORDINGS") else ["recordings"]),
    *([] if os.environ.get("JACKFIELD_LIVE") else ["live"]),
]

pytest_plugins = ["pytester"]  # the conformance kit's own tests run it on broken providers

# The conformance kit's checks are plain asserts in an installed module: rewrite them too, so
# failures show the values compared.
pytest.register_assert_rewrite("jackfield.testing.conformance")


def _register_profiles() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    profiles = config["tool"]["hypothesis"]["profiles"]
    for name, values in profiles.items():
        settings.register_profile(name, suppress_health_check=[HealthCheck.too_slow], **values)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_register_profiles()


@pytest.fixture(autouse=True)
def _private_user_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any) -> Path:
    """Every test (and every command it runs) gets its own per-user directory: no test reads
    or writes the real user's configuration, keys, default model or conversation log; and
    none sees the variables that presets read."""
    home = tmp_path_factory.mktemp("jackfield-home")
    monkeypatch.setenv("JACKFIELD_HOME", str(home))
    monkeypatch.delenv("JACKFIELD_CONFIG", raising=False)
    # Presets read these (a developer's own OLLAMA_HOST must not change what tests see).
    for variable in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST"):
        monkeypatch.delenv(variable, raising=False)
    return home


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- evidence for the compatibility matrix ---------------------------------------------------
# Tests marked ``covers(server, feature, how)`` that pass are written to the file named by
# $JACKFIELD_COVERAGE_FILE; dev/docs/compat_matrix.py turns that into docs/compatibility.md.

_EVIDENCE: list[dict[str, str]] = []


def record_evidence(item: dict[str, str]) -> None:
    """Add a cell's evidence that is not a passing test (a feature the server cannot have)."""
    _EVIDENCE.append(item)


# The conformance kit's checks that stand for a cell of the matrix. A kit subclass that runs
# against a real backend says so with ``covers_server`` and ``covers_how`` class attributes.
KIT_FEATURES = {
    "test_stream_lifecycle": "streaming text",
    "test_tools": "tool calls streamed",
    "test_reasoning": "reasoning field",
    "test_usage": "usage",
    "test_model_listing": "model listing",
    "test_status_and_models_generate_nothing": "status",
    "test_failures_are_jackfield_errors": "errors",
    "test_embeddings": "embeddings",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        cls = getattr(item, "cls", None)
        server = getattr(cls, "covers_server", None)
        feature = KIT_FEATURES.get(getattr(item, "originalname", ""))
        if server and feature:
            item.add_marker(pytest.mark.covers(server, feature, cls.covers_how))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed:
        for mark in item.iter_markers("covers"):
            server, feature, how = mark.args
            _EVIDENCE.append(
                {"server": server, "feature": feature, "how": how, "test": item.nodeid}
            )


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("JACKFIELD_COVERAGE_FILE")
    if target:
        Path(target).write_text(json.dumps(_EVIDENCE, indent=1), encoding="utf-8")
