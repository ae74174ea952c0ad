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
from jackfield._cli.chat import cmd_chat
from jackfield._cli.completion import cmd_complete, cmd_completion
from jackfield._cli.embed import cmd_embed
from jackfield._cli.keys import cmd_keys
from jackfield._cli.logs import cmd_logs
from jackfield._cli.report import INTERRUPTED, PIPE_CLOSED, report, shown_warnings, silence
from jackfield._cli.status import cmd_models, cmd_status
from jackfield._cli.survey import cmd_discover, cmd_explain, cmd_providers, cmd_schema
from jackfield._cli.terminal import safe_streams

__all__ = ["COMMANDS", "main", "parser"]

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]

COMMANDS: dict[str, Command] = {
    "providers": cmd_providers,
    "models": cmd_models,
    "status": cmd_status,
    "doctor": cmd_status,
    "discover": cmd_discover,
    "chat": cmd_chat,
    "explain": cmd_explain,
    "schema": cmd_schema,
    "logs": cmd_logs,
    "embed": cmd_embed,
    "keys": cmd_keys,
    "completion": cmd_completion,
    "__complete": cmd_complete,
}
"""Each command's function, by the name typed."""


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    # Everything written is made safe for a terminal (see jackfield._cli.terminal).
    out, err = safe_streams(out or sys.stdout, err or sys.stderr)
    args = parser().parse_args(argv)
    with shown_warnings(err):  # "jackfield: warning: ..." (a disabled instance, say)
        try:
            return COMMANDS[args.command](args, out, err)
        except KeyboardInterrupt:
            err.write("\n[interrupted]\n")
            return INTERRUPTED
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, like cat does
            silence(out)
            return PIPE_CLOSED
        except Exception as exc:  # noqa: BLE001 - every failure ends in one clear message
            return report(exc, args.verbose, err, args)
