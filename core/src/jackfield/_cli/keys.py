"""``jackfield keys``: API keys stored by name in the per-user keys file, never shown.

``keys set NAME`` reads the key from a hidden prompt on a terminal, else from stdin (never from
the command line, where shell history and ``ps`` would keep it); ``keys list`` prints names
only; ``keys remove NAME``; ``keys path`` prints where the file is. See
:mod:`jackfield._keys` for the file and how instances find their key.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from jackfield._cli.report import OK

__all__ = ["cmd_keys"]


def cmd_keys(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield import _keys

    action = args.keys_action
    if action == "path":
        out.write(f"{_keys.keys_path()}\n")
        return OK
    if action == "list":
        names = sorted(_keys.load_keys())
        for name in names:
            out.write(f"{name}\n")
        if not names:
            err.write(
                f"no keys stored (in {_keys.keys_path()}); add one: jackfield keys set NAME\n"
            )
        return OK
    name = _keys.check_name(args.name)
    if action == "remove":
        if not _keys.remove_key(name):
            from jackfield._errors import ConfigError

            stored = ", ".join(sorted(_keys.load_keys())) or "none"
            raise ConfigError(f"no key named {name!r} is stored (stored: {stored})")
        out.write(f"removed the key {name!r} from {_keys.keys_path()}\n")
        return OK
    value = _read_key(name, err)
    path = _keys.set_key(name, value)
    out.write(f"saved the key {name!r} in {path}\n")
    note = _unused_note(args, name)
    if note:
        err.write(note)
    return OK


def _read_key(name: str, err: TextIO) -> str:
    """The key, from a prompt that does not echo it on a terminal, else all of stdin."""
    if sys.stdin.isatty():
        import getpass

        try:
            # getpass writes its prompt to the terminal itself, not to a redirected stream.
            return getpass.getpass(f"Paste the key for {name} (input is hidden): ")
        except EOFError:
            return ""
    return sys.stdin.read()


def _unused_note(args: argparse.Namespace, name: str) -> str | None:
    """A line saying no instance would use the key ``name``, when none is named so (the key
    is stored all the same: the instance may be configured later)."""
    try:
        from jackfield._cli.survey import load_host

        host = load_host(args)
        known = host.instance_names()
    except Exception:  # noqa: BLE001 - a broken configuration does not stop storing a key
        return None
    if name in known:
        return None
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"note: no instance is named {name!r}{hint} An instance uses the key named after it, "
        "or after its preset.\n"
    )
