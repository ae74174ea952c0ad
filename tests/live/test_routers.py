"""Real routers in front of three real llama.cpp servers, with jackfield as the client
(``nox -s live-routers``; ``JACKFIELD_LIVE=routers``; run with ``-s`` to see what was measured).

Three llama.cpp servers (the xllamacpp wheel, the packaged gemma-3 270M model, ChatML so an
answer runs to ``max_tokens``, two slots of 512 tokens, one thread each) stand behind the taps of
``tests/compat/test_pool_llamacpp.py``: byte relays that note which server received each request
(told apart by the ``REQ-<n>`` marker of its last message) and what it answered. Each router is
started on 127.0.0.1 in front of the three taps, and jackfield's ``openai-compatible`` provider
talks to the router alone, with its own retries off (``retries.attempts = 0``), so whatever
failover is seen is the router's.

The routers, as the test configures them:

- **LiteLLM proxy** (``litellm[proxy]`` 1.106.12): one ``model_name`` with three deployments
  (``openai/`` with each tap's ``/v1`` as ``api_base``), ``simple-shuffle``, and
  ``router_settings.optional_pre_call_checks: [session_affinity]``, which pins a session to the
  deployment its first request went to. The proxy reads the session from ``x-litellm-session-id``,
  any ``x-<vendor>-session-id``, or ``x-session-id`` (a value of at least 8 letters, digits,
  ``-`` or ``_``). ``num_retries: 2`` and ``allowed_fails: 0`` (a failed deployment cools down
  at once).
- **vllm-router** (0.1.17, the Rust router of vLLM's production stack; no torch, no vLLM):
  ``--policy consistent_hash``, which hashes the first of ``x-session-id``, ``x-user-id``,
  ``x-tenant-id``, ``x-correlation-id``, ``x-request-id``, ``x-trace-id`` (then body fields).
  jackfield sends an ``X-Request-Id`` on every request, so without ``x-session-id`` each request
  hashes on its own id and the requests spread. Retries, circuit breaker and health checks at
  their defaults.
- **sglang-router** (0.3.2, the SGLang model gateway; no torch): ``--policy manual``, which pins
  the key of the ``x-smg-routing-key`` header to a worker (new keys placed at random); requests
  without a key are placed at random. Retries, circuit breaker and health checks at their
  defaults.

Both Rust routers accept llama.cpp servers as workers: they need ``/health`` (llama.cpp has it);
the gateway also asks for ``/server_info`` and ``/model_info``, gets 404, and registers the
worker with model ``unknown``, which it serves whatever model is asked for. Each binds a
Prometheus port of its own (29000 by default, so two at once clash: the test gives each a free
port).

What each router is shown to do (assertions), and what is measured (printed):

- **Spread.** 12 concurrent requests without a session key: each is received by exactly one
  server, answered, and the answer the caller got is that server's; more than one server is
  used. Printed: requests per server.
- **Affinity.** 12 conversations of 3 turns each (turns in order, conversations concurrently),
  with ``affinity`` set to the conversation's key and ``affinity_header`` to the router's header:
  every conversation stays on one server, and more than one server is used. The same without
  the header: some conversation is split across servers (so the header is what keeps them).
  Printed: per-server conversation counts, and the prompt tokens llama.cpp took from its cache
  (``timings.cache_n``) on later turns, with and without the header.
- **A server killed mid-run.** 12 concurrent requests (``max_tokens`` 24); once one of them is
  waiting on the victim (received, no answer yet), the victim is SIGKILLed and its tap refuses
  connections (the requests it had received with no answer begun are the ones in flight); then 6 more requests, one after another. Asserted: every request ends (an answer
  or a typed jackfield error, within its deadline), no live server receives a request twice,
  and every answer is the bytes of a server that was alive when it answered. Printed: for the
  requests that were in flight on the victim, whether the router sent them elsewhere (and how
  long after the kill the other server received them) or failed them; for the requests after
  the kill, how many failed and which servers took them.

Measured on 2 CPU cores (2026-11, the versions above; one run each unless said):

- Spread, requests per server: LiteLLM [3, 4, 5]; vllm-router [4, 4, 4]; sglang-router
  [6, 1, 5].
- Affinity, 12 conversations: with the header none split (conversations per server: LiteLLM
  [3, 7, 2], vllm-router [7, 1, 4], sglang-router [5, 2, 5]); without it 12 of 12 split on each.
  Prompt tokens from llama.cpp's cache on later turns, mean: LiteLLM 104 with the header, 61
  without; vllm-router 104 / 61; sglang-router 106 / 101.
- A server killed (two runs for the Rust routers). LiteLLM: its one request in flight was sent
  to another server 0.39 s after the kill, nothing failed, and every later request avoided the
  dead server. vllm-router: run 1 sent all 3 in flight elsewhere (0.34-0.50 s) but 2 other
  requests hung to the client's 90 s deadline; run 2 answered 1 of 3 in flight with HTTP 500
  ("error sending request") at once, left 2 hanging to 90 s, and sent the first request after
  the kill to the dead server again (HTTP 500). sglang-router: run 1 sent 2 of 2 elsewhere
  (0.20 s) and left 1 hanging to 90 s; run 2 sent 1 of 4 elsewhere (0.26 s) and left 3 hanging
  to 90 s; no later request failed. Whether the hangs are the routers' or come from how the tap
  breaks the dead server's connections is not established (jackfield's own pool sees those
  breaks at once through the same taps, tests/compat/test_pool_llamacpp.py).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

import jackfield
from tests.live.process import ServerProcess, free_port
from tests.live.servers.litellm import OFFLINE
from tests.support.replicas import (
    Replica,
    Seen,
    started_replicas,
)

MODEL = "gemma-3-270m-q4_k_m"  # the packaged model's alias: what llama.cpp calls it
KEY = "sk-routers-key"  # LiteLLM's master key (one starting with "sk-")
DEADLINE = 90.0  # each call's total deadline, in seconds: 2 CPU cores, three servers

ROUTERS = ("litellm", "vllm-router", "sglang-router")


# what the servers saw -------------------------------------------------------------------------


def answer_body(raw: bytes) -> dict[str, Any]:
    """The JSON body of a non-streamed answer as a server sent it."""
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out = bytearray()
        while body:
            size, _, rest = body.partition(b"\r\n")
            length = int(size.split(b";")[0], 16)
            if not length:
                break
            out += rest[:length]
            body = rest[length + 2 :]
        body = bytes(out)
    data: dict[str, Any] = json.loads(body)
    return data


def seen(replicas: list[Replica]) -> dict[int, list[Seen]]:
    """Every request any server received, by its number."""
    found: dict[int, list[Seen]] = {}
    for replica in replicas:
        for one in list(replica.tap.seen):
            found.setdefault(one.request, []).append(one)
    return found


def answered_by(replicas: list[Replica], number: int) -> list[Seen]:
    """The servers whose answer to ``number`` began."""
    return [s for s in seen(replicas).get(number, []) if s.first_byte is not None]


# the servers and the routers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def replicas() -> Iterator[list[Replica]]:
    yield from started_replicas()


@attrs.frozen
class Router:
    """A running router, as the checks see it."""

    name: str
    base_url: str
    model: str
    header: str
    """The header it routes a session by."""
    api_key: str | None
    process: ServerProcess


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))  # the console script beside this Python


def _litellm(urls: list[str], folder: str) -> tuple[list[str], str, dict[str, str]]:
    config = {
        "model_list": [
            {
                "model_name": "gemma",
                "litellm_params": {"model": f"openai/{MODEL}", "api_base": url, "api_key": "none"},
            }
            for url in urls
        ],
        "router_settings": {
            "routing_strategy": "simple-shuffle",
            "optional_pre_call_checks": ["session_affinity"],
            "num_retries": 2,
            "allowed_fails": 0,
            "cooldown_time": 30,
        },
        "general_settings": {"master_key": KEY},
    }
    settings = Path(folder) / "config.yaml"
    settings.write_text(json.dumps(config), encoding="utf-8")  # YAML reads JSON
    port = free_port()
    command = [_script("litellm"), "--config", str(settings), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--num_workers", "1"]
    return command, f"http://127.0.0.1:{port}", {**OFFLINE, "HOME": folder}


def _rust_router(name: str, policy: str, urls: list[str]) -> tuple[list[str], str]:
    port = free_port()
    command = [_script(name), *(["launch"] if name == "sglang-router" else [])]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--prometheus-host", "127.0.0.1", "--prometheus-port", str(free_port())]
    command += ["--policy", policy, "--log-level", "info", "--worker-urls", *urls]
    return command, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def start_router(name: str, replicas: list[Replica]) -> Iterator[Router]:
    roots = [f"http://127.0.0.1:{r.tap.port}" for r in replicas]
    with tempfile.TemporaryDirectory(prefix=f"live-{name}-") as folder:
        env: dict[str, str] = {"HOME": folder}
        if name == "litellm":
            command, root, env = _litellm([f"{u}/v1" for u in roots], folder)
            health, model, header, key = "/health/liveliness", "gemma", "x-session-id", KEY
        elif name == "vllm-router":
            command, root = _rust_router(name, "consistent_hash", roots)
            health, model, header, key = "/liveness", MODEL, "x-session-id", None
        else:
            command, root = _rust_router(name, "manual", roots)
            health, model, header, key = "/liveness", MODEL, "x-smg-routing-key", None
        process = ServerProcess(command, health=root + health, env=env, cwd=folder, startup=180)
        with process:
            yield Router(name, f"{root}/v1", model, header, key, process)


@pytest.fixture(scope="module", params=ROUTERS)
def router(request: pytest.FixtureRequest, replicas: list[Replica]) -> Iterator[Router]:
    for replica in replicas:
        replica.revive()
    with start_router(request.param, replicas) as running:
        yield running


@pytest.fixture
def three(replicas: list[Replica], router: Router) -> list[Replica]:
    """The three servers, all alive, their taps' notes cleared."""
    for replica in replicas:
        assert replica.alive, "a server is down: the router in front of it started without it"
        replica.tap.clear()
    return replicas


