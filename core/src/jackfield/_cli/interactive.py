"""The interactive chat: line editing, a history file, multi-line input and slash commands.

Line editing is the standard library's :mod:`readline` (GNU readline or libedit), imported
only when a session starts on a terminal; without it, lines are read plainly. The history is
kept in ``history`` in the per-user directory, one entry a line (a newline inside an entry
written ``\\n``, a backslash ``\\\\``), appended as each entry is made, so sessions running at
the same time lose nothing.

Multi-line input: a paste is one turn. With GNU readline, bracketed paste is switched on, so
the terminal marks a paste and readline inserts it whole, newlines included, for Enter to send;
where that is not available, lines that arrive together (already waiting when the first is
read) are joined. ``\"\"\"`` on a line of its own starts a block, and ends it: the lines between
are one turn.

Leaving: ``exit``, ``quit``, ``/exit``, ``/quit`` or Ctrl-D at the prompt (none is sent).
Ctrl-C while the model answers stops the answer and returns to the prompt; the cut turn is
left out of the conversation (and logged as cancelled), and the Up arrow brings the question
back. Ctrl-C at the prompt clears the line; on an empty line it says how to leave, and a second
one leaves.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TextIO

from jackfield._cli.report import OK

if TYPE_CHECKING:
    from jackfield._cli.chat import Chat
    from jackfield._cli.style import Style
    from jackfield._messages import ImagePart

__all__ = ["BLOCK", "HISTORY_FILE", "HISTORY_SIZE", "History", "Session"]

BLOCK = '"""'
"""A line of its own that starts a block of lines, and ends it."""
HISTORY_FILE = "history"
"""The history file's name in the per-user directory."""
HISTORY_SIZE = 1000
"""How many entries the history keeps."""
LEAVE = ("exit", "quit")
PROMPT = "you> "
MORE = "... "


class History:
    """The history file: entries read back into readline, each new one appended."""

    def __init__(self, path: Path, readline: ModuleType | None) -> None:
        self.path = path
        self.readline = readline
        self.last: str | None = None

    @staticmethod
    def escape(entry: str) -> str:
        return entry.replace("\\", "\\\\").replace("\r", "").replace("\n", "\\n")

    @staticmethod
    def unescape(line: str) -> str:
        out, chars = [], iter(line)
        for char in chars:
            if char == "\\":
                following = next(chars, "")
                out.append("\n" if following == "n" else following)
            else:
                out.append(char)
        return "".join(out)

    def load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return
        except OSError:
            return  # an unreadable history is no reason to refuse a chat
        if len(lines) > 2 * HISTORY_SIZE:  # trim now and then, not at every entry
            lines = lines[-HISTORY_SIZE:]
            self._rewrite(lines)
        entries = [self.unescape(line) for line in lines if line]
        if self.readline is not None:
            for entry in entries[-HISTORY_SIZE:]:
                self.readline.add_history(entry)
        self.last = entries[-1] if entries else None

    def add(self, entry: str) -> None:
        if not entry.strip() or entry == self.last:
            return
        self.last = entry
        if self.readline is not None:
            self.readline.add_history(entry)
        try:
            from jackfield._logs.database import make_directory

            make_directory(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as file:
                file.write(self.escape(entry) + "\n")
        except OSError:
            pass  # the history is a convenience: a chat goes on without it

    def _rewrite(self, lines: Sequence[str]) -> None:
        import tempfile

        try:
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".history.")
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write("".join(f"{line}\n" for line in lines))
            os.replace(temporary, self.path)
        except OSError:
            pass


def _readline(colour: bool) -> ModuleType | None:
    """readline, set up for the session: no automatic history (a turn is one entry, however
    many lines), bracketed paste on (CPython turns it off), no highlighted paste without
    colour; ``None`` where there is none."""
    try:
        import readline
    except ImportError:  # Windows, or a Python built without it: plain input()
        return None
    readline.set_auto_history(False)
    libedit = (
        "libedit" in (readline.__doc__ or "") or getattr(readline, "backend", "") == "editline"
    )
    if not libedit:
        readline.parse_and_bind("set enable-bracketed-paste on")
        if not colour:
            readline.parse_and_bind("set enable-active-region off")
    return readline


class Leave(Exception):
    """The user asked to leave the session."""


