"""Optional request features a server refuses, learned from its refusals (sans-I/O).

When a server refuses a chat request (400 or 422, or a 500 carrying a validation report, as
llama-cpp-python sends) and the error names an optional feature
the request used (``stream_options``, ``max_tokens`` where ``max_completion_tokens`` is wanted
or the other way round, the ``developer`` or ``system`` role, ``parallel_tool_calls``, strict
tool schemas), the request is sent once more without it, or with the alternative. If that is
answered, the provider remembers the adaptation for the endpoint and model, applies it to
every later request from the start, and shows it in ``explain`` and ``status``. Each quirk is
tried at most once per call, so a call sends at most one request more per feature it uses;
when no adapted request is answered, the first refusal is what the caller gets.

A refusal names a feature when the error's ``param``, a FastAPI validation error's ``loc``,
or its message names the field, and the message says it is refused ("unsupported", "not
supported", "unknown", "extra inputs are not permitted" ...). Errors of servers recorded
refusing these are the tests' evidence (tests/providers/openai/test_quirks.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from jackfield import BadRequestError, ContextLengthError, ProviderError

__all__ = ["QUIRKS", "Quirk", "Refusal", "adapt", "refused_quirk"]

_REFUSED = re.compile(
    r"unsupported|not supported|does not support|doesn't support|unknown|unrecognized|"
    r"unrecognised|not allowed|not permitted|forbidden|extra|unexpected|"
    r"no such|not recognized|cannot be used|can't be used|is not available|"
    r"validation errors?\b|input should be",
    re.IGNORECASE,
)
_ROLE_PARAM = re.compile(r"^messages\[(\d+)\]\.role$")


@attrs.frozen
class Refusal:
    """What a refusal says: the status, the fields it names, its message."""

    status: int | None
    message: str
    fields: frozenset[str]
    """Field names from ``param`` and ``loc``: each path, and its first and last parts."""
    refuses: bool
    """The message says something is refused (not merely out of range)."""

    @classmethod
    def of(cls, error: ProviderError) -> Refusal:
        payload = error.body
        fields: set[str] = set()
        message = str(error)
        error_object = payload.get("error", payload) if isinstance(payload, Mapping) else None
        if isinstance(error_object, Mapping):
            param = error_object.get("param")
            if isinstance(param, str):
                fields.update((param, param.split(".", 1)[0], param.rsplit(".", 1)[-1]))
            for detail in _details(error_object.get("detail")):
                fields.update(detail)
        if isinstance(payload, Mapping):
            for detail in _details(payload.get("detail")):
                fields.update(detail)
        return cls(error.status, message, frozenset(fields), bool(_REFUSED.search(message)))

    def names(self, field: str) -> bool:
        """Whether the refusal is about ``field``: named as its ``param``/``loc``, or in the
        message of a refusal."""
        if field in self.fields:
            return True
        pattern = rf"(?<![\w.]){re.escape(field)}(?!\w)"
        return self.refuses and re.search(pattern, self.message) is not None


def _details(detail: Any) -> Iterable[set[str]]:
    """The fields of FastAPI/pydantic validation errors (``loc: ["body", "stream_options"]``)."""
    if not isinstance(detail, list):
        return
    for item in detail:
        loc = item.get("loc") if isinstance(item, Mapping) else None
        if isinstance(loc, list):
            parts = [str(p) for p in loc if p != "body"]
            if parts:
                yield {parts[0], parts[-1], ".".join(parts)}


# --- the quirks ---------------------------------------------------------------------------------


def _roles(body: Mapping[str, Any]) -> list[str]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    return [m.get("role", "") if isinstance(m, Mapping) else "" for m in messages]


def _role_refused(role: str) -> Callable[[Refusal, Mapping[str, Any]], bool]:
    # The role as the refused value: OpenAI's "does not support 'developer'", pydantic's
    # "'input': 'developer'" (llama-cpp-python), "role 'developer' is not supported".
    said = re.compile(
        rf"support(?:ed)? '{role}'|'input': '{role}'|role '{role}'|'{role}' role", re.IGNORECASE
    )

    def named(refusal: Refusal, body: Mapping[str, Any]) -> bool:
        roles = _roles(body)
        for field in refusal.fields:
            match = _ROLE_PARAM.match(field)
            if match and int(match.group(1)) < len(roles):
                return roles[int(match.group(1))] == role
        return refusal.refuses and said.search(refusal.message) is not None

    return named


def _with_role(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(body: dict[str, Any]) -> dict[str, Any]:
        messages = [
            {**m, "role": new} if isinstance(m, Mapping) and m.get("role") == old else m
            for m in body["messages"]
        ]
        return {**body, "messages": messages}

    return apply


def _without(field: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != field}

    return apply


def _renamed(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(body: dict[str, Any]) -> dict[str, Any]:
        return {(new if k == old else k): v for k, v in body.items()}

    return apply


def _strict_tools(body: Mapping[str, Any]) -> bool:
    tools = body.get("tools")
    return isinstance(tools, list) and any(
        isinstance(t, Mapping)
        and isinstance(t.get("function"), Mapping)
        and "strict" in t["function"]
        for t in tools
    )


def _without_strict(body: dict[str, Any]) -> dict[str, Any]:
    tools = [
        {**t, "function": {k: v for k, v in t["function"].items() if k != "strict"}}
        if isinstance(t, Mapping) and isinstance(t.get("function"), Mapping)
        else t
        for t in body["tools"]
    ]
    return {**body, "tools": tools}


@attrs.frozen
class Quirk:
    """An optional feature a server may refuse, and what to send instead."""

    name: str
    description: str
    """What is sent instead, as ``explain`` and ``status`` show it."""
    applies: Callable[[Mapping[str, Any]], bool]
    """Whether a request body uses the feature."""
    named: Callable[[Refusal, Mapping[str, Any]], bool]
    """Whether a refusal of that body is about the feature."""
    apply: Callable[[dict[str, Any]], dict[str, Any]]
    """The body without the feature (a new dict; the given one is left alone)."""


QUIRKS: tuple[Quirk, ...] = (
    Quirk(
        "stream_options",
        "no stream_options (so no usage on streamed answers)",
        lambda body: "stream_options" in body,
        lambda refusal, body: refusal.names("stream_options"),
        _without("stream_options"),
    ),
    Quirk(
        "max_completion_tokens",
        "max_tokens sent as max_completion_tokens",
        lambda body: "max_tokens" in body and "max_completion_tokens" not in body,
        lambda refusal, body: (
            "max_completion_tokens" in refusal.message
            or ("max_tokens" in refusal.fields and refusal.refuses)
        ),
        _renamed("max_tokens", "max_completion_tokens"),
    ),
    Quirk(
        "max_tokens",
        "max_completion_tokens sent as max_tokens",
        lambda body: "max_completion_tokens" in body and "max_tokens" not in body,
        lambda refusal, body: refusal.names("max_completion_tokens"),
        _renamed("max_completion_tokens", "max_tokens"),
    ),
    Quirk(
        "parallel_tool_calls",
        "no parallel_tool_calls",
        lambda body: "parallel_tool_calls" in body,
        lambda refusal, body: refusal.names("parallel_tool_calls"),
        _without("parallel_tool_calls"),
    ),
    Quirk(
        "strict",
        "tools without strict",
        _strict_tools,
        lambda refusal, body: refusal.names("strict"),
        _without_strict,
    ),
    Quirk(
        "developer",
        "the developer role sent as system",
        lambda body: "developer" in _roles(body),
        _role_refused("developer"),
        _with_role("developer", "system"),
    ),
    Quirk(
        "system",
        "the system role sent as developer",
        lambda body: "system" in _roles(body) and "developer" not in _roles(body),
        _role_refused("system"),
        _with_role("system", "developer"),
    ),
)
BY_NAME = {quirk.name: quirk for quirk in QUIRKS}


def refused_quirk(
    error: ProviderError, body: Mapping[str, Any], tried: Iterable[str] = ()
) -> Quirk | None:
    """The quirk a refusal of ``body`` is about, if it is about one not ``tried`` yet. A
    refusal is a :class:`~jackfield.BadRequestError` (400, 422, or a 500 whose body is a
    validation report, as llama-cpp-python sends), not one about the context length."""
    if not isinstance(error, BadRequestError) or isinstance(error, ContextLengthError):
        return None
    refusal = Refusal.of(error)
    done = set(tried)
    for quirk in QUIRKS:
        if quirk.name not in done and quirk.applies(body) and quirk.named(refusal, body):
            return quirk
    return None


def adapt(body: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``body`` with the quirks ``names`` applied (those that apply to it)."""
    for name in names:
        quirk = BY_NAME[name]
        if quirk.applies(body):
            body = quirk.apply(body)
    return body