@pytest.fixture
def connect(router: Router) -> Iterator[Callable[..., Any]]:
    """``connect(**options)``: jackfield's provider for the router, retries off."""
    made: list[Any] = []
    registry = jackfield.load_registry()

    def make(**options: Any) -> Any:
        settings = {
            "base_url": router.base_url,
            "model": router.model,
            "retries": {"attempts": 0},
            "timeouts": {"total": DEADLINE},
            **options,
        }
        if router.api_key is not None:
            settings["api_key"] = router.api_key
        provider = registry.create("openai-compatible", settings, instance="routers")
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def report(router: Router, title: str, lines: list[str]) -> None:
    print(f"\n[{router.name}] {title}")
    for line in lines:
        print(f"    {line}")


# checks ---------------------------------------------------------------------------------------

ASK = {"max_tokens": 8, "temperature": 0}


def _ask(number: int) -> str:
    return f"REQ-{number}: write a short line about the number {number}."


def test_requests_spread_across_the_servers(
    router: Router, three: list[Replica], connect: Callable[..., Any]
) -> None:
    provider = connect()
    numbers = list(range(1, 13))
    with ThreadPoolExecutor(len(numbers)) as pool:
        done = pool.map(lambda n: provider.complete(_ask(n), **ASK), numbers)
        answers = dict(zip(numbers, done, strict=True))
    per_server = [len(r.tap.requests()) for r in three]
    report(router, "12 concurrent requests, no session key", [f"requests per server: {per_server}"])
    for number, answer in answers.items():
        received = seen(three).get(number, [])
        assert len(received) == 1, (number, [s.server for s in received])
        assert (
            answer.text
            == answer_body(bytes(received[0].answer))["choices"][0]["message"]["content"]
        )
    assert sum(1 for count in per_server if count) >= 2, per_server


