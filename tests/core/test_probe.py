"""Active health probes of a pool's endpoints (``probe_interval``, ``probe_path``): the pool's
rules, the background thread's life, and probes through real sockets."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jackfield
from jackfield import ConfigFileError
from jackfield.http import Endpoint
from jackfield.http._probe import Prober
from tests.support.pools import pool_of
from tests.support.scripted_server import Received, Reply, serving, sse


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- the pool's rules ----------------------------------------------------------------------------


def test_a_failed_probe_rests_an_endpoint_before_any_request_meets_it() -> None:
    pool, _ = pool_of(2, cooldown=1.0)
    a, b = pool.endpoints
    pool.probed(a, False)
    assert {pool.pick().url for _ in range(20)} == {b.url}  # type: ignore[union-attr]
    status = pool.status()
    assert (status[0].probe, status[0].failures, status[0].resting_for) == (False, 1, 1.0)
    assert status[1].probe is None  # never probed


def test_a_passed_probe_ends_a_rest_but_the_failures_in_a_row_still_count() -> None:
    pool, _ = pool_of(2, cooldown=1.0, max_cooldown=60.0)
    a, _b = pool.endpoints
    for _ in range(3):
        pool.pick(exclude=[pool.endpoints[1].url])
        pool.finished(a, failed=True)
    assert pool.status()[0].resting_for == 4.0
    pool.probed(a, True)
    assert (pool.status()[0].resting_for, pool.status()[0].failures) == (0, 3)
    pool.pick(exclude=[pool.endpoints[1].url])
    pool.finished(a, failed=True)  # answers probes, fails requests: rests longer each time
    assert pool.status()[0].resting_for == 8.0
    pool.answered(a)  # a real answer ends the row
    assert pool.status()[0].failures == 0


def test_repeated_failed_probes_never_shorten_a_rest() -> None:
    pool, clock = pool_of(1, cooldown=10.0, max_cooldown=10.0)
    (a,) = pool.endpoints
    pool.probed(a, False)
    clock.now += 5
    pool.probed(a, False)
    assert pool.status()[0].resting_for == 10.0  # from the second probe, not shorter


@given(
    st.lists(
        st.tuples(st.sampled_from(["pick", "ok", "fail", "up", "down", "tick"]), st.integers(0, 2)),
        max_size=60,
    )
)
def test_the_last_probe_decides_until_a_request_says_otherwise(
    steps: list[tuple[str, int]],
) -> None:
    pool, clock = pool_of(3)
    held: list[Endpoint] = []
    for step, index in steps:
        endpoint = pool.endpoints[index]
        if step == "pick":
            picked = pool.pick()
            assert picked is not None
            held.append(picked)
        elif step in ("ok", "fail") and held:
            pool.finished(held.pop(), failed=step == "fail")
        elif step in ("up", "down"):
            pool.probed(endpoint, step == "up")
            state = pool.status()[index]
            assert state.probe is (step == "up")
            assert (state.resting_for == 0) is (step == "up")
        elif step == "tick":
            clock.now += 0.7
        assert all(s.in_flight >= 0 and s.failures >= 0 for s in pool.status())
    assert sum(s.in_flight for s in pool.status()) == len(held)


# --- the prober's thread -------------------------------------------------------------------------


def test_probe_tells_the_pool_of_each_endpoint_and_an_exception_is_unhealthy() -> None:
    pool, _ = pool_of(3)
    seen: list[str] = []

    def check(endpoint: Endpoint) -> bool:
        seen.append(endpoint.url)
        if endpoint is pool.endpoints[1]:
            raise OSError("no route")
        return endpoint is pool.endpoints[0]

    prober = Prober(pool, check, 60.0)
    prober.probe()
    assert seen == [e.url for e in pool.endpoints]
    assert [s.probe for s in pool.status()] == [True, False, False]
    assert prober.rounds == 1


def test_the_thread_probes_at_once_then_each_interval_and_stops_when_told() -> None:
    pool, _ = pool_of(2)
    rounds = threading.Semaphore(0)
    prober = Prober(pool, lambda e: e is pool.endpoints[0] or rounds.release() or True, 0.02)
    prober.start()
    try:
        assert all(rounds.acquire(timeout=10) for _ in range(3))  # three rounds, at least
    finally:
        prober.stop()
    assert prober._thread is not None
    assert not prober._thread.is_alive()
    done = prober.rounds
    time.sleep(0.1)
    assert prober.rounds == done  # no probe after stop


def test_a_forgotten_prober_stops_its_thread() -> None:
    pool, _ = pool_of(1)
    prober = Prober(pool, lambda e: True, 0.02, name="forgotten")
    prober.start()
    thread = prober._thread
    assert thread is not None
    del prober
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()


# --- through real sockets ------------------------------------------------------------------------

OK = Reply(
    body=sse(
        {"choices": [{"index": 0, "delta": {"content": "hi"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
)
HEALTHY = Reply(headers={"content-type": "application/json"}, body=[b'{"status": "ok"}'])
LOADING = Reply(
    status=503,
    headers={"content-type": "application/json"},
    body=[b'{"error": {"code": 503, "message": "Loading model"}}'],
)


class Server:
    """Answers chats, and health probes as ``healthy`` says (a llama.cpp that loads, then is
    ready)."""

    def __init__(self) -> None:
        self.healthy = True

    def __call__(self, received: Received) -> Reply:
        if received.path == "/health":
            return HEALTHY if self.healthy else LOADING
        return OK


def pooled(*urls: str, **options: Any) -> Any:
    settings = {
        "preset": "llamacpp",
        "endpoints": [f"{u}/v1" for u in urls],
        "retries": {"attempts": 0},
        "balance": "round_robin",
        **options,
    }
    return jackfield.load_registry().create("openai-compatible", settings)


def test_an_unhealthy_server_gets_no_request_and_comes_back_when_its_probe_passes() -> None:
    loading, ready = Server(), Server()
    loading.healthy = False
    with serving(loading) as a, serving(ready) as b:
        provider = pooled(a.url, b.url, probe_interval=0.05)
        try:
            provider.endpoints_status()  # the pool is made, and probed at once
            name = f"jackfield-probe-{provider.name}"
            threads = [t for t in threading.enumerate() if t.name == name]
            assert len(threads) == 1
            assert wait_until(lambda: provider.endpoints_status()[0].probe is False)
            texts = [provider.complete("x").text for _ in range(4)]
            assert texts == ["hi"] * 4
            assert [r.path for r in a.requests if r.path != "/health"] == []
            assert all(r.headers.get("authorization") is None for r in a.requests)
            loading.healthy = True
            assert wait_until(lambda: provider.endpoints_status()[0].resting_for == 0)
            assert provider.complete("x").text == "hi"
            assert provider.complete("x").text == "hi"
            assert len([r for r in a.requests if r.path == "/v1/chat/completions"]) == 1
        finally:
            provider.close()
        probes = len(a.requests)
        assert not threads[0].is_alive()  # closing the provider stopped its prober
        time.sleep(0.15)
        assert len(a.requests) == probes


def test_a_dead_endpoint_is_found_by_its_probe() -> None:
    with serving(Server()) as up:
        provider = pooled(up.url, "http://127.0.0.1:9", probe_interval=0.05)
        with provider:
            provider.endpoints_status()
            assert wait_until(lambda: provider.endpoints_status()[1].probe is False)
            status = provider.endpoints_status()[1]
            assert status.resting_for > 0
            assert status.requests == 0


def test_without_probe_interval_nothing_is_probed() -> None:
    with serving(Server()) as up:
        with pooled(up.url, up.url + "/again") as provider:
            assert provider.complete("x").text == "hi"
            assert [s.probe for s in provider.endpoints_status()] == [None, None]
        assert [r.path.endswith("/v1/chat/completions") for r in up.requests] == [True]


@pytest.mark.parametrize(
    ("settings", "probed"),
    [
        ({"preset": "llamacpp"}, "http://10.0.0.1:8080/health"),
        ({"preset": "vllm"}, "http://10.0.0.1:8080/health"),
        ({"preset": "sglang"}, "http://10.0.0.1:8080/health_generate"),
        ({"preset": "ollama"}, "http://10.0.0.1:8080/api/version"),
        ({}, "http://10.0.0.1:8080/v1/models"),
        ({"preset": "lmstudio"}, "http://10.0.0.1:8080/v1/models"),
        ({"preset": "vllm", "probe_path": "/ping"}, "http://10.0.0.1:8080/ping"),
        ({"probe_path": "models?ready=1"}, "http://10.0.0.1:8080/v1/models?ready=1"),
    ],
)
def test_where_each_server_is_probed(settings: dict[str, Any], probed: str) -> None:
    options = {"endpoints": ["http://10.0.0.1:8080/v1"], **settings}
    provider = jackfield.load_registry().create("openai-compatible", options)
    assert provider.probe_url("http://10.0.0.1:8080/v1", provider.options) == probed


def test_ollama_native_is_probed_at_its_version() -> None:
    options = {"endpoints": ["http://10.0.0.1:11434"]}
    provider = jackfield.load_registry().create("ollama", options)
    assert provider.probe_url("http://10.0.0.1:11434", provider.options) == (
        "http://10.0.0.1:11434/api/version"
    )


def test_an_endpoints_own_key_goes_with_its_probe() -> None:
    with serving(Server()) as up:
        settings = {
            "preset": "vllm",
            "endpoints": [{"url": f"{up.url}/v1", "api_key": "sk-own-key"}],
            "api_key": "sk-instance",
            "probe_interval": 60,
        }
        with jackfield.load_registry().create("openai-compatible", settings) as provider:
            provider.endpoints_status()
            assert up.wait_for(lambda: len(up.requests) >= 1)
    assert up.requests[0].path == "/health"
    assert up.requests[0].headers["authorization"] == "Bearer sk-own-key"


def test_bad_probe_settings_are_reported_with_their_line(tmp_path: Any) -> None:
    path = tmp_path / "jackfield.toml"
    path.write_text(
        """
