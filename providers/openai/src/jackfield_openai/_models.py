"""Listing models and probing status, as sans-I/O request flows (no tokens are spent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from jackfield import (
    Capabilities,
    ConfigError,
    CredentialCheck,
    Embeddings,
    MalformedStreamError,
    ModelInfo,
    ModelList,
    Status,
    Usage,
    merge_patch,
)
from jackfield.http import Flow

if TYPE_CHECKING:
    from jackfield_openai._options import OpenAIOptions
    from jackfield_openai._provider import OpenAIProvider

__all__ = ["credentials_flow", "embeddings_flow", "models_flow", "parse_models", "status_flow"]

# owned_by values, and Server headers, that tell which server this is
_OWNERS = {
    "llamacpp": "llama.cpp",
    "vllm": "vllm",
    "sglang": "sglang",
    "tabbyapi": "tabbyapi",
    "koboldcpp": "koboldcpp",
    "organization_owner": "lmstudio",
    "library": "ollama",
    "openai": "openai",
    "system": "openai",
    "openai-internal": "openai",
}
_SERVER_HEADERS = {"llama.cpp": "llama.cpp", "ollama": "ollama"}
_PRESET_KINDS = {
    "llamacpp": "llama.cpp",
    "textgen-webui": "textgen-webui",
}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _model(entry: Mapping[str, Any]) -> ModelInfo | None:
    model_id = entry.get("id") or entry.get("model") or entry.get("name")
    if not isinstance(model_id, str) or not model_id:
        return None
    meta: Mapping[str, Any] = entry["meta"] if isinstance(entry.get("meta"), Mapping) else {}
    context = (
        _int(entry.get("max_model_len"))
        or _int(entry.get("context_length"))
        or _int(entry.get("max_context_length"))
        or _int(meta.get("n_ctx"))
        or _int(meta.get("n_ctx_train"))
    )
    lowered = model_id.lower()
    kind = "embedding" if "embed" in lowered or entry.get("type") == "embeddings" else "chat"
    state = entry.get("state")
    aliases = entry.get("aliases")
    return ModelInfo(
        id=model_id,
        context_length=context,
        kind=kind,
        owned_by=entry.get("owned_by") if isinstance(entry.get("owned_by"), str) else None,
        created=_int(entry.get("created")),
        loaded=(state == "loaded") if isinstance(state, str) else None,
        aliases=tuple(a for a in aliases if isinstance(a, str))
        if isinstance(aliases, list)
        else (),
        capabilities=Capabilities(
            tools=True, vision="vision" in (entry.get("capabilities") or ()), max_context=context
        )
        if context
        else None,
        metadata=dict(entry),
    )


def parse_models(data: Any) -> list[ModelInfo]:
    """Models from a ``/v1/models`` body (``data[]``; llama.cpp's ``models[]`` as a fallback)."""
    if not isinstance(data, Mapping):
        return []
    entries = data.get("data")
    if not isinstance(entries, list):
        entries = data.get("models")
    if not isinstance(entries, list):
        return []
    models = [_model(e) for e in entries if isinstance(e, Mapping)]
    return [m for m in models if m is not None]


def _kind(models: list[ModelInfo], headers: Mapping[str, str], preset: str | None) -> str | None:
    server = headers.get("server", "").lower()
    for marker, kind in _SERVER_HEADERS.items():
        if marker in server:
            return kind
    for model in models:
        owner = _OWNERS.get((model.owned_by or "").lower())
        if owner is not None:
            return owner
    if preset is not None:
        return _PRESET_KINDS.get(preset, preset)
    return None


def _with_llamacpp_context(models: list[ModelInfo], props: Any) -> list[ModelInfo]:
    settings = props.get("default_generation_settings") if isinstance(props, Mapping) else None
    n_ctx = _int(settings.get("n_ctx")) if isinstance(settings, Mapping) else None
    if n_ctx is None:
        return models
    return [
        attrs.evolve(
            m,
            context_length=n_ctx,
            loaded=True,
            capabilities=Capabilities(tools=True, max_context=n_ctx),
            metadata={**m.metadata, "n_ctx": n_ctx},
        )
        for m in models
    ]


def root_url(base_url: str) -> str:
    """The server's root, where llama.cpp and Ollama serve their own endpoints."""
    return base_url.removesuffix("/v1")


def models_flow(provider: OpenAIProvider) -> Flow[ModelList]:
    """GET /models (and llama.cpp's /props for the context size actually in use)."""
    url = f"{provider.base_url}/models"
    result = yield provider.http_request("GET", url)
    if result.error is not None:
        raise result.error
    if result.status in (404, 405):
        return ModelList([], reason=f"{url} answered HTTP {result.status}: no model listing")
    models = parse_models(provider.expect_json(result, url))
    if any(m.owned_by == "llamacpp" for m in models):
        props = yield provider.http_request("GET", f"{root_url(provider.base_url)}/props")
        if props.ok:
            models = _with_llamacpp_context(models, provider.json(props, "/props"))
    if not models:
        return ModelList([], reason=f"{url} lists no models")
    return ModelList(models)


def status_flow(provider: OpenAIProvider) -> Flow[Status]:
    """Connected? Which server, which models, which loaded — without generating a token."""
    base = provider.base_url
    url = f"{base}/models"
    key_problem = None
    auth = True
    try:
        provider.http_request("GET", url)
    except ConfigError as exc:  # probe without credentials, and say what is missing
        auth, key_problem = False, str(exc)

    def get(where: str) -> Any:
        return provider.http_request("GET", where, auth=auth)

    result = yield get(url)
    if result.error is not None:
        return Status(connected=False, error=str(result.error))
    details: dict[str, Any] = {"base_url": base}
    preset = provider.options.preset
    if not result.ok:
        problem = key_problem or str(provider.failure(result, url))
        kind = _kind([], result.headers, preset)
        if result.status == 503:
            return Status(
                connected=True,
                server_kind=kind,
                error=f"the server is not ready: {problem}",
                details=details,
            )
        if result.status not in (404, 405):
            return Status(connected=True, server_kind=kind, error=problem, details=details)
        models: list[ModelInfo] = []
    else:
        models = parse_models(provider.json(result, "/models"))
    kind = _kind(models, result.headers, preset)
    ids = tuple(m.id for m in models)
    loaded: tuple[str, ...] = ids
    error: str | None = key_problem
    root = root_url(base)
    if kind == "llama.cpp":
        health = yield get(f"{root}/health")
        if health.status == 503:
            error = "the server is loading the model"
            loaded = ()
        props = yield get(f"{root}/props")
        if props.ok:
            data = provider.json(props, "/props")
            if isinstance(data, Mapping):
                details["model_path"] = data.get("model_path")
                details["total_slots"] = data.get("total_slots")
                settings = data.get("default_generation_settings")
                if isinstance(settings, Mapping):
                    details["n_ctx"] = settings.get("n_ctx")
    elif kind == "ollama":
        version = yield get(f"{root}/api/version")
        if version.ok:
            data = provider.json(version, "/api/version")
            details["version"] = data.get("version") if isinstance(data, Mapping) else None
        running = yield get(f"{root}/api/ps")
        if running.ok:
            data = provider.json(running, "/api/ps")
            entries = data.get("models", []) if isinstance(data, Mapping) else []
            loaded = tuple(
                str(e.get("name") or e.get("model"))
                for e in entries
                if isinstance(e, Mapping) and (e.get("name") or e.get("model"))
            )
    elif kind == "lmstudio":
        native = yield get(f"{root}/api/v0/models")
        if native.ok:
            described = parse_models(provider.json(native, "/api/v0/models"))
            loaded = tuple(m.id for m in described if m.loaded)
    return Status(
        connected=True,
        server_kind=kind,
        models=ids,
        loaded_models=loaded,
        error=error,
        details=details,
    )


def credentials_flow(provider: OpenAIProvider) -> Flow[CredentialCheck]:
    """Ask the server whether it accepts the configured key (GET /models, no tokens)."""
    target = provider.target
    if target.key is None and target.missing_key is None:
        return CredentialCheck(ok=True, kind="none", message="no API key configured")
    url = f"{provider.base_url}/models"
    result = yield provider.http_request("GET", url)
    if result.status in (401, 403):
        return CredentialCheck(ok=False, kind="api_key", message=str(provider.failure(result, url)))
    note = ""
    if any(m.owned_by == "llamacpp" for m in parse_models(provider.expect_json(result, url))):
        note = " (llama.cpp serves /models without checking keys: a chat call is the real test)"
    return CredentialCheck(ok=True, kind="api_key", message=f"the server accepted the key{note}")


def embeddings_flow(
    provider: OpenAIProvider, texts: tuple[str, ...], options: OpenAIOptions
) -> Flow[Embeddings]:
    """POST /embeddings; vectors come back in the order of ``texts``."""
    label = provider.name
    target = provider.target_for(options)
    body: dict[str, Any] = {"input": list(texts), "encoding_format": "float"}
    if options.model:
        body["model"] = options.model
    if options.extra_body:
        body = merge_patch(body, options.extra_body)
    url = f"{target.base_url}/embeddings"
    request = provider.http_request(
        "POST", url, target=target, options=options, body=orjson.dumps(body)
    )
    data = provider.expect_json((yield request), url, target)
    entries = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or len(entries) != len(texts):
        raise MalformedStreamError(
            f"{label}: /embeddings returned {len(entries) if isinstance(entries, list) else 'no'} "
            f"vectors for {len(texts)} texts"
        )
    ordered = sorted(entries, key=lambda e: e.get("index", 0) if isinstance(e, Mapping) else 0)
    vectors = []
    for entry in ordered:
        vector = entry.get("embedding") if isinstance(entry, Mapping) else None
        if not isinstance(vector, list):
            raise MalformedStreamError(f"{label}: an /embeddings entry has no vector")
        vectors.append(tuple(float(x) for x in vector))
    usage = data.get("usage") if isinstance(data.get("usage"), Mapping) else None
    return Embeddings(
        tuple(vectors),
        model=str(data["model"]) if data.get("model") else None,
        usage=Usage(
            prompt_tokens=_int(usage.get("prompt_tokens")),
            total_tokens=_int(usage.get("total_tokens")),
        )
        if usage
        else None,
    )
