"""How a chat's conversation goes on: a run's model calls as turns of the log, and the results
owed to calls a stopped turn never ran."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jackfield._messages import Message
    from jackfield._response import Response

__all__ = ["log_turns", "not_run"]


def not_run(messages: Sequence[Message]) -> list[Message]:
    """A result for each call of the conversation's last answer when none came (the run
    stopped at ``max_steps``, or a host was to run them): servers refuse a conversation that
    goes on past unanswered calls, and the model learns they did not run."""
    from jackfield._messages import AssistantMessage, ToolMessage

    last = messages[-1] if messages else None
    if not isinstance(last, AssistantMessage):
        return []
    why = "not run: the turn ended before this call ran"
    return [ToolMessage(call.id, why) for call in last.tool_calls]


def log_turns(
    prompt: list[Message], added: Sequence[Message], responses: Sequence[Response]
) -> list[tuple[list[Message], Response | None]]:
    """A run as turns of the log, one per model call: ``prompt`` and the first answer, then
    each call's tool results and the answer that read them. ``added`` is what the run added to
    the conversation (each answer, then its tool results: a run that stops, at an answer or at
    ``max_steps``, runs no call it would not send back)."""
    prompts: list[list[Message]] = [list(prompt)]
    for message in added:
        if message.role == "assistant":
            prompts.append([])
        else:
            prompts[-1].append(message)
    return list(zip(prompts, responses, strict=False))
