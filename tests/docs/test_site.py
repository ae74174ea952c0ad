"""The site builds strictly (no warning, no broken link, no unresolved reference)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dev.docs import build


def test_the_site_builds_without_a_warning(tmp_path: Path) -> None:
    result = subprocess.run(
        build.command(tmp_path), capture_output=True, text=True, cwd=build.ROOT, check=False
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr}"
    assert not result.stderr.strip(), result.stderr
    for page in ("index", "quickstart", "reference/configuration", "reference/api/index"):
        assert (tmp_path / "html" / f"{page}.html").is_file(), page
