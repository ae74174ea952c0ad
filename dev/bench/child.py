"""One measurement of one client in a fresh process; prints one JSON object.

python -m dev.bench.child MODE CLIENT BASE_URL [N] [CONCURRENCY] [CPU]

Modes: ``bulk`` (client CPU per chunk of one N-chunk stream, after a warm-up stream),
``cold`` (time from building the client to the first content, imports already done),
``warm`` (client CPU per short N-chunk stream, repeated on a warm client),
``concurrent`` (CONCURRENCY streams of N chunks at once in one event loop: wall, CPU, RSS).
Every stream is checked: text, number of content pieces and reported completion tokens.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from typing import Any

from dev.bench.clients import CLIENTS, Client, Got
from dev.bench.workload import expected_text

WARM_STREAMS = 300


def check(client: Client, got: Got, n: int) -> None:
    if client.name == "raw":
        if got.pieces <= 0:
            raise AssertionError("raw: no bytes")
        return
    if got.text != expected_text(n) or got.pieces != n or got.tokens != n:
        raise AssertionError(
            f"{client.name}: wrong stream: {got.pieces} pieces, {got.tokens} tokens, "
            f"text {got.text[:40]!r}... ({len(got.text)} chars, {len(expected_text(n))} expected)"
        )


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux's ru_maxrss survives exec (a fresh child would report
    its parent's peak), so VmHWM is read where there is one."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Runner:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop() if client.is_async else None

    def once(self, handle: Any, n: int) -> Got:
        if self.loop is not None:
            got: Got = self.loop.run_until_complete(self.client.run(handle, n))
        else:
            got = self.client.run(handle, n)
        check(self.client, got, n)
        return got

    def close(self, handle: Any) -> None:
        closing = self.client.close(handle)
        if self.loop is not None:
            if asyncio.iscoroutine(closing):
                self.loop.run_until_complete(closing)
            self.loop.close()


def bulk(runner: Runner, base: str, n: int) -> dict[str, Any]:
    handle = runner.client.make(base)
    runner.once(handle, 16)  # connection and one-time costs out of the way
    cpu, wall = time.process_time(), time.perf_counter()
    runner.once(handle, n)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    runner.close(handle)
    return {"cpu_us_per_chunk": cpu / n * 1e6, "wall_s": wall, "peak_rss_mb": peak_rss_mb()}


def cold(runner: Runner, base: str, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    handle = runner.client.make(base)
    got = runner.once(handle, n)
    runner.close(handle)
    return {"ttft_ms": (got.first - started) * 1e3}


def warm(runner: Runner, base: str, n: int) -> dict[str, Any]:
    handle = runner.client.make(base)
    for _ in range(5):
        runner.once(handle, n)
    cpu = time.process_time()
    for _ in range(WARM_STREAMS):
        runner.once(handle, n)
    cpu = time.process_time() - cpu
    runner.close(handle)
    return {"cpu_us_per_stream": cpu / WARM_STREAMS * 1e6}


def concurrent(client: Client, base: str, n: int, streams: int) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        handle = client.make(base)
        await client.run(handle, 16)
        cpu, wall = time.process_time(), time.perf_counter()
        results = await asyncio.gather(
            *(client.run(handle, n) for _ in range(streams)), return_exceptions=True
        )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        errors = [r for r in results if isinstance(r, BaseException)]
        for got in results:
            if isinstance(got, Got):
                check(client, got, n)
        closing = client.close(handle)
        if asyncio.iscoroutine(closing):
            await closing
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "errors": len(errors),
            "first_error": repr(errors[0])[:300] if errors else None,
            "peak_rss_mb": peak_rss_mb(),
        }

    return asyncio.run(main())


def main(argv: list[str]) -> int:
    mode, name, base = argv[1], argv[2], argv[3]
    n = int(argv[4]) if len(argv) > 4 else 16
    streams = int(argv[5]) if len(argv) > 5 else 0
    if len(argv) > 6 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(argv[6])})
    client = CLIENTS[name]
    client.load()
    if mode == "concurrent":
        result = concurrent(client, base, n, streams)
    else:
        result = {"bulk": bulk, "cold": cold, "warm": warm}[mode](Runner(client), base, n)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
