"""Packaging a user can trust, checked from the sources (``nox -s package`` builds the
distributions, runs ``twine check --strict`` on each and installs ``jackfield[all]`` from them).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {
    "jackfield": ROOT / "core",
    "jackfield-openai": ROOT / "providers" / "openai",
    "jackfield-ollama": ROOT / "providers" / "ollama",
    "jackfield-llamacpp": ROOT / "providers" / "llamacpp",
}
PROVIDERS = {name: path for name, path in DISTRIBUTIONS.items() if name != "jackfield"}


def project(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    return data


def version(path: Path) -> str:
    source = (path / project(path)["tool"]["hatch"]["version"]["path"]).read_text("utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__version__":
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            return value
    raise AssertionError(f"{path}: no __version__")


def series(core_version: str) -> str:
    """The range a sibling must require: this minor version, before the next one."""
    major, minor, _ = core_version.split(".")
    return f">={major}.{minor},<{major}.{int(minor) + 1}"


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_each_distribution_names_itself_and_carries_the_license_and_a_readme(name: str) -> None:
    path = DISTRIBUTIONS[name]
    meta = project(path)["project"]
    assert meta["name"] == name
    assert meta["license"] == "MIT"
    assert meta["license-files"] == ["LICENSE"]
    assert (path / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    readme = (path / meta["readme"]).read_text(encoding="utf-8")
    assert readme.startswith(f"# {name}\n")
    assert "pip install" in readme
    assert "```python" in readme  # tests/docs/test_examples.py runs it


def test_every_distribution_has_one_version_and_the_same_project_urls() -> None:
    versions = {name: version(path) for name, path in DISTRIBUTIONS.items()}
    assert len(set(versions.values())) == 1, versions
    urls = {name: project(path)["project"]["urls"] for name, path in DISTRIBUTIONS.items()}
    assert len({tuple(sorted(u.items())) for u in urls.values()}) == 1, urls
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(
        urls["jackfield"]
    )


@pytest.mark.parametrize("name", PROVIDERS)
def test_providers_depend_on_this_series_of_the_core_and_register_their_entry_point(
    name: str,
) -> None:
    path = PROVIDERS[name]
    meta = project(path)["project"]
    wanted = series(version(DISTRIBUTIONS["jackfield"]))
    siblings = [d for d in meta["dependencies"] if re.match(r"jackfield(-[a-z]+)?(\[|>|<|=|$)", d)]
    assert siblings, f"{name} does not depend on the core"
    for requirement in siblings:
        assert requirement.endswith(wanted), f"{name}: {requirement!r} should end in {wanted!r}"
    assert list(meta["entry-points"]) == ["jackfield"]
    module = name.replace("-", "_")
    assert all(v.startswith(module) for v in meta["entry-points"]["jackfield"].values())


def test_the_core_extras_install_each_provider_and_all_of_them() -> None:
    extras = project(DISTRIBUTIONS["jackfield"])["project"]["optional-dependencies"]
    wanted = series(version(DISTRIBUTIONS["jackfield"]))
    assert extras["openai"] == [f"jackfield-openai{wanted}"]
    assert extras["ollama"] == [f"jackfield-ollama{wanted}"]
    assert extras["llamacpp"] == [f"jackfield-llamacpp[model]{wanted}"]
    assert extras["mcp"] == ["mcp>=2.3,<3"]  # MCP servers as tools: the SDK's 2.x API
    assert extras["all"] == ["jackfield[openai,ollama,llamacpp,mcp]"]
    assert set(PROVIDERS) == {f"jackfield-{extra}" for extra in ("openai", "ollama", "llamacpp")}
