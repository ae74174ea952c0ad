"""Observers: a plugin implementing the ``call_*`` hooks is told of every chat call's progress
(start, attempts, retries, failovers, first chunk, end or failure), for every provider a
registry creates; and every HTTP call carries an ``X-Request-Id``."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import jackfield
from jackfield.hookspecs import hookimpl
from jackfield.testing import plugin
from tests.support.scripted_server import Pause, Reply, serving, sse

OK = Reply(
    body=sse(
        {"choices": [{"index": 0, "delta": {"content": "hi"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
)
SLOW_OK = Reply(body=[Pause(0.05), *OK.body])
DOWN = Reply(status=503, headers={"content-type": "application/json"}, body=[b'{"error": "down"}'])


class Spy:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.calls: list[Any] = []
        self.completions: list[str | None] = []

    @hookimpl
    def call_headers(self, call: Any) -> dict[str, str]:
        return {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}

    @hookimpl
    def call_started(self, call: Any) -> None:
        self.calls.append(call)
        self.events.append(("started", call.provider, call.instance, call.model))

    @hookimpl
    def call_attempt(self, call: Any, url: str) -> None:
        self.events.append(("attempt", url.rsplit(":", 1)[-1].split("/")[0] != "", call.attempts))

    @hookimpl
    def call_retried(self, call: Any, error: Any, delay: float) -> None:
        self.events.append(("retried", type(error).__name__))

    @hookimpl
    def call_failed_over(self, call: Any, error: Any, url: str) -> None:
        self.events.append(("failed_over", type(error).__name__))

    @hookimpl
    def call_first_chunk(self, call: Any) -> None:
        self.events.append(("first_chunk",))

    @hookimpl
    def call_finished(self, call: Any, response: Any) -> None:
        self.events.append(("finished", response.text))
        self.completions.append(response.completion.request_id)

    @hookimpl
    def call_failed(self, call: Any, error: Any, response: Any) -> None:
        self.events.append(("failed", type(error).__name__, response.text))


def registry(*plugins: object) -> jackfield.Registry:
    return jackfield.load_registry(autoload=False, plugins=[plugin, *plugins])


def openai(reg: jackfield.Registry, url: str, **options: Any) -> Any:
    reg.add_plugin(__import__("jackfield_openai"))
    settings = {"base_url": f"{url}/v1", "model": "m", "retries": {"attempts": 0}, **options}
    return reg.create("openai-compatible", settings)


def kinds(spy: Spy) -> list[str]:
    return [e[0] for e in spy.events]


def test_a_call_is_told_from_start_to_end_with_headers_and_a_request_id() -> None:
    spy = Spy()
    reg = registry(spy)
    with serving([OK]) as server, openai(reg, server.url) as provider:
        assert provider.complete("x").text == "hi"
        sent = server.requests[0].headers
    assert kinds(spy) == ["started", "attempt", "first_chunk", "finished"]
    assert spy.events[0] == ("started", "openai-compatible", "openai-compatible", "m")
    call = spy.calls[0]
    assert call.request_id == sent["x-request-id"]
    assert len(call.request_id) == 32
    assert sent["traceparent"].startswith("00-0af7651916cd43dd")
    assert call.server == f"{server.url}/v1/chat/completions"
    assert call.first_chunk is not None
    assert call.first_chunk >= call.started
    assert spy.completions == [call.request_id]  # observed streams stamp their completion too


def test_retries_and_failovers_are_told() -> None:
    spy = Spy()
    reg = registry(spy)
    with (
        serving([DOWN, OK]) as server,
        openai(reg, server.url, retries={"attempts": 1, "backoff": 0.01}) as provider,
    ):
        provider.complete("x")
    assert kinds(spy) == ["started", "attempt", "retried", "attempt", "first_chunk", "finished"]
    spy.events.clear()
    with serving([DOWN]) as down, serving([OK]) as up:
        options = {"endpoints": [f"{down.url}/v1", f"{up.url}/v1"], "balance": "round_robin"}
        reg2 = registry(spy)
        with openai(reg2, down.url, **options) as provider:
            provider.complete("x")  # the second endpoint first (round robin)
            provider.complete("x")  # the first: down, so the second
    assert kinds(spy)[4:] == [
        "started",
        "attempt",
        "failed_over",
        "attempt",
        "first_chunk",
        "finished",
    ]
    assert spy.calls[-1].attempts == 2


def test_failures_and_early_closes_are_told_with_what_arrived() -> None:
    spy = Spy()
    reg = registry(spy)
    with (
        serving([DOWN]) as server,
        openai(reg, server.url) as provider,
        pytest.raises(jackfield.ServerError) as caught,
    ):
        provider.complete("x")
    assert kinds(spy)[-1] == "failed"
    assert caught.value.sent_request_id == spy.calls[-1].request_id
    assert "request id" not in str(caught.value)  # the message is the server's story only
    with serving([SLOW_OK]) as server, openai(reg, server.url) as provider:
        stream = provider.stream("x")
        next(iter(stream))
        stream.close()
    assert spy.events[-1] == ("failed", "GeneratorExit", "hi")


@pytest.mark.anyio
async def test_async_calls_are_told_too() -> None:
    spy = Spy()
    reg = registry(spy)
    with serving([OK]) as server:
        provider = openai(reg, server.url)
        try:
            assert (await provider.acomplete("x")).text == "hi"
        finally:
            await provider.aclose()
    assert kinds(spy) == ["started", "attempt", "first_chunk", "finished"]


def test_every_provider_is_observed_and_none_without_an_observing_plugin() -> None:
    spy = Spy()
    scripted = registry(spy).create("scripted", {"reply": "hello"})
    assert scripted.complete("x").text == "hello"
    assert kinds(spy) == ["started", "first_chunk", "finished"]  # no HTTP: no attempts
    assert registry().create("scripted").observers == ()


def test_an_observer_that_raises_is_warned_about_and_left_out() -> None:
    class Broken:
        @hookimpl
        def call_started(self, call: Any) -> None:
            raise RuntimeError("observer bug")

    reg = registry(Broken())
    provider = reg.create("scripted", {"reply": "still fine"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert provider.complete("x").text == "still fine"
    assert any("observer bug" in str(w.message) for w in caught)


def test_a_request_id_of_the_callers_own_is_kept() -> None:
    with serving([OK, OK]) as server:
        reg = registry()
        with openai(reg, server.url, headers={"X-Request-Id": "mine-1"}) as provider:
            provider.complete("x")
        with openai(reg, server.url) as provider:
            provider.complete("x")
        first, second = (r.headers.get("x-request-id") for r in server.requests)
    assert first == "mine-1"
    assert second is not None
    assert second != first


@pytest.mark.anyio
async def test_each_completion_carries_the_calls_request_id() -> None:
    two_choices = Reply(
        body=sse(
            {"choices": [{"index": 0, "delta": {"content": "a"}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {"choices": [{"index": 1, "delta": {"content": "b"}}]},
            {"choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]},
        )
    )
    with serving([two_choices]) as server, openai(registry(), server.url) as provider:
        completions = [f for f in provider.stream("x") if type(f) is jackfield.Completion]
        own = provider.complete("x", headers={"X-Request-Id": "mine-2"})
        streamed = provider.astream("x")
        async_ids = [f.request_id async for f in streamed if type(f) is jackfield.Completion]
        sent = [r.headers["x-request-id"] for r in server.requests]
    assert [c.choice for c in completions] == [0, 1]
    assert [c.request_id for c in completions] == [sent[0], sent[0]]
    assert [c.completion.request_id for c in own.choices if c.completion] == ["mine-2"] * 2
    assert async_ids == [sent[2], sent[2]]
    scripted = registry().create("scripted", {"reply": "no http"})
    assert scripted.complete("x").completion.request_id is None  # nothing sent: no id


def test_an_observer_whose_headers_raise_is_warned_about_and_left_out() -> None:
    class Broken:
        @hookimpl
        def call_headers(self, call: Any) -> dict[str, str]:
            raise RuntimeError("headers bug")

        @hookimpl
        def call_finished(self, call: Any, response: Any) -> None:
            raise AssertionError("a dropped observer is told nothing more")

    with (
        serving([OK]) as server,
        openai(registry(Broken()), server.url) as provider,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        assert provider.complete("x").text == "hi"
    assert [str(w.message).count("headers bug") for w in caught] == [1]
