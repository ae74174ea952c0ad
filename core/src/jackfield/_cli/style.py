"""How the command line looks on a terminal: colour, the waiting indicator, the summary line.

Colour and the indicator appear only on a terminal: a stream that is not a tty gets neither,
and so does every stream when ``NO_COLOR`` is set (to anything), ``TERM`` is ``dumb``, or
``--no-color`` is given. Each stream decides for itself (``chat ... | less`` keeps a coloured
stderr). What is written here goes through :func:`~jackfield._cli.terminal.raw`: the command
line's own escape sequences, never a server's.

:func:`summary` is the one line that ends an answer, in ``jackfield chat`` (on stderr) and in
the llama.cpp demo alike.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from jackfield._cli.terminal import raw

if TYPE_CHECKING:
    from jackfield._fragments import Completion

__all__ = ["Style", "Waiting", "colour_allowed", "summary"]


def colour_allowed(stream: TextIO, *, no_color: bool = False) -> bool:
    """Whether ``stream`` may be coloured (and carry the waiting indicator): a terminal, with
    neither ``--no-color`` (``no_color``), ``NO_COLOR`` nor ``TERM=dumb``."""
    if no_color or "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class Style:
    """Colours for one stream: each method wraps text in an SGR sequence when ``enabled``,
    else returns it unchanged."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def of(cls, stream: TextIO, *, no_color: bool = False) -> Style:
        """The style ``stream`` allows (see :func:`colour_allowed`)."""
        return cls(colour_allowed(stream, no_color=no_color))

    def start(self, *names: str) -> str:
        """The sequence that turns ``names`` (bold, dim, red ...) on; ``""`` when disabled."""
        if not self.enabled or not names:
            return ""
        return "\x1b[" + ";".join(_CODES[name] for name in names) + "m"

    def end(self) -> str:
        """The sequence that turns every attribute off; ``""`` when disabled."""
        return "\x1b[0m" if self.enabled else ""

    def wrap(self, text: str, *names: str) -> str:
        return f"{self.start(*names)}{text}{self.end()}" if self.enabled else text

    def prompt(self, text: str, *names: str) -> str:
        """``text`` styled for a readline prompt: the escapes are bracketed with ``\\001`` and
        ``\\002`` so readline knows they take no room on the line."""
        if not self.enabled:
            return text
        return f"\001{self.start(*names)}\002{text}\001{self.end()}\002"

    def write(self, stream: TextIO, text: str, *names: str) -> None:
        """Write ``text`` (made safe, as every write is) in ``names``' style."""
        if self.enabled:
            raw(stream, self.start(*names))
        stream.write(text)
        if self.enabled:
            raw(stream, self.end())


class Waiting:
    """``waiting for <model>…`` with a spinner on ``stream`` (stderr) until :meth:`stop`: a
    daemon thread redraws it a few times a second, and :meth:`stop` (the first fragment, an
    error, Ctrl-C: it is a context manager) joins the thread and erases the line. Nothing is
    drawn when ``enabled`` is false, so nothing of it can reach a pipe or a file."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    PLAIN_FRAMES = "|/-\\"
    INTERVAL = 0.1  # seconds between frames, and before the first one (a fast answer shows none)

    def __init__(self, stream: TextIO, label: str, *, enabled: bool) -> None:
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False
        encoding = (getattr(stream, "encoding", None) or "ascii").lower()
        self._frames = self.FRAMES if "utf" in encoding else self.PLAIN_FRAMES

    def start(self) -> Waiting:
        if self.enabled and self._thread is None:
            self._stopped.clear()  # started again after a stop (a run's next model call)
            self._thread = threading.Thread(target=self._run, name="jackfield-waiting", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        frame = 0
        while not self._stopped.wait(self.INTERVAL):
            text = f"\r\x1b[2m{self._frames[frame % len(self._frames)]} {self.label}\x1b[0m\x1b[K"
            try:
                raw(self.stream, text)
                self.stream.flush()
            except (OSError, ValueError):  # the terminal went away: stop drawing
                return
            self._drawn = True
            frame += 1

    def stop(self) -> None:
        """Stop and erase the indicator (at once; safe to call more than once)."""
        self._stopped.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        if self._drawn:
            self._drawn = False
            try:
                raw(self.stream, "\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass

    def __enter__(self) -> Waiting:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def summary(completion: Completion, *, total: float, first_token: float | None = None) -> str:
    """The line that ends an answer: why it finished, tokens, speed, time to the first token
    and in all, e.g. ``finish: stop | tokens: 12 prompt (0 cached) + 8 completion | 31.2
    tokens/s | first token after 0.21 s | total 0.47 s``.

    ``total`` and ``first_token`` are seconds since the request went out. The speed is the
    server's own measure when it gives one (llama.cpp's ``predicted_per_second``), else the
    completion tokens over the time since the first token (when that is long enough to mean
    something). Parts the server did not report are left out.
    """
    parts = [f"finish: {completion.finish_reason.value}"]
    usage = completion.usage
    if usage is not None and (usage.prompt_tokens is not None or usage.completion_tokens):
        prompt = "?" if usage.prompt_tokens is None else str(usage.prompt_tokens)
        cached = f" ({usage.cached_tokens} cached)" if usage.cached_tokens is not None else ""
        produced = "?" if usage.completion_tokens is None else str(usage.completion_tokens)
        parts.append(f"tokens: {prompt} prompt{cached} + {produced} completion")
    speed = completion.metrics.get("predicted_per_second")
    if not isinstance(speed, (int, float)) or isinstance(speed, bool):
        speed = None
        generating = total - first_token if first_token is not None else 0.0
        if usage is not None and usage.completion_tokens and generating >= 0.2:
            speed = usage.completion_tokens / generating
    if speed is not None:
        parts.append(f"{speed:.1f} tokens/s")
    if first_token is not None:
        parts.append(f"first token after {first_token:.2f} s")
    parts.append(f"total {total:.2f} s")
    return " | ".join(parts)