SESSIONS = 12
TURNS = 3


def _conversation(provider: Any, session: int, first: int, options: dict[str, Any]) -> None:
    """One conversation of TURNS turns, numbered from ``first``. The history carries no
    markers, so a tap sees the last turn's."""
    system = f"Session {session}. You are a patient assistant who answers in one short line. " * 4
    history: list[dict[str, str]] = [{"role": "system", "content": system}]
    for turn in range(TURNS):
        number = first + turn
        messages = [*history, {"role": "user", "content": _ask(number)}]
        answer = provider.complete(messages, **ASK, **options)
        history += [
            {"role": "user", "content": f"Question {turn} about the number {number}."},
            {"role": "assistant", "content": answer.text},
        ]


def _sessions(
    provider: Any, three: list[Replica], options: Callable[[int], dict[str, Any]]
) -> dict[int, list[int]]:
    """Run SESSIONS conversations concurrently; the servers each one's requests went to."""
    firsts = {s: 1000 + 10 * s for s in range(SESSIONS)}
    with ThreadPoolExecutor(SESSIONS) as pool:
        list(pool.map(lambda s: _conversation(provider, s, firsts[s], options(s)), firsts))
    found = seen(three)
    return {
        s: [one.server for n in range(first, first + TURNS) for one in found.get(n, [])]
        for s, first in firsts.items()
    }


def _cached(three: list[Replica]) -> list[int]:
    """``timings.cache_n`` of every later turn (the first turn of a conversation has none)."""
    out = []
    for replica in three:
        for one in list(replica.tap.seen):
            if one.request % 10 and one.answer:
                out.append(int(answer_body(bytes(one.answer)).get("timings", {}).get("cache_n", 0)))
    return out


