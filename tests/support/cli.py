"""Running the command line in-process, as the tests of what it prints do."""

from __future__ import annotations

import io
from pathlib import Path

from jackfield._cli import main as cli


def cli_output(config: Path, *args: str) -> str:
    """What ``jackfield --config CONFIG ARGS...`` writes, standard output then error."""
    out, err = io.StringIO(), io.StringIO()
    cli(["--config", str(config), *args], out, err)
    return out.getvalue() + err.getvalue()
