"""The package surface: lazy exports that resolve, agree with each other, and import nothing."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import jackfield


def test_every_exported_name_resolves() -> None:
    for name in jackfield.__all__:
        assert getattr(jackfield, name) is not None, name


def test_all_exports_and_type_checking_imports_agree() -> None:
    """The public names are declared once (``_EXPORTS``): ``__all__`` is derived from it, and
    the type-checking imports, each an explicit re-export, name exactly the same modules."""
    exports = jackfield._EXPORTS
    assert jackfield.__all__ == ["__version__", *sorted(exports)]
    tree = ast.parse(Path(jackfield.__file__).read_text(encoding="utf-8"))
    typed = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jackfield"):
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name}: re-export it as itself"
                typed[alias.name] = node.module
    assert typed == exports
    for name, module in exports.items():
        assert getattr(sys.modules[module], name) is getattr(jackfield, name)


def test_dir_lists_the_lazy_names() -> None:
    assert set(jackfield.__all__) <= set(dir(jackfield))


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        jackfield.nope  # type: ignore[attr-defined]  # noqa: B018


def test_version_matches_the_distribution() -> None:
    assert jackfield.__version__ == metadata.version("jackfield")


def test_import_jackfield_imports_nothing_else() -> None:
    code = "import sys, json; import jackfield; print(json.dumps(sorted(sys.modules)))"
    before = set(
        json.loads(
            subprocess.check_output(
                [sys.executable, "-c", "import sys, json; print(json.dumps(sorted(sys.modules)))"]
            )
        )
    )
    after = set(json.loads(subprocess.check_output([sys.executable, "-c", code])))
    assert after - before == {"jackfield"}


def test_listing_providers_imports_no_pluggy_attrs_typing_or_re() -> None:
    """Listing runs on every CLI call: it imports the plugin modules and nothing heavy."""
    code = (
        "import sys, json; import jackfield; r = jackfield.load_registry(); "
        "assert r.names() and not r.problems, r.problems; print(json.dumps(sorted(sys.modules)))"
    )
    bare = "import sys, json; print(json.dumps(sorted(sys.modules)))"
    before = set(json.loads(subprocess.check_output([sys.executable, "-c", bare])))
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code]))) - before
    heavy = {"pluggy", "attrs", "attr", "typing", "re", "importlib.metadata", "httpx", "inspect"}
    assert not heavy & loaded, heavy & loaded
