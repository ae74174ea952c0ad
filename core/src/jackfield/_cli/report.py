"""Exit codes, and turning a failure into one clear line."""

from __future__ import annotations

from typing import TextIO

from jackfield._cli.args import UsageError

__all__ = ["FAILED", "INTERRUPTED", "OK", "PIPE_CLOSED", "USAGE", "report", "silence"]

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


def report(exc: Exception, verbose: bool, err: TextIO) -> int:
    """Write one line saying what failed (the traceback too when ``verbose``); the exit code."""
    import traceback

    from jackfield._errors import ConfigError, ConversationError, ProviderError, RegistryError

    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
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
