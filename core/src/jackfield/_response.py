"""Folding a fragment stream into the final answer."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from jackfield._fragments import (
    Completion,
    FinishReason,
    Fragment,
    TextDelta,
    ThoughtDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from jackfield._messages import AssistantMessage

__all__ = ["Choice", "Response"]


@attrs.frozen
class Choice:
    """The folded state of one choice.

    ``pending_tool_calls`` holds calls whose deltas arrived but whose complete
    :class:`~jackfield._fragments.ToolCall` did not (yet): each is one delta carrying every
    argument fragment so far. It is empty for a stream that finished normally.
    """

    index: int
    text: str = ""
    thoughts: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    pending_tool_calls: tuple[ToolCallDelta, ...] = ()
    completion: Completion | None = None


class _Pending:
    __slots__ = ("id", "name", "parts")

    def __init__(self, id: str | None, name: str | None, parts: list[str]) -> None:
        self.id = id
        self.name = name
        self.parts = parts


class _State:
    __slots__ = ("completion", "pending", "text", "thoughts", "tool_calls")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.thoughts: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.pending: dict[int, _Pending] = {}
        self.completion: Completion | None = None

    def copy(self) -> _State:
        new = _State()
        new.text = self.text.copy()
        new.thoughts = self.thoughts.copy()
        new.tool_calls = self.tool_calls.copy()
        new.pending = {i: _Pending(p.id, p.name, p.parts.copy()) for i, p in self.pending.items()}
        new.completion = self.completion
        return new

    def freeze(self, index: int) -> Choice:
        return Choice(
            index=index,
            text="".join(self.text),
            thoughts="".join(self.thoughts),
            tool_calls=tuple(self.tool_calls),
            pending_tool_calls=tuple(
                ToolCallDelta(i, p.id, p.name, "".join(p.parts), index)
                for i, p in sorted(self.pending.items())
            ),
            completion=self.completion,
        )


class Response:
    """Accumulates fragments into the answer: text, thoughts, tool calls and completion.

    ``add`` folds one fragment; :meth:`fold` folds a whole stream. Folding depends only on the
    fragments' content, not on how the text was cut into deltas, and it is associative:
    ``Response.fold(a + b) == Response.fold(a).merge(Response.fold(b))``.

    The convenience properties (``text``, ``tool_calls``, ``usage`` ...) read choice 0;
    :attr:`choices` gives every choice.
    """

    __slots__ = ("_states",)

    def __init__(self) -> None:
        self._states: dict[int, _State] = {}

    @classmethod
    def fold(cls, fragments: Iterable[Fragment]) -> Response:
        """Fold a whole fragment stream."""
        response = cls()
        response.extend(fragments)
        return response

    def _state(self, choice: int) -> _State:
        state = self._states.get(choice)
        if state is None:
            state = self._states[choice] = _State()
        return state

    def add(self, fragment: Fragment) -> None:
        """Fold one fragment in."""
        kind = type(fragment)
        if kind is TextDelta:
            self._state(fragment.choice).text.append(fragment.text)
        elif kind is ThoughtDelta:
            self._state(fragment.choice).thoughts.append(fragment.text)
        elif kind is ToolCallDelta:
            self._add_delta(fragment)  # type: ignore[arg-type]
        elif kind is ToolCall:
            state = self._state(fragment.choice)
            state.pending.pop(fragment.index, None)  # type: ignore[union-attr]
            state.tool_calls.append(fragment)  # type: ignore[arg-type]
        elif kind is Completion:
            self._state(fragment.choice).completion = fragment  # type: ignore[assignment]
        else:
            raise TypeError(f"not a fragment: {fragment!r}")

    def _add_delta(self, delta: ToolCallDelta) -> None:
        state = self._state(delta.choice)
        pending = state.pending.get(delta.index)
        if pending is None:
            state.pending[delta.index] = _Pending(delta.id, delta.name, [delta.arguments_delta])
            return
        if pending.id is None:
            pending.id = delta.id
        if pending.name is None:
            pending.name = delta.name
        pending.parts.append(delta.arguments_delta)

    def extend(self, fragments: Iterable[Fragment]) -> None:
        """Fold several fragments in (text deltas, nearly all of a stream, inline)."""
        states = self._states
        for fragment in fragments:
            if type(fragment) is TextDelta:
                state = states.get(fragment.choice)
                if state is not None:
                    state.text.append(fragment.text)
                    continue
            self.add(fragment)

    def merge(self, later: Response) -> Response:
        """A new response equal to folding this one's fragments followed by ``later``'s."""
        merged = Response()
        merged._states = {i: s.copy() for i, s in self._states.items()}
        for index, theirs in later._states.items():
            ours = merged._state(index)
            ours.text += theirs.text
            ours.thoughts += theirs.thoughts
            completed = {call.index for call in theirs.tool_calls}
            for call_index in completed:
                ours.pending.pop(call_index, None)
            ours.tool_calls += theirs.tool_calls
            for call_index, pend in theirs.pending.items():
                mine = ours.pending.get(call_index)
                if mine is None:
                    ours.pending[call_index] = _Pending(pend.id, pend.name, pend.parts.copy())
                else:
                    mine.id = mine.id if mine.id is not None else pend.id
                    mine.name = mine.name if mine.name is not None else pend.name
                    mine.parts += pend.parts
            if theirs.completion is not None:
                ours.completion = theirs.completion
        return merged

    # --- reading ---------------------------------------------------------------------------

    @property
    def choices(self) -> tuple[Choice, ...]:
        """Every choice seen so far, ordered by index."""
        return tuple(self._states[i].freeze(i) for i in sorted(self._states))

    def choice(self, index: int = 0) -> Choice:
        """The folded state of one choice (empty if nothing arrived for it)."""
        state = self._states.get(index)
        return state.freeze(index) if state is not None else Choice(index=index)

    @property
    def text(self) -> str:
        """The answer text of choice 0."""
        state = self._states.get(0)
        return "".join(state.text) if state is not None else ""

    @property
    def thoughts(self) -> str:
        """The reasoning text of choice 0."""
        state = self._states.get(0)
        return "".join(state.thoughts) if state is not None else ""

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The complete tool calls of choice 0."""
        state = self._states.get(0)
        return tuple(state.tool_calls) if state is not None else ()

    @property
    def completion(self) -> Completion | None:
        """The final fragment of choice 0, or ``None`` if the stream did not finish."""
        state = self._states.get(0)
        return state.completion if state is not None else None

    @property
    def finish_reason(self) -> FinishReason | None:
        """Why choice 0 finished, or ``None`` if it did not."""
        completion = self.completion
        return completion.finish_reason if completion is not None else None

    @property
    def usage(self) -> Usage | None:
        """Token usage reported for the request (on choice 0's completion)."""
        completion = self.completion
        return completion.usage if completion is not None else None

    @property
    def done(self) -> bool:
        """Whether every choice seen has its :class:`~jackfield._fragments.Completion`."""
        return bool(self._states) and all(s.completion is not None for s in self._states.values())

    def to_message(self, choice: int = 0) -> AssistantMessage:
        """The assistant message to append to the conversation for the next turn."""
        folded = self.choice(choice)
        return AssistantMessage(
            content=folded.text,
            tool_calls=folded.tool_calls,
            thoughts=folded.thoughts or None,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return self.choices == other.choices

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        """The answer's text (``print(response)`` shows what the model said)."""
        return self.text

    def __repr__(self) -> str:
        return f"Response(choices={self.choices!r})"
