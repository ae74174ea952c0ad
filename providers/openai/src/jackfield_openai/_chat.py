"""What an OpenAI-shaped chat request says (sans-I/O: importable without the HTTP kit)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from jackfield.provider import ThinkTags

__all__ = ["ChatOptions"]


@attrs.frozen(slots=False)  # a base of options classes that combine several
class ChatOptions:
    """What one OpenAI-shaped chat request says, and how its answer is read.

    Shared by every provider that speaks the OpenAI chat format (over HTTP, or to an
    embedded engine). Sampling fields go into the request body when set (``None`` leaves
    them out, so the server's defaults apply; ``null`` in a later layer unsets an earlier
    value). ``extra_body`` is merged into the body last, with JSON Merge Patch, so any vendor
    knob reaches the server untouched and can override what the typed fields produced,
    nested objects such as ``stream_options`` included.
    """

    model: str | None = None
    """The model, sent as ``model``; left out when unset (llama.cpp and text-generation-webui ignore
    it anyway)."""
    temperature: float | None = None
    """Sampling temperature, sent as ``temperature``; unset leaves the server's default."""
    top_p: float | None = None
    """Nucleus sampling probability mass, sent as ``top_p``; unset leaves the server's default."""
    max_tokens: int | None = None
    """Most tokens to generate, sent as ``max_tokens``; unset leaves the server's default."""
    stop: str | list[str] | None = None
    """A stop sequence or a list of them, sent as ``stop``."""
    seed: int | None = None
    """Random seed for sampling, sent as ``seed``."""
    presence_penalty: float | None = None
    """Sent as ``presence_penalty``; unset leaves the server's default."""
    frequency_penalty: float | None = None
    """Sent as ``frequency_penalty``; unset leaves the server's default."""
    response_format: dict[str, Any] | None = None
    """Sent as ``response_format``, such as ``{ type = "json_object" }`` or a ``json_schema``
    request."""
    tool_choice: str | dict[str, Any] | None = None
    """Sent as ``tool_choice``: a string such as ``"auto"``, ``"none"`` or ``"required"``, or
    ``{ function = { name = "..." } }``, whose tool name is translated to the name sent on the
    wire."""
    parallel_tool_calls: bool | None = None
    """Sent as ``parallel_tool_calls``: whether the model may call several tools in one answer."""
    priority: int | None = None
    """Sent as ``priority``: vLLM's scheduling priority (with ``--scheduling-policy priority``,
    lower values first). Leave it unset for servers that refuse unknown fields (OpenAI's API);
    for routers that read a header, see ``priority_header``."""
    strict_tools: bool = False
    """Send each tool with ``"strict": true``, asking the server to hold the model's arguments to
    the tool's schema exactly (OpenAI's structured outputs)."""
    system_role: Literal["system", "developer"] = "system"
    """The role system messages are sent with: ``"system"``, or ``"developer"`` (what OpenAI's
    reasoning models want)."""
    extra_body: dict[str, Any] = attrs.field(factory=dict)
    """Any JSON, merged into the request body last with JSON Merge Patch, so it reaches the server
    untouched and can override what the typed fields produced."""
    include_usage: bool = True
    """When streaming, ask for token usage with ``stream_options.include_usage``; turn off for
    servers that reject ``stream_options``."""
    think_tags: ThinkTags = "auto"
    """How reasoning inlined in the answer text is split out: ``"auto"`` (a think block at the very
    start), ``"open"`` (the answer starts inside one, only the closing tag appears) or ``"off"``."""
    think_open: str = "<think>"
    """The tag that opens an inline think block."""
    think_close: str = "</think>"
    """The tag that closes an inline think block."""
    send_reasoning: bool = False
    """Send the thoughts of earlier assistant messages back as ``reasoning_content`` (for servers
    that need them)."""
