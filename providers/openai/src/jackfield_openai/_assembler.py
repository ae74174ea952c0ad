"""Sans-I/O assembly of OpenAI-shaped chunks into jackfield fragments.

One tolerant state machine for every server's dialect (see the compatibility reference):
reasoning from ``reasoning_content`` / ``reasoning`` / ``thinking`` or inline think tags,
tool calls from any delta shape (missing, reused or shifted ``index``; ids only on the first
delta or repeated for every call; arguments folded into the finish chunk; whole calls),
usage wherever a server puts it, finish reasons normalised, and exactly one
:class:`~jackfield.Completion` per choice at the end. It takes decoded JSON objects, so the
SSE parser, the whole-body parser and in-process backends (embedded llama.cpp) all share it.
Objects are checked as ``dict`` (what JSON decodes to), not ``Mapping``: an ABC check per key
would cost more than the rest of a chunk.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from jackfield import (
    Completion,
    FinishReason,
    Fragment,
    MalformedStreamError,
    StreamLimitError,
    TextDelta,
    ThoughtDelta,
    ToolCall,
    ToolCallDelta,
    TruncatedStreamError,
    Usage,
)
from jackfield.provider import Limits, ThinkSplitter, error_from_payload
from jackfield_openai._toolnames import ToolNames

__all__ = ["ChunkAssembler"]

REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
COPIED_METRICS = ("system_fingerprint", "service_tier")
CHOICE_METRICS = ("stop_reason", "matched_stop")

# What the general path reads, field by field. The fast path (``text_only``) derives its guards
# from these tables, so a field the general path learns to read is one the fast path leaves to
# it; tests/providers/openai/test_assembler.py checks "fast path == general path" on generated
# chunks.
VENDOR_USAGE = ("x_groq",)
"""Vendor objects that hold ``usage`` when the chunk has none at the top (Groq's ``x_groq``)."""
CHUNK_FIELDS = ("error", "model", "usage", *VENDOR_USAGE, "timings", *COPIED_METRICS, "choices")
"""The fields of a chunk the general path reads."""
CHOICE_FIELDS = ("index", "delta", "message", "finish_reason")
"""The fields of a choice the general path reads first."""
CHOICE_EXTRAS = (*CHOICE_METRICS, "logprobs")
"""The rarer fields of a choice, read (by ``_extras``) when they are not null."""
DELTA_FIELDS = (
    "content",
    *REASONING_KEYS,
    "reasoning_details",
    "refusal",
    "tool_calls",
    "function_call",
)
"""The fields of a delta the general path reads (each only when it is not empty)."""

_FAST_HANDLED = ("model", "system_fingerprint", "choices")  # as the general path does
_FAST_NULL = frozenset(k for k in CHUNK_FIELDS if k not in _FAST_HANDLED)
_FAST_CHOICE = frozenset(CHOICE_FIELDS)  # any other field of the choice must be null
_FAST_DELTA_EMPTY = tuple(k for k in DELTA_FIELDS if k != "content")
_ABSENT = object()
_DEFAULT_LIMITS = Limits()


class _Call:
    __slots__ = ("emitted", "id", "index", "name", "parts", "size")

    def __init__(self, index: int, call_id: str | None, name: str | None) -> None:
        self.index = index
        self.id = call_id
        self.name = name
        self.parts: list[str] = []
        self.size = 0  # characters in parts
        self.emitted = False

    @property
    def arguments(self) -> str:
        return "".join(self.parts)


class _Choice:
    __slots__ = (
        "calls",
        "finish",
        "index",
        "logprobs",
        "metrics",
        "modern_calls",
        "reasoning_details",
        "reasoning_source",
        "server_index",
        "think",
    )

    def __init__(self, index: int, think: ThinkSplitter | None) -> None:
        self.index = index
        self.think = think
        self.reasoning_source: str | None = None  # "field" or "tags": the first one wins
        self.calls: list[_Call] = []
        self.server_index: dict[int, _Call] = {}
        self.finish: str | None = None
        self.metrics: dict[str, Any] = {}
        self.logprobs: list[Any] = []
        self.modern_calls = False  # tool_calls seen: a legacy function_call is a duplicate
        self.reasoning_details: list[Any] = []


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if math.isfinite(number) else None
    return None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class ChunkAssembler:
    """Feed it decoded chunks (:meth:`chunk`), then :meth:`finish` it at the end.

    ``think_tags`` is ``"auto"``, ``"open"`` or ``"off"`` (see ``ThinkSplitter``);
    ``tool_names`` maps wire names back to (source, name); ``label`` names the provider
    instance in error messages; ``limits`` caps choices, tool calls and their arguments
    (:class:`~jackfield.StreamLimitError` past a cap).
    """

    def __init__(
        self,
        *,
        think_tags: str = "auto",
        think_open: str = "<think>",
        think_close: str = "</think>",
        tool_names: ToolNames | None = None,
        label: str = "openai-compatible",
        limits: Limits | None = None,
    ) -> None:
        self._limits = limits or _DEFAULT_LIMITS
        self._call_count = 0
        self._think_mode = think_tags
        self._think_tags = (think_open, think_close)
        self._names = tool_names or ToolNames()
        self.label = label
        self.choices: dict[int, _Choice] = {}
        self._plain: dict[int, _Choice] = {}  # started choices without a think-tag splitter
        self.usage: Mapping[str, Any] | None = None
        self.metrics: dict[str, Any] = {}
        self.model: str | None = None
        self._ids: set[str] = set()

    def _choice(self, index: int) -> _Choice:
        state = self.choices.get(index)
        if state is None:
            if len(self.choices) >= self._limits.choices:
                raise self._over(f"more than {self._limits.choices} choices", "choices")
            think = None
            if self._think_mode != "off":
                think = ThinkSplitter(self._think_mode, *self._think_tags)
            state = self.choices[index] = _Choice(index, think)
            if think is None:
                self._plain[index] = state
        return state

    def _over(self, what: str, key: str) -> StreamLimitError:
        return StreamLimitError(f"{self.label}: the answer has {what} (limits.{key})")

    # --- chunks -------------------------------------------------------------------------------

    def chunk(self, data: Any, *, whole: bool = False) -> list[Fragment]:
        """Assemble one decoded chunk (``whole``: a non-streaming response body)."""
        if not whole and type(data) is dict:
            text = self.text_only(data)
            if text is not None:
                return [text]
        try:
            return self._chunk(data, whole)
        except RecursionError:  # str() or json.dumps() of a value nested a thousand deep
            raise MalformedStreamError(
                f"{self.label}: a chunk is nested too deeply to read"
            ) from None

    def _chunk(self, data: Any, whole: bool) -> list[Fragment]:
        if type(data) is not dict:
            raise MalformedStreamError(
                f"{self.label}: expected a JSON object in the stream, got {type(data).__name__}"
            )
        error = data.get("error")
        if error is not None:
            raise error_from_payload(error, self.label)
        out: list[Fragment] = []
        model = data.get("model")
        if model:
            self.model = str(model)
        usage = data.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        else:
            for key in VENDOR_USAGE:
                usage = _dig(data, key, "usage")
                if isinstance(usage, dict):
                    self.usage = usage
        timings = data.get("timings")
        if isinstance(timings, dict):
            self.metrics.update(timings)
        for key in COPIED_METRICS:
            value = data.get(key)
            if value is not None:
                self.metrics[key] = value
        choices = data.get("choices")
        if not choices:
            return out  # usage trailers, keep-alive objects, other servers' extra events
        if type(choices) is not list:
            raise MalformedStreamError(f"{self.label}: 'choices' is not a list")
        for choice in choices:
            if type(choice) is not dict:
                raise MalformedStreamError(f"{self.label}: a choice is not an object")
            index = choice.get("index")
            state = self._choice(index if type(index) is int else 0)
            delta = choice.get("delta")
            if delta is None:
                delta = choice.get("message")
            if delta:
                if type(delta) is not dict:
                    raise MalformedStreamError(f"{self.label}: a delta is not an object")
                self._delta(state, delta, out, whole)
            self._extras(state, choice)
            raw = choice.get("finish_reason")
            if raw is not None and raw != "" and raw != "null":
                state.finish = str(raw)
                self._emit_calls(state, out)
        return out

    def text_only(self, data: dict[str, Any]) -> TextDelta | None:
        """The fast path for the commonest chunk: one choice, already started and without a
        think-tag splitter, whose delta is only text, and nothing else the general path would
        act on (see ``CHUNK_FIELDS`` and the tables next to it). ``None``: take the general
        path, which also reports whatever is malformed."""
        try:
            (choice,) = data["choices"]
            delta = choice["delta"]
            content = delta["content"]
            index = choice["index"]
            state = self._plain[index]
        except (KeyError, TypeError, ValueError):
            return None
        if type(content) is not str or not content or type(index) is not int:
            return None
        finish = choice.get("finish_reason", _ABSENT)
        if finish is not None and finish is not _ABSENT:
            return None
        # The choice holds delta, index and maybe finish_reason, nothing else (cheaper to count
        # than to compare key sets); anything more goes to the exact check of what it holds.
        plain_choice = len(choice) == (2 if finish is _ABSENT else 3)
        if not (plain_choice and len(delta) == 1 and _FAST_NULL.isdisjoint(data)) and not _quiet(
            data, choice, delta
        ):
            return None
        model = data.get("model")
        if model:
            if type(model) is not str:
                return None
            self.model = model
        fingerprint = data.get("system_fingerprint")
        if fingerprint is not None:
            self.metrics["system_fingerprint"] = fingerprint
        return TextDelta(content, state.index)

    def _extras(self, state: _Choice, choice: dict[str, Any]) -> None:
        for key in CHOICE_METRICS:
            value = choice.get(key)
            if value is not None:
                state.metrics[key] = value
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            state.logprobs += logprobs["content"]

    def _delta(
        self, state: _Choice, delta: dict[str, Any], out: list[Fragment], whole: bool
    ) -> None:
        reasoning = None
        for key in REASONING_KEYS:
            reasoning = delta.get(key)
            if reasoning:
                self._thought(state, str(reasoning), out)
                break
        details = delta.get("reasoning_details")
        if details:
            self._details(state, details, out, shown=bool(reasoning))
        content = delta.get("content")
        if content:
            if type(content) is str:
                self._content(state, content, out)
            elif type(content) is list:
                self._parts(state, content, out)
            else:  # an object (off-spec, for a JSON answer): its JSON text
                self._content(state, json.dumps(content, ensure_ascii=False), out)
        refusal = delta.get("refusal")
        if refusal:
            self._content(state, str(refusal), out)
        calls = delta.get("tool_calls")
        if calls:
            if type(calls) is not list:
                raise MalformedStreamError(f"{self.label}: 'tool_calls' is not a list")
            state.modern_calls = True
            for call in calls:
                self._tool_delta(state, call, out, whole)
        legacy = delta.get("function_call")
        # The legacy form counts only alone: servers that send both (llama-cpp-python, and
        # LiteLLM relaying it) repeat the same call in each, and an empty legacy object next
        # to an ordinary answer (seen from a hosted server) is no call at all.
        if legacy and not state.modern_calls and _said(legacy):
            self._tool_delta(state, {"index": 0, "function": legacy}, out, whole)

    def _thought(self, state: _Choice, text: str, out: list[Fragment]) -> None:
        """Reasoning given as a field: kept unless the text's think tags already gave it."""
        if state.reasoning_source != "tags":
            state.reasoning_source = "field"
            out.append(ThoughtDelta(text, state.index))

    def _details(self, state: _Choice, details: Any, out: list[Fragment], *, shown: bool) -> None:
        """OpenRouter's ``reasoning_details``: items of reasoning text, summaries and encrypted
        reasoning. The items are kept as they came (a later turn may need to send them back);
        their text is the choice's thoughts unless a reasoning field gave them already."""
        if type(details) is not list:
            return
        state.reasoning_details += details
        if shown:
            return
        for item in details:
            if type(item) is dict:
                text = item.get("text") or item.get("summary")
                if isinstance(text, str) and text:
                    self._thought(state, text, out)

    def _parts(self, state: _Choice, parts: list[Any], out: list[Fragment]) -> None:
        """Content given as parts: text parts are the answer, ``thinking`` parts (Mistral's
        reasoning models: ``{"type": "thinking", "thinking": [text parts]}``) reasoning."""
        for part in parts:
            if type(part) is not dict:
                continue
            if part.get("type") == "thinking":
                thinking = part.get("thinking")
                text = thinking if isinstance(thinking, str) else _text_of(thinking)
                if text:
                    self._thought(state, text, out)
            else:
                said = part.get("text")
                if isinstance(said, str) and said:
                    self._content(state, said, out)

    def _content(self, state: _Choice, content: str, out: list[Fragment]) -> None:
        think = state.think
        if think is None:
            out.append(TextDelta(content, state.index))
            return
        for is_thought, text in think.feed(content):
            self._segment(state, is_thought, text, out)
        if think.passthrough:
            state.think = None
            self._plain[state.index] = state

    def _segment(self, state: _Choice, is_thought: bool, text: str, out: list[Fragment]) -> None:
        if not is_thought:
            out.append(TextDelta(text, state.index))
        elif state.reasoning_source != "field":  # the server also sent it as a field: no copy
            state.reasoning_source = "tags"
            out.append(ThoughtDelta(text, state.index))

    # --- tool calls ---------------------------------------------------------------------------

    def _tool_delta(self, state: _Choice, raw: Any, out: list[Fragment], whole: bool) -> None:
        if type(raw) is not dict:
            raise MalformedStreamError(f"{self.label}: a tool call is not an object")
        function = raw.get("function")
        if type(function) is not dict:
            function = {}
        server_index = raw.get("index")
        if type(server_index) is not int:
            server_index = None
        call_id = raw.get("id") or None
        if call_id is not None:
            call_id = str(call_id)
        name = function.get("name") or None
        if name is not None:
            name = str(name)
        arguments = function.get("arguments")
        if arguments is None:
            arguments = ""
        elif type(arguments) is not str:
            arguments = json.dumps(arguments, ensure_ascii=False)
        call = None if whole else self._target(state, server_index, call_id, name, arguments)
        if call is _SKIP:
            return
        new_id = new_name = None
        if call is None:
            self._call_count += 1
            if self._call_count > self._limits.tool_calls:
                raise self._over(f"more than {self._limits.tool_calls} tool calls", "tool_calls")
            call = _Call(len(state.calls), call_id, name)
            state.calls.append(call)
            new_id, new_name = call_id, name
        else:
            if call.id is None and call_id is not None:
                call.id = new_id = call_id
            if call.name is None and name is not None:
                call.name = new_name = name
        if server_index is not None:
            state.server_index[server_index] = call
        if arguments:
            call.parts.append(arguments)
            call.size += len(arguments)
            if call.size > self._limits.tool_argument_chars:
                cap = self._limits.tool_argument_chars
                raise self._over(
                    f"tool call arguments longer than {cap} characters", "tool_argument_chars"
                )
        if arguments or new_id is not None or new_name is not None:
            shown = self._names.split(new_name)[1] if new_name is not None else None
            out.append(ToolCallDelta(call.index, new_id, shown, arguments, state.index))

    def _target(
        self,
        state: _Choice,
        server_index: int | None,
        call_id: str | None,
        name: str | None,
        arguments: str,
    ) -> Any:
        """The call a delta continues, ``None`` for a new call, or ``_SKIP`` for a duplicate."""
        if server_index is not None:
            call = state.server_index.get(server_index)
        else:
            call = state.calls[-1] if state.calls else None
            if call is not None and call_id is None and name is not None and call.name:
                return None  # no index and no id: a second name starts a new call
        if call is None:
            return None
        if call_id is not None and call.id is not None and call_id != call.id:
            return None  # a new id under a reused index (Ollama) or without index
        if (
            arguments
            and len(arguments) == call.size  # cheap first: no join for every delta
            and arguments == call.arguments
            and _complete_json(arguments)
        ):
            return _SKIP  # the whole arguments sent again (seen in final flushes)
        if call.emitted:
            return None
        return call

    def _emit_calls(self, state: _Choice, out: list[Fragment]) -> None:
        for call in state.calls:
            if call.emitted:
                continue
            call.emitted = True
            call_id = call.id or f"call_{state.index}_{call.index}"
            if call_id in self._ids:
                n = 2
                while f"{call_id}_{n}" in self._ids:
                    n += 1
                call_id = f"{call_id}_{n}"
            self._ids.add(call_id)
            source, name = self._names.split(call.name or "")
            out.append(ToolCall(call_id, name, call.arguments, source, state.index, call.index))

    # --- the end ------------------------------------------------------------------------------

    def finish(self, *, clean: bool) -> list[Fragment]:
        """The stream ended. ``clean``: the server said so (``[DONE]`` or a complete body).

        Without a clean end, a choice that has no finish reason means the stream was cut:
        :class:`~jackfield.TruncatedStreamError`.
        """
        if not clean:
            cut = [s.index for s in self.choices.values() if s.finish is None]
            if cut or not self.choices:
                where = "before any answer" if not self.choices else "before the answer finished"
                raise TruncatedStreamError(
                    f"{self.label}: the stream ended {where} (no finish reason, no [DONE])"
                )
        if not self.choices:
            self._choice(0)
        out: list[Fragment] = []
        usage = self._usage()
        shared = {k: v for k, v in self.metrics.items() if _shallow(v)}
        for index in sorted(self.choices):
            state = self.choices[index]
            if state.think is not None:
                for is_thought, text in state.think.flush():
                    self._segment(state, is_thought, text, out)
            self._emit_calls(state, out)
            reason = FinishReason.normalise(state.finish)
            if reason is None:
                reason = FinishReason.TOOL_CALLS if state.calls else FinishReason.STOP
            elif reason is FinishReason.STOP and state.calls:
                reason = FinishReason.TOOL_CALLS
            metrics = {**shared, **{k: v for k, v in state.metrics.items() if _shallow(v)}}
            if state.logprobs and _shallow(state.logprobs):
                metrics["logprobs"] = state.logprobs
            if state.reasoning_details and _shallow(state.reasoning_details):
                metrics["reasoning_details"] = state.reasoning_details
            out.append(Completion(reason, state.finish, usage, self.model, metrics, index))
        return out

    def _usage(self) -> Usage | None:
        raw = self.usage
        if raw is None:
            return None
        prompt = _int(raw.get("prompt_tokens"))
        completion = _int(raw.get("completion_tokens"))
        total = _int(raw.get("total_tokens"))
        if total is None and prompt is not None and completion is not None:
            total = prompt + completion
        cached = _int(_dig(raw, "prompt_tokens_details", "cached_tokens"))
        if cached is None:
            cached = _int(self.metrics.get("cache_n"))
        reasoning = _int(_dig(raw, "completion_tokens_details", "reasoning_tokens"))
        return Usage(prompt, completion, total, cached, reasoning)


_SKIP = object()


def _quiet(data: dict[str, Any], choice: dict[str, Any], delta: dict[str, Any]) -> bool:
    """Whether the fields of a chunk beyond the plain ones carry nothing the general path
    reads: every other field of the choice and the chunk null, the delta's others empty."""
    for key, value in choice.items():
        if value is not None and key not in _FAST_CHOICE:
            return False
    for key in _FAST_DELTA_EMPTY:
        if delta.get(key):
            return False
    return all(data.get(key) is None for key in _FAST_NULL)


def _complete_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _shallow(value: Any, limit: int = 32) -> bool:
    """Whether ``value`` nests at most ``limit`` levels (a metric deeper than that is a
    server's garbage, and left out so the Completion can always be shown as JSON)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _said(legacy: Any) -> bool:
    """Whether a legacy ``function_call`` object names a function or carries arguments."""
    return type(legacy) is not dict or bool(legacy.get("name") or legacy.get("arguments"))


def _text_of(content: Any) -> str:
    """The text of a list of text parts."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)
