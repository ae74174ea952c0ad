"""The embedded llama.cpp provider, for real: the conformance kit, reasoning, cancellation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield import ConfigError, Response, ThoughtDelta
from jackfield.testing.conformance import ProviderConformance, check_lifecycle

pytestmark = pytest.mark.compat

TEMPLATES = Path(__file__).resolve().parents[2] / "compat" / "templates"
REGISTRY = jackfield.load_registry()
DETERMINISTIC = {
    "temperature": 0,
    "seed": 3,
    "max_tokens": 8,
    "extra_body": {"cache_prompt": False},
}


def embedded(**options: Any) -> jackfield.Provider[Any]:
    return REGISTRY.create("llamacpp-embedded", {"context": 1024, **options}, instance="embedded")


# One engine per setup for the whole module (loading a model takes a second or two).


@pytest.fixture(scope="module")
def tools_engine() -> Iterator[jackfield.Provider[Any]]:
    with embedded(chat_template=(TEMPLATES / "tools.jinja").read_text()) as provider:
        yield provider


@pytest.fixture(scope="module")
def reasoning_engine() -> Iterator[jackfield.Provider[Any]]:
    template = (TEMPLATES / "reasoning.jinja").read_text()
    with embedded(chat_template=template, reasoning_format="deepseek") as provider:
        yield provider


@pytest.fixture(scope="module")
def embeddings_engine() -> Iterator[jackfield.Provider[Any]]:
    with embedded(embeddings=True, context=512) as provider:
        yield provider


@pytest.fixture(scope="module")
def broken_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[jackfield.Provider[Any]]:
    broken = tmp_path_factory.mktemp("models") / "broken.gguf"
    broken.write_bytes(b"GGUF but not really a model")
    with embedded(model_path=str(broken)) as provider:
        yield provider


class TestEmbeddedConformance(ProviderConformance):
    covers_server, covers_how = "llamacpp-embedded", "live"
    tools = True
    call_options = DETERMINISTIC
    tool_call_options = {"tool_choice": "required", "parallel_tool_calls": False, "max_tokens": 48}
    tool_loop_options = {"tool_choice": "none"}

    @pytest.fixture
    def provider(self, tools_engine: Any) -> Any:
        return tools_engine

    @pytest.fixture
    def failing_provider(self, broken_engine: Any) -> Any:
        return broken_engine


class TestEmbeddedReasoningConformance(ProviderConformance):
    covers_server, covers_how = "llamacpp-embedded", "live"
    reasoning = True
    call_options = DETERMINISTIC
    reasoning_call_options = {
        "max_tokens": 48,
        "extra_body": {
            "cache_prompt": False,
            "grammar": 'root ::= [a-z ]{10,40} "</think>" [a-z ]{5,30}',
        },
    }

    @pytest.fixture
    def provider(self, reasoning_engine: Any) -> Any:
        return reasoning_engine

    @pytest.fixture
    def failing_provider(self) -> Iterator[jackfield.Provider[Any]]:
        with embedded(model_path="/nonexistent/model.gguf") as provider:
            yield provider


class TestEmbeddingsConformance(ProviderConformance):
    covers_server, covers_how = "llamacpp-embedded", "live"
    embeddings = True
    call_options = DETERMINISTIC

    @pytest.fixture
    def provider(self, embeddings_engine: Any) -> Any:
        return embeddings_engine

    @pytest.fixture
    def failing_provider(self, broken_engine: Any) -> Any:
        return broken_engine


@pytest.fixture(scope="module")
def plain() -> Iterator[jackfield.Provider[Any]]:
    with embedded(slots=2) as provider:
        yield provider


@pytest.mark.covers("llamacpp-embedded", "cancellation", "live")
def test_closing_a_stream_stops_the_generation(plain: Any) -> None:
    plain.start()
    started = time.monotonic()
    with plain.stream(
        "Write a long story.", max_tokens=400, extra_body={"ignore_eos": True}
    ) as stream:
        for i, _ in enumerate(stream):
            if i == 3:
                break
    # with the slot free again, a short request runs at once instead of queueing behind 400 tokens
    answer = plain.complete("Hi", max_tokens=2)
    assert answer.completion is not None
    assert time.monotonic() - started < 4


@pytest.mark.anyio
async def test_async_streams_do_not_block_the_event_loop(plain: Any) -> None:
    await plain.astart()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    fragments = [
        f async for f in plain.astream("Tell me about the sea.", max_tokens=24, temperature=0)
    ]
    ticker.cancel()
    check_lifecycle(fragments)
    assert ticks > 5  # the loop kept running while llama.cpp generated


@pytest.mark.covers("llamacpp-embedded", "timings", "live")
def test_timings_come_with_the_completion(plain: Any) -> None:
    completion = plain.complete("Hi", max_tokens=3, temperature=0).completion
    assert completion.usage.completion_tokens == completion.metrics["predicted_n"]
    assert completion.metrics["predicted_per_second"] > 0
    # prompt_n counts the tokens evaluated now; cache_n those reused from an earlier call
    metrics = completion.metrics
    assert metrics["prompt_n"] + metrics["cache_n"] == completion.usage.prompt_tokens


@pytest.mark.covers("llamacpp-embedded", "extras pass-through", "live")
def test_extra_body_reaches_llama_cpp(plain: Any) -> None:
    grammar = 'root ::= "yes" | "no"'
    answer = plain.complete("Is the sea wet?", max_tokens=4, extra_body={"grammar": grammar})
    assert answer.text in {"yes", "no"}


def test_engine_options_cannot_change_per_call(plain: Any) -> None:
    with pytest.raises(ConfigError, match="context shapes the loaded engine"):
        plain.stream("Hi", context=4096)


def test_status_does_not_load_the_model() -> None:
    with embedded() as provider:
        status = provider.status()
        assert status.connected
        assert status.loaded_models == ()
        assert not provider.loaded


@pytest.mark.covers("llamacpp-embedded", "think tags", "live")
def test_inline_think_tags_give_the_same_split_as_the_reasoning_field() -> None:
    template = (TEMPLATES / "reasoning.jinja").read_text()
    grammar = 'root ::= [a-z ]{10,40} "</think>" [a-z ]{5,30}'
    options = {
        "max_tokens": 48,
        "temperature": 0,
        "seed": 1,
        "extra_body": {"cache_prompt": False, "grammar": grammar},
    }
    with embedded(chat_template=template, reasoning_format="deepseek") as provider:
        by_field = provider.complete("What is the capital of France?", **options)
        streamed = list(provider.stream("What is the capital of France?", **options))
    with embedded(chat_template=template, reasoning_format="none") as provider:
        inline = provider.complete("What is the capital of France?", **options)
    assert any(isinstance(f, ThoughtDelta) for f in streamed)
    assert by_field.thoughts.strip()
    assert (inline.thoughts.strip(), inline.text.strip()) == (
        by_field.thoughts.strip(),
        by_field.text.strip(),
    )
    assert Response.fold(streamed).thoughts == by_field.thoughts


EXIT_MIDSTREAM = """
import jackfield
provider = jackfield.load_registry().create_instance("embedded", {"context": 1024})
stream = provider.stream("Write a long story.", max_tokens=48, extra_body={"ignore_eos": True})
for i, _ in enumerate(stream):
    if i == 3:
        break
"""


@pytest.mark.parametrize("ending", ["stream.close()", "pass  # the stream is left open"])
def test_the_interpreter_exits_cleanly_in_the_middle_of_a_generation(ending: str) -> None:
    # llama.cpp must not be running on a thread the interpreter kills at exit: that aborts
    # the whole process ("FATAL: exception not rethrown")
    result = subprocess.run(
        [sys.executable, "-c", EXIT_MIDSTREAM + ending],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "FATAL" not in result.stderr


def test_ctrl_c_still_raises_keyboard_interrupt_after_loading(plain: Any) -> None:
    import os
    import signal

    plain.start()
    interrupted = False
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    except KeyboardInterrupt:
        interrupted = True
    assert interrupted, "after loading, Ctrl-C no longer raised KeyboardInterrupt"
