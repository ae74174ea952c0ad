"""Structured output against real llama.cpp: ``complete(..., output=X)`` returns a checked object.

The packaged model is a tiny base model that would never answer with these values by chance:
an answer that fits at the first try shows the server enforced the schema. Both ways of asking
llama.cpp are checked (its own ``json_schema`` field, which the ``llamacpp`` preset prefers, and
OpenAI's ``response_format``), through llama.cpp's server and through the embedded engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import attrs
import pytest

import jackfield
from jackfield.provider import Provider
from jackfield_llamacpp.server import LlamaServer

pytestmark = pytest.mark.compat


@attrs.frozen
class Code:
    """A code from a list no model would guess."""

    code: Literal["zq-17", "xv-42", "kj-93"]
    checked: bool


SAMPLING = {"temperature": 0, "seed": 7, "max_tokens": 100}
ASK = "Give me one code."


@pytest.fixture(scope="module")
def default_server() -> Iterator[LlamaServer]:
    with LlamaServer(context=1024) as server:  # the packaged model and its own chat format
        yield server


def counting(provider: Provider[Any]) -> list[Any]:
    """The requests ``provider`` sends from now on (each one a model call)."""
    sent: list[Any] = []
    sync, asynchronous = provider.open_stream, provider.open_astream

    def open_stream(request: Any) -> Any:
        sent.append(request)
        return sync(request)

    def open_astream(request: Any) -> Any:
        sent.append(request)
        return asynchronous(request)

    provider.open_stream = open_stream  # type: ignore[method-assign]
    provider.open_astream = open_astream  # type: ignore[method-assign]
    return sent


def test_the_llamacpp_preset_asks_with_json_schema_and_gets_an_object(
    default_server: LlamaServer,
) -> None:
    host = jackfield.Host.from_mapping(
        {"providers": {"llamacpp": {"base_url": default_server.base_url}}}
    )
    with host:
        agent = host.agent("llamacpp")
        assert agent.explain(output=Code).splitlines()[-1] == (
            "output: Code as JSON Schema via json_schema "
            "(supported here: json_schema, response_format, tool, prompt)"
        )
        sent = counting(agent.provider)
        code = agent.complete(ASK, output=Code, **SAMPLING)
    assert isinstance(code, Code)
    assert code.code in ("zq-17", "xv-42", "kj-93")
    assert len(sent) == 1  # the first answer fitted: enforced, not repaired
    assert sent[0].options.extra_body["json_schema"]["properties"]["code"]["enum"] == [
        "zq-17",
        "xv-42",
        "kj-93",
    ]


def test_response_format_is_enforced_too(default_server: LlamaServer) -> None:
    registry = jackfield.load_registry()
    options = {"base_url": default_server.base_url}
    with registry.create("openai-compatible", options, instance="plain") as provider:
        sent = counting(provider)
        value = provider.complete(
            ASK,
            output={
                "type": "object",
                "properties": {"code": {"enum": ["zq-17", "xv-42"]}},
                "required": ["code"],
                "additionalProperties": False,
            },
            **SAMPLING,
        )
        # The server named itself in its answer: the next call uses json_schema.
        learned = provider.output_strategies(provider.options)
    assert value["code"] in ("zq-17", "xv-42")
    assert list(value) == ["code"]
    assert len(sent) == 1
    assert sent[0].options.response_format["type"] == "json_schema"
    assert learned[0] == "json_schema"


@pytest.mark.anyio
async def test_the_embedded_engine_returns_an_object() -> None:
    registry = jackfield.load_registry()
    provider = registry.create_instance("embedded", {"context": 1024})
    try:
        sent = counting(provider)
        code = await provider.acomplete(ASK, output=Code, **SAMPLING)
    finally:
        await provider.aclose()
    assert isinstance(code, Code)
    assert code.code in ("zq-17", "xv-42", "kj-93")
    assert len(sent) == 1
    assert sent[0].options.response_format["json_schema"]["name"] == "Code"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