class Session:
    """Read turns at a terminal and ask ``chat`` each; slash commands in between."""

    def __init__(self, chat: Chat, images: Sequence[ImagePart] = (), *, style: Style) -> None:
        from jackfield._config import user_dir

        self.chat = chat
        self.images = list(images)  # attached to the first message
        self.style = style
        self.out: TextIO = chat.out
        self.err: TextIO = chat.err
        self.readline: ModuleType | None = None
        self.history = History(user_dir() / HISTORY_FILE, None)
        self.commands: dict[str, tuple[Callable[[str], None], str]] = {
            "help": (self._help, "this list"),
            "system": (self._system, "TEXT: set or replace the system prompt (alone: show it)"),
            "reset": (self._reset, "start a new conversation (the system prompt stays)"),
            "save": (
                self._save,
                "FILE: write the conversation (Markdown if FILE ends in .md, else JSON)",
            ),
            "exit": (self._leave, "leave (also quit, exit, Ctrl-D)"),
            "quit": (self._leave, "leave"),
        }

    # running ---------------------------------------------------------------------------------

    def run(self) -> int:
        self.readline = _readline(self.style.enabled)
        self.history.readline = self.readline
        self.history.load()
        self._banner()
        interrupts = 0
        while True:
            try:
                text = self._read()
            except EOFError:  # Ctrl-D (readline has ended the line already)
                if self.readline is None:
                    self.out.write("\n")
                return OK
            except KeyboardInterrupt:  # Ctrl-C: clear the line; on an empty one, twice leaves
                typed = self.readline.get_line_buffer() if self.readline is not None else ""
                self.out.write("\n")
                if typed.strip():
                    interrupts = 0
                    continue
                interrupts += 1
                if interrupts > 1:
                    return OK
                self._note("(Ctrl-C again, Ctrl-D or exit to leave)")
                continue
            interrupts = 0
            text = text.strip("\r\n")  # a paste's last newline, say
            if not text.strip():
                continue
            self.history.add(text)
            try:
                self._handle(text)
            except Leave:
                return OK

    def _handle(self, text: str) -> None:
        stripped = text.strip()
        if stripped.lower() in LEAVE:
            raise Leave
        if stripped.startswith("/") and not stripped.startswith("//"):
            self._command(stripped)
            return
        if stripped.startswith("//"):
            text = text.lstrip()[1:]  # "//etc" sends "/etc"
        self._ask(text)

    def _ask(self, text: str) -> None:
        from jackfield._cli.inputs import user_message
        from jackfield._cli.report import INTERRUPTED
        from jackfield._errors import JackfieldError

        message = user_message(text, self.images)
        before = len(self.chat.messages)
        try:
            status = self.chat.ask(message)
        except JackfieldError as exc:  # refused before anything was sent: say so, go on
            self._warn(f"jackfield: {exc}", "red")
            return
        if status == INTERRUPTED:
            self._note("(left out of the conversation: the Up arrow brings your message back)")
        if len(self.chat.messages) > before:
            self.images = []  # they went with this message, which the conversation keeps
        self.out.write("\n")  # a blank line between one turn and the next

    # reading ---------------------------------------------------------------------------------

    def _read(self) -> str:
        """One turn's text: a line, a paste, or a block."""
        self.out.flush()
        self.err.flush()
        styled = self.style.prompt if self.readline is not None else self.style.wrap
        line = input(styled(PROMPT, "bold", "green"))
        if line.strip() == BLOCK:
            return self._block()
        lines = [line]
        while _waiting(sys.stdin):  # the rest of a paste the terminal did not bracket
            lines.append(input(MORE))
        return "\n".join(lines)

    def _block(self) -> str:
        lines = []
        while True:
            try:
                line = input(MORE)
            except EOFError:
                self.out.write("\n")
                break
            if line.strip() == BLOCK:
                break
            lines.append(line)
        return "\n".join(lines)

    # showing ---------------------------------------------------------------------------------

    def _banner(self) -> None:
        chat = self.chat
        lines = [f"jackfield chat with {chat.label}"]
        if chat.continued:
            lines.append(f"continuing conversation {chat.cid} ({len(chat.messages)} messages)")
        if self.images:
            count = len(self.images)
            images = "1 image goes" if count == 1 else f"{count} images go"
            lines.append(f"{images} with your first message")
        lines.append(
            f"/help for commands · {BLOCK} on a line of its own starts and ends a block · "
            "exit or Ctrl-D to leave"
        )
        for line in lines:
            self._note(line)

    def _note(self, text: str) -> None:
        self.chat.style.write(self.err, text, "dim")  # stderr's style: it may be redirected
        self.err.write("\n")

    def _warn(self, text: str, colour: str = "yellow") -> None:
        self.chat.style.write(self.err, text, colour)
        self.err.write("\n")

    # commands --------------------------------------------------------------------------------

    def _command(self, line: str) -> None:
        name, _, rest = line[1:].partition(" ")
        name = name.lower()
        entry = self.commands.get(name)
        if entry is None:
            close = difflib.get_close_matches(name, self.commands, n=1, cutoff=0.5)
            hint = f"did you mean /{close[0]}? " if close else ""
            self._warn(
                f"unknown command /{name}: {hint}(/help lists them; start with // to send a "
                "line beginning with /)"
            )
            return
        entry[0](rest.strip())

    def _help(self, rest: str) -> None:
        width = max(map(len, self.commands)) + 1
        for name, (_, what) in self.commands.items():
            self.err.write(f"  /{name:<{width}} {what}\n")
        self.err.write(
            f"  {BLOCK:<{width + 1}} on a line of its own starts a block of lines, and ends it\n"
            f"  {'//':<{width + 1}} at the start sends a line beginning with /\n"
            "  Ctrl-C stops an answer (the turn is left out of the conversation); "
            "Ctrl-D leaves\n"
        )

    def _system(self, rest: str) -> None:
        if not rest:
            shown = self.chat.system if self.chat.system is not None else "(none)"
            self.err.write(f"system prompt: {shown}\n")
            return
        self.chat.set_system(rest)
        self._note("system prompt set; it applies from the next message")

    def _reset(self, rest: str) -> None:
        self.chat.reset()
        self._note("new conversation")

    def _save(self, rest: str) -> None:
        if not rest:
            self._warn("/save needs a file name: /save chat.md")
            return
        from jackfield._cli.transcript import save

        try:
            kind = save(self.chat, rest)
        except OSError as exc:
            self._warn(f"cannot save to {rest}: {exc.strerror or exc}", "red")
            return
        self._note(f"saved {len(self.chat.messages)} messages to {rest} ({kind})")

    def _leave(self, rest: str) -> None:
        raise Leave


def _waiting(stream: TextIO) -> bool:
    """Whether more input is already there (the rest of a paste)."""
    import select

    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (OSError, ValueError, TypeError):  # no fileno, or a platform select cannot wait on
        return False
    return bool(ready)
