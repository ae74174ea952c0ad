"""The second round of transport faults: finalisers, forks, compressed bodies, deadlines that
hold whatever the server trickles, event loops that come and go, addresses in every spelling,
and the failures that used to escape untyped.

Everything talks to 127.0.0.1 only; what could hang or eat memory runs in a child process with
a time limit (and an address-space limit where memory is at stake).
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import jackfield
from jackfield import (
    MalformedStreamError,
    OptionsError,
    ServerError,
    ServiceConnectionError,
    ServiceTimeoutError,
)
from jackfield.http._security import is_loopback
from tests.support.scripted_server import Pause, Reply, serving, sse

fault = pytest.mark.reliability
ROOT = Path(__file__).resolve().parents[2]
ANSWER = sse({"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]})
SSE = {"content-type": "text/event-stream"}


def provider(url: str, **options: Any) -> jackfield.Provider[Any]:
    defaults = {
        "retries": {"attempts": 0, "backoff": 0.01},
        "timeouts": {"connect": 2, "first_byte": 5, "idle": 5},
    }
    return jackfield.load_registry().create(
        "openai-compatible",
        {"base_url": f"{url}/v1", **jackfield.merge_patch(defaults, options)},
        instance="live",
    )


def run_child(code: str, *, seconds: float = 60, memory: int | None = None, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (the repository importable), bounded in time and,
    with ``memory`` (bytes), in address space; returns its output, failing on a non-zero exit."""
    limit = ""
    if memory is not None:
        limit = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n"
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{limit}" + textwrap.dedent(code)
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=seconds,
        env={"PATH": os.defpath, "NO_PROXY": "", **env},
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


# --- a server that trickles ----------------------------------------------------------------------


