"""``nox -s bench``: measure jackfield against its peers, in the same run, interleaved.

python -m dev.bench.run [--quick] [--only CLIENT,...] [--out DIR]

Starts the fake server (dev/bench/server.py) pinned to one CPU, then runs every measurement
of every client in a fresh process pinned to another, round after round in a shuffled order,
so slow drifts of the machine hit every client alike. Writes ``benchmarks.json`` (every raw
figure), ``benchmarks.md`` and ``benchmarks.png`` (medians, min-max, ratios) into ``--out``
(default docs/). Asserts nothing about speed: a client whose stream comes back wrong fails
the run instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dev.bench.clients import CLIENTS, available

ROOT = Path(__file__).resolve().parents[2]

# measurement -> (clients, chunks per stream, rounds)
PLAN: dict[str, tuple[list[str], int, int]] = {
    "bulk": (
        [
            "jackfield",
            "jackfield-async",
            "openai",
            "openai-async",
            "litellm",
            "httpx-sse",
            "minimal-json",
            "minimal",
            "raw",
        ],
        20_000,
        5,
    ),
    "cold": (["jackfield", "openai", "litellm", "httpx-sse", "minimal"], 16, 7),
    "warm": (["jackfield", "openai", "httpx-sse", "minimal"], 16, 5),
}
# Rounds for clients too slow to run as often as the others (litellm: ~25 s per bulk run).
FEWER_ROUNDS = {"litellm": 2}
CONCURRENT = (["jackfield-async", "openai-async", "httpx-sse-async", "minimal-async"], 500)
# streams -> rounds; the openai SDK takes ~100 s for 1000 streams, so it runs at 200 only
CONCURRENCY = {200: 3, 1000: 2}
NOT_AT = {1000: {"openai-async"}}
IMPORT_ROUNDS = 9
IMPORTS = {
    "bare interpreter": "pass",
    "import jackfield + list providers": (
        "import sys, jackfield; jackfield.load_registry().names(); "
        "assert 'httpx' not in sys.modules, 'httpx was imported'"
    ),
    "import httpx": "import httpx",
    "import openai": "import openai",
    "import litellm": "import os; os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'; "
    "import litellm",
}
QUICK = {"bulk": 3, "cold": 3, "warm": 2, "concurrent": 1, "imports": 5}


def cpus() -> tuple[str | None, str | None]:
    """(server CPU, client CPU) when the machine has two to spare, else no pinning."""
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2:
        mine = sorted(os.sched_getaffinity(0))
        return str(mine[-1]), str(mine[0])
    return None, None


class Server:
    def __init__(self, cpu: str | None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dev.bench.server", *([cpu] if cpu else [])],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"the bench server did not start: {line!r}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}/v1"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def child(*args: str, cpu: str | None) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "dev.bench.child", *args, *([cpu] if cpu else [])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench child {args} failed:\n{result.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def wall_of(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - started


def measure_imports(rounds: int) -> dict[str, list[float]]:
    snippets = {
        name: code
        for name, code in IMPORTS.items()
        if name in ("bare interpreter", "import jackfield + list providers")
        or _importable(name.split()[-1])
    }
    out: dict[str, list[float]] = {name: [] for name in snippets}
    help_command = [sys.executable, "-m", "jackfield", "--help"]
    out["jackfield --help"] = []
    for _ in range(rounds):
        for name, code in snippets.items():
            out[name].append(wall_of(code) * 1e3)
        started = time.perf_counter()
        subprocess.run(help_command, check=True, capture_output=True, cwd=ROOT)
        out["jackfield --help"].append((time.perf_counter() - started) * 1e3)
    return out


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--only", help="comma-separated client names")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    usable = {name for name in CLIENTS if (only is None or name in only) and available(name)}
    missing = sorted(name for name in CLIENTS if name not in usable and CLIENTS[name].optional)
    server_cpu, client_cpu = cpus()
    server = Server(server_cpu)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "pinned": {"server": server_cpu, "client": client_cpu},
            "date": time.strftime("%Y-%m-%d %H:%M"),
        },
        "versions": _versions(),
        "missing": missing,
    }
    started = time.perf_counter()
    try:
        for mode, (names, chunks, rounds) in PLAN.items():
            rounds = QUICK[mode] if args.quick else rounds
            names = [n for n in names if n in usable]
            runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
            for round_ in range(rounds):
                for name in random.sample(names, len(names)):
                    if round_ >= FEWER_ROUNDS.get(name, rounds):
                        continue
                    runs[name].append(
                        child(mode, name, server.base, str(chunks), "0", cpu=client_cpu)
                    )
            results[mode] = {"chunks": chunks, "runs": runs}
            print(f"bench: {mode} done ({time.perf_counter() - started:.0f} s)", flush=True)
        concurrent: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for streams, rounds in CONCURRENCY.items():
            rounds = QUICK["concurrent"] if args.quick else rounds
            names = [n for n in CONCURRENT[0] if n in usable and n not in NOT_AT.get(streams, ())]
            concurrent[str(streams)] = {n: [] for n in names}
            for _ in range(rounds):
                for name in random.sample(names, len(names)):
                    concurrent[str(streams)][name].append(
                        child(
                            "concurrent",
                            name,
                            server.base,
                            str(CONCURRENT[1]),
                            str(streams),
                            cpu=client_cpu,
                        )
                    )
            print(f"bench: {streams} concurrent done ({time.perf_counter() - started:.0f} s)")
        results["concurrent"] = {"chunks": CONCURRENT[1], "runs": concurrent}
    finally:
        server.stop()
    results["imports"] = measure_imports(QUICK["imports"] if args.quick else IMPORT_ROUNDS)
    results["seconds"] = time.perf_counter() - started

    from dev.bench.report import write

    write(results, args.out)
    print(f"bench: wrote {args.out}/benchmarks.md, .png and .json")
    return 0


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in (
        "jackfield",
        "jackfield-openai",
        "httpx",
        "httpx-sse",
        "openai",
        "litellm",
        "orjson",
        "h11",
        "httpcore",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


if __name__ == "__main__":
    raise SystemExit(main())
