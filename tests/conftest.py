"""Shared test configuration: hypothesis profiles (from the root pyproject) and anyio."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def _register_profiles() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    profiles = config["tool"]["hypothesis"]["profiles"]
    for name, values in profiles.items():
        settings.register_profile(name, suppress_health_check=[HealthCheck.too_slow], **values)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_register_profiles()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
