"""Conversation types: system, user, assistant and tool messages, content parts and tools.

Providers receive a validated :class:`Conversation`. Hosts may build it from these classes
or pass plain OpenAI-style dicts (``{"role": "user", "content": "hi"}``) or a bare string;
:meth:`Conversation.of` converts and validates, raising
:class:`~jackfield.ConversationError` with the offending message's position before
anything is sent.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Union

import attrs

from jackfield._errors import ConversationError
from jackfield._fragments import ToolCall

__all__ = [
    "AssistantMessage",
    "ContentPart",
    "Conversation",
    "ImagePart",
    "Message",
    "MessagesLike",
    "SystemMessage",
    "TextPart",
    "Tool",
    "ToolMessage",
    "UserMessage",
]


@attrs.frozen
class TextPart:
    """A piece of text inside a user message."""

    text: str


@attrs.frozen
class ImagePart:
    """An image inside a user message: either inline bytes with a media type, or a URL.

    Use :meth:`from_bytes`, :meth:`from_url` or :meth:`from_path` to build one.
    """

    data: bytes | None = None
    media_type: str | None = None
    url: str | None = None
    detail: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise ConversationError("an image needs exactly one of data (bytes) or url")
        if self.data is not None and not self.media_type:
            raise ConversationError("an image given as bytes needs its media_type, e.g. image/png")

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str, *, detail: str | None = None) -> ImagePart:
        """An inline image."""
        return cls(data=data, media_type=media_type, detail=detail)

    @classmethod
    def from_url(cls, url: str, *, detail: str | None = None) -> ImagePart:
        """An image by URL (``https:`` or ``data:``), passed through as given."""
        return cls(url=url, detail=detail)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], *, detail: str | None = None) -> ImagePart:
        """Read an image file; the media type is guessed from the file name."""
        media_type = mimetypes.guess_type(os.fspath(path))[0]
        if media_type is None or not media_type.startswith("image/"):
            raise ConversationError(f"cannot tell the image type of {os.fspath(path)!r}")
        with open(path, "rb") as handle:
            return cls(data=handle.read(), media_type=media_type, detail=detail)

    def as_url(self) -> str:
        """The URL to send: the given URL, or a ``data:`` URL built from the bytes."""
        if self.url is not None:
            return self.url
        assert self.data is not None
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


ContentPart = Union[TextPart, ImagePart]
"""A part of a message's content: text or an image."""


@attrs.frozen
class SystemMessage:
    """Instructions for the model."""

    content: str
    role: ClassVar[str] = "system"


