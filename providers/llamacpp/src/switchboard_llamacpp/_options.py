"""Options of the embedded llama.cpp provider (importable without loading llama.cpp)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from switchboard_openai.wire import ChatOptions

__all__ = ["ENGINE_FIELDS", "LlamaCppOptions"]

ReasoningFormat = Literal["none", "auto", "deepseek-legacy", "deepseek"]
Pooling = Literal["mean", "last", "cls", "none"]


@attrs.define
class LlamaCppOptions(ChatOptions):
    """The engine (fixed per instance) plus the chat fields of every call.

    Engine: ``model_path`` (a GGUF file; default the packaged gemma-3 270M model when
    ``switchboard-llamacpp[model]`` is installed), ``alias`` (the model's name; default the
    file name), ``context`` (tokens per slot), ``slots`` (parallel sequences), ``threads``,
    ``chat_template`` (Jinja text, overriding the model's), ``reasoning_format``,
    ``embeddings`` (serve embeddings; then ``pooling`` applies), ``verbosity`` (llama.cpp's
    log threshold on stderr: 1 logs nothing on success, 3 logs loading and per-request
    timings; process-wide, so the last engine loaded sets it) and ``params`` (any other
    ``xllamacpp.CommonParams`` field, dotted for nested ones).
    """

    model_path: str | None = None
    alias: str | None = None
    context: int = 4096
    slots: int = 1
    threads: int | None = None
    chat_template: str | None = None
    reasoning_format: ReasoningFormat | None = None
    embeddings: bool = False
    pooling: Pooling = "mean"
    verbosity: int = 1
    params: dict[str, Any] = attrs.field(factory=dict)


ENGINE_FIELDS = (
    "model_path",
    "alias",
    "context",
    "slots",
    "threads",
    "chat_template",
    "reasoning_format",
    "embeddings",
    "pooling",
    "verbosity",
    "params",
)
"""Options that shape the loaded engine, so they cannot change from one call to the next."""
