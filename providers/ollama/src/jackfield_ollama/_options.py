"""Options of the native Ollama provider (importable without httpx)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from jackfield.http import HTTPOptions, server_url
from jackfield.provider import ThinkTags

__all__ = ["DEFAULT_BASE_URL", "HOST_ENV", "OllamaOptions", "default_url", "ollama_root"]

DEFAULT_BASE_URL = "http://127.0.0.1:11434"
HOST_ENV = "OLLAMA_HOST"
"""The variable naming the Ollama server, as Ollama's own client reads it."""
_ADDRESS_FIELDS = ("base_url", "host", "port")


@attrs.frozen
class OllamaOptions(HTTPOptions):
    """One call to Ollama's native API.

    The typed sampling fields become Ollama ``options`` (``max_tokens`` is ``num_predict``);
    ``options`` holds any other Modelfile parameter (``num_ctx``, ``repeat_penalty`` ...) and
    is merged with them, so layers can set and override single keys. ``think`` turns
    reasoning on (``true`` or an effort such as ``"high"``), ``format`` asks for JSON or a
    JSON Schema, ``keep_alive`` says how long the model stays loaded. ``think_tags`` splits
    ``<think>`` blocks out of the content (``auto``: one at the start; ``open``: the answer
    starts inside one; ``off``), for thinking models asked without ``think``. ``extra_body``
    is merged into the request body last. Where to connect and how (``base_url``, ``host``,
    ``port``, ``api_key`` for a proxy in front of Ollama, ``timeouts`` ...) are the fields of
    :class:`~jackfield.http.HTTPOptions`; a ``base_url`` ending in ``/api`` is read as the
    root.
    """

    model: str | None = None
    """The model, such as ``"qwen3:8b"``, sent as ``model`` (Ollama requires it); left out when
    unset."""
    temperature: float | None = None
    """Sampling temperature, sent as ``options.temperature``; unset leaves the model's default."""
    top_p: float | None = None
    """Nucleus sampling probability mass, sent as ``options.top_p``."""
    top_k: int | None = None
    """Sample from the ``top_k`` most likely tokens, sent as ``options.top_k``."""
    seed: int | None = None
    """Random seed for sampling, sent as ``options.seed``."""
    max_tokens: int | None = None
    """Most tokens to generate, sent as ``options.num_predict``."""
    stop: list[str] | None = None
    """Stop sequences, sent as ``options.stop``."""
    num_ctx: int | None = None
    """Context window in tokens, sent as ``options.num_ctx``."""
    options: dict[str, Any] = attrs.field(factory=dict)
    """Any other Modelfile parameter (``repeat_penalty``, ``min_p``, ``num_gpu`` ...), merged over
    the typed fields into the ``options`` object."""
    think: bool | str | None = None
    """Sent as ``think``: ``true`` or ``false``, or an effort such as ``"high"`` for models that
    take one; left out when unset."""
    format: str | dict[str, Any] | None = None
    """Sent as ``format``: ``"json"``, or a JSON Schema (a table) for structured output."""
    keep_alive: str | int | None = None
    """Sent as ``keep_alive``: how long the model stays loaded (``"10m"``, seconds, ``0`` to unload,
    ``-1`` forever)."""
    think_tags: ThinkTags = "auto"
    """How ``<think>`` blocks in the content are split out, for thinking models asked without
    ``think``: ``"auto"`` (a block at the start), ``"open"`` (the answer starts inside one) or
    ``"off"``."""
    think_open: str = "<think>"
    """The tag that opens a think block in the content."""
    think_close: str = "</think>"
    """The tag that closes a think block in the content."""
    extra_body: dict[str, Any] = attrs.field(factory=dict)
    """Any JSON, merged into the ``/api/chat`` body last with JSON Merge Patch, so it can override
    what the typed fields produced."""

    @classmethod
    def environment(cls, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """``OLLAMA_HOST`` as the address, when ``options`` (an instance's merged layers) set
        none (``base_url``, ``host``, ``port``): a :class:`~jackfield.Host` lays it over the
        instance as the layer ``env:OLLAMA_HOST``, so ``explain`` names it."""
        import os

        value = os.environ.get(HOST_ENV, "").strip()
        if not value or any(options.get(field) for field in _ADDRESS_FIELDS):
            return []
        return [(HOST_ENV, {"base_url": ollama_root(value)})]


def default_url() -> str:
    """Where Ollama is when the options say nothing: ``OLLAMA_HOST``, else this machine's
    default port."""
    import os

    value = os.environ.get(HOST_ENV, "").strip()
    return ollama_root(value) if value else DEFAULT_BASE_URL


def ollama_root(value: str) -> str:
    """The server ``OLLAMA_HOST`` names, read as Ollama's client reads it (see
    :func:`jackfield.http.server_url`; no port: 11434)."""
    return server_url(value, default_port=11434)
