"""Real llama.cpp servers (from the xllamacpp wheel) for the compat suite, one per setup.

Each server starts on first use and stops at the end of the session — also when a test fails
or the run is interrupted (LlamaServer stops its child on exit, and the child exits when its
parent dies).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield_llamacpp.server import LlamaServer

TEMPLATES = Path(__file__).parent / "templates"
API_KEY = "compat-secret-key"


def _serve(**settings: Any) -> Iterator[LlamaServer]:
    server = LlamaServer(**settings).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaServer]:
    """Four slots of 1024 tokens, and ChatML (llama.cpp's fallback for a model without a
    template): the packaged model then runs on until ``max_tokens``, which the wire tests
    count on. What a user gets by default (the packaged model's own format) is tested in
    ``test_first_chat.py``."""
    yield from _serve(slots=4, context=1024, chat_template=(TEMPLATES / "chatml.jinja").read_text())


@pytest.fixture(scope="session")
def llama_auth() -> Iterator[LlamaServer]:
    yield from _serve(api_keys=[API_KEY], context=512)


@pytest.fixture(scope="session")
def llama_tools() -> Iterator[LlamaServer]:
    yield from _serve(chat_template=(TEMPLATES / "tools.jinja").read_text(), context=1024)


@pytest.fixture(scope="session")
def llama_reasoning() -> Iterator[LlamaServer]:
    yield from _serve(
        chat_template=(TEMPLATES / "reasoning.jinja").read_text(),
        reasoning_format="deepseek",
        context=1024,
    )


@pytest.fixture(scope="session")
def llama_embeddings() -> Iterator[LlamaServer]:
    yield from _serve(embeddings=True, params={"pooling_type": 1}, context=512)  # 1: mean


@pytest.fixture(scope="session")
def registry() -> jackfield.Registry:
    return jackfield.load_registry()


@pytest.fixture
def connect(registry: jackfield.Registry) -> Iterator[Any]:
    """``connect(server, **options)``: a provider for a server, closed after the test."""
    made: list[jackfield.Provider[Any]] = []

    def make(server: LlamaServer, **options: Any) -> jackfield.Provider[Any]:
        provider = registry.create(
            "openai-compatible", {"base_url": server.base_url, **options}, instance="llamacpp"
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def slots(server: LlamaServer, key: str | None = None) -> list[dict[str, Any]]:
    """llama.cpp's /slots (what each slot is doing, and the params of its last task)."""
    request = urllib.request.Request(f"{server.url}/slots")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=10) as response:
        data: list[dict[str, Any]] = json.loads(response.read())
        return data


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
