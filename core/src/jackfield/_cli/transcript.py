"""Saving a chat (``/save FILE`` in a session): Markdown to read, or JSON to load again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jackfield._cli.chat import Chat

__all__ = ["chat_json", "chat_markdown", "save"]


def save(chat: Chat, path: str) -> str:
    """Write the conversation to ``path``: Markdown when it ends in ``.md``, else JSON; the
    format's name."""
    target = Path(path).expanduser()
    markdown = target.suffix.lower() in (".md", ".markdown")
    text = chat_markdown(chat) if markdown else json.dumps(chat_json(chat), indent=2) + "\n"
    target.write_text(text, encoding="utf-8")
    return "Markdown" if markdown else "JSON"


def chat_json(chat: Chat) -> dict[str, Any]:
    """``{"model", "conversation", "system", "messages"}``, the messages OpenAI-style (what
    :meth:`jackfield.Conversation.of` reads back), tool turns included."""
    from jackfield._logs import dump_message

    return {
        "model": chat.model,
        "conversation": chat.cid,
        "system": chat.system,
        "messages": [dump_message(m) for m in chat.messages],
    }


def chat_markdown(chat: Chat) -> str:
    """The conversation as Markdown: a heading per message; tool calls and results as notes."""
    from jackfield._messages import (
        AssistantMessage,
        ImagePart,
        TextPart,
        ToolMessage,
        UserMessage,
    )

    lines = [f"# Chat with {chat.label}", ""]
    if chat.system:
        lines += ["## System", "", chat.system, ""]
    for message in chat.messages:
        if isinstance(message, UserMessage):
            lines += ["## You", ""]
            if isinstance(message.content, str):
                lines += [message.content, ""]
                continue
            for part in message.content:
                if isinstance(part, TextPart):
                    lines += [part.text, ""]
                elif isinstance(part, ImagePart):
                    shown = part.url or f"{part.media_type}, {len(part.data or b'')} bytes"
                    lines += [f"*[image: {shown}]*", ""]
        elif isinstance(message, AssistantMessage):
            lines += [f"## {chat.agent.name}", ""]
            if message.content:
                lines += [message.content, ""]
            for call in message.tool_calls:
                name = f"{call.source}__{call.name}" if call.source else call.name
                lines += [f"*called `{name}({call.arguments})`*", ""]
        elif isinstance(message, ToolMessage):
            lines += ["*tool result:*", "", "```text", message.content, "```", ""]
    return "\n".join(lines)
