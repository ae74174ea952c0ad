"""Build the documentation site strictly: ``python -m dev.docs.build OUT [sphinx args]``.

Strict means ``-W --keep-going -n``: every warning fails the build (after reporting all of
them), and so does every reference that does not resolve (nitpicky mode). ``-E`` rebuilds
from scratch, so a page whose API reference changed with the code is never stale. ``nox -s docs``
runs this; tests/docs/test_site.py runs it too, so CI fails on a broken page.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def command(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-E",  # read every page again: autodoc output changes with the code, not the page
        "-n",
        "-q",
        "-b",
        "html",
        "-d",
        str(out / "doctrees"),
        str(ROOT / "docs"),
        str(out / "html"),
        *extra,
    ]


def main(argv: Sequence[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "build" / "docs"
    result = subprocess.run(command(out, *argv[1:]), check=False)
    if result.returncode == 0:
        print(f"built {out / 'html' / 'index.html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
