"""Endpoint pools, measured: what the picker costs, and what several llama.cpp servers give.

python -m dev.bench_pool [--quick] [--no-llama] [--clients N] [--requests N]

1. **Picker, in-process** (no network): ``EndpointPool.pick`` + ``finished`` per request, and
   a whole :class:`~jackfield.http.Route` cycle (send, answered, closed), in nanoseconds, net
   of an empty loop.
2. **Whole requests against a fake server** (``dev.bench.server``, a 16-chunk stream, in its
   own process): this process's CPU per ``stream()`` with ``base_url``, with ``endpoints`` of
   that one server, with three instances of one server each used in turn (three connections,
   no pool: what the pool of three is compared with), and with ``endpoints`` of the three;
   rounds interleaved.
3. **Real llama.cpp servers** (the packaged gemma-3 270M model, ChatML so each answer runs to
   ``max_tokens``): ``--clients`` threads streaming ``--requests`` answers in all through a pool
   of 1, 2 and 3 servers: requests/s and p50/p99 time to first token.
4. **Failover**: the same load on 3 servers, one killed (SIGKILL) in the middle: how long the
   requests cut before their answer (``complete``, so no byte comes before its end) took to be
   sent elsewhere, the cost of an attempt at the dead server's closed port, and the extra time
   of the requests that failed over.

Prints tables; asserts nothing about speed (a wrong or missing answer stops the run). The
machine's other work shows in the figures: read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import jackfield
from jackfield.http import Endpoint, EndpointPool
from jackfield.http._pool import Route

ROOT = Path(__file__).resolve().parents[1]
CHATML = ROOT / "tests" / "compat" / "templates" / "chatml.jinja"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header)), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for number, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            print("  " + "  ".join("-" * w for w in widths))


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# 1. the picker ----------------------------------------------------------------------------------


def per_call_ns(body: Callable[[int], None], n: int, rounds: int) -> float:
    """Median over ``rounds`` of the time ``body(n)`` takes, per iteration, in ns."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        body(n)
        times.append((time.perf_counter_ns() - start) / n)
    return statistics.median(times)


def picker(n: int, rounds: int) -> list[tuple[str, float]]:
    urls = [f"http://10.0.0.{i}:8080/v1" for i in (1, 2, 3)]

    def empty(n: int) -> None:
        for _ in range(n):
            pass

    def cycle(pool: EndpointPool, affinity: str | None = None) -> Callable[[int], None]:
        pick, finished = pool.pick, pool.finished

        def run(n: int) -> None:
            for _ in range(n):
                finished(pick(affinity))  # type: ignore[arg-type]

        return run

    def routed(pool: EndpointPool) -> Callable[[int], None]:
        headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}

        def run(n: int) -> None:
            for _ in range(n):
                route = Route(pool, urls[0])
                route.send(urls[0] + "/chat/completions", dict(headers))
                route.answered()
                route.closed()

        return run

    def pool(count: int, balance: Any = "p2c") -> EndpointPool:
        return EndpointPool([Endpoint(u) for u in urls[:count]], balance=balance)

    base = per_call_ns(empty, n, rounds)
    cases = {
        "pick+finished, 1 endpoint": cycle(pool(1)),
        "pick+finished, 3, p2c": cycle(pool(3)),
        "pick+finished, 3, round_robin": cycle(pool(3, "round_robin")),
        "pick+finished, 3, weighted": cycle(pool(3, "weighted")),
        "pick+finished, 3, affinity": cycle(pool(3), "conv-1"),
        "Route cycle, 1 endpoint": routed(pool(1)),
        "Route cycle, 3, p2c": routed(pool(3)),
    }
    return [(name, per_call_ns(body, n, rounds) - base) for name, body in cases.items()]


# 2. whole requests against the fake server ------------------------------------------------------


@contextmanager
def fake_servers(count: int) -> Iterator[list[str]]:
    """``count`` fake servers (``dev.bench.server``), each in its own process."""
    processes: list[subprocess.Popen[str]] = []
    urls = []
    try:
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, "-m", "dev.bench.server"],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            processes.append(process)
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("port "):
                raise RuntimeError(f"the fake server did not start: {line!r}")
            urls.append(f"http://127.0.0.1:{int(line.split()[1])}/v1")
        yield urls
    finally:
        for process in processes:
            process.kill()
            process.wait()


