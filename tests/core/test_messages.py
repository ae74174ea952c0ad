"""Conversations: coercion from OpenAI-style dicts, validation errors, round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield import (
    AssistantMessage,
    Conversation,
    ConversationError,
    ImagePart,
    SystemMessage,
    TextPart,
    Tool,
    ToolCall,
    ToolMessage,
    UserMessage,
    converter,
)
from jackfield._messages import Message


def test_a_string_is_one_user_message() -> None:
    assert Conversation.of("hi").messages == (UserMessage("hi"),)


def test_openai_style_dicts_are_converted() -> None:
    conversation = Conversation.of(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Really."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "Looks like a cat.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "look", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
        ]
    )
    assert conversation.messages == (
        SystemMessage("Be brief."),
        SystemMessage("Really."),
        UserMessage((TextPart("What is this?"), ImagePart(url="https://x/y.png", detail="low"))),
        AssistantMessage("", (ToolCall("c1", "look", "{}"),), "Looks like a cat."),
        ToolMessage("c1", "a cat"),
    )


def test_message_objects_and_dicts_mix() -> None:
    conversation = Conversation.of([SystemMessage("s"), {"role": "user", "content": "u"}])
    assert conversation.messages == (SystemMessage("s"), UserMessage("u"))
    assert Conversation.of(conversation) is conversation


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "the conversation is empty"),
        ({"role": "user", "content": "x"}, "expected a list of messages, got a single mapping"),
        (["hi"], "messages[0]: expected a message object or a mapping with a 'role', got str"),
        ([{"role": "robot", "content": "x"}], "messages[0]: unknown role 'robot'"),
        (
            [{"role": "user", "content": 3}],
            "messages[0].content must be a string or a list of parts",
        ),
        (
            [{"role": "user", "content": [{"type": "audio"}]}],
            "messages[0].content[0]: unknown content part type 'audio'",
        ),
        (
            [{"role": "user", "content": [{"type": "text", "text": 1}]}],
            "messages[0].content[0]: a text part needs a string 'text'",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            "messages[0].content[0]: an image_url part needs image_url.url",
        ),
        (
            [{"role": "system", "content": 5}],
            "messages[0].content: content must be a string, got int",
        ),
        (
            [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}],
            "messages[0].content[0]: only text parts are allowed here",
        ),
        (
            [{"role": "user", "content": "q"}, {"role": "tool", "content": "r"}],
            "messages[1]: a tool message needs a non-empty tool_call_id",
        ),
        (
            [
                {"role": "user", "content": "q"},
                {"role": "tool", "tool_call_id": "c9", "content": "r"},
            ],
            "messages[1]: tool result for unknown call 'c9'; "
            "no earlier assistant message made a call",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"id": "c1", "function": {"arguments": "{}"}}]}],
            "messages[0].tool_calls[0] has no function name",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}],
            "messages[0].tool_calls[0] has no id",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}],
                }
            ],
            "messages[0].tool_calls[0]: arguments must be a JSON string",
        ),
        ([{"role": "assistant", "tool_calls": "x"}], "messages[0].tool_calls must be a list"),
    ],
)
def test_invalid_conversations_fail_before_anything_is_sent(messages: Any, message: str) -> None:
    with pytest.raises(ConversationError) as info:
        Conversation.of(messages)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_tool_result_must_follow_its_call() -> None:
    call = ToolCall("c1", "f", "{}")
    with pytest.raises(ConversationError, match=r"messages\[0\]: tool result for unknown call"):
        Conversation.of([ToolMessage("c1", "r"), AssistantMessage("", (call,))])
    ok = Conversation.of([UserMessage("q"), AssistantMessage("", (call,))])
    assert ok.append(ToolMessage("c1", "r")).messages[-1] == ToolMessage("c1", "r")
    with pytest.raises(ConversationError):
        ok.append(ToolMessage("c2", "r"))


def test_images() -> None:
    image = ImagePart.from_bytes(b"\x89PNG", "image/png")
    assert image.as_url() == "data:image/png;base64,iVBORw=="
    assert ImagePart.from_url("https://x/y.jpg").as_url() == "https://x/y.jpg"
    with pytest.raises(ConversationError, match="exactly one of data"):
        ImagePart()
    with pytest.raises(ConversationError, match="needs its media_type"):
        ImagePart(data=b"x")


def test_image_from_path(tmp_path: Any) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(b"\x89PNG")
    assert ImagePart.from_path(path) == ImagePart.from_bytes(b"\x89PNG", "image/png")
    with pytest.raises(ConversationError, match="cannot tell the image type"):
        ImagePart.from_path(tmp_path / "notes.txt")


def test_user_message_text() -> None:
    message = UserMessage((TextPart("a"), ImagePart(url="u"), TextPart("b")))
    assert message.text == "ab"


texts = st.text(max_size=8)
parts = st.one_of(
    st.builds(TextPart, texts),
    st.builds(ImagePart.from_bytes, st.binary(max_size=8), st.just("image/png")),
    st.builds(ImagePart.from_url, texts),
)
tool_calls = st.builds(ToolCall, texts, texts, texts)
messages = st.one_of(
    st.builds(SystemMessage, texts),
    st.builds(UserMessage, texts | st.lists(parts, max_size=3).map(tuple)),
    st.builds(
        AssistantMessage, texts, st.lists(tool_calls, max_size=2).map(tuple), st.none() | texts
    ),
    st.builds(ToolMessage, texts, texts, st.none() | texts),
)


@given(messages)
def test_messages_round_trip_through_the_converter(message: Message) -> None:
    data = converter.unstructure(message, Message)
    assert data["role"] == message.role
    assert converter.structure(data, Message) == message


@given(st.lists(messages, max_size=4))
def test_conversations_round_trip(items: list[Message]) -> None:
    conversation = Conversation(tuple(items))
    assert converter.structure(converter.unstructure(conversation), Conversation) == conversation


@given(st.builds(Tool, texts, texts, st.just({"type": "object"}), st.none() | texts))
def test_tools_round_trip(tool: Tool) -> None:
    assert converter.structure(converter.unstructure(tool), Tool) == tool


def test_content_parts_are_tagged_in_json() -> None:
    message = UserMessage((TextPart("hi"), ImagePart.from_bytes(b"\x00", "image/png")))
    assert converter.unstructure(message, Message) == {
        "role": "user",
        "content": [
            {"type": "text", "text": "hi"},
            {
                "type": "image",
                "data": "AA==",
                "media_type": "image/png",
                "url": None,
                "detail": None,
            },
        ],
    }
