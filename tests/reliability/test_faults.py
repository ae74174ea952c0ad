"""Fault injection over real sockets on 127.0.0.1: refused and broken connections, slow and
stalled servers, deadlines, retries, and answers that are not what was asked for.

Each test names the typed outcome, checks the partial answer where one exists, and (through
tests/reliability/conftest.py) that no file descriptor, socket or thread outlives it; the
provider fixture also checks that no pooled connection is still busy when the test ends.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import time
from typing import Any

import pytest

import jackfield
from jackfield import (
    MalformedStreamError,
    ProviderError,
    RateLimitError,
    ServerError,
    ServiceConnectionError,
    ServiceTimeoutError,
    TextDelta,
    TruncatedStreamError,
)
from tests.support.scripted_server import Pause, Reply, serving, sse

fault = pytest.mark.reliability

CHUNKS = sse(
    {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
    {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
)
JSON = {"content-type": "application/json"}


_OPEN: list[jackfield.Provider[Any]] = []


def provider(url: str, **options: Any) -> jackfield.Provider[Any]:
    """A provider for the scripted server; closed after the test (see the fixture below)."""
    defaults = {
        "retries": {"attempts": 0, "backoff": 0.01},
        "timeouts": {"connect": 2, "first_byte": 3, "idle": 3},
    }
    merged = jackfield.merge_patch(defaults, options)
    created = jackfield.load_registry().create(
        "openai-compatible", {"base_url": f"{url}/v1", **merged}, instance="live"
    )
    _OPEN.append(created)
    return created


def busy_connections(client: jackfield.Provider[Any]) -> int:
    """Pooled connections still in use (a response nobody closed)."""
    busy = 0
    for clients in client._pools.values():  # type: ignore[attr-defined]
        pools = [clients._sync, *clients._async.values()]
        for pool in filter(None, pools):
            connections = pool._transport._pool.connections
            busy += sum(1 for c in connections if not (c.is_idle() or c.is_closed()))
    return busy


@pytest.fixture(autouse=True)
def _close_providers() -> Any:
    yield
    busy = sum(busy_connections(client) for client in _OPEN)
    while _OPEN:
        _OPEN.pop().close()
    assert busy == 0, f"{busy} pooled connection(s) still busy after the test"


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


@fault(
    "connection",
    "connection refused",
    "ServiceConnectionError naming the URL and 'is the server running?'",
)
def test_connection_refused_names_the_url() -> None:
    with serving([Reply()]) as server:
        url = server.url
    with pytest.raises(ServiceConnectionError) as info:
        provider(url).complete("hi")
    assert f"cannot connect to {url}/v1/chat/completions" in str(info.value)
    assert "connection refused" in str(info.value)


@fault(
    "timeouts",
    "slow first byte beyond first_byte",
    "ServiceTimeoutError phase=first_byte, chunks=0, within the deadline",
)
def test_slow_first_byte() -> None:
    with serving([Reply(header_delay=1.0, body=CHUNKS)]) as server:
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError) as info:
            provider(server.url, timeouts={"first_byte": 0.3}).complete("hi")
        assert time.monotonic() - started < 0.9
    assert info.value.phase == "first_byte"
    assert info.value.chunks == 0
    assert "first_byte timeout 0.3s, after 0 chunks" in str(info.value)


@fault(
    "timeouts",
    "stall between chunks beyond idle",
    "ServiceTimeoutError phase=idle, chunk count, partial answer kept",
)
def test_stall_between_chunks() -> None:
    with serving([Reply(body=[CHUNKS[0], Pause(1.5), *CHUNKS[1:]])]) as server:
        stream = provider(server.url, timeouts={"first_byte": 0.4, "idle": 0.4}).stream("hi")
        with pytest.raises(ServiceTimeoutError) as info:
            list(stream)
    assert info.value.phase == "idle"
    assert info.value.chunks == 1
    assert info.value.partial is not None
    assert info.value.partial.text == "Hel"


@fault(
    "timeouts",
    "keep-alive comments only, after the first event",
    "ServiceTimeoutError phase=idle: comments are not progress",
)
def test_keep_alive_comments_are_not_progress() -> None:
    keep_alives = [piece for _ in range(12) for piece in (b": ping\n\n", Pause(0.1))]
    with (
        serving([Reply(body=[CHUNKS[0], *keep_alives, *CHUNKS[1:]])]) as server,
        pytest.raises(ServiceTimeoutError) as info,
    ):
        list(provider(server.url, timeouts={"first_byte": 0.5, "idle": 0.5}).stream("hi"))
    assert info.value.phase == "idle"
    assert info.value.chunks > 2  # the keep-alives arrived, and still did not count


@fault(
    "timeouts",
    "total deadline while chunks still flow",
    "ServiceTimeoutError phase=total, chunk count",
)
def test_total_deadline_while_chunks_still_flow() -> None:
    flowing = [piece for c in CHUNKS[:2] * 20 for piece in (c, Pause(0.05))]
    with serving([Reply(body=flowing)]) as server, pytest.raises(ServiceTimeoutError) as info:
        list(provider(server.url, timeouts={"total": 0.5}).stream("hi"))
    assert info.value.phase == "total"
    assert info.value.chunks > 3


@fault("connection", "reset mid-stream", "TruncatedStreamError, partial answer kept")
def test_reset_mid_stream_is_a_truncated_stream_with_the_partial_answer() -> None:
    with (
        serving([Reply(body=CHUNKS[:2], end="reset")]) as server,
        pytest.raises(TruncatedStreamError) as info,
    ):
        list(provider(server.url).stream("hi"))
    assert "broke after" in str(info.value)
    assert info.value.partial is not None
    assert info.value.partial.text == "Hello"


@fault(
    "connection",
    "chunked body cut mid-stream (incomplete chunked read)",
    "TruncatedStreamError, partial answer kept",
)
def test_incomplete_chunked_body() -> None:
    with (
        serving([Reply(body=CHUNKS[:1], end="close")]) as server,
        pytest.raises(TruncatedStreamError) as info,
    ):
        list(provider(server.url).stream("hi"))
    assert info.value.partial is not None
    assert info.value.partial.text == "Hel"


@fault("connection", "reset before headers", "retried, then the answer")
def test_reset_before_headers_is_retried() -> None:
    with serving([Reply(reset_before_headers=True), Reply(body=CHUNKS)]) as server:
        text = provider(server.url, retries={"attempts": 1}).complete("hi").text
    assert text == "Hello"
    assert len(server.requests) == 2


@fault(
    "retries", "429 with Retry-After in seconds, then success", "waited as told, then the answer"
)
def test_429_with_retry_after_seconds_then_success() -> None:
    with serving(
        [error_reply(429, "slow down", **{"retry-after": "1"}), Reply(body=CHUNKS)]
    ) as server:
        started = time.monotonic()
        assert provider(server.url, retries={"attempts": 2}).complete("hi").text == "Hello"
        assert time.monotonic() - started >= 0.95
    assert len(server.requests) == 2


@fault(
    "retries",
    "429 with Retry-After as an HTTP-date, then success",
    "waited as told, then the answer",
)
def test_429_with_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 1, usegmt=True)
    with serving(
        [error_reply(429, "slow down", **{"retry-after": when}), Reply(body=CHUNKS)]
    ) as server:
        assert provider(server.url, retries={"attempts": 1}).complete("hi").text == "Hello"
    assert len(server.requests) == 2


@fault("retries", "503 'Loading model' twice, then success", "retried, then the answer")
def test_503_loading_model_then_success() -> None:
    with serving(
        [error_reply(503, "Loading model"), error_reply(503, "Loading model"), Reply(body=CHUNKS)]
    ) as server:
        assert provider(server.url, retries={"attempts": 3}).complete("hi").text == "Hello"
    assert len(server.requests) == 3


@fault("retries", "500 three times", "ServerError with the last message, 3 requests")
def test_500_every_time_gives_up_with_the_last_error() -> None:
    replies = [error_reply(500, f"failure {i}") for i in range(1, 4)]
    with serving(replies) as server, pytest.raises(ServerError) as info:
        provider(server.url, retries={"attempts": 2}).complete("hi")
    assert len(server.requests) == 3
    assert "failure 3" in str(info.value)


@fault(
    "retries", "Retry-After beyond the total deadline", "RateLimitError at once, retry_after kept"
)
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


@fault("retries", "failure after the first stream byte", "TruncatedStreamError, never retried")
def test_no_retry_once_the_stream_started() -> None:
    replies = [Reply(body=CHUNKS[:1], end="reset"), Reply(body=CHUNKS)]
    with serving(replies) as server, pytest.raises(TruncatedStreamError):
        list(provider(server.url, retries={"attempts": 3}).stream("hi"))
    assert len(server.requests) == 1


@fault(
    "cancellation", "closing a sync stream early", "the connection closes; the server stops sending"
)
def test_closing_the_stream_makes_the_server_stop() -> None:
    endless = [piece for _ in range(200) for piece in (CHUNKS[0], Pause(0.02))]
    with serving([Reply(body=endless)]) as server:
        with provider(server.url).stream("hi") as stream:
            for i, _ in enumerate(stream):
                if i == 2:
                    break
        assert server.wait_for(lambda: bool(server.disconnects))
    assert server.disconnects[0] < 20


@fault(
    "cancellation",
    "leaving an async stream early",
    "the connection closes; the server stops sending",
)
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


@fault("retries", "async: 503 then success; slow first byte", "the same outcomes as sync")
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


# --- more faults: bodies that end early, deadlines that cap retries -------------------------


@fault(
    "connection",
    "server closes after the headers, no body",
    "TruncatedStreamError: 'broke after 0 chunks'",
)
def test_server_closes_after_headers_with_no_body() -> None:
    with (
        serving([Reply(body=[], end="close")]) as server,
        pytest.raises(TruncatedStreamError) as info,
    ):
        list(provider(server.url, retries={"attempts": 3}).stream("hi"))
    assert "broke after 0 chunks" in str(info.value)
    assert len(server.requests) == 1  # the answer had started: never retried


@fault(
    "timeouts",
    "keep-alives with keep_alive_is_progress = true",
    "the stream waits through them and completes",
)
def test_keep_alives_count_as_progress_when_configured() -> None:
    keep_alives = [piece for _ in range(8) for piece in (b": ping\n\n", Pause(0.1))]
    with serving([Reply(body=[CHUNKS[0], *keep_alives, *CHUNKS[1:]])]) as server:
        timeouts = {"first_byte": 0.5, "idle": 0.5, "keep_alive_is_progress": True}
        assert provider(server.url, timeouts=timeouts).complete("hi").text == "Hello"


@fault(
    "timeouts",
    "endless keep-alive comments, no idle limit",
    "ServiceTimeoutError phase=total: the total deadline ends it",
)
def test_endless_keep_alives_end_at_the_total_deadline() -> None:
    endless = [piece for _ in range(1000) for piece in (b": ping\n\n", Pause(0.01))]
    with serving([Reply(body=[CHUNKS[0], *endless])]) as server:
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError) as info:
            list(provider(server.url, timeouts={"idle": None, "total": 0.6}).stream("hi"))
        assert time.monotonic() - started < 1.5
    assert info.value.phase == "total"
    assert info.value.partial is not None
    assert info.value.partial.text == "Hel"


@fault(
    "retries",
    "500 on every attempt with many retries allowed",
    "the total deadline caps attempts and waits: ServerError in time",
)
def test_the_total_deadline_caps_retries_and_their_waits() -> None:
    with serving([error_reply(500, "down")]) as server:
        started = time.monotonic()
        with pytest.raises(ServerError):
            provider(
                server.url, retries={"attempts": 20, "backoff": 0.2}, timeouts={"total": 1.0}
            ).complete("hi")
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert 2 <= len(server.requests) < 20


# --- answers that are not what was asked for -------------------------------------------------


@fault(
    "bad answers",
    "HTTP 200 with an error event inside the stream",
    "ProviderError with the server's message, partial answer kept",
)
def test_an_error_event_inside_a_200_stream() -> None:
    body = [CHUNKS[0], *sse({"error": {"message": "the GPU fell over", "code": 500}}, done=False)]
    with serving([Reply(body=body)]) as server, pytest.raises(ProviderError) as info:
        list(provider(server.url).stream("hi"))
    assert "the GPU fell over" in str(info.value)
    assert info.value.partial is not None
    assert info.value.partial.text == "Hel"


@fault(
    "bad answers",
    "an HTML error page from a proxy (502)",
    "ServerError with the page's text, no markup",
)
def test_an_html_error_page_from_a_proxy() -> None:
    page = (
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    )
    reply = Reply(status=502, headers={"content-type": "text/html"}, body=[page], chunked=False)
    with serving([reply]) as server, pytest.raises(ServerError) as info:
        provider(server.url).complete("hi")
    assert "Bad Gateway" in str(info.value)
    assert "<h1>" not in str(info.value)


@fault(
    "bad answers", "a JSON body where SSE was expected", "read whole: the same answer as a stream"
)
def test_a_json_body_where_sse_was_expected() -> None:
    answer = {
        "choices": [{"index": 0, "message": {"content": "Hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    reply = Reply(headers=JSON, body=[json.dumps(answer).encode()], chunked=False)
    with serving([reply]) as server:
        response = provider(server.url).stream("hi").collect()
    assert response.text == "Hello"
    assert response.usage is not None
    assert response.usage.completion_tokens == 1


@fault(
    "bad answers",
    "200 with a wrong content type (an endless text/plain body)",
    "MalformedStreamError naming the type and showing the start; reading stops",
)
def test_a_wrong_content_type() -> None:
    endless = [b"Welcome to the captive portal. " * 20] * 100_000  # 62 MB
    with serving([Reply(headers={"content-type": "text/plain"}, body=endless)]) as server:
        with pytest.raises(MalformedStreamError) as info:
            provider(server.url).complete("hi")
        assert server.wait_for(lambda: bool(server.disconnects))
    assert "text/plain" in str(info.value)
    assert "captive portal" in str(info.value)
    # The client stopped reading after the first few KB; the server got further only by what
    # the loopback socket buffers took (a few MB at most, more on a loaded machine).
    assert server.disconnects[0] < 25_000


@fault("bad answers", "a gzip-encoded stream", "decoded: the same fragments as plain")
def test_a_gzip_encoded_stream() -> None:
    packed = gzip.compress(b"".join(CHUNKS))
    pieces = [packed[i : i + 7] for i in range(0, len(packed), 7)]  # cut anywhere
    headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
    with serving([Reply(headers=headers, body=pieces)]) as server:
        fragments = list(provider(server.url).stream("hi"))
    assert "".join(f.text for f in fragments if isinstance(f, TextDelta)) == "Hello"


@fault(
    "security",
    "a redirect to another origin, with an API key",
    "not followed: the key never reaches the other origin; ProviderError says where it pointed",
)
def test_a_redirect_to_another_origin_is_not_followed() -> None:
    with serving([Reply(body=CHUNKS)]) as elsewhere:
        moved = Reply(
            status=307,
            headers={"location": f"{elsewhere.url}/v1/chat/completions"},
            body=[],
            chunked=False,
        )
        with serving([moved]) as server, pytest.raises(ProviderError) as info:
            provider(server.url, api_key="sk-redirect-secret-1234").complete("hi")
        assert server.requests[0].headers["authorization"] == "Bearer sk-redirect-secret-1234"
        assert elsewhere.requests == []
    assert info.value.status == 307
    assert elsewhere.url in str(info.value)
    assert "sk-redirect-secret-1234" not in str(info.value)


@fault(
    "connection",
    "async: refused, and reset mid-stream",
    "the same typed errors as sync; no task left behind",
)
@pytest.mark.anyio
async def test_async_faults_leave_no_task_behind() -> None:
    import asyncio

    tasks_before = asyncio.all_tasks()
    with serving([Reply()]) as server:
        url = server.url
    with pytest.raises(ServiceConnectionError):
        await provider(url).acomplete("hi")
    with serving([Reply(body=CHUNKS[:2], end="reset")]) as server:
        client = provider(server.url)
        with pytest.raises(TruncatedStreamError) as info:  # noqa: PT012
            async with client.astream("hi") as stream:
                async for _ in stream:
                    pass
        await client.aclose()
    assert info.value.partial is not None
    assert info.value.partial.text == "Hello"
    assert asyncio.all_tasks() == tasks_before


@fault(
    "load",
    "16 threads making an instance's first call at the same moment",
    "one connection pool for all (a lost one leaked its sockets)",
)
def test_threads_racing_to_the_first_call_share_one_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import httpx

    built: list[object] = []

    class Counted(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            built.append(self)
            super().__init__(**kwargs)

    monkeypatch.setattr(httpx, "Client", Counted)
    with serving([Reply(body=CHUNKS)]) as server:
        client = provider(server.url)
        barrier = threading.Barrier(16)
        texts: list[str] = []

        def first_call() -> None:
            barrier.wait()
            texts.append(client.complete("hi").text)

        threads = [threading.Thread(target=first_call) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert texts == ["Hello"] * 16
    assert len(built) == 1
