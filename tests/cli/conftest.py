"""Running the real ``jackfield`` entry point in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest


@attrs.frozen
class Result:
    code: int
    out: str
    err: str


def jackfield(
    *args: str,
    config: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run the installed ``jackfield`` command (as a user would)."""
    executable = shutil.which("jackfield") or [sys.executable, "-m", "jackfield"]
    command = [executable] if isinstance(executable, str) else executable
    if config is not None:
        command += ["--config", str(config)]
    completed = subprocess.run(
        [*command, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def write_config(tmp_path: Path) -> Any:
    def write(text: str, name: str = "jackfield.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
