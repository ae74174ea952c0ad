"""Caps on what one answer may hold, shared by every parser and every provider."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["ANSWER_BYTES", "BODY_BYTES", "EVENT_BYTES", "Limits"]

EVENT_BYTES = 16 * 1024 * 1024
"""The default cap on one line or event of a stream, in characters (16 Mi)."""
BODY_BYTES = 64 * 1024 * 1024
"""The default cap on an answer read whole, in bytes (64 MiB)."""
ANSWER_BYTES = 256 * 1024 * 1024
"""The default cap on any answer, streamed or whole, in bytes after decompression (256 MiB)."""


def _positive(instance: Any, attribute: Any, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be a positive number, got {value}")


@attrs.frozen
class Limits:
    """Caps on what one answer may hold, so that a broken or hostile server cannot make a
    call grow without bound. Going over one fails the call with
    :class:`~jackfield.StreamLimitError`, and what arrived before stays in the error's
    ``partial`` response.

    ``event_bytes``: one line or event of a stream. ``body_bytes``: a whole answer read at
    once (a non-streamed chat, a model list). ``answer_bytes``: any answer, a stream included,
    after decompression. ``choices``: choices in one answer.
    ``tool_calls``: tool calls in one answer, all choices together.
    ``tool_argument_chars``: the arguments (JSON text) of one tool call.
    """

    event_bytes: int = attrs.field(default=EVENT_BYTES, validator=_positive)
    """Largest line or event of a streamed answer, counted in characters after UTF-8 decoding;
    default 16 MiB."""
    body_bytes: int = attrs.field(default=BODY_BYTES, validator=_positive)
    """Largest answer read whole, in bytes: a non-streamed chat, a model list, a status probe or an
    embeddings answer; default 64 MiB."""
    answer_bytes: int = attrs.field(default=ANSWER_BYTES, validator=_positive)
    """Largest answer of any kind, a stream included, in bytes after decompression (a body
    compressed a thousandfold counts for what it becomes); default 256 MiB."""
    choices: int = attrs.field(default=64, validator=_positive)
    """Most choices in one answer."""
    tool_calls: int = attrs.field(default=512, validator=_positive)
    """Most tool calls in one answer, all choices together."""
    tool_argument_chars: int = attrs.field(default=8 * 1024 * 1024, validator=_positive)
    """Longest arguments (JSON text) of one tool call, in characters; default 8 Mi (8,388,608)."""
