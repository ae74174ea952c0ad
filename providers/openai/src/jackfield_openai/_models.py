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
    merge_patch,
)
from jackfield.http import Flow, HTTPResult
from jackfield_openai import _identity as identity
from jackfield_openai._embeddings import parse_embeddings

if TYPE_CHECKING:
    from jackfield_openai._options import OpenAIOptions
    from jackfield_openai._provider import OpenAIProvider

__all__ = ["credentials_flow", "embeddings_flow", "models_flow", "parse_models", "status_flow"]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _loaded(entry: Mapping[str, Any]) -> bool | None:
    """Whether the server says a listed model is in memory: LM Studio's ``state``, llama.cpp's
    router mode's ``status.value`` (``loaded``, ``loading``, ``unloaded`` ...)."""
    state = entry.get("state")
    if isinstance(state, str):
        return state == "loaded"
    status = entry.get("status")
    value = status.get("value") if isinstance(status, Mapping) else status
    return value == "loaded" if isinstance(value, str) else None


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
    )
    kind = entry.get("type")
    embedding = kind in ("embeddings", "embedding") or "embed" in model_id.lower()
    # What the entry publishes: llama.cpp's architecture.input_modalities, LM Studio's type
    # ("vlm", "llm", "embeddings") and capabilities (["tool_use"]).
    architecture = entry.get("architecture")
    inputs = architecture.get("input_modalities") if isinstance(architecture, Mapping) else None
    vision = (
        "image" in inputs
        if isinstance(inputs, list)
        else (kind == "vlm" if kind in ("vlm", "llm") else None)
    )
    listed = entry.get("capabilities")
    tools = "tool_use" in listed if isinstance(listed, list) and kind in ("vlm", "llm") else None
    capabilities = (
        Capabilities.published(
            max_context=context, vision=vision, tools=tools, embeddings=embedding or None
        )
        if context or vision is not None or tools is not None
        else None
    )
    aliases = entry.get("aliases")
    return ModelInfo(
        id=model_id,
        context_length=context,
        kind="embedding" if embedding else "chat",
        owned_by=entry.get("owned_by") if isinstance(entry.get("owned_by"), str) else None,
        created=_int(entry.get("created")),
        loaded=_loaded(entry),
        aliases=tuple(a for a in aliases if isinstance(a, str))
        if isinstance(aliases, list)
        else (),
        capabilities=capabilities,
        metadata=dict(entry),
    )


def _entries(data: Any) -> list[Mapping[str, Any]]:
    """The entries of a ``/v1/models`` body (``data[]``; llama.cpp's ``models[]`` as a
    fallback)."""
    if not isinstance(data, Mapping):
        return []
    entries = data.get("data")
    if not isinstance(entries, list):
        entries = data.get("models")
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, Mapping)]


def parse_models(data: Any) -> list[ModelInfo]:
    """Models from a ``/v1/models`` body."""
    models = [_model(e) for e in _entries(data)]
    return [m for m in models if m is not None]


def _llamacpp_props(models: list[ModelInfo], props: Any) -> list[ModelInfo]:
    """What llama.cpp's ``/props`` publishes: the context in use, the modalities, and what the
    chat template can do (tools, a system role)."""
    if not isinstance(props, Mapping):
        return models
    settings = props.get("default_generation_settings")
    n_ctx = _int(settings.get("n_ctx")) if isinstance(settings, Mapping) else None
    modalities = props.get("modalities")
    template = props.get("chat_template_caps")
    template = template if isinstance(template, Mapping) else {}
    vision = modalities.get("vision") if isinstance(modalities, Mapping) else None
    published = Capabilities.published(
        max_context=n_ctx,
        vision=vision if isinstance(vision, bool) else None,
        tools=template.get("supports_tools")
        if isinstance(template.get("supports_tools"), bool)
        else None,
        system_prompt=template.get("supports_system_role")
        if isinstance(template.get("supports_system_role"), bool)
        else None,
    )
    return [
        attrs.evolve(
            m,
            context_length=n_ctx or m.context_length,
            # One model, and the server answers for it (a loading one answers 503): in memory,
            # unless router mode's status.value said otherwise.
            loaded=True if m.loaded is None else m.loaded,
            capabilities=published,
            metadata={**m.metadata, "n_ctx": n_ctx} if n_ctx else m.metadata,
        )
        for m in models
    ]


