"""Real sockets on 127.0.0.1 against a scripted server: timeouts, retries, disconnects, closing."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import pytest

import switchboard
from switchboard import (
    RateLimitError,
    ServerError,
    ServiceConnectionError,
    ServiceTimeoutError,
    TextDelta,
    TruncatedStreamError,
)
from tests.support.scripted_server import Pause, Reply, serving, sse

CHUNKS = sse(
    {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
    {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
)
JSON = {"content-type": "application/json"}


_OPEN: list[switchboard.Provider[Any]] = []


def provider(url: str, **options: Any) -> switchboard.Provider[Any]:
    """A provider for the scripted server; closed after the test (see the fixture below)."""
    defaults = {
        "retries": {"attempts": 0, "backoff": 0.01},
        "timeouts": {"connect": 2, "first_byte": 3, "idle": 3},
    }
    merged = switchboard.merge_patch(defaults, options)
    created = switchboard.load_registry().create(
        "openai-compatible", {"base_url": f"{url}/v1", **merged}, instance="live"
    )
    _OPEN.append(created)
    return created


@pytest.fixture(autouse=True)
def _close_providers() -> Any:
    yield
    while _OPEN:
        _OPEN.pop().close()


def error_reply(status: int, message: str, **headers: str) -> Reply:
    body = json.dumps({"error": {"message": message, "code": status}}).encode()
    return Reply(status=status, headers={**JSON, **headers}, body=[body], chunked=False)


def test_a_streamed_chat_over_a_real_socket() -> None:
    with serving([Reply(body=CHUNKS)]) as server:
        with provider(server.url) as client:
            fragments = list(client.stream("hi"))
        assert [f.text for f in fragments if isinstance(f, TextDelta)] == ["Hel", "lo"]
        assert server.requests[0].path == "/v1/chat/completions"
        assert json.loads(server.requests[0].body)["stream"] is True


def test_connection_refused_names_the_url() -> None:
    with serving([Reply()]) as server:
        url = server.url
    with pytest.raises(ServiceConnectionError) as info:
        provider(url).complete("hi")
    assert f"cannot connect to {url}/v1/chat/completions" in str(info.value)
    assert "connection refused" in str(info.value)


def test_slow_first_byte() -> None:
    with serving([Reply(header_delay=1.0, body=CHUNKS)]) as server:
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError) as info:
            provider(server.url, timeouts={"first_byte": 0.3}).complete("hi")
        assert time.monotonic() - started < 0.9
    assert info.value.phase == "first_byte"
    assert info.value.chunks == 0
    assert "first_byte timeout 0.3s, after 0 chunks" in str(info.value)


def test_stall_between_chunks() -> None:
    with serving([Reply(body=[CHUNKS[0], Pause(1.5), *CHUNKS[1:]])]) as server:
        stream = provider(server.url, timeouts={"first_byte": 0.4, "idle": 0.4}).stream("hi")
        with pytest.raises(ServiceTimeoutError) as info:
            list(stream)
    assert info.value.phase == "idle"
    assert info.value.chunks == 1
    assert info.value.partial is not None
    assert info.value.partial.text == "Hel"


def test_keep_alive_comments_are_not_progress() -> None:
    keep_alives = [piece for _ in range(12) for piece in (b": ping\n\n", Pause(0.1))]
    with (
        serving([Reply(body=[CHUNKS[0], *keep_alives, *CHUNKS[1:]])]) as server,
        pytest.raises(ServiceTimeoutError) as info,
    ):
        list(provider(server.url, timeouts={"first_byte": 0.5, "idle": 0.5}).stream("hi"))
    assert info.value.phase == "idle"
    assert info.value.chunks > 2  # the keep-alives arrived, and still did not count


def test_total_deadline_while_chunks_still_flow() -> None:
    flowing = [piece for c in CHUNKS[:2] * 20 for piece in (c, Pause(0.05))]
    with serving([Reply(body=flowing)]) as server, pytest.raises(ServiceTimeoutError) as info:
        list(provider(server.url, timeouts={"total": 0.5}).stream("hi"))
    assert info.value.phase == "total"
    assert info.value.chunks > 3


def test_reset_mid_stream_is_a_truncated_stream_with_the_partial_answer() -> None:
    with (
        serving([Reply(body=CHUNKS[:2], end="reset")]) as server,
        pytest.raises(TruncatedStreamError) as info,
    ):
        list(provider(server.url).stream("hi"))
    assert "broke after" in str(info.value)
    assert info.value.partial is not None
    assert info.value.partial.text == "Hello"


def test_incomplete_chunked_body() -> None:
    with (
        serving([Reply(body=CHUNKS[:1], end="close")]) as server,
        pytest.raises(TruncatedStreamError) as info,
    ):
        list(provider(server.url).stream("hi"))
    assert info.value.partial is not None
    assert info.value.partial.text == "Hel"


def test_reset_before_headers_is_retried() -> None:
    with serving([Reply(reset_before_headers=True), Reply(body=CHUNKS)]) as server:
        text = provider(server.url, retries={"attempts": 1}).complete("hi").text
    assert text == "Hello"
    assert len(server.requests) == 2


def test_429_with_retry_after_seconds_then_success() -> None:
    with serving(
        [error_reply(429, "slow down", **{"retry-after": "1"}), Reply(body=CHUNKS)]
    ) as server:
        started = time.monotonic()
        assert provider(server.url, retries={"attempts": 2}).complete("hi").text == "Hello"
        assert time.monotonic() - started >= 0.95
    assert len(server.requests) == 2


def test_429_with_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 1, usegmt=True)
    with serving(
        [error_reply(429, "slow down", **{"retry-after": when}), Reply(body=CHUNKS)]
    ) as server:
        assert provider(server.url, retries={"attempts": 1}).complete("hi").text == "Hello"
    assert len(server.requests) == 2


def test_503_loading_model_then_success() -> None:
    with serving(
        [error_reply(503, "Loading model"), error_reply(503, "Loading model"), Reply(body=CHUNKS)]
    ) as server:
        assert provider(server.url, retries={"attempts": 3}).complete("hi").text == "Hello"
    assert len(server.requests) == 3


def test_500_every_time_gives_up_with_the_last_error() -> None:
    replies = [error_reply(500, f"failure {i}") for i in range(1, 4)]
    with serving(replies) as server, pytest.raises(ServerError) as info:
        provider(server.url, retries={"attempts": 2}).complete("hi")
    assert len(server.requests) == 3
    assert "failure 3" in str(info.value)


def test_a_retry_after_beyond_the_total_deadline_gives_up_at_once() -> None:
    with serving(
        [error_reply(429, "later", **{"retry-after": "30"}), Reply(body=CHUNKS)]
    ) as server:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            provider(server.url, retries={"attempts": 3}, timeouts={"total": 2}).complete("hi")
        assert time.monotonic() - started < 1
    assert info.value.retry_after == 30
    assert len(server.requests) == 1


def test_no_retry_once_the_stream_started() -> None:
    replies = [Reply(body=CHUNKS[:1], end="reset"), Reply(body=CHUNKS)]
    with serving(replies) as server, pytest.raises(TruncatedStreamError):
        list(provider(server.url, retries={"attempts": 3}).stream("hi"))
    assert len(server.requests) == 1


def test_closing_the_stream_makes_the_server_stop() -> None:
    endless = [piece for _ in range(200) for piece in (CHUNKS[0], Pause(0.02))]
    with serving([Reply(body=endless)]) as server:
        with provider(server.url).stream("hi") as stream:
            for i, _ in enumerate(stream):
                if i == 2:
                    break
        assert server.wait_for(lambda: bool(server.disconnects))
    assert server.disconnects[0] < 20


@pytest.mark.anyio
async def test_async_cancellation_makes_the_server_stop() -> None:
    endless = [piece for _ in range(200) for piece in (CHUNKS[0], Pause(0.02))]
    with serving([Reply(body=endless)]) as server:
        client = provider(server.url)
        async with client.astream("hi") as stream:
            async for i, _ in _aenumerate(stream):
                if i == 2:
                    break
        assert server.wait_for(lambda: bool(server.disconnects))
        await client.aclose()
    assert server.disconnects[0] < 20


async def _aenumerate(stream: Any) -> Any:
    i = 0
    async for item in stream:
        yield i, item
        i += 1


@pytest.mark.anyio
async def test_async_retries_and_timeouts() -> None:
    with serving([error_reply(503, "Loading model"), Reply(body=CHUNKS)]) as server:
        client = provider(server.url, retries={"attempts": 1})
        assert (await client.acomplete("hi")).text == "Hello"
        await client.aclose()
    with serving([Reply(header_delay=1.0, body=CHUNKS)]) as server:
        client = provider(server.url, timeouts={"first_byte": 0.3})
        with pytest.raises(ServiceTimeoutError) as info:
            await client.acomplete("hi")
        await client.aclose()
    assert info.value.phase == "first_byte"


def test_connections_are_reused() -> None:
    with serving([Reply(body=CHUNKS)]) as server:
        client = provider(server.url)
        for _ in range(3):
            assert client.complete("hi").text == "Hello"
        assert len(server.requests) == 3
        client.close()
        assert server.wait_for(lambda: server.open_connections == 0)