@attrs.frozen
class UserMessage:
    """What the user said: text, or a sequence of text and image parts."""

    content: str | tuple[ContentPart, ...]
    role: ClassVar[str] = "user"

    @property
    def text(self) -> str:
        """The message's text parts joined (images left out)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


@attrs.frozen
class AssistantMessage:
    """What the model said before: text, tool calls it made, and optionally its reasoning.

    ``thoughts`` is sent back only to servers that need it (a provider option decides).
    """

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    thoughts: str | None = None
    role: ClassVar[str] = "assistant"


@attrs.frozen
class ToolMessage:
    """The result of running a tool call, answering the call with ``tool_call_id``."""

    tool_call_id: str
    content: str
    name: str | None = None
    role: ClassVar[str] = "tool"


Message = Union[SystemMessage, UserMessage, AssistantMessage, ToolMessage]
"""Any message of a conversation."""

MessagesLike = Union[str, "Conversation", Iterable[Union[Message, Mapping[str, Any]]]]
"""What hosts may pass as messages: a string, a Conversation, or messages and/or dicts."""


@attrs.frozen
class Tool:
    """A tool the model may call: name, description and a JSON Schema for its arguments.

    ``source`` names the MCP server or toolbox the tool comes from; providers use it to keep
    tools of the same name from different sources apart.
    """

    name: str
    """The name the model calls the tool by."""
    description: str = ""
    """What the tool does, for the model to decide when to call it."""
    parameters: Mapping[str, Any] = attrs.field(
        factory=lambda: {"type": "object", "properties": {}}, hash=False
    )
    """A JSON Schema of the arguments object; the default takes no arguments."""
    source: str | None = None
    """The MCP server or toolbox the tool comes from, to keep same-named tools apart."""


def _where(index: int) -> str:
    return f"messages[{index}]"


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        # OpenAI allows text parts for system/assistant/tool content too.
        return "".join(_part(p, f"{where}[{i}]", text_only=True).text for i, p in enumerate(value))  # type: ignore[union-attr]
    raise ConversationError(f"{where}: content must be a string, got {type(value).__name__}")


def _part(raw: Any, where: str, *, text_only: bool = False) -> ContentPart:
    if isinstance(raw, (TextPart, ImagePart)):
        part: ContentPart = raw
    elif isinstance(raw, str):
        part = TextPart(raw)
    elif isinstance(raw, Mapping):
        kind = raw.get("type")
        if kind == "text":
            text = raw.get("text")
            if not isinstance(text, str):
                raise ConversationError(f"{where}: a text part needs a string 'text'")
            part = TextPart(text)
        elif kind == "image_url":
            image = raw.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            if not isinstance(url, str):
                raise ConversationError(f"{where}: an image_url part needs image_url.url")
            detail = image.get("detail") if isinstance(image, Mapping) else None
            part = ImagePart(url=url, detail=detail)
        else:
            raise ConversationError(
                f"{where}: unknown content part type {kind!r} (expected 'text' or 'image_url')"
            )
    else:
        raise ConversationError(f"{where}: a content part must be a mapping, string or part")
    if text_only and not isinstance(part, TextPart):
        raise ConversationError(f"{where}: only text parts are allowed here")
    return part


def _tool_calls(raw: Any, where: str) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise ConversationError(f"{where}.tool_calls must be a list")
    calls = []
    for i, item in enumerate(raw):
        if isinstance(item, ToolCall):
            calls.append(item)
            continue
        at = f"{where}.tool_calls[{i}]"
        if not isinstance(item, Mapping):
            raise ConversationError(f"{at} must be a mapping")
        function = item.get("function", item)
        call_id, name = item.get("id"), function.get("name")
        arguments = function.get("arguments", "")
        if not isinstance(call_id, str) or not call_id:
            raise ConversationError(f"{at} has no id")
        if not isinstance(name, str) or not name:
            raise ConversationError(f"{at} has no function name")
        if not isinstance(arguments, str):
            raise ConversationError(f"{at}: arguments must be a JSON string")
        calls.append(ToolCall(call_id, name, arguments, index=i))
    return tuple(calls)


def _message(raw: Any, index: int) -> Message:
    if isinstance(raw, (SystemMessage, UserMessage, AssistantMessage, ToolMessage)):
        return raw
    where = _where(index)
    if not isinstance(raw, Mapping):
        raise ConversationError(
            f"{where}: expected a message object or a mapping with a 'role', "
            f"got {type(raw).__name__}"
        )
    role = raw.get("role")
    if role in ("system", "developer"):
        return SystemMessage(_text(raw.get("content"), f"{where}.content"))
    if role == "user":
        content = raw.get("content")
        if isinstance(content, str):
            return UserMessage(content)
        if isinstance(content, list):
            return UserMessage(
                tuple(_part(p, f"{where}.content[{i}]") for i, p in enumerate(content))
            )
        raise ConversationError(f"{where}.content must be a string or a list of parts")
    if role == "assistant":
        return AssistantMessage(
            content=_text(raw.get("content"), f"{where}.content"),
            tool_calls=_tool_calls(raw.get("tool_calls"), where),
            thoughts=raw.get("reasoning_content") or raw.get("reasoning") or None,
        )
    if role == "tool":
        call_id = raw.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ConversationError(f"{where}: a tool message needs a non-empty tool_call_id")
        name = raw.get("name")
        return ToolMessage(call_id, _text(raw.get("content"), f"{where}.content"), name)
    raise ConversationError(
        f"{where}: unknown role {role!r} (expected system, user, assistant or tool)"
    )


@attrs.frozen
class Conversation:
    """A validated sequence of messages, ready for a provider."""

    messages: tuple[Message, ...]

    @classmethod
    def of(cls, messages: MessagesLike) -> Conversation:
        """Convert and validate: a string becomes one user message; dicts are OpenAI-style.

        Raises :class:`~jackfield.ConversationError` naming the message at fault when a
        message is malformed, a tool message has no call id, or a tool result answers a call
        that no earlier assistant message made.
        """
        if isinstance(messages, Conversation):
            return messages
        if isinstance(messages, str):
            return cls((UserMessage(messages),))
        if isinstance(messages, Mapping):
            raise ConversationError("expected a list of messages, got a single mapping")
        converted = tuple(_message(raw, i) for i, raw in enumerate(messages))
        conversation = cls(converted)
        conversation.validate()
        return conversation

    def validate(self) -> None:
        """Check the rules every provider relies on (see :meth:`of`)."""
        if not self.messages:
            raise ConversationError("the conversation is empty: add at least one message")
        known: set[str] = set()
        for i, message in enumerate(self.messages):
            if isinstance(message, AssistantMessage):
                known.update(call.id for call in message.tool_calls)
            elif isinstance(message, ToolMessage):
                if not message.tool_call_id:
                    raise ConversationError(f"{_where(i)}: a tool message needs a tool_call_id")
                if message.tool_call_id not in known:
                    raise ConversationError(
                        f"{_where(i)}: tool result for unknown call {message.tool_call_id!r}; "
                        "no earlier assistant message made a call with that id"
                    )

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    def append(self, *messages: Message) -> Conversation:
        """A new conversation with messages added at the end (validated)."""
        conversation = Conversation(self.messages + messages)
        conversation.validate()
        return conversation
