"""The example plugin distribution, installed into the test environment by ``nox -s tests``,
is found through a real entry point; listing providers imports neither httpx nor any provider
implementation."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import pytest

pytestmark = pytest.mark.plugin_install

LISTING = """
import json, sys
import jackfield
registry = jackfield.load_registry()
names = registry.names()
plugin_modules = {"jackfield_openai", "jackfield_openai._presets", "jackfield_echo"}
heavy = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {"httpx", "httpcore", "cattrs", "orjson"}
    or m in {"jackfield.provider", "jackfield.http"}
    or (m.split(".")[0] in {"jackfield_openai", "jackfield_echo"} and m not in plugin_modules)
)
print(json.dumps({"names": names, "heavy": heavy, "plugins": [p.name for p in registry.plugins]}))
"""


def run(code: str, **env: str) -> dict[str, object]:
    import os

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_the_example_plugin_is_installed_with_its_entry_point() -> None:
    (entry_point,) = [ep for ep in metadata.entry_points(group="jackfield") if ep.name == "echo"]
    assert entry_point.value == "jackfield_echo"
    assert entry_point.dist is not None
    assert entry_point.dist.name == "jackfield-echo"


def test_listing_providers_finds_it_without_importing_implementations() -> None:
    listing = run(LISTING)
    assert "echo" in listing["names"]  # type: ignore[operator]
    assert "echo" in listing["plugins"]  # type: ignore[operator]
    assert listing["heavy"] == []


def test_the_plugin_can_be_disabled_from_the_environment() -> None:
    assert "echo" not in run(LISTING, JACKFIELD_DISABLE_PLUGINS="echo")["names"]  # type: ignore[operator]
    assert run(LISTING, JACKFIELD_DISABLE_PLUGINS="all")["names"] == []


def test_the_installed_provider_works_end_to_end() -> None:
    import jackfield

    registry = jackfield.load_registry()
    echo = registry.create("echo", {"prefix": "you said: "})
    assert echo.complete("hello there").text == "you said: hello there"
    assert echo.list_models()[0].id == "echo-1"
    with pytest.raises(jackfield.OptionsError, match=r"\$\.chunk_size: expected an integer"):
        registry.create("echo", {"chunk_size": "big"})