def whole_requests(requests: int, rounds: int) -> list[tuple[str, float, float, float]]:
    """Per ``stream()`` of a 16-chunk answer: this process's CPU (median and best round) and
    the wall time (median), in µs."""
    from dev.bench.workload import PROMPT, expected_text, model

    with fake_servers(3) as urls, ExitStack() as closing:
        registry = jackfield.load_registry()
        setups: dict[str, list[dict[str, Any]]] = {
            "base_url": [{"base_url": urls[0]}],
            "endpoints, 1 server": [{"endpoints": [urls[0]]}],
            "3 servers by hand (3 instances in turn)": [{"base_url": u} for u in urls],
            "endpoints, 3 servers (p2c)": [{"endpoints": urls}],
        }
        providers: dict[str, list[Any]] = {}
        for name, options in setups.items():
            providers[name] = [registry.create("openai-compatible", o) for o in options]
            for provider in providers[name]:
                closing.callback(provider.close)

        def run(turn: Sequence[Any], count: int) -> None:
            for number in range(count):
                provider = turn[number % len(turn)]
                text = "".join(
                    f.text
                    for f in provider.stream(PROMPT, model=model(16))
                    if type(f) is jackfield.TextDelta
                )
                if text != expected_text(16):
                    raise AssertionError(f"wrong answer: {text!r}")

        for turn in providers.values():
            run(turn, 60)  # warm: connections open, code paths compiled
        cpu: dict[str, list[float]] = {name: [] for name in providers}
        wall: dict[str, list[float]] = {name: [] for name in providers}
        order = list(providers)
        for number in range(rounds):
            for name in order[number % len(order) :] + order[: number % len(order)]:
                started, ticks = time.perf_counter(), time.process_time()
                run(providers[name], requests)
                cpu[name].append((time.process_time() - ticks) / requests * 1e6)
                wall[name].append((time.perf_counter() - started) / requests * 1e6)
    return [
        (name, statistics.median(cpu[name]), min(cpu[name]), statistics.median(wall[name]))
        for name in providers
    ]


# 3, 4. real llama.cpp servers -------------------------------------------------------------------


def prompt(number: int) -> str:
    return f"REQ-{number}: write a short line about the number {number}."


@contextmanager
def llama_servers(count: int) -> Iterator[list[Any]]:
    """``count`` llama.cpp servers (2 slots of 512 tokens, one CPU thread each)."""
    from jackfield_llamacpp.server import LlamaServer

    settings: dict[str, Any] = {
        "slots": 2,
        "context": 512,
        "threads": 1,
        "chat_template": CHATML.read_text(),
    }
    servers = [LlamaServer(**settings) for _ in range(count)]
    try:
        starting = [threading.Thread(target=s.start) for s in servers]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        if any(s.process is None for s in servers):
            raise RuntimeError("a llama.cpp server did not start")
        yield servers
    finally:
        for server in servers:
            server.stop()


def load(
    provider: Any,
    clients: int,
    requests: int,
    max_tokens: int,
    *,
    streamed: bool = True,
    start: int = 0,
    local: threading.local | None = None,
    done: list[int] | None = None,
) -> dict[str, Any]:
    """``requests`` answers by ``clients`` threads: each one's time to first token (streamed)
    and duration, the wall time, and the failures."""
    numbers = iter(range(start, start + requests))
    lock = threading.Lock()
    ttft: dict[int, float] = {}
    spans: dict[int, tuple[float, float]] = {}
    failures: dict[int, BaseException] = {}

    def client() -> None:
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            if local is not None:
                local.request = number
            begun = time.perf_counter()
            try:
                if streamed:
                    first = None
                    finish = None
                    for fragment in provider.stream(
                        prompt(number), max_tokens=max_tokens, temperature=0
                    ):
                        if first is None and type(fragment) is jackfield.TextDelta:
                            first = time.perf_counter()
                        elif type(fragment) is jackfield.Completion:
                            finish = fragment.finish_reason
                    if first is None or finish is None:
                        raise AssertionError(f"request {number}: no text or no end")
                    ttft[number] = first - begun
                else:
                    answer = provider.complete(prompt(number), max_tokens=max_tokens, temperature=0)
                    if not answer.text:
                        raise AssertionError(f"request {number}: no text")
            except jackfield.JackfieldError as exc:
                failures[number] = exc
            spans[number] = (begun, time.perf_counter())
            if done is not None:
                done.append(number)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "wall": time.perf_counter() - started,
        "ttft": list(ttft.values()),
        "spans": spans,
        "failures": failures,
    }


