"""The native Ollama provider: transcripts replayed whole and split, requests, models, status."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jackfield
from jackfield import (
    AssistantMessage,
    ConversationError,
    ImagePart,
    OptionsError,
    TextPart,
    Tool,
    ToolCall,
    ToolMessage,
    UserMessage,
)
from jackfield.testing.transcripts import ReplayTransport, Transcript
from jackfield_ollama._provider import OllamaProvider
from tests.support import transcript_cases as cases

HERE = Path(__file__).parent / "transcripts"
CASES = sorted(p.stem for p in HERE.glob("*.json"))
NOTES = (Path(__file__).parent / "api-notes.md").read_text()
FAST = {"retries": {"attempts": 0}, "timeouts": {"connect": 2, "first_byte": 5, "idle": 5}}


def replay(
    transcript: Transcript, chunks: list[bytes] | None = None, **options: Any
) -> OllamaProvider:
    transport = ReplayTransport(transcript, chunks=chunks)
    return OllamaProvider.from_options(  # type: ignore[return-value]
        {"model": "llama3.2", **FAST, **options},
        name="ollama",
        transport=transport,
        async_transport=transport,
    )


def _marks(stem: str) -> Any:
    meta, transcript = cases.load(HERE, stem)
    features = ["errors"] if "error" in meta else []
    if "expect" in meta:
        expect = meta["expect"]
        inline = b"\\u003c/think\\u003e" in transcript.body or b"</think>" in transcript.body
        features += ["streaming text"] if meta["stream"] and expect.get("text") else []
        features += ["reasoning field"] if expect.get("thoughts") and not inline else []
        features += ["think tags"] if expect.get("thoughts") and inline else []
        features += ["tool calls streamed"] if meta["stream"] and expect.get("tool_calls") else []
        features += ["parallel tool calls"] if len(expect.get("tool_calls") or []) > 1 else []
        features += ["usage"] if expect.get("usage") else []
        features += ["timings"] if expect.get("metrics") else []
    return pytest.param(
        stem,
        id=stem,
        marks=[pytest.mark.covers("ollama-native", f, "transcript") for f in features],
    )


@pytest.mark.parametrize("stem", [_marks(stem) for stem in CASES])
def test_replayed_whole(stem: str) -> None:
    meta, transcript = cases.load(HERE, stem)
    cases.check(meta, *cases.run(replay, meta, transcript))


@pytest.mark.parametrize("stem", CASES)
def test_replayed_byte_by_byte(stem: str) -> None:
    meta, transcript = cases.load(HERE, stem)
    whole = cases.run(replay, meta, transcript)
    body = transcript.body
    pieces = cases.run(replay, meta, transcript, [body[i : i + 1] for i in range(len(body))])
    assert pieces[0] == whole[0]
    assert repr(pieces[1]) == repr(whole[1])


@pytest.mark.parametrize("stem", CASES)
@settings(max_examples=10)
@given(cuts=st.lists(st.integers(0, 3000), max_size=8))
def test_replayed_split_anywhere(stem: str, cuts: list[int]) -> None:
    meta, transcript = cases.load(HERE, stem)
    whole = cases.run(replay, meta, transcript)
    split = cases.run(replay, meta, transcript, transcript.split(cuts))
    assert split[0] == whole[0]
    assert repr(split[1]) == repr(whole[1])


def test_think_tags_can_be_left_in_the_text() -> None:
    transcript = Transcript.load(HERE / "ollama-stream-inline-think-tags.http")
    response = replay(transcript, think_tags="off").complete("hi")
    assert response.thoughts == ""
    assert response.text.startswith("<think>\nThe user greets me.")
    assert response.text.endswith("</think>\n\nHello! How can I help?")
    assert "think_tags" not in json.dumps(replay(transcript).dry_run("hi")["body"])


# --- requests ---------------------------------------------------------------------------------------

DONE = Transcript(
    200,
    (("content-type", "application/x-ndjson"),),
    b'{"model":"m","message":{"role":"assistant","content":"ok"},"done":true,"done_reason":"stop"}\n',
)


def sent(**options: Any) -> tuple[OllamaProvider, ReplayTransport]:
    transport = ReplayTransport(DONE)
    provider = OllamaProvider.from_options(
        {"model": "qwen3:8b", **FAST, **options}, name="ollama", transport=transport
    )
    return provider, transport  # type: ignore[return-value]


def body_of(transport: ReplayTransport) -> Any:
    return json.loads(transport.requests[-1].content)


def test_the_request_body() -> None:
    provider, transport = sent(
        temperature=0.2,
        max_tokens=64,
        num_ctx=8192,
        options={"repeat_penalty": 1.1},
        keep_alive="10m",
        think="high",
    )
    assert provider.complete("hi", options={"top_k": 5}).text == "ok"
    assert str(transport.requests[-1].url) == "http://127.0.0.1:11434/api/chat"
    assert body_of(transport) == {
        "model": "qwen3:8b",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "options": {
            "temperature": 0.2,
            "num_predict": 64,
            "num_ctx": 8192,
            "repeat_penalty": 1.1,
            "top_k": 5,
        },
        "think": "high",
        "keep_alive": "10m",
    }


@pytest.mark.covers("ollama-native", "extras pass-through", "transcript")
def test_options_layers_merge_and_extra_body_comes_last() -> None:
    provider, transport = sent(
        options={"num_ctx": 4096, "top_k": 20}, extra_body={"format": "json"}
    )
    list(
        provider.stream("hi", options={"top_k": None, "min_p": 0.1}, extra_body={"keep_alive": -1})
    )
    body = body_of(transport)
    assert body["options"] == {"num_ctx": 4096, "min_p": 0.1}
    assert (body["format"], body["keep_alive"], body["stream"]) == ("json", -1, True)


def test_images_tools_and_tool_results() -> None:
    provider, transport = sent()
    call = ToolCall("call_1", "search", '{"q": "cats"}', source="web")
    messages = [
        UserMessage(
            (
                TextPart("What is this? "),
                ImagePart.from_bytes(b"\x89PNG", "image/png"),
                ImagePart.from_url("data:image/png;base64,AAAA"),
            )
        ),
        AssistantMessage("", (call,), thoughts="I should search."),
        ToolMessage("call_1", "three cats"),
    ]
    list(
        provider.stream(
            messages, tools=[Tool("search", "Searches.", {"type": "object"}, source="web")]
        )
    )
    body = body_of(transport)
    assert body["messages"] == [
        {"role": "user", "content": "What is this? ", "images": ["iVBORw==", "AAAA"]},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "web__search", "arguments": {"q": "cats"}}}],
            "thinking": "I should search.",
        },
        {
            "role": "tool",
            "content": "three cats",
            "tool_call_id": "call_1",
            "tool_name": "web__search",
        },
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "web__search",
                "description": "Searches.",
                "parameters": {"type": "object"},
            },
        }
    ]


def test_image_urls_are_refused_clearly() -> None:
    provider, _ = sent()
    with pytest.raises(ConversationError, match="Ollama takes images as bytes or data: URLs"):
        list(provider.stream([UserMessage((ImagePart.from_url("https://x/cat.png"),))]))


@pytest.mark.parametrize(
    ("options", "url"),
    [
        ({}, "http://127.0.0.1:11434"),
        ({"port": 11500}, "http://127.0.0.1:11500"),
        ({"host": "gpu-box"}, "http://gpu-box:11434"),
        ({"base_url": "https://ollama.lan/api/"}, "https://ollama.lan"),
    ],
)
def test_where_requests_go(options: dict[str, Any], url: str) -> None:
    assert OllamaProvider.from_options(options).base_url == url  # type: ignore[attr-defined]


def test_a_bad_base_url() -> None:
    message = r"base_url: must start with http:// or https://: write http://ollama:11434 "
    with pytest.raises(OptionsError, match=message):
        OllamaProvider.from_options({"base_url": "ollama:11434"})
    with pytest.raises(OptionsError, match=r"base_url: must start with http:// or https:// "):
        OllamaProvider.from_options({"base_url": "http:/ollama:11434"})  # no guess at a fix


def test_dry_run_masks_the_key() -> None:
    provider = OllamaProvider.from_options({"base_url": "https://ollama.lan", "api_key": "sekrit"})
    dry = provider.dry_run("hi")
    assert dry["headers"]["Authorization"] == "Bearer ********"
    assert "sekrit" not in json.dumps(dry)


def test_a_key_over_plain_http_to_another_machine_is_warned_about() -> None:
    with pytest.warns(jackfield.SecurityWarning, match="plain http to http://10.0.0.7:11434"):
        OllamaProvider.from_options({"host": "10.0.0.7", "api_key": "sekrit"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OllamaProvider.from_options({"api_key": "sekrit"})  # loopback
        OllamaProvider.from_options({"base_url": "https://ollama.lan", "api_key": "sekrit"})
        OllamaProvider.from_options(
            {"host": "10.0.0.7", "api_key": "sekrit", "warn_insecure_key": False}
        )


def test_the_ready_made_instance() -> None:
    registry = jackfield.load_registry()
    assert registry.instance("ollama-native").provider == "ollama"
    assert (
        registry.create_instance("ollama-native", {"model": "qwen3:8b"}).dry_run("hi")["url"]
        == "http://127.0.0.1:11434/api/chat"
    )


# --- models, status, embeddings ----------------------------------------------------------------------


def _block(marker: str) -> Any:
    """The example response after a heading of the API notes."""
    start = NOTES.index(marker)
    block = NOTES[
        NOTES.index("```json", start) + 7 : NOTES.index("```", NOTES.index("```json", start) + 7)
    ]
    return json.loads(block)


TAGS, SHOW, PS, VERSION = (
    _block("GET /api/tags"),
    _block("POST /api/show"),
    _block("GET /api/ps"),
    _block("GET /api/version"),
)


def routed(routes: dict[str, tuple[int, Any]]) -> OllamaProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        status, body = routes.get(request.url.path, (404, {"error": "not found"}))
        return httpx.Response(status, json=body)

    transport = httpx.MockTransport(handler)
    return OllamaProvider.from_options(
        {}, name="ollama", transport=transport, async_transport=transport
    )  # type: ignore[return-value]


@pytest.mark.covers("ollama-native", "model listing", "transcript")
def test_models_with_context_length_and_capabilities() -> None:
    models = routed({"/api/tags": (200, TAGS), "/api/show": (200, SHOW)}).list_models()
    assert [m.id for m in models] == ["llama3.2:latest", "qwen3:8b"]
    assert models[0].context_length == 131072
    assert models[0].capabilities is not None
    assert models[0].capabilities.tools


@pytest.mark.covers("ollama-native", "status", "transcript")
def test_status_reads_version_and_running_models() -> None:
    status = routed(
        {"/api/version": (200, VERSION), "/api/tags": (200, TAGS), "/api/ps": (200, PS)}
    ).status()
    assert (status.connected, status.server_kind, status.error) == (True, "ollama", None)
    assert status.loaded_models == ("llama3.2:latest",)
    assert status.details["version"] == "0.12.11"
    assert "qwen3:8b" in status.models


def test_status_when_nothing_listens() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    provider = OllamaProvider.from_options({}, transport=httpx.MockTransport(refuse))
    status = provider.status()
    assert not status.connected
    assert "connection refused" in (status.error or "")


@pytest.mark.covers("ollama-native", "embeddings", "transcript")
def test_embeddings() -> None:
    provider = routed(
        {
            "/api/embed": (
                200,
                {
                    "model": "nomic-embed-text",
                    "embeddings": [[0.1, 0.2], [0.3, 0.4]],
                    "prompt_eval_count": 4,
                },
            )
        }
    )
    result = provider.embed(["a", "b"])
    assert result.vectors == ((0.1, 0.2), (0.3, 0.4))
    assert result.usage is not None
    assert result.usage.prompt_tokens == 4


@pytest.mark.anyio
async def test_async_models_and_status() -> None:
    provider = routed(
        {
            "/api/version": (200, VERSION),
            "/api/tags": (200, TAGS),
            "/api/ps": (200, PS),
            "/api/show": (200, SHOW),
        }
    )
    assert await provider.astatus() == provider.status()
    assert [m.id for m in await provider.alist_models()] == ["llama3.2:latest", "qwen3:8b"]
    await provider.aclose()
