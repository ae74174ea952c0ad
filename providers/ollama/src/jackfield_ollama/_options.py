"""Options of the native Ollama provider (importable without httpx)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from jackfield.http import HTTPOptions
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


# The same reading as jackfield_openai._presets.ollama_root (the ollama preset of the
# OpenAI-compatible provider): neither distribution depends on the other, and a test checks
# that the two agree on any input.
def ollama_root(value: str) -> str:
    """The server ``OLLAMA_HOST`` names, read as Ollama's client reads it: ``host``,
    ``host:port``, ``scheme://host:port`` or ``:port``, optionally with a path; quotes and
    surrounding spaces ignored; no port: 11434 (80 after ``http://``, 443 after ``https://``);
    an address that listens everywhere (``0.0.0.0``, ``::``) or no host means this machine.

    >>> ollama_root("0.0.0.0"), ollama_root("gpu-box:8000"), ollama_root("https://ollama.lan")
    ('http://127.0.0.1:11434', 'http://gpu-box:8000', 'https://ollama.lan')
    """
    text = value.strip().strip("\"'")
    scheme, found, rest = text.partition("://")
    scheme = scheme.lower() if found else "http"
    rest = rest if found else text
    default_port = {"http": "80", "https": "443"}.get(scheme, "11434") if found else "11434"
    scheme = "https" if scheme == "https" else "http"
    hostport, slash, path = rest.partition("/")
    host, port = _split_host_port(hostport)
    if port is None or not (port.isascii() and port.isdigit() and 0 < int(port[:6]) < 65536):
        port = default_port
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"):  # listening everywhere: this machine
        host = "::1" if host.startswith((":", "0:")) else "127.0.0.1"
    shown_host = f"[{host}]" if ":" in host else host
    shown_port = "" if int(port) == {"http": 80, "https": 443}[scheme] else f":{int(port)}"
    path = path.strip("/")
    return f"{scheme}://{shown_host}{shown_port}{'/' + path if slash and path else ''}"


def _split_host_port(text: str) -> tuple[str, str | None]:
    """``host:port`` (``[v6]:port``) split as Go's ``net.SplitHostPort`` splits it; ``(text,
    None)`` when it has no port (a bare IPv6 address has colons but no port)."""
    if text.startswith("["):
        end = text.find("]")
        if end != -1 and text[end + 1 : end + 2] == ":":
            return text[1:end], text[end + 2 :]
        return text, None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    return text, None