def test_a_session_key_keeps_a_conversation_on_one_server(
    router: Router, three: list[Replica], connect: Callable[..., Any]
) -> None:
    keyed = _sessions(
        connect(affinity_header=router.header), three, lambda s: {"affinity": f"session-{s:04d}"}
    )
    cached_keyed = _cached(three)
    for replica in three:
        replica.tap.clear()
    plain = _sessions(connect(), three, lambda s: {"affinity": f"session-{s:04d}"})
    cached_plain = _cached(three)

    homes = [set(servers) for servers in keyed.values()]
    per_server = [sum(1 for h in homes if h == {i}) for i in range(3)]
    split = sum(1 for servers in plain.values() if len(set(servers)) > 1)
    report(
        router,
        f"{SESSIONS} conversations x {TURNS} turns, affinity header {router.header!r}",
        [
            f"with the header: conversations per server {per_server}; "
            f"split across servers: {sum(1 for h in homes if len(h) > 1)}",
            f"without it: split across servers: {split} of {SESSIONS}",
            f"prompt tokens from llama.cpp's cache on later turns, mean: with the header "
            f"{statistics.fmean(cached_keyed or [0]):.0f}, without "
            f"{statistics.fmean(cached_plain or [0]):.0f}",
        ],
    )
    for session, servers in keyed.items():
        assert len(servers) == TURNS, (session, servers)  # each turn received once
        assert len(set(servers)) == 1, (session, servers)
    assert sum(1 for count in per_server if count) >= 2, per_server
    assert split >= 1, plain


@attrs.define
class Outcome:
    number: int
    ended_at: float = 0.0
    text: str | None = None
    error: str | None = None


def _run(provider: Any, number: int, ask: dict[str, Any]) -> Outcome:
    outcome = Outcome(number)
    try:
        outcome.text = provider.complete(_ask(number), **ask).text
    except jackfield.JackfieldError as error:  # typed: what the router answered, or a timeout
        outcome.error = f"{type(error).__name__}: {str(error)[:160]}"
    outcome.ended_at = time.monotonic()
    return outcome


def test_a_server_killed_mid_run(
    router: Router, three: list[Replica], connect: Callable[..., Any]
) -> None:
    provider = connect()
    victim = three[0]
    ask = {"max_tokens": 24, "temperature": 0}
    numbers = list(range(2000, 2012))
    killed_at = 0.0
    with ThreadPoolExecutor(len(numbers)) as pool:
        running = [pool.submit(_run, provider, n, ask) for n in numbers]
        deadline = time.monotonic() + 60
        while not victim.tap.waiting() and time.monotonic() < deadline:
            time.sleep(0.01)
        killed_at = victim.kill()
        waiting = [s.request for s in victim.tap.waiting()]  # no answer had begun
        during = [f.result(timeout=DEADLINE + 30) for f in running]
    assert waiting, "no request reached the victim within 60 s"
    after = []
    for number in range(2100, 2106):
        after.append(_run(provider, number, {"max_tokens": 4, "temperature": 0}))

    lines = [f"in flight on the victim when it was killed: {waiting}"]
    for number in waiting:
        outcome = next(o for o in during if o.number == number)
        elsewhere = [s for s in seen(three).get(number, []) if s.server != victim.index]
        if outcome.text is not None and elsewhere:
            moved = elsewhere[0].sent_at - killed_at
            lines.append(f"REQ-{number}: sent to server {elsewhere[0].server} {moved:.2f} s after")
        else:
            took = outcome.ended_at - killed_at
            lines.append(f"REQ-{number}: {outcome.error or 'answered'} ({took:.1f} s after)")
    failed_during = [o for o in during if o.error]
    lines.append(f"failed among the 12 concurrent: {len(failed_during)}")
    lines += [
        f"  REQ-{o.number} (received by {[x.server for x in seen(three).get(o.number, [])]}): "
        f"{o.error}"
        for o in failed_during
        if o.number not in waiting
    ]
    taken = [[s.server for s in seen(three).get(o.number, [])] for o in after]
    lines.append(
        f"6 requests after the kill: failed {sum(1 for o in after if o.error)}, servers {taken}"
    )
    lines += [f"  REQ-{o.number}: {o.error}" for o in after if o.error]
    report(router, "server 0 killed mid-run (SIGKILL, connections refused)", lines)

    for outcome in [*during, *after]:
        assert (outcome.text is None) != (outcome.error is None), outcome
        received = seen(three).get(outcome.number, [])
        live = [s for s in received if s.server != victim.index]
        assert len(live) <= 1, (outcome.number, [s.server for s in received])  # never twice
        if outcome.text is not None:
            answering = answered_by(three, outcome.number)
            assert len(answering) == 1, (outcome.number, answering)
            source = answering[0]
            assert source.server != victim.index or (source.first_byte or 0) < killed_at
            body = answer_body(bytes(source.answer))
            assert outcome.text == body["choices"][0]["message"]["content"]
    victim.revive()
