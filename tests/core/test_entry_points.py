"""Entry points read without importlib.metadata give what importlib.metadata gives."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from jackfield import _entry_points
from jackfield._entry_points import entry_points


def as_tuples(found: list[Any]) -> list[tuple[str, str, str | None, str | None]]:
    return sorted(
        (ep.name, ep.value, ep.dist.name if ep.dist else None, ep.dist.version if ep.dist else None)
        for ep in found
    )


@pytest.mark.parametrize("group", ["jackfield", "console_scripts", "pytest11", "no-such-group"])
def test_the_installed_environment_reads_the_same(group: str) -> None:
    assert as_tuples(entry_points(group)) == as_tuples(list(metadata.entry_points(group=group)))


def dist(
    folder: Path, name: str, version: str, entry_points_text: str, *, egg: bool = False
) -> None:
    info = folder / (f"{name.replace('-', '_')}-{version}" + (".egg-info" if egg else ".dist-info"))
    info.mkdir(parents=True)
    headers = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nLong description: no\n"
    (info / ("PKG-INFO" if egg else "METADATA")).write_text(headers)
    (info / "entry_points.txt").write_text(entry_points_text)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    return first, second


def test_sections_comments_whitespace_and_extras(site: tuple[Path, Path]) -> None:
    first, _ = site
    dist(
        first,
        "jackfield-demo",
        "1.2",
        "# a comment\n[console_scripts]\ndemo = demo:main\n\n"
        "[jackfield]\n  demo  =  demo_plugin \n# inside\nother=pkg.mod:obj.attr [extra]\n"
        "[ jackfield ]\nnot = this_one\n[later]\nlate = x\n",
    )
    found = entry_points("jackfield")
    assert as_tuples(found) == [
        ("demo", "demo_plugin", "jackfield-demo", "1.2"),
        ("other", "pkg.mod:obj.attr [extra]", "jackfield-demo", "1.2"),
    ]
    assert found[0].group == "jackfield"
    assert as_tuples(metadata.entry_points(group="jackfield")) == as_tuples(found)


def test_the_first_distribution_of_a_name_on_sys_path_wins(site: tuple[Path, Path]) -> None:
    first, second = site
    dist(first, "plug-a", "2.0", "[jackfield]\na = new_a\n")
    dist(second, "plug_a", "1.0", "[jackfield]\na = old_a\n")
    dist(second, "plug-b", "1.0", "[jackfield]\nb = b\n", egg=True)
    found = as_tuples(entry_points("jackfield"))
    assert found == [("a", "new_a", "plug-a", "2.0"), ("b", "b", "plug-b", "1.0")]
    assert found == as_tuples(metadata.entry_points(group="jackfield"))


def test_load_imports_the_module_and_walks_attributes(site: tuple[Path, Path]) -> None:
    first, _ = site
    dist(first, "loads", "1", "[jackfield]\nmod = json\nattr = json:JSONDecoder.decode\n")
    loaded = {ep.name: ep.load() for ep in entry_points("jackfield")}
    import json

    assert loaded == {"mod": json, "attr": json.JSONDecoder.decode}


def test_a_zip_on_sys_path_is_left_to_importlib_metadata(
    site: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    monkeypatch.setattr(sys, "path", [*sys.path, str(archive)])
    calls: list[str] = []
    monkeypatch.setattr(_entry_points, "_from_importlib_metadata", lambda g: calls.append(g) or [])
    assert entry_points("jackfield") == []
    assert calls == ["jackfield"]


def test_a_custom_distribution_finder_is_left_to_importlib_metadata(
    site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Finder:
        @staticmethod
        def find_spec(*args: Any) -> None:
            return None

        @staticmethod
        def find_distributions(*args: Any) -> list[Any]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    calls: list[str] = []
    monkeypatch.setattr(_entry_points, "_from_importlib_metadata", lambda g: calls.append(g) or [])
    entry_points("jackfield")
    assert calls == ["jackfield"]


def test_listing_providers_does_not_import_importlib_metadata() -> None:
    import subprocess

    code = (
        "import sys, jackfield; jackfield.load_registry().names(); "
        "print(sorted(m for m in ('importlib.metadata', 'attrs', 'difflib', 'httpx') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
