"""Error bodies of LLM servers, mapped to jackfield's taxonomy.

Shapes handled: OpenAI ``{"error": {message, type, param, code}}`` (also llama.cpp, with
``n_prompt_tokens``/``n_ctx`` on context overflow), vLLM's ``{"error": "Unauthorized"}``,
FastAPI's ``{"detail": "..."}`` and ``{"detail": [{loc, msg}]}``, ``{"message": ...}``,
and plain text or HTML from proxies. The class follows the status, except where the body says
more: an authentication error type is an :class:`AuthenticationError` whatever the status
(LiteLLM answers a wrong key with 400), and a 5xx whose body blames the request (a validation
report, a missing model) is the client error it names, which is never retried.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from jackfield._errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    ServerError,
    ServiceTimeoutError,
)
from jackfield._secret import NO_SCRUB, Scrubber

__all__ = ["error_for_response", "error_from_payload"]

_CONTEXT = re.compile(
    r"context[ _](?:length|window|size)|maximum context|max_seq_len|exceeds? the (?:available )?"
    r"context|prompt is too long|too many tokens|n_ctx|max_model_len",
    re.IGNORECASE,
)
_CONTEXT_LIMIT = (
    re.compile(r"maximum context length is (\d+)", re.I),
    re.compile(r"max_model_len\W{1,3}(\d+)", re.I),  # vLLM: "... greater than max_model_len=1024"
    re.compile(r"max_seq_len (?:of |is )?\(?(\d+)", re.I),
    re.compile(r"context (?:size|length|window) (?:of |is )?\(?(\d+)", re.I),
    re.compile(r"n_ctx\D{1,3}(\d+)", re.I),
)
_PROMPT_SIZE = (
    re.compile(r"resulted in (\d+) tokens", re.I),
    re.compile(r"requested (\d+) tokens", re.I),
    re.compile(r"(?:prompt|input) (?:length|tokens?|is) (?:of )?\(?(\d+)", re.I),
    re.compile(r"n_prompt_tokens\D{1,3}(\d+)", re.I),
)
# A 5xx whose body says the request itself is wrong: the same request fails the same way
# again, so it is typed by what the body says and never retried. Seen: llama-cpp-python
# answers pydantic validation errors with 500 ("7 validation errors: ..."); transformers serve
# answers an unknown model with 500.
_REQUEST_AT_FAULT = re.compile(r"\b\d+ validation errors?\b|\bvalidation error for\b", re.I)
_MODEL_MISSING = re.compile(
    r"model\W.{0,120}?\b(?:does not exist|not found|is not a valid model|could not be found)|"
    r"\b(?:unknown|no such) model\b|repository not found",
    re.I,
)
_KIND_CLASSES: dict[str, type[ProviderError]] = {
    "invalid_request_error": BadRequestError,
    "badrequesterror": BadRequestError,
    "validation_error": BadRequestError,
    "notfounderror": NotFoundError,
    "not_found_error": NotFoundError,
    "model_not_found": NotFoundError,
}
_AUTH_KINDS = frozenset(
    {"authentication_error", "invalid_api_key", "auth_error", "no_db_connection"}
)
# LiteLLM's proxy without a database, given a key other than its master key: it cannot look the
# key up, so it refuses it with 400 "No connected db.".
_NO_KEY_STORE = "no_db_connection"
# The whole body of a 500 that an unhandled exception produced (Starlette's page, or an error
# object with an empty message): the server's code failed on this request and says no more.
# Seen: transformers serve asked for an unknown model, LiteLLM's proxy given no key,
# llama-cpp-python's failed assertion on tool_choice "required". The same request fails the
# same way: not retried.
_CRASH = re.compile(r"\s*(?:internal server error)?\s*", re.I)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_BY_STATUS: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def _first_number(patterns: tuple[re.Pattern[str], ...], text: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


def _detail(detail: Any) -> str:
    if isinstance(detail, list):  # FastAPI validation errors
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{where}: {item.get('msg', item)}" if where else str(item.get("msg")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def _describe(payload: Any) -> tuple[str, str | None, Any, Mapping[str, Any]]:
    """(message, type, code, the error object) from any known error shape."""
    if isinstance(payload, Mapping):
        error = payload.get("error", payload)
        if isinstance(error, str):
            return error, None, None, payload
        if isinstance(error, Mapping):
            message = error["message"] if "message" in error else error.get("msg")
            if message is None and "detail" in error:
                message = _detail(error["detail"])
            if message is None:
                message = json.dumps(error, ensure_ascii=False)[:500]
            return str(message), _str(error.get("type")), error.get("code"), error
    if isinstance(payload, str):
        return payload, None, None, {}
    return json.dumps(payload, ensure_ascii=False)[:500], None, None, {}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _build(
    status: int | None,
    message: str,
    kind: str | None,
    code: Any,
    details: Mapping[str, Any],
    *,
    label: str,
    request_id: str | None = None,
    body: Any = None,
) -> ProviderError:
    # Inside a 200 stream there is no HTTP status, but the error's code often mirrors one.
    effective = status if status is not None else (code if isinstance(code, int) else None)
    context = (
        kind == "exceed_context_size_error"
        or code == "context_length_exceeded"
        or (effective in (None, 400, 413, 422) and bool(_CONTEXT.search(message)))
    )
    text = f"{label}: {message}"
    common: dict[str, Any] = {"status": status, "request_id": request_id, "body": body}
    if context:
        return ContextLengthError(
            text,
            prompt_tokens=_int(details.get("n_prompt_tokens"))
            or _first_number(_PROMPT_SIZE, message),
            context_length=_int(details.get("n_ctx")) or _first_number(_CONTEXT_LIMIT, message),
            **common,
        )
    if effective == 408:
        return ServiceTimeoutError(text, phase="server", **common)
    cls = _BY_STATUS.get(effective or 0)
    if kind in _AUTH_KINDS or code == "invalid_api_key":
        cls = AuthenticationError  # also LiteLLM's 400 "auth_error" for a wrong key
    elif cls is None:
        cls = _at_fault(message, kind) or ServerError
    return cls(text, **common)


def _at_fault(message: str, kind: str | None) -> type[ProviderError] | None:
    """The client-error class a server error's body names, if it blames the request."""
    if _MODEL_MISSING.search(message):
        return NotFoundError
    if _REQUEST_AT_FAULT.search(message):
        return BadRequestError
    return _KIND_CLASSES.get((kind or "").lower())


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def error_from_payload(error: Any, label: str) -> ProviderError:
    """The error for an error object found inside a 200 stream (status from its code)."""
    message, kind, code, details = _describe({"error": error})
    return _build(None, message, kind, code, details, label=label, body=error)


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    label: str,
    url: str,
    secret: str | Scrubber | None = None,
) -> ProviderError:
    """The error for a non-2xx response. ``secret``: the call's secrets (a key, or a
    :class:`~jackfield._secret.Scrubber` of them), masked in everything kept or shown (the
    message, the parsed body, the request id), escaped forms included: servers echo them."""
    scrub = secret if isinstance(secret, Scrubber) else Scrubber((secret,)) if secret else NO_SCRUB
    text = scrub.text(body.decode("utf-8", "replace"))
    try:
        payload: Any = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):
        payload = None
    if payload is not None and scrub:  # "\u"-escaped secrets are whole again once parsed
        payload = scrub.value(payload)
    if payload is None:
        message = _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", text))).strip()[:300]
        kind, code, details = None, None, {}  # type: tuple[str | None, Any, Mapping[str, Any]]
    else:
        message, kind, code, details = _describe(payload)
    crashed = status == 500 and _CRASH.fullmatch(message) is not None
    if crashed:
        message = (
            f"{message or 'HTTP 500'}: the server failed on this request without saying why "
            "(its log says more); the same request would fail again, so it was not retried"
        )
    elif not message:
        message = f"HTTP {status} from {url} with no explanation"
    if kind == _NO_KEY_STORE:
        message += " (LiteLLM's proxy has no database, so it accepts its master key alone)"
    if status == 401 or kind == _NO_KEY_STORE:
        message += " (check the api_key option)"
    elif status == 404 and "model" in message.lower():
        message += " (list the server's models with list_models())"
    elif status == 400 and "model" in message.lower() and "required" in message.lower():
        message += " (set the model option)"
    elif 300 <= status < 400:
        location = headers.get("location")
        where = f" to {location}" if location else ""
        message = (
            f"HTTP {status}: {url} redirects{where}; redirects are not followed (credentials "
            "stay with the server you named), so set base_url to where the API now lives"
        )
    message = scrub.text(message)  # after HTML entities were decoded
    request_id = headers.get("x-request-id") or headers.get("request-id")
    if request_id and scrub:
        request_id = scrub.text(request_id)
    error = _build(
        status, message, kind, code, details, label=label, request_id=request_id, body=payload
    )
    if crashed:
        error.retry = False
    return error