def _lmstudio_models(models: list[ModelInfo], native: list[ModelInfo]) -> list[ModelInfo]:
    """LM Studio's ``/api/v0/models`` says more of each model than ``/v1/models``."""
    described = {m.id: m for m in native}
    return [
        attrs.evolve(
            m,
            context_length=d.context_length or m.context_length,
            loaded=d.loaded,
            capabilities=d.capabilities,
            kind=d.kind,
        )
        if (d := described.get(m.id)) is not None
        else m
        for m in models
    ]


def _ollama_show(model: ModelInfo, show: Any) -> ModelInfo:
    """What Ollama's ``/api/show`` publishes: capabilities and the model's context length."""
    if not isinstance(show, Mapping):
        return model
    info = show.get("model_info")
    context = None
    if isinstance(info, Mapping):
        context = _int(info.get(f"{info.get('general.architecture')}.context_length"))
    listed = show.get("capabilities")
    if not isinstance(listed, list):
        return attrs.evolve(model, context_length=context or model.context_length)
    names = {c for c in listed if isinstance(c, str)}
    return attrs.evolve(
        model,
        context_length=context or model.context_length,
        kind="embedding" if "embedding" in names and "completion" not in names else model.kind,
        capabilities=Capabilities.published(
            tools="tools" in names,
            vision="vision" in names,
            reasoning="thinking" in names,
            embeddings="embedding" in names,
            max_context=context,
        ),
    )


def _probe_json(provider: OpenAIProvider, result: HTTPResult, what: str) -> Any:
    """A probe's JSON, or ``None`` when the server answered it with something else (a page of
    its own, say): a probe that says nothing is not an error of the call."""
    try:
        return provider.json(result, what)
    except MalformedStreamError:
        return None


def root_url(base_url: str) -> str:
    """The server's root, where llama.cpp, Ollama and LM Studio serve their own endpoints."""
    return base_url.removesuffix("/v1")


def _identify(
    provider: OpenAIProvider, headers: Mapping[str, str], entries: list[Mapping[str, Any]]
) -> Flow[str | None]:
    """The server, from its headers, its model list, then the endpoints only one server has."""
    kind = identity.from_headers(headers) or identity.from_models(entries)
    if kind is not None:
        return kind
    root = root_url(provider.base_url)
    for path, _, _ in identity.PROBES:
        result = yield provider.http_request("GET", f"{root}/{path}", accept=None)
        if result.error is None:
            kind = identity.from_probe(path, result.status, result.body)
            if kind is not None:
                return kind
    return None


def _published(
    provider: OpenAIProvider, kind: str | None, models: list[ModelInfo]
) -> Flow[list[ModelInfo]]:
    """The models with what their server publishes about them beyond ``/v1/models``."""
    root = root_url(provider.base_url)
    if kind == "llama.cpp":
        props = yield provider.http_request("GET", f"{root}/props")
        if props.ok:
            models = _llamacpp_props(models, _probe_json(provider, props, "/props"))
    elif kind == "lmstudio":
        native = yield provider.http_request("GET", f"{root}/api/v0/models")
        if native.ok:
            models = _lmstudio_models(
                models, parse_models(_probe_json(provider, native, "/api/v0/models"))
            )
    elif kind == "ollama":
        shown = []
        for model in models:
            body = orjson.dumps({"model": model.id})
            show = yield provider.http_request("POST", f"{root}/api/show", body=body)
            shown.append(
                _ollama_show(model, _probe_json(provider, show, "/api/show")) if show.ok else model
            )
        models = shown
    return models


def models_flow(provider: OpenAIProvider) -> Flow[ModelList]:
    """GET /models, then what the server publishes of each model where it has more to say
    (llama.cpp's /props, LM Studio's /api/v0/models, Ollama's /api/show)."""
    url = f"{provider.base_url}/models"
    result = yield provider.http_request("GET", url)
    if result.error is not None:
        raise result.error
    if result.status in (404, 405):
        return ModelList([], reason=f"{url} answered HTTP {result.status}: no model listing")
    entries = _entries(provider.expect_json(result, url))
    models = [m for m in map(_model, entries) if m is not None]
    if not models:
        return ModelList([], reason=f"{url} lists no models")
    kind = identity.from_headers(result.headers) or identity.from_models(entries)
    return ModelList((yield from _published(provider, kind, models)))


