"""The options of the OpenAI-compatible provider (importable without httpx)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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

    @classmethod
    def environment(cls, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """What the environment adds to ``options`` (an instance's merged layers): its
        preset's variables (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``OLLAMA_HOST``) for what
        they leave unset, as ``(variable, options)`` pairs. A :class:`~jackfield.Host` lays
        each over the instance as the layer ``env:<variable>``, so ``explain`` names it."""
        import os

        from jackfield_openai._presets import ADDRESS_FIELDS, PRESETS, from_environment

        name = options.get("preset")
        preset = PRESETS.get(name) if isinstance(name, str) else None
        address = any(options.get(field) for field in ADDRESS_FIELDS)
        return from_environment(
            preset, os.environ, address=address, key=options.get("api_key") is not None
        )

    url_path: ClassVar[str] = "/v1"

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()  # base_url and port
        if self.preset is not None:
            from jackfield_openai._presets import PRESETS

            if self.preset not in PRESETS:
                import difflib

                close = difflib.get_close_matches(self.preset, list(PRESETS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"preset must be one of {', '.join(PRESETS)}; got {self.preset!r}{hint}"
                )
