"""The options of the OpenAI-compatible provider (importable without httpx)."""

from __future__ import annotations

import attrs

from jackfield.http import HTTPOptions
from jackfield_openai._chat import ChatOptions

__all__ = ["OpenAIOptions"]


@attrs.frozen
class OpenAIOptions(HTTPOptions, ChatOptions):
    """Everything one call to an OpenAI-compatible server can be told.

    Where to connect: ``base_url``, or ``preset`` (a server family's defaults) with optional
    ``host`` / ``port`` overrides; without either, ``http://127.0.0.1:8080/v1``. The chat
    fields are those of :class:`~jackfield_openai.wire.ChatOptions`; the connection fields
    those of :class:`~jackfield.http.HTTPOptions`.
    """

    preset: str | None = None
    """A server family (``llamacpp``, ``lmstudio``, ``ollama``, ``vllm``, ``openai`` ...) whose
    address, API key variable and key header are the defaults."""
    query: dict[str, str] = attrs.field(factory=dict)
    """Extra URL query parameters for chat requests."""
    learn_quirks: bool = True
    """When the server refuses a chat request (400 or 422) naming an optional feature it used
    (``stream_options``, ``max_tokens`` for ``max_completion_tokens`` or back, the ``developer``
    or ``system`` role, ``parallel_tool_calls``, strict tools), send it once more without it
    and, if that is answered, keep doing so for this endpoint and model (``explain`` and
    ``status`` list what was learned). ``false``: never adapt a request."""
