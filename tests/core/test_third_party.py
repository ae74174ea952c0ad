"""A third party's view, end to end: the example provider distribution and a broken one are
installed with pip into a fresh virtual environment next to jackfield's core and nothing
else. The registry finds the example through its entry point, reports each broken plugin
without hurting it, and the example passes the conformance kit there with its own tests.

The distributions are copied out of the repository first, as a third party's checkout would
be, so nothing of this repository's test configuration leaks in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tests" / "plugins"
SKIP = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".pytest_cache")


class ThirdParty:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.echo = Path(shutil.copytree(PLUGINS / "jackfield-echo", root / "echo", ignore=SKIP))
        broken = PLUGINS / "jackfield-broken"
        self.broken = Path(shutil.copytree(broken, root / "broken", ignore=SKIP))
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        self.bin = venv / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / "python"
        self.run(
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(ROOT / "core"),
            str(self.echo),
            str(self.broken),
            "pytest>=8",
            "anyio>=4",
        )

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
        env.pop("PYTHONPATH", None)
        result = subprocess.run(
            [str(self.python), *args],
            capture_output=True,
            text=True,
            cwd=cwd or self.root,
            env=env,
        )
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
        return result


@pytest.fixture(scope="module")
def third_party(tmp_path_factory: pytest.TempPathFactory) -> ThirdParty:
    return ThirdParty(tmp_path_factory.mktemp("third-party"))


LOOK = """
import json
import jackfield
from jackfield import ProviderLoadError

registry = jackfield.load_registry()
try:
    registry.create("broken-factory")
except ProviderLoadError as exc:
    create_error = str(exc)
print(json.dumps({
    "names": registry.names(),
    "plugins": {p.name: p.distribution for p in registry.plugins},
    "problems": {p.plugin: [p.distribution, p.error] for p in registry.problems},
    "echo": registry.create("echo", {"prefix": "heard: "}).complete("hello").text,
    "create_error": create_error,
}))
"""


def test_the_registry_finds_the_example_through_its_entry_point(third_party: ThirdParty) -> None:
    seen = json.loads(third_party.run("-c", LOOK).stdout)
    assert seen["plugins"]["echo"] == "jackfield-echo"
    assert seen["echo"] == "heard: hello"
    assert "echo" in seen["names"]


def test_broken_plugins_are_reported_without_breaking_the_others(third_party: ThirdParty) -> None:
    seen = json.loads(third_party.run("-c", LOOK).stdout)
    problems = seen["problems"]
    assert sorted(problems) == ["broken-hook", "broken-import"]
    distribution, error = problems["broken-import"]
    assert distribution == "jackfield-broken"
    assert "jackfield_broken.needs_a_missing_dependency" in error
    assert "jackfield_dependency_that_is_not_installed" in error
    distribution, error = problems["broken-hook"]
    assert distribution == "jackfield-broken"
    assert "Not A Valid Name" in error
    # Registering is cheap and lazy: the broken factory is only found out when it is used,
    # and the error names the plugin, its distribution and the missing module.
    assert "broken-factory" in seen["names"]
    assert "jackfield_broken.not_written_yet" in seen["create_error"]
    assert "jackfield-broken" in seen["create_error"]


def test_the_cli_shows_the_same_picture(third_party: ThirdParty) -> None:
    listing = third_party.run("-m", "jackfield", "providers").stdout
    (echo,) = [line for line in listing.splitlines() if line.startswith("echo ")]
    assert "jackfield-echo 0.1.0" in echo
    problems = [line for line in listing.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2
    assert all("jackfield-broken" in line for line in problems)


def test_the_example_passes_the_conformance_kit_with_its_own_tests(
    third_party: ThirdParty,
) -> None:
    result = third_party.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=third_party.echo)
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, result.stdout
    assert int(passed.group(1)) >= 10, summary
    assert not re.search(r"failed|error|skipped", summary), summary
