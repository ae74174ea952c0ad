"""Typed stream fragments: what every provider's chat stream yields.

A stream yields any number of :class:`TextDelta`, :class:`ThoughtDelta` and
:class:`ToolCallDelta` fragments, complete :class:`ToolCall` fragments once a call's
arguments are whole, and exactly one :class:`Completion` per choice at the end.
All fragments are frozen, slotted attrs classes; they serialise through
:data:`jackfield.converter` to JSON objects tagged by ``"type"``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, Union

import attrs

from jackfield._errors import InvalidToolArguments

__all__ = [
    "Completion",
    "FinishReason",
    "Fragment",
    "RunFragment",
    "TextDelta",
    "ThoughtDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolResult",
    "Usage",
]


# The two fragments made once per streamed chunk get a hand-written __init__ that sets the
# slots through their descriptors: a third cheaper than attrs' frozen __init__ (which goes
# through object.__setattr__), and the hottest allocation of every stream. Everything else
# (repr, eq, hash, frozenness, attrs.fields) is attrs' as usual.


@attrs.frozen(init=False)
class TextDelta:
    """A piece of the answer's text, in arrival order."""

    text: str
    choice: int = 0

    def __init__(self, text: str, choice: int = 0) -> None:
        _set_text_text(self, text)
        _set_text_choice(self, choice)


@attrs.frozen(init=False)
class ThoughtDelta:
    """A piece of the model's reasoning ("thinking"), kept apart from the answer."""

    text: str
    choice: int = 0

    def __init__(self, text: str, choice: int = 0) -> None:
        _set_thought_text(self, text)
        _set_thought_choice(self, choice)


_set_text_text = TextDelta.__dict__["text"].__set__
_set_text_choice = TextDelta.__dict__["choice"].__set__
_set_thought_text = ThoughtDelta.__dict__["text"].__set__
_set_thought_choice = ThoughtDelta.__dict__["choice"].__set__


@attrs.frozen
class ToolCallDelta:
    """Live progress of one tool call, for UIs; ``index`` orders calls within a choice.

    ``id`` and ``name`` are set on the first delta of a call (and may be ``None`` later);
    concatenating every ``arguments_delta`` of an index gives the call's ``arguments``.
    """

    index: int
    id: str | None
    name: str | None
    arguments_delta: str
    choice: int = 0

    @property
    def text(self) -> str:
        """Always ``""``: a tool call adds no text (so ``fragment.text`` works on any fragment)."""
        return ""


@attrs.frozen
class ToolCall:
    """A complete tool call. ``arguments`` is the raw JSON text exactly as the model wrote it.

    ``source`` names where the tool came from (an MCP server or toolbox) when tools from
    several sources were offered; ``index`` is the call's position within its choice.
    """

    id: str
    name: str
    arguments: str
    source: str | None = None
    choice: int = 0
    index: int = 0

    @property
    def text(self) -> str:
        """Always ``""``: a tool call adds no text (so ``fragment.text`` works on any fragment)."""
        return ""

    @property
    def arguments_valid(self) -> bool:
        """Whether ``arguments`` parses as JSON (the model may have written broken JSON)."""
        try:
            json.loads(self.arguments or "{}")
        except ValueError:
            return False
        return True

    def parsed_arguments(self) -> Any:
        """The arguments parsed from JSON; an empty string counts as ``{}``.

        Raises :class:`~jackfield.InvalidToolArguments` (a ``ValueError``) naming the call
        when the text is not valid JSON.
        """
        try:
            return json.loads(self.arguments or "{}")
        except ValueError as exc:
            raise InvalidToolArguments(self.name, self.id, self.arguments, str(exc)) from None


@attrs.frozen
class ToolResult:
    """What running a tool call gave, in a run (:meth:`~jackfield.provider.Pipeline.run`): it
    follows the :class:`ToolCall` it answers, and goes back to the model as a tool message.

    ``id``, ``name``, ``source``, ``choice`` and ``index`` are the call's. ``content`` is the
    text the model reads; ``is_error`` says the tool failed, was refused or does not exist
    (``content`` then says why). ``data`` is the tool's structured value when it gave one (a
    Python tool's return value as JSON, an MCP tool's ``structuredContent``).
    """

    id: str
    name: str
    content: str
    is_error: bool = False
    source: str | None = None
    data: Any = attrs.field(default=None, eq=False, hash=False)
    choice: int = 0
    index: int = 0

    @property
    def text(self) -> str:
        """Always ``""``: a tool's result is not the answer (so ``fragment.text`` works on any
        fragment)."""
        return ""


class FinishReason(str, enum.Enum):
    """Why a choice ended, normalised across servers (the raw string is kept on Completion)."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    OTHER = "other"

    @classmethod
    def normalise(cls, raw: str | None) -> FinishReason | None:
        """Map a server's finish reason to the enum; ``None`` when the server gave none.

        ``None``, ``""`` and the string ``"null"`` mean "not given". Known aliases:
        ``tool_call``/``function_call`` are tool calls, ``eos``/``end_turn``/``stop_sequence``
        are stops, ``max_tokens`` is length, ``abort`` is an error. Anything else is OTHER.
        """
        if raw is None:
            return None
        key = raw.strip().lower()
        if not key or key == "null":
            return None
        return _FINISH_ALIASES.get(key, cls.OTHER)


_FINISH_ALIASES: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "eos": FinishReason.STOP,
    "eos_token": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "max_tokens": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "tool_call": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "tool_use": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
    "error": FinishReason.ERROR,
    "abort": FinishReason.ERROR,
}


@attrs.frozen
class Usage:
    """Token accounting as the server reported it; a field is ``None`` when not reported."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None


@attrs.frozen
class Completion:
    """The last fragment of a choice: why it finished, usage, the model that answered, metrics,
    and the call's request id.

    ``metrics`` holds backend measurements as the server named them (for llama.cpp its
    ``timings``: ``prompt_ms``, ``predicted_per_second`` ...).
    """

    finish_reason: FinishReason
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    metrics: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    choice: int = 0
    request_id: str | None = attrs.field(default=None, eq=False)
    """The id the call was sent with (the ``X-Request-Id`` of HTTP providers), to find it in a
    server's or router's logs; ``None`` when the provider sends none. Which call an answer came
    from, not what it says: completions equal but for it are equal."""

    @property
    def text(self) -> str:
        """Always ``""``: the end of a choice adds no text (so ``fragment.text`` works on any
        fragment; a :class:`ThoughtDelta`'s is reasoning, use a stream's ``text_stream`` for the
        answer alone)."""
        return ""


Fragment = Union[TextDelta, ThoughtDelta, ToolCallDelta, ToolCall, Completion]
"""Any fragment a chat stream yields."""

RunFragment = Union[TextDelta, ThoughtDelta, ToolCallDelta, ToolCall, Completion, ToolResult]
"""Any fragment a run yields: a chat stream's, and a :class:`ToolResult` after each call run."""

FRAGMENT_TAGS: Mapping[type[Any], str] = {
    TextDelta: "text",
    ThoughtDelta: "thought",
    ToolCallDelta: "tool_call_delta",
    ToolCall: "tool_call",
    Completion: "completion",
    ToolResult: "tool_result",
}
"""The ``"type"`` tag each fragment class carries in its JSON form."""
