"""Line numbers of key paths in a TOML text, for error messages (best effort, no parser)."""

from __future__ import annotations

import re

from jackfield._errors import Path

__all__ = ["Locator"]

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\'))*)\s*='
)
_INLINE_KEY = re.compile(r'[{,]\s*([A-Za-z0-9_-]+|"[^"]*")\s*=')
_PART = re.compile(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)')


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _PART.findall(text))


class Locator:
    """Where each table header and key first appears: ``line(("agents", "coder", "model"))``.

    A path the text does not show (a default, an array element) gets the line of its nearest
    enclosing key or table.
    """

    def __init__(self, text: str | None) -> None:
        self.lines: dict[Path, int] = {}
        if not text:
            return
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _TABLE.match(line)
            if header:
                table = _key_parts(header.group(1))
                for depth in range(1, len(table) + 1):
                    self.lines.setdefault(table[:depth], number)
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, *_key_parts(key.group(1)))
                self.lines.setdefault(path, number)
                for inner in _INLINE_KEY.findall(line[key.end() :]):
                    self.lines.setdefault((*path, *_key_parts(inner)), number)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of the nearest enclosing key that the text shows."""
        while path:
            found = self.lines.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return None