def pooled(urls: Sequence[str], **options: Any) -> Any:
    settings = {"preset": "llamacpp", "endpoints": list(urls), **options}
    return jackfield.load_registry().create("openai-compatible", settings, instance="llamacpp")


def replicas(
    servers: Sequence[Any], clients: int, requests: int, max_tokens: int
) -> list[tuple[Any, ...]]:
    rows = []
    for count in range(1, len(servers) + 1):
        provider = pooled([s.base_url for s in servers[:count]])
        try:
            load(provider, clients, 2 * count, max_tokens, start=10_000)  # warm
            got = load(provider, clients, requests, max_tokens)
        finally:
            provider.close()
        if got["failures"]:
            raise AssertionError(f"{count} servers: {got['failures']}")
        ttft = got["ttft"]
        rows.append(
            (
                count,
                clients,
                requests,
                f"{requests / got['wall']:.2f}",
                f"{1000 * quantile(ttft, 0.5):.0f}",
                f"{1000 * quantile(ttft, 0.99):.0f}",
            )
        )
    return rows


def failover(
    servers: Sequence[Any], clients: int, requests: int, max_tokens: int
) -> dict[str, Any]:
    """The load on every server (``complete``, retries off), one killed when a quarter is done."""
    provider = pooled([s.base_url for s in servers], retries={"attempts": 0})
    pool = provider.endpoint_pool(provider.options)
    local = threading.local()
    picks: list[tuple[int, str, float]] = []
    pick = pool.pick

    def watched(*args: Any, **kwargs: Any) -> Any:
        endpoint = pick(*args, **kwargs)
        picks.append((local.request, endpoint.url, time.perf_counter()))
        return endpoint

    pool.pick = watched
    done: list[int] = []
    outcome: dict[str, Any] = {}
    by_url = {s.base_url: s for s in servers}

    def kill_midway() -> None:
        # a quarter done, then the server with the most requests in flight (a request to
        # it is in flight until its whole answer came: complete() is not streamed)
        deadline = time.perf_counter() + 300
        busiest = None
        while time.perf_counter() < deadline:
            if len(done) >= requests // 4:
                busiest = max(provider.endpoints_status(), key=lambda s: s.in_flight)
                if busiest.in_flight:
                    break
            time.sleep(0.002)
        victim = outcome["victim"] = by_url[busiest.url if busiest else servers[0].base_url]
        process = victim.process
        outcome["killed_at"] = time.perf_counter()
        process.kill()
        process.wait()
        outcome["gone_at"] = time.perf_counter()

    killer = threading.Thread(target=kill_midway)
    killer.start()
    try:
        got = load(provider, clients, requests, max_tokens, streamed=False, local=local, done=done)
    finally:
        killer.join()
        provider.close()
    victim = outcome["victim"]
    victim.stop()
    victim_url = victim.base_url
    killed_at = outcome["killed_at"]
    by_request: dict[int, list[tuple[int, str, float]]] = {}
    for entry in picks:
        by_request.setdefault(entry[0], []).append(entry)
    cut, refused = [], []
    for made in by_request.values():
        if len(made) < 2:
            continue
        first, again = made[0], made[1]
        if first[2] < killed_at:
            cut.append(again[2] - killed_at)  # in flight at the kill: noticed and sent elsewhere
        else:
            refused.append(
                again[2] - first[2]
            )  # picked the dead one: its closed port, then another
    moved = [n for n, made in by_request.items() if len(made) > 1]
    spans = got["spans"]
    typical = statistics.median(e - b for n, (b, e) in spans.items() if n not in moved)
    extra = [spans[n][1] - spans[n][0] - typical for n in moved]
    answered_after = [spans[n][1] - killed_at for n in moved]
    return {
        "failures": got["failures"],
        "gone": outcome["gone_at"] - killed_at,
        "cut": cut,
        "refused": refused,
        "extra": extra,
        "typical": typical,
        "first_answer": min(answered_after) if answered_after else None,
        "victim_attempts": sum(url == victim_url for _, url, _ in picks),
    }


