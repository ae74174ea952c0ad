"""Python one-liners: ``jackfield.complete``/``stream`` on the shared host, ``text_stream``,
``fragment.text`` on every fragment, and ``str(response)``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield import _default
from jackfield.testing import ScriptedProvider, plugin

REGISTRY = jackfield.load_registry(plugins=[plugin])
MIXED = [
    jackfield.ThoughtDelta("pondering"),
    jackfield.TextDelta("Hello "),
    jackfield.ToolCallDelta(0, "c1", "look", '{"q":'),
    jackfield.ToolCall("c1", "look", '{"q": 1}'),
    jackfield.TextDelta("other choice", choice=1),
    jackfield.TextDelta("world"),
    jackfield.Completion(jackfield.FinishReason.STOP, "stop"),
]


@pytest.fixture
def default_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shared host, made from a configuration file as a user's would be."""
    config = tmp_path / "jackfield.toml"
    config.write_text(
        '[providers.bot]\ntype = "scripted"\nreply = "Hi there, friend."\nchunk_size = 4\n'
        '[agents.greeter]\nmodel = "bot"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JACKFIELD_CONFIG", str(config))
    monkeypatch.setattr(_default, "_host", None)
    monkeypatch.setattr(jackfield._host, "load_registry", lambda: REGISTRY)
    yield
    if _default._host is not None:
        _default._host.close()


def test_every_fragment_has_text_and_only_answer_and_thought_deltas_carry_any() -> None:
    texts = {type(f).__name__: f.text for f in MIXED if f.choice == 0}
    assert texts == {
        "ThoughtDelta": "pondering",
        "TextDelta": "world",
        "ToolCallDelta": "",
        "ToolCall": "",
        "Completion": "",
    }


def test_text_stream_is_the_first_choices_answer_alone() -> None:
    provider = REGISTRY.create("scripted", {"reply": "unused"})
    assert isinstance(provider, ScriptedProvider)
    provider.script = MIXED
    stream = provider.stream("Hi")
    assert list(stream.text_stream) == ["Hello ", "world"]
    # The stream still folded everything that went by.
    assert stream.response.text == "Hello world"
    assert stream.response.thoughts == "pondering"
    assert [c.name for c in stream.response.tool_calls] == ["look"]
    assert stream.response.choice(1).text == "other choice"


@pytest.mark.anyio
async def test_async_text_stream() -> None:
    provider = REGISTRY.create("scripted", {})
    assert isinstance(provider, ScriptedProvider)
    provider.script = MIXED
    stream = provider.astream("Hi")
    assert [t async for t in stream.text_stream] == ["Hello ", "world"]
    assert stream.response.finish_reason is jackfield.FinishReason.STOP


def test_str_of_a_response_is_its_text() -> None:
    response = jackfield.Response.fold(MIXED)
    assert str(response) == "Hello world"
    assert repr(response).startswith("Response(choices=")  # the repr keeps every detail
    assert str(jackfield.Response()) == ""


@pytest.mark.usefixtures("default_host")
def test_one_line_calls_use_the_default_configuration() -> None:
    assert jackfield.complete("greeter", "Hello").text == "Hi there, friend."
    assert str(jackfield.complete("bot", "Hello", reply="Other.")) == "Other."
    assert "".join(jackfield.stream("bot", "Hello").text_stream) == "Hi there, friend."
    host = jackfield.default_host()
    assert host is jackfield.default_host()  # one shared host
    assert host.config.source.endswith("jackfield.toml")


@pytest.mark.usefixtures("default_host")
@pytest.mark.anyio
async def test_async_one_line_calls() -> None:
    assert (await jackfield.acomplete("greeter", "Hello")).text == "Hi there, friend."
    stream = jackfield.astream("greeter", "Hello")
    assert "".join([t async for t in stream.text_stream]) == "Hi there, friend."


@pytest.mark.usefixtures("default_host")
def test_the_shared_host_makes_one_provider_per_instance_across_threads() -> None:
    barrier = threading.Barrier(8)
    providers: list[Any] = []

    def ask() -> None:
        barrier.wait()
        providers.append(jackfield.default_host().provider("bot"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(providers) == 8
    assert len({id(p) for p in providers}) == 1


@pytest.mark.usefixtures("default_host")
def test_an_unknown_model_is_the_usual_typed_error() -> None:
    with pytest.raises(jackfield.UnknownProviderError, match="greeter"):
        jackfield.complete("greter", "Hello")


@pytest.mark.anyio
async def test_run_and_arun_are_one_liners_too(default_host: None) -> None:
    calls: list[str] = []

    def note(text: str) -> str:
        """Note a text."""
        calls.append(text)
        return "noted"

    run = jackfield.run("greeter", "Hello", tools=[note], max_steps=2).collect()
    assert (run.text, run.stop_reason, calls) == ("Hi there, friend.", "answer", [])
    arun = await jackfield.arun("bot", "Hello", tools=[note]).collect()
    assert arun.text == "Hi there, friend."
    provider = jackfield.default_host().provider("bot")
    assert isinstance(provider, ScriptedProvider)
    assert [t.name for t in provider.requests[-1].tools] == ["note"]
