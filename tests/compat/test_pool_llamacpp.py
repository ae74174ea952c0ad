"""Endpoint pools against three real llama.cpp servers, one of them killed mid-run.

Each server stands behind a :class:`Tap`: a byte relay on 127.0.0.1 that notes, for every
request passing through (told apart by the ``REQ-<n>`` marker of its prompt), when it reached
the server and when the server's answer began, and keeps the answer's bytes. That is the
servers' side of the story, also for the one that dies: which server received each request, and
which one answered it. Killing a server is ``SIGKILL`` to its process and closing its tap's
listener, so open connections break as the server's do and new ones are refused, as they would
be by a dead server.

What is proven, from six threads and from six tasks on one event loop, with retries off
(``retries.attempts = 0``, so an answer after a failure can only come from failover):

- a request in flight on the killed server whose answer had not begun (``complete`` waits for
  the whole answer: no byte before it ends) is sent to another server at once and answered
  there; what the dead server had computed for it is lost and computed again, and none of it
  reaches the caller;
- every request gets exactly one answer, from one server, and it is that server's answer (the
  text the caller got is the text in that server's bytes); no live server receives a request
  twice;
- a request whose answer had begun (a stream) on the killed server fails with
  :class:`~jackfield.TruncatedStreamError` and is sent nowhere else;
- a pool leaves nothing in flight, and its counters match the attempts made;
- an affinity key sticks to one server, moves to one other server while it is down, and goes
  back when it returns; ``affinity_header`` sends the key;
- with ``probe_interval``, a killed server is found by its ``/health`` probe and no request
  meets it; revived, it is used again as soon as its probe passes.

Run with ``-s`` to see the failover times measured.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextvars import ContextVar
from typing import Any

import anyio
import attrs
import pytest

import jackfield
from tests.support.replicas import (
    ASK,
    Replica,
    Seen,
    answer_text,
    prompt,
    started_replicas,
)
from tests.support.scripted_server import Reply, serving, sse

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def replicas() -> Iterator[list[Replica]]:
    yield from started_replicas()


@pytest.fixture
def three(replicas: list[Replica]) -> list[Replica]:
    """The three replicas, all alive, their taps' notes cleared."""
    for replica in replicas:
        replica.revive()
        replica.tap.clear()
    return replicas


@pytest.fixture
def pooled(registry: jackfield.Registry) -> Iterator[Callable[..., Any]]:
    """``pooled(replicas, **options)``: the llamacpp preset on the replicas' addresses, with
    retries off and a total deadline; closed after the test."""
    made: list[Any] = []

    def make(replicas: list[Replica], **options: Any) -> Any:
        settings = {
            "preset": "llamacpp",
            "endpoints": [r.base_url for r in replicas],
            "retries": {"attempts": 0},
            "timeouts": {"total": 30},
            **options,
        }
        provider = registry.create("openai-compatible", settings, instance="llamacpp")
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


REQUEST: ContextVar[int | None] = ContextVar("REQUEST", default=None)
"""The request a thread or task is making (for the picks it causes)."""


@attrs.define
class Pick:
    request: int | None
    url: str | None
    at: float


def watch_picks(provider: Any) -> list[Pick]:
    """Every endpoint the provider's pool picks (one per attempt), with the request it was for
    (``REQUEST`` where the pick happens)."""
    pool = provider.endpoint_pool(provider.options)
    picks: list[Pick] = []
    pick = pool.pick

    def watched(*args: Any, **kwargs: Any) -> Any:
        endpoint = pick(*args, **kwargs)
        picks.append(Pick(REQUEST.get(), endpoint and endpoint.url, time.monotonic()))
        return endpoint

    pool.pick = watched
    return picks


# kill one of three mid-batch ------------------------------------------------------------------

TOTAL = 24


def victim_now(three: list[Replica], finished: Collection[int]) -> Replica | None:
    """The middle of the run (a quarter answered): a server with a request in flight whose
    answer has not begun, to kill."""
    if len(finished) < TOTAL // 4:
        return None
    return next((r for r in three if any(s.request not in finished for s in r.tap.waiting())), None)


