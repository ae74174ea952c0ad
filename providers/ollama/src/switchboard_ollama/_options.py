"""Options of the native Ollama provider (importable without httpx)."""

from __future__ import annotations

from typing import Any

import attrs

from switchboard import Secret
from switchboard.http import Retries, Timeouts
from switchboard.thinking import ThinkTags

__all__ = ["DEFAULT_BASE_URL", "OllamaOptions"]

DEFAULT_BASE_URL = "http://127.0.0.1:11434"


@attrs.define
class OllamaOptions:
    """One call to Ollama's native API.

    The typed sampling fields become Ollama ``options`` (``max_tokens`` is ``num_predict``);
    ``options`` holds any other Modelfile parameter (``num_ctx``, ``repeat_penalty`` ...) and
    is merged with them, so layers can set and override single keys. ``think`` turns
    reasoning on (``true`` or an effort such as ``"high"``), ``format`` asks for JSON or a
    JSON Schema, ``keep_alive`` says how long the model stays loaded. ``think_tags`` splits
    ``<think>`` blocks out of the content (``auto``: one at the start; ``open``: the answer
    starts inside one; ``off``), for thinking models asked without ``think``. ``extra_body``
    is merged into the request body last.
    """

    base_url: str | None = None
    host: str | None = None
    port: int | None = None
    api_key: Secret | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    num_ctx: int | None = None
    options: dict[str, Any] = attrs.field(factory=dict)
    think: bool | str | None = None
    format: str | dict[str, Any] | None = None
    keep_alive: str | int | None = None
    think_tags: ThinkTags = "auto"
    think_open: str = "<think>"
    think_close: str = "</think>"
    extra_body: dict[str, Any] = attrs.field(factory=dict)
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    retries: Retries = attrs.field(factory=Retries)
    verify: bool | str = True
    warn_insecure_key: bool = True
