"""Model listing, status and credential checks, against each server family's shapes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import jackfield
from jackfield import AuthenticationError, CredentialCheck, ServiceConnectionError
from jackfield_openai._provider import OpenAIProvider

Route = dict[str, tuple[int, Any]]


def routed(
    routes: Route, seen: list[httpx.Request] | None = None, **headers: str
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        status, body = routes.get(request.url.path, (404, {"error": "not found"}))
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(
            status, content=content, headers={"content-type": "application/json", **headers}
        )

    return httpx.MockTransport(handler)


def make(
    routes: Route,
    seen: list[httpx.Request] | None = None,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> OpenAIProvider:
    transport = routed(routes, seen, **(headers or {}))
    return OpenAIProvider.from_options(  # type: ignore[return-value]
        {"base_url": "http://127.0.0.1:9/v1", **options},
        name="local",
        transport=transport,
        async_transport=transport,
    )


LLAMACPP_MODELS = {
    "models": [{"name": "gemma.gguf", "model": "gemma.gguf", "type": "model"}],
    "object": "list",
    "data": [
        {
            "id": "gemma.gguf",
            "object": "model",
            "created": 1700000000,
            "owned_by": "llamacpp",
            "meta": {"vocab_type": 2, "n_ctx_train": 32768, "n_params": 268098176},
        }
    ],
}
LLAMACPP_PROPS = {
    "default_generation_settings": {"n_ctx": 4096},
    "total_slots": 2,
    "model_path": "/m/gemma.gguf",
}


def test_llama_cpp_models_with_the_context_in_use() -> None:
    provider = make({"/v1/models": (200, LLAMACPP_MODELS), "/props": (200, LLAMACPP_PROPS)})
    (model,) = provider.list_models()
    assert (model.id, model.context_length, model.owned_by, model.loaded) == (
        "gemma.gguf",
        4096,
        "llamacpp",
        True,
    )
    assert model.capabilities is not None
    assert model.capabilities.max_context == 4096


def test_vllm_max_model_len() -> None:
    data = {
        "object": "list",
        "data": [
            {
                "id": "Qwen/Qwen3-8B",
                "object": "model",
                "created": 1,
                "owned_by": "vllm",
                "root": "Qwen/Qwen3-8B",
                "parent": None,
                "max_model_len": 40960,
            }
        ],
    }
    (model,) = make({"/v1/models": (200, data)}).list_models()
    assert (model.id, model.context_length) == ("Qwen/Qwen3-8B", 40960)


@pytest.mark.parametrize(
    "entry",
    [
        {
            "id": "qwen2.5-7b-instruct",
            "object": "model",
            "owned_by": "organization_owner",
        },  # LM Studio
        {"id": "qwen2.5-7b-instruct", "object": "model"},  # LocalAI
    ],
)
def test_missing_created_and_owned_by(entry: dict[str, Any]) -> None:
    (model,) = make({"/v1/models": (200, {"data": [entry]})}).list_models()
    assert model.id == "qwen2.5-7b-instruct"
    assert model.created is None
    assert model.metadata == entry


def test_embedding_models_are_told_apart() -> None:
    data = {"data": [{"id": "nomic-embed-text"}, {"id": "llama3"}]}
    assert [m.kind for m in make({"/v1/models": (200, data)}).list_models()] == [
        "embedding",
        "chat",
    ]


def test_an_empty_list_and_a_missing_endpoint_are_not_errors() -> None:
    models = make({"/v1/models": (200, {"object": "list", "data": []})}).list_models()
    assert list(models) == []
    assert models.reason == "http://127.0.0.1:9/v1/models lists no models"  # type: ignore[attr-defined]
    missing = make({}).list_models()
    assert list(missing) == []
    assert "answered HTTP 404" in missing.reason  # type: ignore[attr-defined]


def test_listing_with_a_rejected_key_raises() -> None:
    provider = make(
        {"/v1/models": (401, {"error": {"message": "Invalid API Key", "code": 401}})}, api_key="k"
    )
    with pytest.raises(AuthenticationError, match="Invalid API Key"):
        provider.list_models()


def test_status_of_llama_cpp_spends_no_tokens() -> None:
    seen: list[httpx.Request] = []
    provider = make(
        {
            "/v1/models": (200, LLAMACPP_MODELS),
            "/health": (200, {"status": "ok"}),
            "/props": (200, LLAMACPP_PROPS),
        },
        seen,
        headers={"server": "llama.cpp"},
    )
    status = provider.status()
    assert status.connected
    assert status.server_kind == "llama.cpp"
    assert status.models == ("gemma.gguf",)
    assert status.loaded_models == ("gemma.gguf",)
    assert status.error is None
    assert status.details["n_ctx"] == 4096
    assert all(r.method == "GET" for r in seen)
    assert not any("completions" in r.url.path for r in seen)


def test_status_while_llama_cpp_loads_its_model() -> None:
    provider = make(
        {
            "/v1/models": (200, LLAMACPP_MODELS),
            "/health": (503, {"error": {"code": 503, "message": "Loading model"}}),
        }
    )
    status = provider.status()
    assert status.connected
    assert status.error == "the server is loading the model"
    assert status.loaded_models == ()


def test_status_of_ollama_reads_running_models() -> None:
    provider = make(
        {
            "/v1/models": (
                200,
                {
                    "data": [
                        {"id": "qwen3:8b", "owned_by": "library"},
                        {"id": "llama3:8b", "owned_by": "library"},
                    ]
                },
            ),
            "/api/version": (200, {"version": "0.12.3"}),
            "/api/ps": (200, {"models": [{"name": "qwen3:8b", "model": "qwen3:8b"}]}),
        },
        preset="ollama",
        base_url=None,
    )
    status = provider.status()
    assert status.server_kind == "ollama"
    assert status.loaded_models == ("qwen3:8b",)
    assert status.details["version"] == "0.12.3"


def test_status_of_lm_studio_reads_loaded_state() -> None:
    provider = make(
        {
            "/v1/models": (
                200,
                {
                    "data": [
                        {"id": "a", "owned_by": "organization_owner"},
                        {"id": "b", "owned_by": "organization_owner"},
                    ]
                },
            ),
            "/api/v0/models": (
                200,
                {
                    "data": [
                        {"id": "a", "state": "loaded", "max_context_length": 8192},
                        {"id": "b", "state": "not-loaded"},
                    ]
                },
            ),
        }
    )
    status = provider.status()
    assert (status.server_kind, status.models, status.loaded_models) == (
        "lmstudio",
        ("a", "b"),
        ("a",),
    )


@pytest.mark.parametrize(
    ("routes", "error"),
    [
        (
            {"/v1/models": (401, {"error": "Unauthorized"})},
            "Unauthorized (check the api_key option)",
        ),
        (
            {"/v1/models": (503, {"error": {"message": "Loading model", "code": 503}})},
            "the server is not ready",
        ),
    ],
)
def test_status_reports_what_is_wrong(routes: Route, error: str) -> None:
    status = make(routes).status()
    assert status.connected
    assert status.error is not None
    assert error in status.error


def test_status_when_nothing_listens() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    provider = OpenAIProvider.from_options(
        {"base_url": "http://127.0.0.1:9/v1"}, name="local", transport=httpx.MockTransport(refuse)
    )
    status = provider.status()
    assert not status.connected
    assert status.error is not None
    assert "cannot connect to http://127.0.0.1:9/v1/models" in status.error
    with pytest.raises(ServiceConnectionError):
        provider.list_models()


def test_status_with_a_missing_key_variable_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SB_MISSING_KEY", raising=False)
    status = make(
        {"/v1/models": (401, {"error": "Unauthorized"})}, api_key={"env": "SB_MISSING_KEY"}
    ).status()
    assert status.error == (
        "instance 'local': environment variable SB_MISSING_KEY is not set (needed for an API key)"
    )


def test_validate() -> None:
    assert make({}).validate() == CredentialCheck(
        ok=True, kind="none", message="no API key configured"
    )
    rejected = make({"/v1/models": (401, {"error": "Unauthorized"})}, api_key="bad").validate()
    assert (rejected.ok, rejected.kind) == (False, "api_key")
    accepted = make(
        {"/v1/models": (200, {"data": [{"id": "m", "owned_by": "vllm"}]})}, api_key="good"
    ).validate()
    assert accepted == CredentialCheck(
        ok=True, kind="api_key", message="the server accepted the key"
    )
    llama = make({"/v1/models": (200, LLAMACPP_MODELS)}, api_key="any").validate()
    assert llama.ok
    assert "llama.cpp serves /models without checking keys" in llama.message


@pytest.mark.anyio
async def test_async_models_and_status() -> None:
    provider = make(
        {
            "/v1/models": (200, LLAMACPP_MODELS),
            "/props": (200, LLAMACPP_PROPS),
            "/health": (200, {}),
        }
    )
    assert await provider.alist_models() == provider.list_models()
    assert await provider.astatus() == provider.status()
    assert await provider.avalidate() == provider.validate()
    await provider.aclose()


def test_models_response_too_large() -> None:
    transport = routed({"/v1/models": (200, b"[" + b"1," * 100 + b"1]")})
    provider = OpenAIProvider.from_options(
        {"base_url": "http://127.0.0.1:9/v1"}, name="local", transport=transport
    )
    operation = provider.models_operation()
    operation.max_body = 50  # type: ignore[attr-defined]
    with pytest.raises(jackfield.ServerError, match="larger than 50 bytes"):
        operation.run()


# --- every server family's /v1/models shape, and what status() makes of it --------------------

FAMILIES: list[tuple[str, str | None, dict[str, Any], str, int | None, str]] = [
    # server, preset, one /v1/models entry, expected id, context length, server kind
    (
        "openai",
        "openai",
        {"id": "gpt-4.1-mini", "object": "model", "created": 1744316542, "owned_by": "system"},
        "gpt-4.1-mini",
        None,
        "openai",
    ),
    ("llama.cpp", "llamacpp", LLAMACPP_MODELS["data"][0], "gemma.gguf", 4096, "llama.cpp"),
    (
        "vllm",
        "vllm",
        {
            "id": "Qwen/Qwen3-8B",
            "object": "model",
            "created": 1,
            "owned_by": "vllm",
            "root": "Qwen/Qwen3-8B",
            "parent": None,
            "max_model_len": 40960,
        },
        "Qwen/Qwen3-8B",
        40960,
        "vllm",
    ),
    (
        "sglang",
        "sglang",
        {
            "id": "qwen/qwen2.5-7b-instruct",
            "object": "model",
            "created": 1,
            "owned_by": "sglang",
            "root": "qwen/qwen2.5-7b-instruct",
            "max_model_len": 32768,
        },
        "qwen/qwen2.5-7b-instruct",
        32768,
        "sglang",
    ),
    (
        "ollama",
        "ollama",
        {"id": "qwen3:8b", "object": "model", "created": 1750000000, "owned_by": "library"},
        "qwen3:8b",
        None,
        "ollama",
    ),
    (
        "lmstudio",
        "lmstudio",
        {"id": "qwen2.5-7b-instruct", "object": "model", "owned_by": "organization_owner"},
        "qwen2.5-7b-instruct",
        None,
        "lmstudio",
    ),
    (
        "text-generation-webui",
        "textgen-webui",
        {
            "id": "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
            "object": "model",
            "created": 0,
            "owned_by": "user",
        },
        "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        None,
        "textgen-webui",
    ),
    (
        "tabbyapi",
        "tabbyapi",
        {
            "id": "Qwen2.5-14B-exl3",
            "object": "model",
            "created": 1754393400,
            "owned_by": "tabbyAPI",
        },
        "Qwen2.5-14B-exl3",
        None,
        "tabbyapi",
    ),
    (
        "koboldcpp",
        "koboldcpp",
        {
            "id": "koboldcpp/Llama-3.1-8B-Instruct",
            "object": "model",
            "created": 1,
            "owned_by": "koboldcpp",
        },
        "koboldcpp/Llama-3.1-8B-Instruct",
        None,
        "koboldcpp",
    ),
    ("localai", "localai", {"id": "phi-2", "object": "model"}, "phi-2", None, "localai"),
]


def _family_routes(entry: dict[str, Any]) -> Route:
    return {
        "/v1/models": (200, {"object": "list", "data": [entry]}),
        "/props": (200, LLAMACPP_PROPS),
        "/health": (200, {"status": "ok"}),
        "/api/version": (200, {"version": "0.12.3"}),
        "/api/ps": (200, {"models": [{"name": entry["id"]}]}),
        "/api/v0/models": (200, {"data": [{**entry, "state": "loaded"}]}),
    }


@pytest.mark.parametrize(
    ("preset", "entry", "model_id", "context"),
    [
        pytest.param(p, e, i, c, id=s, marks=pytest.mark.covers(s, "model listing", "recorded"))
        for s, p, e, i, c, _ in FAMILIES
    ],
)
def test_model_listing_of_every_family(
    preset: str, entry: dict[str, Any], model_id: str, context: int | None
) -> None:
    provider = make(_family_routes(entry), preset=preset, base_url=None, api_key="k")
    (model,) = provider.list_models()
    assert (model.id, model.context_length) == (model_id, context)


@pytest.mark.parametrize(
    ("preset", "entry", "model_id", "kind"),
    [
        pytest.param(p, e, i, k, id=s, marks=pytest.mark.covers(s, "status", "recorded"))
        for s, p, e, i, _, k in FAMILIES
    ],
)
def test_status_of_every_family(
    preset: str, entry: dict[str, Any], model_id: str, kind: str
) -> None:
    seen: list[httpx.Request] = []
    provider = make(_family_routes(entry), seen, preset=preset, base_url=None, api_key="k")
    status = provider.status()
    assert (status.connected, status.server_kind, status.models, status.error) == (
        True,
        kind,
        (model_id,),
        None,
    )
    assert model_id in status.loaded_models
    assert all(request.method == "GET" for request in seen)
