"""The options of the OpenAI-compatible provider (importable without httpx)."""

from __future__ import annotations

from typing import Any

import attrs

from switchboard import Secret
from switchboard.http import Limits, Retries, Timeouts
from switchboard.thinking import ThinkTags
from switchboard_openai._presets import KeyHeader

__all__ = ["ChatOptions", "OpenAIOptions"]


@attrs.define
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
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_format: dict[str, Any] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    extra_body: dict[str, Any] = attrs.field(factory=dict)
    include_usage: bool = True
    think_tags: ThinkTags = "auto"
    think_open: str = "<think>"
    think_close: str = "</think>"
    send_reasoning: bool = False


@attrs.define
class OpenAIOptions(ChatOptions):
    """Everything one call to an OpenAI-compatible server can be told.

    Where to connect: ``base_url``, or ``preset`` (a server family's defaults) with optional
    ``host`` / ``port`` overrides; without either, ``http://127.0.0.1:8080/v1``. The chat
    fields are those of :class:`ChatOptions`.
    """

    preset: str | None = None
    base_url: str | None = None
    host: str | None = None
    port: int | None = None
    api_key: Secret | None = None
    api_key_header: KeyHeader | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    query: dict[str, str] = attrs.field(factory=dict)
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    retries: Retries = attrs.field(factory=Retries)
    limits: Limits = attrs.field(factory=Limits)
    verify: bool | str = True
    warn_insecure_key: bool = True
