"""Building requests: where to send them, with which headers, and the JSON body."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from jackfield import (
    AssistantMessage,
    ConfigError,
    ImagePart,
    Secret,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
)
from jackfield.http import MASK, HTTPRequest, is_loopback
from jackfield.messages import Conversation, Message
from jackfield.options import merge_patch
from jackfield.provider import ChatRequest
from jackfield_openai._options import ChatOptions, OpenAIOptions
from jackfield_openai._presets import DEFAULT_BASE_URL, PRESETS, Preset
from jackfield_openai._toolnames import ToolNames

__all__ = ["Target", "chat_body", "chat_request", "target"]

USER_AGENT = "jackfield-openai/0.2.0"
SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
    "parallel_tool_calls",
)


class Target:
    """Where requests go and how they authenticate, resolved from the options."""

    __slots__ = (
        "base_url",
        "https",
        "key",
        "key_header",
        "label",
        "loopback",
        "preset",
        "root_url",
    )

    def __init__(
        self,
        base_url: str,
        preset: Preset | None,
        key: Secret | None,
        key_header: str,
        label: str = "openai-compatible",
    ) -> None:
        self.label = label
        self.base_url = base_url
        self.preset = preset
        self.key = key
        self.key_header = key_header
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.loopback = is_loopback(parts.hostname or "")
        self.root_url = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url

    def headers(self, accept: str = "application/json", *, reveal: bool = True) -> dict[str, str]:
        """Request headers with the credentials. The key is read now, so a missing
        environment variable fails the call that needs it, naming instance and variable;
        ``reveal=False`` puts the mask in its place (for dry runs)."""
        headers = {"User-Agent": USER_AGENT, "Accept": accept}
        if self.key is None:
            if self.preset is not None and self.preset.key_required and reveal:
                raise ConfigError(
                    f"instance {self.label!r}: the {self.preset.name} preset needs an API key: "
                    "set the api_key option"
                    + (f" or the {self.preset.key_env} variable" if self.preset.key_env else "")
                )
            return headers
        if not reveal:
            value = MASK
        else:
            try:
                value = self.key.reveal()
            except ConfigError as exc:
                raise ConfigError(f"instance {self.label!r}: {exc}") from None
        if self.key_header in ("authorization", "both"):
            headers["Authorization"] = f"Bearer {value}"
        if self.key_header in ("x-api-key", "both"):
            headers["x-api-key"] = value
        return headers


def _preset(name: str | None) -> Preset | None:
    if name is None:
        return None
    preset = PRESETS.get(name)
    if preset is None:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown preset {name!r}.{hint} Presets: {', '.join(sorted(PRESETS))}.")
    return preset


def target(options: OpenAIOptions, label: str = "openai-compatible") -> Target:
    """Resolve base URL, preset and key from the options."""
    preset = _preset(options.preset)
    if options.base_url:
        base = options.base_url.rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:8080/v1, got {base!r}"
            )
    elif preset is not None or options.host or options.port:
        scheme = preset.scheme if preset else "http"
        host = options.host or (preset.host if preset else "127.0.0.1")
        port = options.port or (preset.port if preset else 8080)
        path = preset.path if preset else "/v1"
        shown_host = f"[{host}]" if ":" in host else host
        shown_port = "" if port == {"http": 80, "https": 443}[scheme] else f":{port}"
        base = f"{scheme}://{shown_host}{shown_port}{path}"
    else:
        base = DEFAULT_BASE_URL
    key = options.api_key
    if key is None and preset is not None and preset.key_env:
        key = Secret.from_env(preset.key_env)
    key_header = options.api_key_header or (preset.key_header if preset else "authorization")
    return Target(base, preset, key, key_header, label)


# --- the body -----------------------------------------------------------------------------------


def _part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    image: dict[str, Any] = {"url": part.as_url()}
    if part.detail:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _message(message: Message, names: ToolNames, send_reasoning: bool) -> dict[str, Any]:
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return {"role": "user", "content": message.content}
        return {"role": "user", "content": [_part(p) for p in message.content]}
    if isinstance(message, AssistantMessage):
        wire: dict[str, Any] = {"role": "assistant", "content": message.content or None}
        if message.tool_calls:
            wire["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": names.wire(call.source, call.name),
                        "arguments": call.arguments,
                    },
                }
                for call in message.tool_calls
            ]
        if wire["content"] is None and not message.tool_calls:
            wire["content"] = ""
        if send_reasoning and message.thoughts:
            wire["reasoning_content"] = message.thoughts
        return wire
    assert isinstance(message, ToolMessage)
    wire = {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.name:
        wire["name"] = message.name
    return wire


def _tool_choice(choice: str | dict[str, Any], names: ToolNames) -> Any:
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            source = function.get("source")
            wire_name = names.wire(source if isinstance(source, str) else None, function["name"])
            return {"type": "function", "function": {"name": wire_name}}
    return choice


def chat_body(
    conversation: Conversation,
    tools: Any,
    options: ChatOptions,
    names: ToolNames,
    *,
    stream: bool,
) -> dict[str, Any]:
    """The JSON body: typed fields first, then ``extra_body`` merged over them."""
    body: dict[str, Any] = {}
    if options.model:
        body["model"] = options.model
    body["messages"] = [_message(m, names, options.send_reasoning) for m in conversation]
    body["stream"] = stream
    if stream and options.include_usage:
        body["stream_options"] = {"include_usage": True}
    for field in SAMPLING_FIELDS:
        value = getattr(options, field)
        if value is not None:
            body[field] = value
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": names.wire(tool.source, tool.name),
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in tools
        ]
    if options.tool_choice is not None:
        body["tool_choice"] = _tool_choice(options.tool_choice, names)
    if options.extra_body:
        body = merge_patch(body, options.extra_body)
    return body


def chat_request(
    request: ChatRequest[OpenAIOptions], where: Target, names: ToolNames, *, reveal: bool = True
) -> tuple[HTTPRequest, dict[str, Any]]:
    """The HTTP request for one chat call, and its body as data (for dry runs, unrevealed)."""
    options = request.options
    body = chat_body(request.conversation, request.tools, options, names, stream=request.stream)
    accept = "text/event-stream" if request.stream else "application/json"
    headers = where.headers(accept, reveal=reveal)
    headers["Content-Type"] = "application/json"
    headers.update(options.headers)
    url = f"{where.base_url}/chat/completions"
    if options.query:
        url = f"{url}?{urlencode(options.query)}"
    return HTTPRequest("POST", url, headers, orjson.dumps(body)), body
