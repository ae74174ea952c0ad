"""Which server is answering, told from what it says about itself (sans-I/O).

Never from the port it listens on or the preset an instance was made from: several servers
share default ports (vLLM's 8000 is also llama-cpp-python's and ``transformers serve``'s), and a
proxy relays its upstream's model list. What counts, strongest first:

1. a response header only that server sends (``Server: llama.cpp``, LiteLLM's
   ``x-litellm-version``, OpenAI's ``openai-version``; not ``openai-processing-ms``, which
   llama-cpp-python sends too);
2. the model list's own fields (``owned_by`` values only one server uses; llama-cpp-python's
   ``owned_by: "me"`` with its ``permissions`` list);
3. an endpoint only that server has, asked when 1 and 2 said nothing (see :data:`PROBES`):
   Ollama's root, text-generation-webui's model info, LiteLLM's liveness probe, the route
   ``transformers serve`` loads models with.

When nothing says, the server is unknown (``None``), and ``status`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PROBES", "from_headers", "from_models", "from_probe"]

# A header, and what its presence (or value) says.
_HEADERS = (
    ("x-litellm-version", None, "litellm"),
    ("server", "llama.cpp", "llama.cpp"),
    ("openai-version", None, "openai"),  # not openai-processing-ms: llama-cpp-python sends it
)
# owned_by values only one server uses. Not "openai": LiteLLM (and other proxies) say it of
# every model they relay.
_OWNERS = {
    "llamacpp": "llama.cpp",
    "vllm": "vllm",
    "sglang": "sglang",
    "tabbyapi": "tabbyapi",
    "koboldcpp": "koboldcpp",
    "organization_owner": "lmstudio",
    "library": "ollama",  # the namespace of Ollama's own models
    "system": "openai",
    "openai-internal": "openai",
}


def from_headers(headers: Mapping[str, str]) -> str | None:
    """The server a response's headers name, if any does."""
    for name, needle, kind in _HEADERS:
        value = headers.get(name)
        if value is not None and (needle is None or needle in value.lower()):
            return kind
    return None


def from_models(entries: Iterable[Mapping[str, Any]]) -> str | None:
    """The server a ``/v1/models`` list names by its entries' fields, if it does."""
    for entry in entries:
        owner = entry.get("owned_by")
        if not isinstance(owner, str):
            continue
        kind = _OWNERS.get(owner.lower())
        if kind is not None:
            return kind
        if owner == "me" and "permissions" in entry:
            # llama-cpp-python's entry: {"id", "object", "owned_by": "me", "permissions": []}
            # (OpenAI's old field was "permission", singular).
            return "llama-cpp-python"
    return None


def _ollama(status: int, body: bytes) -> bool:
    return status == 200 and body.strip() == b"Ollama is running"


def _textgen(status: int, body: bytes) -> bool:
    return status == 200 and body.lstrip().startswith(b"{") and b'"model_name"' in body


def _transformers(status: int, body: bytes) -> bool:
    # POST /load_model exists (a GET is 405, Method Not Allowed, where other servers say 404).
    return status == 405


def _litellm(status: int, body: bytes) -> bool:
    # LiteLLM's liveness probe, public, answers this JSON string (1.106.12 and before).
    return status == 200 and body.strip() in (b'"I\'m alive!"', b"I'm alive!")


# Where to ask when headers and models said nothing: (path from the server's root, or from the
# API's base when it starts with "v1/"; the test of the answer; the server it means).
PROBES = (
    ("", _ollama, "ollama"),  # Ollama's root answers this sentence
    ("v1/internal/model/info", _textgen, "textgen-webui"),
    ("health/liveliness", _litellm, "litellm"),  # LiteLLM's /v1/models has no header of its own
    ("load_model", _transformers, "transformers"),  # transformers serve's own route
)


def from_probe(path: str, status: int, body: bytes) -> str | None:
    """The server an answer to probe ``path`` means, if it means one."""
    for where, test, kind in PROBES:
        if where == path and test(status, body):
            return kind
    return None
