"""Exit codes, and turning a failure into one clear line."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.args import UsageError, flag_for

if TYPE_CHECKING:
    from jackfield._errors import OptionsError

__all__ = [
    "FAILED",
    "INTERRUPTED",
    "OK",
    "PIPE_CLOSED",
    "USAGE",
    "report",
    "shown_warnings",
    "silence",
]

OK, FAILED, USAGE, INTERRUPTED, PIPE_CLOSED = 0, 1, 2, 130, 141


def silence(out: TextIO) -> None:
    """Point ``out`` at /dev/null, so the interpreter's final flush cannot fail again."""
    import os

    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file: nothing will be flushed to a closed pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@contextlib.contextmanager
def shown_warnings(err: TextIO) -> Iterator[None]:
    """While a command runs, jackfield's own warnings about the configuration are written as
    ``jackfield: warning: ...`` lines (others as Python shows them)."""
    import warnings

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *rest: Any, **named: Any) -> None:
            # jackfield's own (by name: no import before it is needed)
            if category.__module__ == "jackfield._errors":
                err.write(f"jackfield: warning: {message}\n")
            else:
                shown(message, category, *rest, **named)

        warnings.showwarning = show
        yield


def _flagged(exc: OptionsError, args: argparse.Namespace) -> str | None:
    """An options error about what ``-o``/``--extra`` set, in the command line's own words
    (``-o max_tokens=lots: expected an integer, ...``); ``None`` if it is not about them."""
    from jackfield._errors import format_path
    from jackfield._options import CALL

    lines = []
    for issue in exc.issues:
        flag = flag_for(issue.path, args) if issue.layer == CALL else None
        if flag is None:
            return None  # a problem of the configuration: its own words say where
        key = flag.split(" ", 1)[1].partition("=")[0].split(".")
        prefix = ("extra_body", *key) if flag.startswith("--extra") else tuple(key)
        deeper = issue.path[len(prefix) :]
        where = f"{format_path(issue.path, root='')}: " if deeper else ""
        lines.append(f"{flag}: {where}{issue.message}")
    return "\n".join(lines) if lines else None


def report(
    exc: Exception, verbose: bool, err: TextIO, args: argparse.Namespace | None = None
) -> int:
    """Write one line saying what failed (the traceback too when ``verbose``); the exit code.
    ``args`` lets an error about a ``-o``/``--extra`` value name that flag."""
    import traceback

    from jackfield._errors import (
        ConfigError,
        ConversationError,
        OptionsError,
        ProviderError,
        RegistryError,
    )

    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
    if isinstance(exc, OptionsError) and args is not None:
        flagged = _flagged(exc, args)
        if flagged is not None:
            err.write(f"jackfield: {flagged}\n")
            return USAGE
    if isinstance(exc, (UsageError, ConfigError, ConversationError, RegistryError)):
        err.write(f"jackfield: {exc}\n")
        return USAGE
    if isinstance(exc, ProviderError):
        err.write(f"jackfield: {exc}\n")
        return FAILED
    if not verbose:
        err.write(
            f"jackfield: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)\n"
        )
    return FAILED