def status_flow(provider: OpenAIProvider) -> Flow[Status]:
    """Connected? Which server (by what it says), which models, which loaded (when it says)
    — without generating a token."""
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
    learned = provider.learned()
    if learned:
        details["learned"] = learned
    if not result.ok:
        problem = key_problem or str(provider.failure(result, url))
        kind = identity.from_headers(result.headers)
        if result.status == 503:
            problem = f"the server is not ready: {problem}"
        if result.status not in (404, 405):
            return Status(connected=True, server_kind=kind, error=problem, details=details)
        entries: list[Mapping[str, Any]] = []
    else:
        try:
            entries = _entries(provider.json(result, "/models"))
        except MalformedStreamError:
            kind = identity.from_headers(result.headers)
            shown = result.headers.get("content-type", "no content type")
            problem = (
                f"{url} answered 200 with something that is not JSON ({shown}): "
                "is base_url the API's root (usually ending in /v1)?"
            )
            return Status(connected=True, server_kind=kind, error=problem, details=details)
    models = [m for m in map(_model, entries) if m is not None]
    kind = yield from _identify(provider, result.headers, entries)
    ids = tuple(m.id for m in models)
    said = [m for m in models if m.loaded is not None]
    loaded: tuple[str, ...] | None = tuple(m.id for m in said if m.loaded) if said else None
    error: str | None = key_problem
    root = root_url(base)
    if kind == "llama.cpp":
        health = yield get(f"{root}/health")
        if health.status == 503:
            error = "the server is loading the model"
            loaded = ()
        elif health.ok and loaded is None:
            loaded = ids  # one model, and the server says it is ready
        props = yield get(f"{root}/props")
        if props.ok:
            data = _probe_json(provider, props, "/props")
            if isinstance(data, Mapping):
                details["model_path"] = data.get("model_path")
                details["total_slots"] = data.get("total_slots")
                settings = data.get("default_generation_settings")
                if isinstance(settings, Mapping):
                    details["n_ctx"] = settings.get("n_ctx")
    elif kind == "ollama":
        version = yield get(f"{root}/api/version")
        if version.ok:
            data = _probe_json(provider, version, "/api/version")
            details["version"] = data.get("version") if isinstance(data, Mapping) else None
        running = yield get(f"{root}/api/ps")
        if running.ok:
            data = _probe_json(provider, running, "/api/ps")
            entries = data.get("models", []) if isinstance(data, Mapping) else []
            loaded = tuple(
                str(e.get("name") or e.get("model"))
                for e in entries
                if isinstance(e, Mapping) and (e.get("name") or e.get("model"))
            )
    elif kind == "lmstudio":
        native = yield get(f"{root}/api/v0/models")
        if native.ok:
            described = parse_models(_probe_json(provider, native, "/api/v0/models"))
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
    """Ask the server whether it accepts the configured key (GET /models, no tokens).

    A refusal is not-ok with the server's message: 401 and 403, and any other 4xx but 404,
    405, 408 and 429 (a GET with nothing to get wrong but the key: LiteLLM without a database
    answers a bad key with 400). No listing (404, 405), a busy or failing server: raised.
    """
    target = provider.target
    if target.key is None and target.missing_key is None:
        return CredentialCheck(ok=True, kind="none", message="no API key configured")
    url = f"{provider.base_url}/models"
    result = yield provider.http_request("GET", url)
    if result.error is None and 400 <= result.status < 500 and result.status not in _NOT_THE_KEY:
        return CredentialCheck(ok=False, kind="api_key", message=str(provider.failure(result, url)))
    entries = _entries(provider.expect_json(result, url))
    note = ""
    if (identity.from_headers(result.headers) or identity.from_models(entries)) == "llama.cpp":
        note = " (llama.cpp serves /models without checking keys: a chat call is the real test)"
    return CredentialCheck(ok=True, kind="api_key", message=f"the server accepted the key{note}")


_NOT_THE_KEY = frozenset({404, 405, 408, 429})


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
    return parse_embeddings(provider.expect_json((yield request), url, target), len(texts), label)
