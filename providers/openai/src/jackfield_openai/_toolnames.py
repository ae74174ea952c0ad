"""Reversible tool names: (source, name) <-> a wire name OpenAI's rules accept.

OpenAI requires tool names to match ``^[a-zA-Z0-9_-]{1,64}$``. Tools from several sources (MCP
servers, toolboxes) go out as ``source__name``; anything outside the allowed characters
becomes ``_``, and names that collide or exceed 64 characters get a short stable hash. The
mapping is built per request and used to split the model's calls back into (source, name), so
long names and names that themselves contain ``__`` still round-trip.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from jackfield import Tool

__all__ = ["ToolNames"]

_ALLOWED = re.compile(r"[^a-zA-Z0-9_-]")
MAX_LENGTH = 64


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


class ToolNames:
    """The wire names of one request's tools."""

    __slots__ = ("_back", "_wire")

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._wire: dict[tuple[str | None, str], str] = {}
        self._back: dict[str, tuple[str | None, str]] = {}
        for tool in tools:
            self.wire(tool.source, tool.name)

    def wire(self, source: str | None, name: str) -> str:
        """The wire name for a tool (assigned on first use, stable within the request)."""
        key = (source, name)
        existing = self._wire.get(key)
        if existing is not None:
            return existing
        plain = f"{source}__{name}" if source else name
        candidate = _ALLOWED.sub("_", plain) or "tool"
        if len(candidate) > MAX_LENGTH or candidate in self._back:
            candidate = f"{candidate[: MAX_LENGTH - 9]}_{_digest(plain)}"
        while candidate in self._back:  # a hash collision: vanishingly rare
            candidate = f"{candidate[: MAX_LENGTH - 9]}_{_digest(candidate)}"
        self._wire[key] = candidate
        self._back[candidate] = key
        return candidate

    def split(self, wire: str) -> tuple[str | None, str]:
        """(source, name) for a name the model used; unknown names come back unchanged."""
        return self._back.get(wire, (None, wire))