def check_batch(
    three: list[Replica],
    victim: Replica,
    results: dict[int, Any],
    spans: dict[int, tuple[float, float]],
    picks: list[Pick],
    provider: Any,
) -> None:
    """What a batch with a server killed mid-run must show (see the module docstring); prints
    the failover times."""
    assert victim.killed_at is not None
    killed_at = victim.killed_at
    assert sorted(results) == list(range(TOTAL))
    seen = [s for replica in three for s in replica.tap.seen]

    def reached(number: int) -> list[Seen]:
        return [s for s in seen if s.request == number]

    # A non-streamed answer comes in one piece at its end, so a kill can hardly catch one
    # half-sent; if it does, that request must fail typed, sent nowhere else (not failed over).
    begun = {
        n
        for n, r in results.items()
        if isinstance(r, BaseException)
        and [(s.server, s.first_byte is not None) for s in reached(n)] == [(victim.index, True)]
    }
    for number in begun:
        error = results[number]
        assert isinstance(error, (jackfield.StreamError, jackfield.ServiceConnectionError)), error

    # every other request: one complete answer (retries are off: an answer after a failure
    # came from failover), from one server, and the caller got that server's text
    for number, answer in results.items():
        if number in begun:
            continue
        assert not isinstance(answer, BaseException), (number, answer)
        assert answer.finish_reason in (jackfield.FinishReason.STOP, jackfield.FinishReason.LENGTH)
        assert answer.text
        answered = [s for s in reached(number) if s.first_byte is not None]
        assert len(answered) == 1, (number, answered)
        assert answer_text(bytes(answered[0].answer)) == answer.text
    for replica in three:
        if replica is not victim:  # a live server never receives a request twice
            numbers = replica.tap.requests()
            assert len(numbers) == len(set(numbers)), (replica.index, numbers)

    # the requests cut on the victim before their answer began: each answered elsewhere
    cut = [s.request for s in victim.tap.seen if s.first_byte is None]
    assert cut, "the kill cut no request (the trigger waited for one in flight)"
    for number in cut:
        elsewhere = [s for s in reached(number) if s.server != victim.index]
        assert len(elsewhere) == 1
        assert elsewhere[0].first_byte is not None

    # the client's attempts: each one to a live server reached it; to the victim, at least
    # those the victim's tap saw (the later ones met its closed port)
    victim_url = victim.base_url
    urls = {r.index: r.base_url for r in three}
    for number in range(TOTAL):
        made = [p for p in picks if p.request == number]
        assert 1 <= len(made) <= 3
        for index, url in urls.items():
            sent = sum(p.url == url for p in made)
            got = sum(s.server == index for s in reached(number))
            assert got == sent if url != victim_url else got <= sent, (number, made)

    # the pool: every attempt counted, nothing left in flight, the dead endpoint failed
    status = {s.url: s for s in provider.endpoints_status()}
    assert sum(s.requests for s in status.values()) == len(picks)
    assert all(s.in_flight == 0 for s in status.values())
    assert status[victim_url].failures >= 1

    # measured: how fast the requests that met the dead server went elsewhere
    moved = [n for n in range(TOTAL) if sum(p.request == n for p in picks) > 1]
    delays = []
    for number in moved:
        first, again = [p for p in picks if p.request == number][:2]
        delays.append(again.at - max(first.at, killed_at))
    typical = statistics.median(spans[n][1] - spans[n][0] for n in range(TOTAL) if n not in moved)
    extra = [spans[n][1] - spans[n][0] - typical for n in moved]
    print(
        f"\npool failover: kill -> process gone {1000 * (victim.gone_after or 0):.0f} ms; "
        f"{len(cut)} request(s) in flight on the killed server, "
        f"{len(moved)} failed over in all, {len(begun)} cut after their answer began; "
        f"kill (or the dead attempt) -> sent elsewhere: "
        f"{', '.join(f'{1000 * d:.1f}' for d in delays)} ms; "
        f"kill -> first failed-over answer: "
        f"{1000 * (min(spans[n][1] for n in moved) - killed_at):.0f} ms; "
        f"extra latency of the failed-over requests: "
        f"{', '.join(f'{1000 * e:+.0f}' for e in extra)} ms "
        f"(median of the others {1000 * typical:.0f} ms)"
    )