@contextmanager
def trickling(
    head: bytes,
    *,
    pieces: bytes = b"x",
    every: float = 0.2,
    lasting: float = 15.0,
    requests: list[bytes] | None = None,
) -> Iterator[str]:
    """A server that answers every connection with ``head`` and then ``pieces``, a byte at a
    time every ``every`` seconds, for as long as the client stays; what each connection
    received first is appended to ``requests``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()
    workers: list[threading.Thread] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                received = conn.recv(65536)
                if requests is not None:
                    requests.append(received)
                conn.sendall(head)
                end = time.monotonic() + lasting
                while pieces and not stop.is_set() and time.monotonic() < end:
                    for byte in pieces:
                        conn.sendall(bytes([byte]))
                        if stop.wait(every):
                            return
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=answer, args=(conn,), daemon=True)
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(5)
        for worker in workers:
            worker.join(5)
        listener.close()


# --- 1. finalisers -------------------------------------------------------------------------------


@fault(
    "finalisers",
    "a sync stream abandoned in a reference cycle, collected while httpcore holds its pool lock",
    "no deadlock: its connection is closed at the pool's next use; later calls answer",
)
def test_a_stream_collected_in_a_cycle_does_not_deadlock_the_provider() -> None:
    # The collector runs wherever an allocation triggers it, httpcore's locked pool code
    # included; the child makes that happen on purpose, while the lock is held.
    out = run_child(
        """
        import gc, threading
        import jackfield
        from tests.support.scripted_server import Pause, Reply, serving, sse

        piece = sse({"choices": [{"index": 0, "delta": {"content": "x"}}]})[0]
        endless = [p for _ in range(2000) for p in (piece, Pause(0.005))]
        answer = sse({"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]})

        class CollectingLock:
            def __init__(self, lock):
                self.lock = lock
            def __enter__(self):
                self.lock.__enter__()
                gc.collect()
                return self
            def __exit__(self, *exc):
                return self.lock.__exit__(*exc)

        def reply(request):
            return Reply(body=endless if b"endless" in request.body else answer)

        with serving(reply) as server:
            p = jackfield.load_registry().create(
                "openai-compatible", {"base_url": server.url + "/v1"}, instance="x"
            )
            p.complete("short")
            (clients,) = p._pools.values()
            pool = clients.sync()._transport._pool
            pool._optional_thread_lock = CollectingLock(pool._optional_thread_lock)
            for _ in range(3):
                class Holder:
                    pass
                holder = Holder()
                holder.me = holder  # a cycle, as `self.last_error = exc` makes one
                holder.stream = p.stream("endless")
                next(iter(holder.stream))
                del holder
                done = []
                worker = threading.Thread(
                    target=lambda: done.append(p.complete("short").text), daemon=True
                )
                worker.start()
                worker.join(10)
                assert done == ["ok"], "deadlocked"
            assert clients.deferred  # the last one waits for the pools' next use...
            assert p.complete("short").text == "ok"
            assert not clients.deferred  # ...which closed it
            p.close()
        print("answered")
        """,
        seconds=60,
    )
    assert out.strip() == "answered"


# --- 2. forks ------------------------------------------------------------------------------------


@fault(
    "forks",
    "a provider used before os.fork(), then by parent and child at once",
    "the child opens connections of its own: each process gets its own answers",
)
def test_a_forked_child_never_shares_the_parents_connections() -> None:
    out = run_child(
        """
        import json, os, warnings
        import jackfield
        from tests.support.scripted_server import Pause, Reply, serving, sse

        def reply(request):
            who = json.loads(request.body)["messages"][0]["content"]
            pieces = sse({"choices": [{"index": 0, "delta": {"content": who}}]},
                         {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            return Reply(body=[pieces[0], Pause(0.05), *pieces[1:]])

        with serving(reply) as server:
            p = jackfield.load_registry().create(
                "openai-compatible", {"base_url": server.url + "/v1"}, instance="x"
            )
            assert p.complete("warm-up").text == "warm-up"  # a pooled keep-alive connection
            (clients,) = p._pools.values()
            read, write = os.pipe()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
                pid = os.fork()
            if pid == 0:
                fresh = clients._sync is None  # the parent's pool is not the child's
                answers = [p.complete(f"child {n}").text for n in range(20)]
                ok = fresh and answers == [f"child {n}" for n in range(20)]
                os.write(write, b"ok" if ok else repr(answers).encode())
                os._exit(0)
            answers = [p.complete(f"parent {n}").text for n in range(20)]
            os.waitpid(pid, 0)
            child = os.read(read, 65536).decode()
            assert answers == [f"parent {n}" for n in range(20)], answers
            assert child == "ok", child
            p.close()
        print("apart")
        """,
        seconds=60,
    )
    assert out.strip() == "apart"


# --- 4. compressed bodies ------------------------------------------------------------------------


@fault(
    "bad answers",
    "a gzip bomb as a streamed answer (1 MiB that inflates to 1 GiB), in 512 MiB of address space",
    "StreamLimitError at limits.answer_bytes, inflated a bounded piece at a time",
)
def test_a_compressed_stream_is_capped_after_decompression() -> None:
    out = run_child(
        """
        import zlib, jackfield
        from tests.support.scripted_server import Reply, serving

        event = b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\\n\\n'
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip, by parts
        block = event * (1024 * 1024 // len(event))
        bomb = b"".join(packer.compress(block) for _ in range(1024)) + packer.flush()
        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        pieces = [bomb[i : i + 65536] for i in range(0, len(bomb), 65536)]
        with serving([Reply(headers=headers, body=pieces)]) as server:
            p = jackfield.load_registry().create(
                "openai-compatible",
                {"base_url": server.url + "/v1", "limits": {"answer_bytes": 8 * 1024 * 1024}},
                instance="x",
            )
            try:
                p.complete("hi")
            except jackfield.StreamLimitError as exc:
                print("capped", len(bomb) < 8 * 1024 * 1024, "answer_bytes" in str(exc))
                print(server.requests[0].headers.get("accept-encoding"))
            p.close()
        """,
        seconds=120,
        memory=512 * 1024 * 1024,
    )
    assert out.split("\n")[:2] == ["capped True True", "gzip, deflate"]


@fault(
    "bad answers",
    "a gzip bomb as an error body and as a model list",
    "read a bounded piece at a time: the HTTP error, or ServerError naming the cap",
)
def test_compressed_error_bodies_and_listings_are_read_within_a_bound() -> None:
    bomb = gzip.compress(b" " * (256 * 1024 * 1024))
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    with serving([Reply(status=500, headers=headers, body=[bomb], chunked=False)]) as server:
        chat = provider(server.url)
        with pytest.raises(ServerError) as info:
            chat.complete("hi")
        assert info.value.status == 500
        with pytest.raises(ServerError, match="larger than 8388608 bytes"):
            provider(server.url).list_models()
        chat.close()


@fault(
    "bad answers",
    "an answer compressed with br or zstd (which httpx would inflate in one read)",
    "MalformedStreamError naming the coding; requests ask for gzip and deflate alone",
)
def test_codings_that_cannot_be_bounded_are_refused() -> None:
    for coding in ("br", "zstd", "gzip, br"):
        headers = {**SSE, "content-encoding": coding}
        with serving([Reply(headers=headers, body=[b"\x00" * 64])]) as server:
            client = provider(server.url)
            with pytest.raises(MalformedStreamError, match=r"compressed with '(br|zstd)'"):
                client.complete("hi")
            client.close()


# --- 6. the total deadline -----------------------------------------------------------------------

TRICKLED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Slow: "


@fault(
    "deadlines",
    "headers trickled a byte every 0.2 s, timeouts.total = 1 s (chat, sync and async)",
    "ServiceTimeoutError phase total, within the deadline (the read timeout never fired)",
)
def test_the_total_deadline_holds_while_headers_trickle() -> None:
    with trickling(TRICKLED_HEAD) as url:
        client = provider(url, timeouts={"total": 1.0, "first_byte": 30, "idle": 30})
        for call in (
            lambda: client.complete("hi"),
            lambda: asyncio.run(client.acomplete("hi")),
        ):
            started = time.monotonic()
            with pytest.raises(ServiceTimeoutError) as info:
                call()
            assert info.value.phase == "total"
            assert time.monotonic() - started < 3.0  # held indefinitely before
        client.close()


@fault(
    "deadlines",
    "a model list, a status probe and an error body trickled a byte every 0.2 s",
    "each ends at timeouts.total: the listing raises, status reports it",
)
def test_the_total_deadline_holds_for_listings_status_and_error_bodies() -> None:
    with trickling(TRICKLED_HEAD) as url:
        client = provider(url, timeouts={"total": 1.0, "first_byte": 30, "idle": 30})
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError):
            client.list_models()
        status = client.status()
        assert not status.connected
        assert "total timeout" in (status.error or "")
        assert time.monotonic() - started < 5.0
        client.close()
    error_head = b"HTTP/1.1 500 Oops\r\nContent-Length: 100000\r\n\r\n"
    with trickling(error_head) as url:
        client = provider(url, timeouts={"total": 1.0, "first_byte": 30, "idle": 30})
        started = time.monotonic()
        with pytest.raises(ServerError):  # the body stops at the deadline, the status stands
            client.complete("hi")
        assert time.monotonic() - started < 3.0
        client.close()


@fault(
    "deadlines",
    "a body trickled a byte every 0.9 s without ever completing an event, timeouts.total = 1 s",
    "ServiceTimeoutError phase total at the deadline (it came with the byte at 1.8 s: twice)",
)
def test_the_total_deadline_holds_inside_a_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
    with trickling(head, pieces=b": keep-alive\n", every=0.9) as url:
        client = provider(url, timeouts={"total": 1.0, "first_byte": 30, "idle": 30})
        started = time.monotonic()
        with pytest.raises(ServiceTimeoutError) as info:
            client.complete("hi")
        assert info.value.phase == "total"
        # Each read waits at most what is left of the deadline: 1.0 s, where it used to wait
        # the whole read timeout set when the call began, until the byte at 1.8 s.
        assert time.monotonic() - started < 1.5
        client.close()


# --- 7. event loops that come and go -------------------------------------------------------------


@fault(
    "resources",
    "asyncio.run() per call, twenty times, on one provider",
    "each loop's pool is closed as its loop ends: no socket, client or loop left behind",
)
def test_asyncio_run_per_call_leaves_nothing_behind() -> None:
    with serving([Reply(body=ANSWER)]) as server:
        client = provider(server.url)
        answers = [asyncio.run(client.acomplete("hi")).text for _ in range(20)]
        assert answers == ["ok"] * 20
        (clients,) = client._pools.values()  # type: ignore[attr-defined]
        assert clients._async == {}  # every loop's client closed, and forgotten
        client.close()
    # The autouse fixture checks that no file descriptor outlives the test.


# --- 9. [DONE] ends the stream, whatever the connection does ----------------------------------


def done_then_open() -> Reply:
    """A complete answer, [DONE], then the connection held open: a keep-alive comment every
    0.2 s for 30 s (so the server sees the client hang up at once), then more events."""
    late = sse({"choices": [{"index": 0, "delta": {"content": " late"}}]}, done=False)
    return Reply(body=[*ANSWER, *[Pause(0.2), b": keep-alive\n\n"] * 150, *late])


@fault(
    "bad answers",
    "[DONE], then the server keeps the connection open (comments, more events 30 s later)",
    "the answer completes at [DONE]; the connection is closed, nothing after it is read",
)
def test_done_ends_the_stream_while_the_connection_stays_open() -> None:
    with serving([done_then_open()]) as server:
        p = provider(server.url, timeouts={"idle": 10, "total": 20})
        try:
            answer = p.complete("hi")
            assert (answer.text, answer.finish_reason) == ("ok", "stop")
            # The client hung up: the server's next write finds the connection gone.
            assert server.wait_for(lambda: server.open_connections == 0, timeout=10)
        finally:
            p.close()


@fault(
    "bad answers",
    "[DONE], then the connection held open, with asyncio",
    "the answer completes at [DONE]; the connection is closed",
)
def test_done_ends_an_async_stream_while_the_connection_stays_open() -> None:
    async def main() -> tuple[str, str | None]:
        p = provider(server.url, timeouts={"idle": 10, "total": 20})
        try:
            answer = await p.acomplete("hi")
            return answer.text, answer.finish_reason
        finally:
            await p.aclose()

    with serving([done_then_open()]) as server:
        assert asyncio.run(main()) == ("ok", "stop")
        assert server.wait_for(lambda: server.open_connections == 0, timeout=10)


@fault(
    "resources",
    "twenty answers in a row on one provider, each ended by [DONE] and then the end of the body",
    "one connection serves them all: what follows [DONE] is read when it is already there, "
    "so the connection goes back to the pool (sync and async)",
)
def test_answers_ended_by_done_keep_their_connection() -> None:
    async def ask(p: jackfield.Provider[Any]) -> list[str]:
        texts = []
        for _ in range(10):
            texts.append((await p.acomplete("hi")).text)
            texts.append("".join([t async for t in p.astream("hi").text_stream]))
        return texts

    with serving([Reply(body=ANSWER)]) as server:
        p = provider(server.url)
        try:
            texts = [p.complete("hi").text for _ in range(10)]
            texts += ["".join(p.stream("hi").text_stream) for _ in range(10)]
            assert server.accepted == 1, server.accepted  # one for the sync pool
            texts += asyncio.run(ask(p))
        finally:
            p.close()
        assert texts == ["ok"] * 40
        assert server.accepted == 2, server.accepted  # and one for the loop's pool


@fault(
    "resources",
    "async streams ended by [DONE] with the connection held open, or left early by the caller",
    "jackfield's generators are closed in their own task: none is left for the loop to finalise",
)
def test_async_streams_leave_no_iterator_to_the_garbage_collector() -> None:
    finalised: list[object] = []

    async def main() -> None:
        hooks = sys.get_asyncgen_hooks()

        def finalizer(agen: Any) -> None:  # called for an async generator dropped unclosed
            if "jackfield" in agen.ag_code.co_filename:  # httpx's own are its business
                finalised.append(agen)
            hooks.finalizer(agen)  # type: ignore[misc]

        sys.set_asyncgen_hooks(firstiter=hooks.firstiter, finalizer=finalizer)
        p = provider(server.url, timeouts={"idle": 10, "total": 20})
        try:
            for _ in range(10):
                answer = await p.acomplete("hi")
                assert answer.text == "ok"
                async with p.astream("hi") as stream:
                    async for _ in stream:
                        break  # the caller leaves early
                del stream
                gc.collect()
        finally:
            await p.aclose()
            sys.set_asyncgen_hooks(*hooks)

    with serving([done_then_open()]) as server:
        asyncio.run(main())
    names = sorted({getattr(agen, "__qualname__", "?") for agen in finalised})
    assert finalised == [], names


# --- 11. where proxies apply ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.1", True),
        ("2130706433", True),
        ("0x7f000001", True),
        ("0.0.0.0", True),
        ("[::1]", True),
        ("[::ffff:127.0.0.1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("10.0.0.7", False),
        ("192.168.1.2", False),
        ("gpu-box", False),
        ("example.com", False),
    ],
)
def test_this_machine_in_every_spelling(host: str, local: bool) -> None:
    assert is_loopback(host) is local


@fault(
    "security",
    "HTTP_PROXY set, a server reached as 0.0.0.0, 127.1 and 2130706433",
    "no request and no key reaches the proxy: this machine is never proxied",
)
def test_the_environments_proxy_never_sees_local_requests() -> None:
    out = run_child(
        """
        import jackfield
        from tests.support.scripted_server import Reply, serving, sse

        answer = sse({"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]})
        with serving([Reply(body=answer)]) as server, serving([Reply(status=502)]) as proxy:
            import os
            os.environ["HTTP_PROXY"] = os.environ["ALL_PROXY"] = proxy.url
            got = []
            for host in ("0.0.0.0", "127.1", "2130706433"):
                p = jackfield.load_registry().create(
                    "openai-compatible",
                    {"base_url": f"http://{host}:{server.port}/v1", "api_key": "sk-local-1234"},
                    instance="x",
                )
                got.append(p.complete("hi").text)
                p.close()
            print(got, len(proxy.requests))
        """,
        seconds=60,
    )
    assert out.strip() == "['ok', 'ok', 'ok'] 0"


# --- 12. failures that used to escape untyped ----------------------------------------------------


@fault(
    "bad answers",
    "Retry-After: ² (a digit to str.isdigit, not to float)",
    "the header is ignored; the retry waits its backoff",
)
def test_a_retry_after_that_is_no_number_is_ignored() -> None:
    busy = Reply(status=503, headers={"content-type": "text/plain", "retry-after": "²"})
    with serving([busy, Reply(body=ANSWER)]) as server:
        client = provider(server.url, retries={"attempts": 1, "backoff": 0.01})
        assert client.complete("hi").text == "ok"
        client.close()


@pytest.mark.parametrize(
    "options",
    [
        {"timeouts": {"total": -1}},
        {"timeouts": {"idle": float("nan")}},
        {"timeouts": {"connect": 0}},
        {"retries": {"backoff": float("inf")}},
        {"retries": {"max_backoff": -1}},
        {"retries": {"attempts": -1}},
    ],
)
def test_impossible_timeouts_and_retries_are_options_errors(options: dict[str, Any]) -> None:
    with pytest.raises(OptionsError) as info:
        jackfield.load_registry().create("openai-compatible", options, instance="x")
    assert "must be" in str(info.value)


@fault(
    "configuration",
    "ALL_PROXY=socks5://... for a remote host, without the socksio package",
    "ProviderError caused by a ConfigError saying what to install or unset (it was an"
    " ImportError from httpx)",
)
def test_a_socks_proxy_without_its_package_is_a_config_error() -> None:
    out = run_child(
        """
        import sys
        sys.modules["socksio"] = None  # as if it were not installed
        import jackfield
        p = jackfield.load_registry().create(
            "openai-compatible", {"base_url": "http://10.255.255.1:9/v1"}, instance="x"
        )
        try:
            p.complete("hi")
        except jackfield.ProviderError as exc:
            print(type(exc.__cause__).__name__, "httpx[socks]" in str(exc))
        """,
        seconds=60,
        ALL_PROXY="socks5://127.0.0.1:9",
    )
    assert out.strip() == "ConfigError True"


@fault(
    "bad answers",
    "status() against a server that answers /v1/models with an HTML page",
    "a Status whose error says the answer is not JSON and how to fix base_url",
)
def test_status_of_a_web_page_is_a_status_with_an_error() -> None:
    page = Reply(
        headers={"content-type": "text/html"}, body=[b"<html>Welcome</html>"], chunked=False
    )
    with serving([page]) as server:
        client = provider(server.url)
        status = client.status()
        client.close()
    assert status.connected
    assert "not JSON (text/html)" in (status.error or "")
    assert "/v1" in (status.error or "")


# --- 14. the lower ones -------------------------------------------------------------------------


@fault(
    "resources",
    "a server setting a thousand cookies on every answer",
    "no cookie is kept or sent back: the pool's jar never grows",
)
def test_cookies_are_never_kept() -> None:
    cookies = [f"c{n}={'v' * 100}; Path=/" for n in range(1000)]
    with serving([Reply(headers={**SSE, "set-cookie": ", ".join(cookies)}, body=ANSWER)]) as server:
        client = provider(server.url)
        for _ in range(3):
            client.complete("hi")
        assert all("cookie" not in r.headers for r in server.requests)
        (clients,) = client._pools.values()  # type: ignore[attr-defined]
        assert len(clients.sync().cookies.jar) == 0
        client.close()


@fault(
    "bad answers",
    "a partial status line, then the connection closes",
    "ServiceConnectionError and no second request: the server had the POST, it may have run it",
)
def test_a_request_the_server_began_to_answer_is_not_sent_again() -> None:
    requests: list[bytes] = []
    with trickling(b"HTTP/1.1 20", pieces=b"", requests=requests) as url:
        client = provider(url, retries={"attempts": 3, "backoff": 0.01})
        with pytest.raises(ServiceConnectionError):
            client.complete("hi")
        client.close()
    assert len(requests) == 1
    assert requests[0].startswith(b"POST /v1/chat/completions ")
    # An idle pooled connection the server dropped is still retried (the common race):
    # tests/reliability/test_faults.py covers the retry of a connection reset before answering.


@fault(
    "resources",
    "a 60 MB model list",
    "ServerError at 8 MiB: control answers (models, status) are capped below body_bytes",
)
def test_a_huge_model_list_is_refused_before_it_is_parsed() -> None:
    models = json.dumps({"data": [{"id": "m" * 1000} for _ in range(60_000)]}).encode()
    reply = Reply(headers={"content-type": "application/json"}, body=[models], chunked=False)
    with serving([reply]) as server, pytest.raises(ServerError, match="larger than 8388608"):
        provider(server.url).list_models()


@fault(
    "configuration",
    "a configuration with 3,000 agents naming 3,000 misspelt instances",
    "every issue reported; did-you-mean hints for the first 20, so it takes a second, not minutes",
)
def test_many_typos_in_a_configuration_stay_fast(tmp_path: Path) -> None:
    from jackfield._config import load_config

    lines = [f'[providers.inst{n}]\ntype = "openai-compatible"\n' for n in range(3000)]
    lines += [f'[agents.a{n}]\nmodel = "insx{n}:m"\n' for n in range(3000)]
    path = tmp_path / "big.toml"
    path.write_text("".join(lines), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(jackfield.ConfigFileError) as info:
        load_config(path, registry=jackfield.load_registry())
    assert time.monotonic() - started < 10.0  # minutes before: each agent sorted and compared all
    assert len(info.value.issues) == 3000
    assert sum("did you mean" in issue.message for issue in info.value.issues) == 20


@fault(
    "resources",
    "a storm of KeyboardInterrupts (one every 0.7 ms for 4 s) through sync streams",
    "every pooled connection idle or closed afterwards, no socket left, the next call answers",
)
def test_a_storm_of_interrupts_leaves_the_pool_usable() -> None:
    out = run_child(
        """
        import gc, os, signal, time
        import jackfield
        from tests.support.scripted_server import Pause, Reply, serving, sse

        piece = sse({"choices": [{"index": 0, "delta": {"content": "x"}}]})[0]
        end = sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        body = [p for _ in range(50) for p in (piece, Pause(0.001))] + end

        def interrupt(*_):
            raise KeyboardInterrupt

        with serving(lambda request: Reply(body=body)) as server:
            p = jackfield.load_registry().create(
                "openai-compatible", {"base_url": server.url + "/v1"}, instance="x"
            )
            before = len(os.listdir("/proc/self/fd"))
            signal.signal(signal.SIGALRM, interrupt)
            storms, deadline = 0, time.monotonic() + 4
            while time.monotonic() < deadline:
                try:
                    signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0007)
                    try:
                        for _ in p.stream("hi"):
                            pass
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                except KeyboardInterrupt:
                    storms += 1
            signal.setitimer(signal.ITIMER_REAL, 0)
            (clients,) = p._pools.values()
            pool = clients.sync()._transport._pool
            busy = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
            answered = p.complete("hi").text == "x" * 50
            p.close()
            gc.collect()
            after = len(os.listdir("/proc/self/fd"))
            print(storms, len(busy), answered, after - before)
        """,
        seconds=60,
    )
    storms, busy, answered, extra_fds = out.split()
    assert int(storms) > 20, out  # interrupts did land in the middle of streams
    assert (busy, answered, int(extra_fds) <= 0) == ("0", "True", True), out
