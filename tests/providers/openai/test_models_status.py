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
    # LocalAI lists bare ids and has nothing only it answers: it is not told apart.
    ("localai", "localai", {"id": "phi-2", "object": "model"}, "phi-2", None, None),
]
# The families whose servers say which models are in memory (the others: not reported).
SAYS_LOADED = {"llama.cpp", "ollama", "lmstudio"}


def _family_routes(entry: dict[str, Any]) -> Route:
    return {
        "/v1/models": (200, {"object": "list", "data": [entry]}),
        "/props": (200, LLAMACPP_PROPS),
        "/health": (200, {"status": "ok"}),
        "/api/version": (200, {"version": "0.12.3"}),
        "/api/ps": (200, {"models": [{"name": entry["id"]}]}),
        "/api/v0/models": (200, {"data": [{**entry, "state": "loaded"}]}),
        "/v1/internal/model/info": (200, {"model_name": entry["id"], "lora_names": []})
        if entry.get("owned_by") == "user"  # text-generation-webui's own endpoint
        else (404, {"detail": "Not Found"}),
    }


@pytest.mark.parametrize(
    ("preset", "entry", "model_id", "context"),
    [
        pytest.param(p, e, i, c, id=s, marks=pytest.mark.covers(s, "model listing", "transcript"))
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
    ("server", "preset", "entry", "model_id", "kind"),
    [
        pytest.param(s, p, e, i, k, id=s, marks=pytest.mark.covers(s, "status", "transcript"))
        for s, p, e, i, _, k in FAMILIES
    ],
)
def test_status_of_every_family(
    server: str, preset: str, entry: dict[str, Any], model_id: str, kind: str | None
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
    if server in SAYS_LOADED:
        assert status.loaded_models == (model_id,)
    else:
        assert status.loaded_models is None
    assert all(request.method == "GET" for request in seen)


# --- who is answering, told from what it says -------------------------------------------------


def test_a_proxy_is_known_by_what_it_says_not_by_the_owner_it_relays() -> None:
    # LiteLLM's proxy: every model "owned_by": "openai", no header of its own on /v1/models.
    models = {
        "data": [{"id": "gemma", "object": "model", "created": 1677610602, "owned_by": "openai"}],
        "object": "list",
    }
    routes: Route = {"/v1/models": (200, models)}
    assert make(routes).status().server_kind is None  # "openai" alone names no server
    routes["/health/readiness"] = (200, {"status": "healthy", "db": "Not connected"})
    routes["/health/liveliness"] = (200, "I'm alive!")  # LiteLLM 1.106.12, public
    assert make(routes).status().server_kind == "litellm"
    header = make({"/v1/models": (200, models)}, headers={"x-litellm-version": "1.80.0"})
    assert header.status().server_kind == "litellm"


def test_llama_cpp_python_is_known_by_its_model_entries_not_by_an_openai_header() -> None:
    # llama-cpp-python 0.3.36's answer to GET /v1/models, headers included.
    entry = {"id": "gemma-3-270m", "object": "model", "owned_by": "me", "permissions": []}
    headers = {"server": "uvicorn", "openai-processing-ms": "0", "x-request-id": "fcd78f97"}
    status = make(
        {"/v1/models": (200, {"object": "list", "data": [entry]})}, headers=headers
    ).status()
    assert (status.server_kind, status.models, status.loaded_models) == (
        "llama-cpp-python",
        ("gemma-3-270m",),
        None,
    )


def test_the_preset_and_the_port_never_name_the_server() -> None:
    routes = {"/v1/models": (200, {"data": [{"id": "m", "object": "model", "owned_by": "x"}]})}
    seen: list[httpx.Request] = []
    status = make(routes, seen, preset="vllm", base_url=None).status()
    assert (status.connected, status.server_kind, status.models) == (True, None, ("m",))
    assert status.loaded_models is None  # nor does anything say what is loaded
    # It asked the endpoints only one server has, and none answered as that server does.
    paths = ["/v1/models", "/", "/v1/internal/model/info", "/health/liveliness", "/load_model"]
    assert [r.url.path for r in seen] == paths


def test_transformers_serve_is_known_by_the_route_it_loads_models_with() -> None:
    # transformers serve 5.24: a loaded model from a local folder, and POST /load_model.
    entry = {
        "owned_by": "local",
        "id": "/tmp/tm4",
        "object": "model",
        "created": 0,
        "status": {"value": "loaded"},
    }
    routes: Route = {
        "/v1/models": (200, {"object": "list", "data": [entry]}),
        "/load_model": (405, {"detail": "Method Not Allowed"}),
    }
    status = make(routes, headers={"server": "uvicorn"}).status()
    assert (status.server_kind, status.loaded_models) == ("transformers", ("/tmp/tm4",))


def test_ollama_is_known_by_its_root_when_its_models_are_a_users() -> None:
    routes: Route = {
        "/v1/models": (200, {"data": [{"id": "me/tuned:latest", "owned_by": "me"}]}),
        "/": (200, b"Ollama is running"),
        "/api/version": (200, {"version": "0.12.3"}),
        "/api/ps": (200, {"models": []}),
    }
    status = make(routes).status()
    assert (status.server_kind, status.loaded_models) == ("ollama", ())


def test_a_models_own_status_says_whether_it_is_loaded() -> None:
    # llama.cpp's router mode (several models, loaded on demand).
    data = {
        "data": [
            {"id": "a", "owned_by": "llamacpp", "status": {"value": "loaded", "args": []}},
            {"id": "b", "owned_by": "llamacpp", "status": {"value": "unloaded"}},
            {"id": "c", "owned_by": "llamacpp", "status": {"value": "loading"}},
        ]
    }
    routes: Route = {"/v1/models": (200, data), "/health": (200, {"status": "ok"})}
    status = make(routes, headers={"server": "llama.cpp"}).status()
    assert (status.models, status.loaded_models) == (("a", "b", "c"), ("a",))
    assert [m.loaded for m in make(routes).list_models()] == [True, False, False]


# --- capabilities, as the servers publish them ------------------------------------------------


def test_llama_cpp_publishes_context_modalities_and_what_its_template_can_do() -> None:
    props = {
        **LLAMACPP_PROPS,
        "modalities": {"vision": True, "audio": False},
        "chat_template_caps": {"supports_tools": False, "supports_system_role": True},
    }
    (model,) = make({"/v1/models": (200, LLAMACPP_MODELS), "/props": (200, props)}).list_models()
    assert model.capabilities == jackfield.Capabilities.published(
        max_context=4096, vision=True, tools=False, system_prompt=True
    )
    assert model.capabilities.reasoning is None  # not published: unknown, not "no"


def test_lm_studio_publishes_type_capabilities_and_state() -> None:
    native = {
        "data": [
            {
                "id": "qwen2-vl",
                "type": "vlm",
                "state": "loaded",
                "max_context_length": 32768,
                "capabilities": ["tool_use"],
            },
            {"id": "nomic-embed", "type": "embeddings", "state": "not-loaded"},
        ]
    }
    listed = {
        "data": [
            {"id": "qwen2-vl", "owned_by": "organization_owner"},
            {"id": "nomic-embed", "owned_by": "organization_owner"},
        ]
    }
    vision, embed = make(
        {"/v1/models": (200, listed), "/api/v0/models": (200, native)}
    ).list_models()
    assert (vision.loaded, vision.context_length, vision.kind) == (True, 32768, "chat")
    assert vision.capabilities is not None
    assert (vision.capabilities.vision, vision.capabilities.tools) == (True, True)
    assert (embed.loaded, embed.kind) == (False, "embedding")


def test_ollama_publishes_capabilities_through_api_show() -> None:
    show = {
        "capabilities": ["completion", "tools", "thinking"],
        "model_info": {"general.architecture": "qwen3", "qwen3.context_length": 40960},
    }
    routes: Route = {
        "/v1/models": (200, {"data": [{"id": "qwen3:8b", "owned_by": "library"}]}),
        "/api/show": (200, show),
    }
    seen: list[httpx.Request] = []
    (model,) = make(routes, seen).list_models()
    assert model.context_length == 40960
    assert model.capabilities == jackfield.Capabilities.published(
        tools=True, vision=False, reasoning=True, embeddings=False, max_context=40960
    )
    assert json.loads(seen[-1].content) == {"model": "qwen3:8b"}


def test_a_vllm_model_publishes_its_context_and_nothing_else() -> None:
    (model,) = make({"/v1/models": (200, {"data": [FAMILIES[2][2]]})}).list_models()
    assert model.capabilities == jackfield.Capabilities.published(max_context=40960)
    assert model.capabilities.tools is None


# --- validate() ----------------------------------------------------------------------------------


def test_validate_says_not_ok_for_any_refusal_of_the_key() -> None:
    # LiteLLM's proxy without a database answers a wrong key with 400.
    refusal = {
        "error": {
            "message": "Authentication Error, Invalid proxy server token passed.",
            "type": "auth_error",
            "param": "None",
            "code": "400",
        }
    }
    check = make({"/v1/models": (400, refusal)}, api_key="wrong").validate()
    assert (check.ok, check.kind) == (False, "api_key")
    assert "Invalid proxy server token passed" in check.message
    with pytest.raises(jackfield.ServerError):
        make({"/v1/models": (500, {"error": "boom"})}, api_key="k").validate()