def ms(values: Sequence[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{1000 * values[0]:.1f}"
    return f"{1000 * statistics.median(values):.1f} (n={len(values)}, {1000 * min(values):.1f}-{1000 * max(values):.1f})"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests")
    parser.add_argument("--no-llama", action="store_true", help="skip the real llama.cpp servers")
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients (threads)")
    parser.add_argument("--requests", type=int, default=0, help="requests per llama.cpp run")
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args(argv)
    quick = args.quick
    print(
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, jackfield {jackfield.__version__}"
    )

    rows = picker(20_000 if quick else 200_000, 3 if quick else 7)
    table(
        "1. picker, in-process (ns per request, net of an empty loop)",
        ["case", "ns"],
        [(n, f"{v:.0f}") for n, v in rows],
    )

    whole = whole_requests(200 if quick else 300, 5 if quick else 15)
    plain_median, plain_best = whole[0][1], whole[0][2]
    table(
        "2. stream() of a 16-chunk answer from a fake server (per request; rounds interleaved)",
        ["setup", "CPU µs median", "vs base_url", "CPU µs best", "vs base_url", "wall µs"],
        [
            (
                n,
                f"{median:.0f}",
                f"{100 * (median - plain_median) / plain_median:+.1f}%",
                f"{best:.0f}",
                f"{100 * (best - plain_best) / plain_best:+.1f}%",
                f"{w:.0f}",
            )
            for n, median, best, w in whole
        ],
    )
    route_ns = dict(rows)["Route cycle, 3, p2c"]
    print(
        f"  the Route cycle (3 endpoints, p2c) is {100 * route_ns / (plain_best * 1000):.2f}% "
        "of a request's best client CPU"
    )

    if args.no_llama:
        return
    try:
        import jackfield_llamacpp.server  # noqa: F401
    except ImportError:
        print(
            "\n3, 4. skipped: jackfield-llamacpp (xllamacpp and the packaged model) is not installed"
        )
        return
    requests = args.requests or (12 if quick else 36)
    with llama_servers(3) as servers:
        rows3 = replicas(servers, args.clients, requests, args.max_tokens)
        table(
            f"3. llama.cpp servers behind one pool (stream, max_tokens {args.max_tokens}, "
            "2 slots and 1 CPU thread each)",
            ["servers", "clients", "requests", "requests/s", "TTFT p50 ms", "TTFT p99 ms"],
            rows3,
        )
        got = failover(servers, args.clients, max(requests, 24), args.max_tokens)
    table(
        f"4. failover: 3 servers, one SIGKILLed mid-run ({args.clients} clients, complete(), retries off)",
        ["measure", "ms"],
        [
            ("kill -> process gone", ms([got["gone"]])),
            ("in flight at the kill: kill -> sent elsewhere", ms(got["cut"])),
            ("attempt at the dead server's closed port", ms(got["refused"])),
            (
                "kill -> first failed-over request answered",
                ms([got["first_answer"]] if got["first_answer"] else []),
            ),
            ("extra time of failed-over requests", ms(got["extra"])),
            ("median time of the others", ms([got["typical"]])),
        ],
    )
    print(
        f"  requests lost: {len(got['failures'])}; attempts at the killed server: {got['victim_attempts']}"
    )
    if got["failures"]:
        raise SystemExit(f"failed requests: {got['failures']}")


if __name__ == "__main__":
    main()