[providers.farm]
type = "openai-compatible"
endpoints = ["http://10.0.0.1:8080/v1"]
probe_interval = 0

[providers.other]
type = "openai-compatible"
endpoints = ["http://10.0.0.1:8080/v1"]
probe_path = "http://10.0.0.1:8080/health"
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigFileError) as caught:
        jackfield.load_config(path, registry=jackfield.load_registry())
    message = str(caught.value)
    assert "jackfield.toml:5: providers.farm.probe_interval: must be greater than 0" in message
    assert "jackfield.toml:10: providers.other.probe_path: must be a path" in message
    assert "such as '/health'" in message


@pytest.mark.anyio
async def test_an_async_close_stops_the_probes_without_blocking_the_loop() -> None:
    import anyio

    slow = threading.Event()

    def held(received: Received) -> Reply:
        if received.path == "/health":
            slow.wait(4)  # a probe under way when the instance closes, until the loop runs
        return HEALTHY

    with serving(held) as up:
        provider = pooled(up.url, probe_interval=4)  # the probe may take 4 s
        provider.endpoints_status()
        assert up.wait_for(lambda: len(up.requests) >= 1)
        closed = False
        released_while_closing = False

        async def release() -> None:  # runs only if the loop is free while the close waits
            nonlocal released_while_closing
            for _ in range(5):
                await anyio.sleep(0.01)
            released_while_closing = not closed
            slow.set()

        async with anyio.create_task_group() as group:
            group.start_soon(release)
            await provider.aclose()
            closed = True
        name = f"jackfield-probe-{provider.name}"
        assert not [t for t in threading.enumerate() if t.name == name]
    assert released_while_closing


def test_a_forked_child_probes_from_a_thread_of_its_own() -> None:
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = f"import sys; sys.path.insert(0, {str(root)!r})\n" + textwrap.dedent(
        """
        import os, threading, time, warnings
        import jackfield
        from tests.support.scripted_server import Reply, serving

        ok = Reply(headers={"content-type": "application/json"}, body=[b"{}"])
        with serving(lambda request: ok) as up:
            settings = {"preset": "vllm", "endpoints": [up.url + "/v1"], "probe_interval": 0.05}
            p = jackfield.load_registry().create("openai-compatible", settings, instance="x")
            p.endpoints_status()
            read, write = os.pipe()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
                pid = os.fork()
            if pid == 0:
                before = len(up.requests)  # the server's thread is the parent's: not here
                names = [t.name for t in threading.enumerate()]
                (prober,) = p._probers
                rounds = prober.rounds
                deadline = time.monotonic() + 10
                while prober.rounds < rounds + 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                moved = prober.rounds >= rounds + 3
                os.write(write, f"{'jackfield-probe-x' in names} {moved}".encode())
                os._exit(0)
            os.waitpid(pid, 0)
            print(os.read(read, 100).decode())
            p.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.defpath, "NO_PROXY": ""},
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
