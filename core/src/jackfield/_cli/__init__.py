"""The ``jackfield`` command line.

Building the parser imports nothing but argparse, so ``jackfield --help`` is instant and
never loads httpx or a provider; each command imports what it needs when it runs.

Exit codes: 0 success, 1 a provider or server failed, 2 usage or configuration errors, 130
interrupted, 141 the output pipe closed (``| head``). Expected failures print one clear message
(``--verbose`` adds the traceback). What servers and models say is written with terminal
control sequences shown escaped, and ``--json`` output is always valid JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from jackfield._cli.args import parser
from jackfield._cli.report import INTERRUPTED, PIPE_CLOSED, report, shown_warnings, silence
from jackfield._cli.terminal import safe_streams

__all__ = ["COMMANDS", "command", "main", "parser"]

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]

COMMANDS: dict[str, str] = {
    "providers": "survey:cmd_providers",
    "models": "status:cmd_models",
    "status": "status:cmd_status",
    "doctor": "status:cmd_status",
    "discover": "survey:cmd_discover",
    "chat": "chat:cmd_chat",
    "explain": "survey:cmd_explain",
    "schema": "survey:cmd_schema",
    "tools": "tools:cmd_tools",
    "logs": "logs:cmd_logs",
    "embed": "embed:cmd_embed",
    "keys": "keys:cmd_keys",
    "completion": "completion:cmd_completion",
    "__complete": "completion:cmd_complete",
}
"""Where each command's function is (``module:function`` in this package), by the name typed:
only the command that runs is imported, so ``jackfield --help`` imports none of them."""


def command(name: str) -> Command:
    """The function of the command ``name``."""
    import importlib

    module, _, function = COMMANDS[name].partition(":")
    found: Command = getattr(importlib.import_module(f"jackfield._cli.{module}"), function)
    return found


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    # Everything written is made safe for a terminal (see jackfield._cli.terminal).
    out, err = safe_streams(out or sys.stdout, err or sys.stderr)
    args = parser().parse_args(argv)
    with shown_warnings(err):  # "jackfield: warning: ..." (a disabled instance, say)
        try:
            return command(args.command)(args, out, err)
        except KeyboardInterrupt:
            err.write("\n[interrupted]\n")
            return INTERRUPTED
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, like cat does
            silence(out)
            return PIPE_CLOSED
        except Exception as exc:  # noqa: BLE001 - every failure ends in one clear message
            return report(exc, args.verbose, err, args)