def test_a_server_killed_mid_batch_loses_no_request_and_runs_none_twice(
    three: list[Replica], pooled: Callable[..., Any]
) -> None:
    """Six threads, 24 ``complete`` calls."""
    provider = pooled(three)
    picks = watch_picks(provider)
    results: dict[int, Any] = {}
    spans: dict[int, tuple[float, float]] = {}

    def client(numbers: range) -> None:
        for number in numbers:
            REQUEST.set(number)
            start = time.monotonic()
            try:
                results[number] = provider.complete(prompt(number), **ASK)
            except jackfield.JackfieldError as exc:
                results[number] = exc
            spans[number] = (start, time.monotonic())

    clients = [threading.Thread(target=client, args=(range(t, TOTAL, 6),)) for t in range(6)]
    for thread in clients:
        thread.start()
    try:
        victim = None
        deadline = time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            victim = victim_now(three, spans)
            time.sleep(0.002)
        assert victim is not None, "no request was ever in flight on a server mid-run"
        victim.kill()
    finally:
        for thread in clients:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in clients)
    check_batch(three, victim, results, spans, picks, provider)


@pytest.mark.anyio
async def test_the_same_with_async_tasks(three: list[Replica], pooled: Callable[..., Any]) -> None:
    """Six tasks on one event loop, 24 ``acomplete`` calls."""
    provider = pooled(three)
    picks = watch_picks(provider)
    results: dict[int, Any] = {}
    spans: dict[int, tuple[float, float]] = {}

    async def client(numbers: range) -> None:
        for number in numbers:
            REQUEST.set(number)
            start = time.monotonic()
            try:
                results[number] = await provider.acomplete(prompt(number), **ASK)
            except jackfield.JackfieldError as exc:
                results[number] = exc
            spans[number] = (start, time.monotonic())

    async def killer() -> Replica:
        with anyio.fail_after(30):
            while (victim := victim_now(three, spans)) is None:
                await anyio.sleep(0.002)
        await anyio.to_thread.run_sync(victim.kill)
        return victim

    with anyio.fail_after(90):
        async with anyio.create_task_group() as group:
            for t in range(6):
                group.start_soon(client, range(t, TOTAL, 6))
            victim = await killer()
    check_batch(three, victim, results, spans, picks, provider)


def test_an_answer_begun_on_a_killed_server_fails_typed_and_is_not_sent_again(
    three: list[Replica], pooled: Callable[..., Any]
) -> None:
    provider = pooled(three)
    picks = watch_picks(provider)
    REQUEST.set(100)
    fragments = iter(provider.stream(prompt(100), max_tokens=400, temperature=0))
    next(fragments)  # the answer has begun
    serving = [r for r in three if 100 in r.tap.requests()]
    assert len(serving) == 1
    assert [s.first_byte is not None for s in serving[0].tap.seen] == [True]
    serving[0].kill()
    with pytest.raises(jackfield.TruncatedStreamError):
        for _ in fragments:
            pass
    # sent to one server only, one attempt
    assert [r.index for r in three if 100 in r.tap.requests()] == [serving[0].index]
    assert [p.request for p in picks] == [100]
    assert all(s.in_flight == 0 for s in provider.endpoints_status())

    # the next request goes to a live one
    REQUEST.set(101)
    answer = provider.complete(prompt(101), **ASK)
    assert answer.text
    assert any(101 in r.tap.requests() for r in three if r.alive)


# affinity -------------------------------------------------------------------------------------


