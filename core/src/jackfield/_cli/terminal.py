"""What the command line writes: text from servers and models never steers the terminal.

Everything the commands write goes through :class:`SafeWriter`: printable text (any script,
emoji included), newlines and tabs pass unchanged; terminal control characters (ESC and the
sequences it starts, CSI, OSC, BEL, backspace, a lone carriage return ...), the Unicode
controls that reorder text on screen, and lone surrogates (which no encoding can write) are
shown escaped as ``\\u001b``. That form is also a valid escape inside a JSON string, so
``--json`` lines stay valid JSON. The command line's own escape sequences (dimmed thoughts)
are written with :meth:`SafeWriter.raw`.
"""

from __future__ import annotations

import re
from typing import Any, TextIO, cast

__all__ = ["SafeWriter", "raw", "safe", "safe_streams"]

# C0 controls but tab and newline, DEL, C1 controls (0x9b is CSI, 0x9d OSC), the bidirectional
# overrides and isolates (they reorder what is shown), and surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe(text: str) -> str:
    """``text`` with terminal controls and lone surrogates shown escaped (``\\u001b``); a
    Windows line end (``\\r\\n``) is kept as a newline."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escaped, text.replace("\r\n", "\n"))


class SafeWriter:
    """A text stream that writes :func:`safe` text to ``stream`` (and, when ``stream``'s
    encoding cannot write a character, its escape instead of failing)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.raw(safe(text))

    def raw(self, text: str) -> int:
        """Write ``text`` as it is: the command line's own escape sequences."""
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:  # a terminal that cannot show some character
            encoding = getattr(self.stream, "encoding", None) or "ascii"
            return self.stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding ...
        return getattr(self.stream, name)


def safe_streams(out: TextIO, err: TextIO) -> tuple[TextIO, TextIO]:
    """``out`` and ``err`` wrapped in :class:`SafeWriter` (once)."""
    return cast("TextIO", _wrap(out)), cast("TextIO", _wrap(err))


def _wrap(stream: TextIO) -> SafeWriter:
    return stream if isinstance(stream, SafeWriter) else SafeWriter(stream)


def raw(stream: TextIO, text: str) -> None:
    """Write the command line's own control sequence ``text`` (not escaped)."""
    write = getattr(stream, "raw", None)
    (write or stream.write)(text)
