"""The model a command uses when ``-m`` is not given (``jackfield models default NAME``).

The default is, in order: the one set with ``jackfield models default NAME`` (an agent, or
``<instance>:<model>`` of a known instance, kept in ``default-model`` in the per-user
directory); else ``embedded``, the packaged model running in this process, when it is
installed (``jackfield-llamacpp[model]``, part of ``jackfield[all]``); else there is none, and
the command says how to choose one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from jackfield._cli.args import UsageError
from jackfield._cli.report import OK

if TYPE_CHECKING:
    from jackfield._host import Host

__all__ = ["DEFAULT_FILE", "EMBEDDED", "cmd_default", "default_model", "default_path"]

DEFAULT_FILE = "default-model"
"""The file in the per-user directory holding the default model's name (one line)."""
EMBEDDED = "embedded"
"""The ready-made instance of the packaged model, the default when none is set."""

_HOW = (
    "pass -m <agent> or -m <instance>:<model>, or set a default: jackfield models default "
    "<instance>:<model> (`jackfield models` lists the models that answer)"
)


def default_path() -> Path:
    """Where the default model's name is kept (the file may not exist)."""
    from jackfield._config import user_dir

    return user_dir() / DEFAULT_FILE


def stored_default() -> str | None:
    """The default model set with ``jackfield models default NAME``, if one is."""
    try:
        text = default_path().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the default model from {default_path()}: {exc}") from None
    return text or None


def default_model(host: Host) -> str:
    """The agent name or model reference to use without ``-m``; a :class:`UsageError` saying
    how to choose one when there is none."""
    from jackfield._errors import JackfieldError

    stored = stored_default()
    if stored is not None:
        try:
            host.agent(stored)
        except JackfieldError as exc:
            raise UsageError(
                f"the default model {stored!r} cannot be used: {exc}. Set another with "
                "`jackfield models default NAME`, forget it with `jackfield models default "
                "--clear`, or pass -m"
            ) from None
        return stored
    problem = ""
    if EMBEDDED in host.instance_names():
        try:
            status = host.provider(EMBEDDED).status()  # in this process: nothing is sent
        except JackfieldError as exc:
            problem = str(exc)
        else:
            if status.connected:
                return EMBEDDED
            problem = status.error or "it does not answer"
        problem = f" (the packaged model cannot be used: {problem})"
    raise UsageError(f"no model given, and no default model{problem}: {_HOW}")


def cmd_default(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``jackfield models default [NAME] [--clear]``."""
    from jackfield._cli.survey import load_host

    names = args.instances[1:]
    if len(names) > 1:
        raise UsageError(f"models default takes one name, got {len(names)}: {' '.join(names)}")
    if args.clear:
        if names:
            raise UsageError("models default --clear takes no name")
        path = default_path()
        existed = path.exists()
        path.unlink(missing_ok=True)
        out.write("the default model is cleared\n" if existed else "no default model was set\n")
        return OK
    host = load_host(args)
    with host:
        if not names:
            model = default_model(host)
            out.write(f"{model}\n")
            if stored_default() is None:
                err.write(
                    "(no default is set: this is the packaged model; set one with "
                    "`jackfield models default NAME`)\n"
                )
            return OK
        (name,) = names
        agent = host.agent(name)  # an unknown name fails here, with a did-you-mean
        _write(default_path(), name)
        which = f"agent {name!r} on " if name in host.config.agents else ""
        out.write(f"the default model is now {name} ({which}instance {agent.instance!r})\n")
    return OK


def _write(path: Path, name: str) -> None:
    import os
    import tempfile

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(name + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