def test_an_affinity_key_sticks_moves_once_and_returns(
    three: list[Replica], pooled: Callable[..., Any]
) -> None:
    provider = pooled(three, affinity="conv-1")
    ask = {"max_tokens": 4, "temperature": 0}
    for number in range(200, 206):
        provider.complete(prompt(number), **ask)
    counts = [s.requests for s in provider.endpoints_status()]
    assert sorted(counts) == [0, 0, 6], counts
    home = three[counts.index(6)]
    assert home.tap.requests() == list(range(200, 206))

    home.kill()
    for number in range(206, 212):
        provider.complete(prompt(number), **ask)
        time.sleep(0.25)  # 5 x 0.25 s: the dead endpoint's first rest (1 s) ends before the last
    others = [r for r in three if r is not home and any(n >= 206 for n in r.tap.requests())]
    assert len(others) == 1  # one other server took the key, every time
    assert [n for n in others[0].tap.requests() if n >= 206] == list(range(206, 212))
    # the dead one was tried again when its rest ended (half-open), and refused
    status = {s.url: s for s in provider.endpoints_status()}
    assert status[home.base_url].requests >= 6 + 2
    assert status[home.base_url].failures >= 2

    # back up: once its rest ends, the key goes home
    home.revive()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = {s.url: s for s in provider.endpoints_status()}
        if status[home.base_url].resting_for == 0:
            break
        time.sleep(0.05)
    provider.complete(prompt(212), **ask)
    assert home.tap.requests() == [*range(200, 206), 212]


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> float:
    """Seconds until ``condition`` held (it must within ``seconds``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "not within the time allowed"
        time.sleep(0.01)
    return time.monotonic() - start


def test_probes_rest_a_killed_server_before_any_request_and_bring_it_back(
    three: list[Replica], pooled: Callable[..., Any]
) -> None:
    provider = pooled(three, probe_interval=0.2, balance="round_robin")

    def probe_of(replica: Replica) -> Any:
        return {s.url: s for s in provider.endpoints_status()}[replica.base_url]

    wait_for(lambda: all(s.probe for s in provider.endpoints_status()))  # /health: 200
    victim = three[1]
    victim.kill()
    found = wait_for(lambda: probe_of(victim).probe is False)
    ask = {"max_tokens": 4, "temperature": 0}
    for number in range(300, 306):
        provider.complete(prompt(number), **ask)
    assert probe_of(victim).requests == 0  # no request ever met the dead server
    assert victim.tap.requests() == []
    assert sorted(n for r in three for n in r.tap.requests()) == list(range(300, 306))

    victim.revive()
    back = wait_for(lambda: probe_of(victim).probe is True and probe_of(victim).resting_for == 0)
    for number in range(306, 312):
        provider.complete(prompt(number), **ask)
    assert len(victim.tap.requests()) == 2  # round robin: its turn again, at once
    print(
        f"\nprobe every 0.2 s: a killed server found in {found * 1000:.0f} ms, "
        f"a revived one used again {back * 1000:.0f} ms after it was back"
    )


def test_affinity_header_carries_the_key() -> None:
    ok = Reply(
        body=sse(
            {"choices": [{"index": 0, "delta": {"content": "hi"}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        )
    )
    registry = jackfield.load_registry()
    with serving([ok]) as one, serving([ok]) as two:
        options = {
            "endpoints": [one.url + "/v1", two.url + "/v1"],
            "affinity": "conv-1",
            "affinity_header": "x-session-id",
        }
        provider = registry.create("openai-compatible", options)
        try:
            provider.complete("x")
            provider.complete("x", affinity="conv-2")
        finally:
            provider.close()
        plain = registry.create("openai-compatible", {"endpoints": [one.url + "/v1"]})
        try:
            plain.complete("x", affinity="conv-3")
        finally:
            plain.close()
    sent = [r.headers.get("x-session-id") for r in one.requests + two.requests]
    assert sorted(sent, key=str) == [None, "conv-1", "conv-2"], sent
