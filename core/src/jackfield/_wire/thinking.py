"""Reasoning inlined in the answer as ``<think>...</think>``, split out while streaming.

Modes: ``auto`` treats a think block at the very start of the answer (after at most
:data:`MAX_LEADING_SPACE` characters of whitespace) as reasoning; ``open`` means the answer starts inside a block that the chat
template opened, so only the closing tag appears. Tags may be split across any number of
deltas. Whitespace right after either tag is dropped (as servers' reasoning parsers do);
everything else is kept exactly.

Providers use it for servers that inline reasoning in the answer text; it is pure and
sans-I/O, so any provider can share it.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["MAX_LEADING_SPACE", "ThinkSplitter", "ThinkTags"]

ThinkTags = Literal["auto", "open", "off"]
"""How a provider treats ``<think>`` tags in answer text: ``auto`` splits a block at the start,
``open`` assumes the template opened one, ``off`` leaves the text alone."""

MAX_LEADING_SPACE = 256
"""In ``auto`` mode, the most whitespace a think block may follow at the start of the answer.
Past it the answer is plain text at once: whitespace is not held back for long (a model
stuck emitting whitespace, a known JSON-mode failure, shows it as it comes), and holding it
costs a bounded amount of work per delta."""

_START, _OPENED, _THOUGHT, _AFTER, _TEXT = range(5)


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper beginning of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Turns content deltas into ``(is_thought, text)`` segments."""

    __slots__ = ("_close", "_held", "_open", "state")

    def __init__(self, mode: str, open_tag: str = "<think>", close_tag: str = "</think>") -> None:
        self._open = open_tag
        self._close = close_tag
        self._held = ""
        self.state = _OPENED if mode == "open" else _START

    @property
    def passthrough(self) -> bool:
        """Whether all further content is plain text (the fast path)."""
        return self.state == _TEXT

    def feed(self, text: str) -> list[tuple[bool, str]]:
        """Split one content delta."""
        out: list[tuple[bool, str]] = []
        text = self._held + text
        self._held = ""
        while text:
            if self.state == _TEXT:
                out.append((False, text))
                break
            if self.state == _START:
                body = text.lstrip()
                if len(text) - len(body) > MAX_LEADING_SPACE:
                    self.state = _TEXT  # too much whitespace for a block to follow
                elif body.startswith(self._open):
                    self.state = _OPENED
                    text = body[len(self._open) :]
                elif not body or self._open.startswith(body):
                    self._held = text  # whitespace, or a tag still arriving
                    break
                else:
                    self.state = _TEXT
            elif self.state == _OPENED:  # drop the whitespace that follows the opening tag
                text = text.lstrip()
                if text:
                    self.state = _THOUGHT
            elif self.state == _THOUGHT:
                end = text.find(self._close)
                if end < 0:
                    keep = _partial_suffix(text, self._close)
                    if keep:
                        self._held = text[-keep:]
                        text = text[:-keep]
                    if text:
                        out.append((True, text))
                    break
                if end:
                    out.append((True, text[:end]))
                self.state = _AFTER
                text = text[end + len(self._close) :]
            else:  # _AFTER: drop the whitespace between the block and the answer
                text = text.lstrip()
                if text:
                    self.state = _TEXT
        return out

    def flush(self) -> list[tuple[bool, str]]:
        """The end of the answer: whatever was held back, as what it turned out to be."""
        held, self._held = self._held, ""
        if not held or self.state in (_AFTER, _OPENED):
            return []
        return [(self.state == _THOUGHT, held)]
