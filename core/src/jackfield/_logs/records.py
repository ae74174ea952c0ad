"""What the conversation log stores, and how: ids, times, messages as JSON, options with their
secrets masked, and the records read back (pure functions: no database here)."""

from __future__ import annotations

import base64
import json
import os
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from jackfield._fragments import ToolCall
from jackfield._messages import (
    AssistantMessage,
    ImagePart,
    Message,
    SystemMessage,
    TextPart,
    UserMessage,
    _message,
)
from jackfield._secret import MASK, Scrubber, Secret, is_secret_header, known_secrets, mask_url

__all__ = [
    "ConversationInfo",
    "LoggedTurn",
    "Scrub",
    "SearchHit",
    "as_message",
    "dump_call",
    "dump_message",
    "dumps",
    "excerpt",
    "fold",
    "fts_query",
    "info_from_row",
    "load_message",
    "mask_options",
    "new_id",
    "now",
    "prompt_text",
    "turn_from_row",
]

# --- identifiers and times --------------------------------------------------------------------

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, in ASCII order
_TIME_CHARS, _RANDOM_CHARS = 9, 5  # 45 bits of milliseconds (until the year 3084), 25 random


def _base32(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def new_id(millis: int | None = None, randomness: int | None = None) -> str:
    """A new conversation id: 14 characters, lowercase: the time in milliseconds, then 25
    random bits; ids sort as the times they were made."""
    if millis is None:
        millis = time.time_ns() // 1_000_000
    if randomness is None:
        randomness = int.from_bytes(os.urandom(4), "big")
    return _base32(millis % 32**_TIME_CHARS, _TIME_CHARS) + _base32(
        randomness % 32**_RANDOM_CHARS, _RANDOM_CHARS
    )


def now() -> str:
    """The time now in UTC, ISO 8601 with milliseconds: fixed width, so text order is time
    order."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# --- messages as stored: OpenAI-style JSON --------------------------------------------------


def dump_call(call: ToolCall) -> dict[str, Any]:
    """A tool call in the OpenAI format, plus its ``index`` and ``source``."""
    stored: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
        "index": call.index,
    }
    if call.source is not None:
        stored["source"] = call.source
    return stored


def _load_call(stored: Mapping[str, Any]) -> ToolCall:
    function = stored.get("function") or {}
    return ToolCall(
        str(stored.get("id", "")),
        str(function.get("name", "")),
        str(function.get("arguments", "")),
        source=stored.get("source"),
        index=int(stored.get("index", 0)),
    )


def dump_message(message: Message) -> dict[str, Any]:
    """A message as the log stores it and ``logs show --json`` prints it: the OpenAI chat
    format (images as URLs, ``data:`` URLs for bytes), plus a tool call's ``index`` and
    ``source``; URL passwords masked."""
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return {"role": "user", "content": message.content}
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                image: dict[str, Any] = {"url": mask_url(part.as_url())}
                if part.detail is not None:
                    image["detail"] = part.detail
                parts.append({"type": "image_url", "image_url": image})
        return {"role": "user", "content": parts}
    if isinstance(message, AssistantMessage):
        stored: dict[str, Any] = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            stored["tool_calls"] = [dump_call(call) for call in message.tool_calls]
        if message.thoughts:
            stored["reasoning_content"] = message.thoughts
        return stored
    stored = {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.name is not None:
        stored["name"] = message.name
    return stored


def load_message(stored: Mapping[str, Any]) -> Message:
    """The message :func:`dump_message` stored (an image's bytes read back from its ``data:``
    URL)."""
    role, content = stored.get("role"), stored.get("content")
    if role == "assistant":
        return AssistantMessage(
            content=str(content or ""),
            tool_calls=tuple(_load_call(call) for call in stored.get("tool_calls") or ()),
            thoughts=stored.get("reasoning_content") or None,
        )
    if role == "user" and isinstance(content, list):
        return UserMessage(tuple(_load_part(part) for part in content))
    return _message(stored, 0)


def _load_part(stored: Mapping[str, Any]) -> TextPart | ImagePart:
    if stored.get("type") == "text":
        return TextPart(str(stored.get("text", "")))
    image = stored.get("image_url") or {}
    url, detail = str(image.get("url", "")), image.get("detail")
    head, comma, data = url.partition(",")
    if url.startswith("data:") and head.endswith(";base64") and comma:
        media_type = head.removeprefix("data:").removesuffix(";base64")
        return ImagePart.from_bytes(base64.b64decode(data), media_type, detail=detail)
    return ImagePart.from_url(url, detail=detail)


def as_message(message: Message | Mapping[str, Any], index: int) -> Message:
    """A message, or an OpenAI-style dict made one (``index`` names it in errors)."""
    return _message(message, index)


def _message_text(stored: Mapping[str, Any]) -> str:
    content = stored.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return ""


def prompt_text(prompt: Iterable[Mapping[str, Any]]) -> str:
    """The text of a turn's prompt messages, for search."""
    return "\n".join(text for text in map(_message_text, prompt) if text)


def _preview(prompt: Iterable[Mapping[str, Any]]) -> str:
    """A prompt's first user text (else its first text), on one line."""
    texts = [(m.get("role") == "user", _message_text(m)) for m in prompt]
    text = next((t for user, t in texts if user and t.strip()), None)
    if text is None:
        text = next((t for _, t in texts if t.strip()), "")
    return " ".join(text.split())


def dumps(value: Any) -> str:
    """JSON text; a value that is not JSON shows its type only."""
    return json.dumps(value, ensure_ascii=False, default=lambda v: f"<{type(v).__name__}>")


# --- secrets --------------------------------------------------------------------------------

_MAX_DEPTH = 50


def mask_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Call options as the log stores them, and the secrets masked in them.

    A string under a key named like a credential (:func:`~jackfield._secret.is_secret_header`:
    ``api_key``, ``Authorization``, ``x-api-key`` ...) is masked, a
    :class:`~jackfield._secret.Secret` shows its reference (or the mask), a URL shows no
    password, and a value that is not JSON shows its type only. Numbers and booleans are kept
    whatever their key (``max_tokens = 100`` is no secret)."""
    found: list[str] = []

    def hide(secret: str) -> str:
        found.append(secret)
        found.extend(secret.split()[1:])  # "Bearer sk-..." hides "sk-..." too
        return MASK

    def walk(value: Any, key: str | None, depth: int) -> Any:
        if isinstance(value, Secret):
            if value.reference == "literal":
                hide(value.reveal())
            return value.unstructure()
        if isinstance(value, str):
            if key is not None and is_secret_header(key):
                return hide(value)
            return mask_url(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if depth >= _MAX_DEPTH:
            return MASK
        if isinstance(value, Mapping):
            return {str(k): walk(v, str(k), depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, key, depth + 1) for v in value]
        return f"<{type(value).__name__}>"

    masked = walk(dict(options), None, 0)
    return masked, [s for s in found if len(s) >= 4 and s != MASK]


class Scrub:
    """Masks, in text the log keeps, URL passwords, the ``secrets`` given (those
    :func:`mask_options` found) and the keys this process sent to servers."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._given = Scrubber(secrets)
        self._sent = known_secrets()

    def text(self, text: str) -> str:
        return mask_url(self._sent.text(self._given.text(text)))

    def value(self, value: Any) -> Any:
        """JSON-like ``value`` with every string (keys too) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


# --- what is read back --------------------------------------------------------------------------


@attrs.frozen
class ConversationInfo:
    """A logged conversation, as ``jackfield logs list`` shows it."""

    id: str
    started: str
    """When it started (UTC, ISO 8601)."""
    updated: str
    """Its last turn's time (UTC, ISO 8601)."""
    model: str
    """The model or agent it started with."""
    system: str | None
    turn_count: int
    preview: str
    """The first prompt's text, on one line."""

    def to_json(self) -> dict[str, Any]:
        """As ``jackfield logs list --json`` writes it."""
        return attrs.asdict(self)


@attrs.frozen
class LoggedTurn:
    """One logged turn: the prompt's new messages, the answer, the call's (masked) options."""

    seq: int
    """1 for a conversation's first turn."""
    created: str
    model: str
    """The model or agent asked."""
    prompt: tuple[Mapping[str, Any], ...]
    """The new messages (OpenAI-style: ``role``, ``content`` ...)."""
    answer: str
    thoughts: str | None
    tool_calls: tuple[Mapping[str, Any], ...]
    finish_reason: str | None
    usage: Mapping[str, Any] | None
    response_model: str | None
    """The model as the server named it."""
    metrics: Mapping[str, Any] | None
    """The server's timings, as it named them."""
    options: Mapping[str, Any]
    error: str | None

    def messages(self) -> list[Message]:
        """The prompt's messages, then the answer's."""
        answer = AssistantMessage(
            self.answer, tuple(_load_call(call) for call in self.tool_calls), self.thoughts
        )
        return [*(load_message(m) for m in self.prompt), answer]

    def to_json(self) -> dict[str, Any]:
        """As ``jackfield logs show --json`` writes it."""
        data = attrs.asdict(self, recurse=False)
        data["prompt"], data["tool_calls"] = list(self.prompt), list(self.tool_calls)
        return data


@attrs.frozen
class SearchHit:
    """A conversation that matched a search, with the newest turn that matched."""

    conversation: ConversationInfo
    turn: int
    excerpt: str
    """The matched text around the first word found, on one line."""

    def to_json(self) -> dict[str, Any]:
        """As ``jackfield logs search --json`` writes it."""
        return {
            **self.conversation.to_json(),
            "match": {"turn": self.turn, "excerpt": self.excerpt},
        }


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def info_from_row(row: Sequence[Any]) -> ConversationInfo:
    """A conversation from a row of ``store.INFO``."""
    cid, started, updated, model, system, count, prompt = row
    preview = _preview(json.loads(prompt)) if prompt else ""
    return ConversationInfo(cid, started, updated or started, model, system, count, preview)


def turn_from_row(row: Sequence[Any]) -> LoggedTurn:
    """A turn from a row of ``store.TURN``."""
    seq, created, model, prompt, answer, thoughts, calls, finish, usage = row[:9]
    response_model, metrics, options, error = row[9:]
    return LoggedTurn(
        seq,
        created,
        model,
        tuple(json.loads(prompt)),
        answer,
        thoughts,
        tuple(_json(calls) or ()),
        finish,
        _json(usage),
        response_model,
        _json(metrics),
        _json(options) or {},
        error,
    )


# --- search ---------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """``text`` for matching: accents dropped, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def excerpt(text: str, words: Sequence[str], width: int = 80) -> str:
    """About ``width`` characters of ``text`` on one line, from a little before the first of
    ``words`` found."""
    flat = " ".join(text.split())
    lower = flat.lower()
    found = [i for i in (lower.find(w.lower()) for w in words) if i >= 0]
    start = max(0, min(found, default=0) - width // 3)
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query every word must match, as the start of a word: ``"cap"* "fra"*``."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)
