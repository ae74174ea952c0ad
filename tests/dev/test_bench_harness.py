"""The benchmark harness itself (no timing here): its stream, its checks and its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dev.bench import report
from dev.bench.child import check
from dev.bench.clients import CLIENTS, Got
from dev.bench.server import answer
from dev.bench.workload import chunks_of, events, expected_text, model

from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._parsers import SSEParser


def test_the_fake_stream_is_what_every_client_must_get_back() -> None:
    parser = SSEParser(ChunkAssembler(), max_event_size=1 << 20)
    fragments = [f for event in events(25) for f in parser.feed(event)]
    fragments += parser.close()
    text = "".join(getattr(f, "text", "") for f in fragments)
    assert text == expected_text(25)
    assert fragments[-1].usage.completion_tokens == 25  # type: ignore[union-attr]
    assert chunks_of(model(25)) == 25


def test_the_server_sends_one_http_chunk_per_event() -> None:
    body = answer(3).split(b"\r\n\r\n", 1)[1]
    assert body.count(b"data: ") == len(events(3))
    assert body.endswith(b"0\r\n\r\n")


def test_a_wrong_stream_fails_the_run() -> None:
    good = Got(1.0, expected_text(4), 4, 4)
    check(CLIENTS["minimal"], good, 4)
    for wrong in (Got(1.0, expected_text(3), 4, 4), Got(1.0, expected_text(4), 3, 4)):
        with pytest.raises(AssertionError, match="wrong stream"):
            check(CLIENTS["minimal"], wrong, 4)


def _runs(value: float, key: str) -> list[dict[str, Any]]:
    return [{key: value * f, "peak_rss_mb": 30.0} for f in (0.9, 1.0, 1.2)]


def results() -> dict[str, Any]:
    bulk = {"minimal": 10.0, "jackfield": 11.0, "openai": 100.0, "raw": 7.0}
    concurrent = {
        name: [{"wall_s": w, "cpu_s": w, "errors": 0, "peak_rss_mb": 40.0 + n / 100}]
        for name, w in (("minimal-async", 2.0), ("jackfield-async", 2.2))
        for n in (0,)
    }
    return {
        "machine": {
            "python": "3.11",
            "platform": "test",
            "cpus": 2,
            "pinned": {"server": "1", "client": "0"},
            "date": "today",
        },
        "versions": {"httpx": "0"},
        "missing": ["litellm"],
        "seconds": 1.0,
        "bulk": {
            "chunks": 20000,
            "runs": {n: _runs(v, "cpu_us_per_chunk") for n, v in bulk.items()},
        },
        "cold": {
            "chunks": 16,
            "runs": {"minimal": _runs(40, "ttft_ms"), "jackfield": _runs(20, "ttft_ms")},
        },
        "warm": {
            "chunks": 16,
            "runs": {
                "minimal": _runs(1000, "cpu_us_per_stream"),
                "jackfield": _runs(1300, "cpu_us_per_stream"),
            },
        },
        "concurrent": {"chunks": 500, "runs": {"200": concurrent}},
        "imports": {
            "bare interpreter": [10.0, 11.0],
            "import jackfield + list providers": [30.0, 31.0],
            "import httpx": [60.0, 61.0],
            "jackfield --help": [20.0],
        },
    }


def test_the_report_gives_medians_ratios_and_verdicts() -> None:
    page = report.markdown(results(), None)
    assert "| minimal loop, orjson | 10.00 (9.00–12.00) | 1.00× | 30.0 |" in page
    assert "| jackfield (sync) | 11.00 (9.90–13.20) | 1.10× | 30.0 |" in page
    targets = {line.split(" | ")[0].lstrip("| "): line for line in page.splitlines()}
    assert targets["bulk streaming, × minimal loop"].endswith("| 1.10 | met |")
    assert targets["bulk streaming, openai SDK ÷ jackfield"].endswith("| 9.09 | met |")
    assert targets["cold time to first token, × minimal loop"].endswith("| 0.50 | met |")
    assert targets["warm short stream CPU, × minimal loop"].endswith("| 1.30 | **not met** |")
    assert targets["import jackfield + list providers, ms over bare"].endswith("| 20.00 | met |")
    assert "Not installed, so not measured: litellm." in page


# --- the endpoint pools section (dev/bench_pool.py's figures) ---------------------------------


def pool(kept: dict[str, str] | None = None) -> dict[str, Any]:
    def setup(cpu: list[float]) -> dict[str, list[float]]:
        return {"cpu_us": cpu, "wall_us": [1000.0] * len(cpu)}

    return {
        "machine": {"python": "3.11", "cpus": 2, "date": "today", "commit": "abc1234"},
        "versions": {"httpx": "0"},
        "options": {"quick": False, "picker": {"iterations": 10, "rounds": 1}},
        "seconds": 1.0,
        "kept": kept or {},
        "picker": {"Route cycle, 3, p2c": 4000.0},
        "whole": {
            "chunks": 16,
            "requests": 10,
            "rounds": 3,
            "pinned": {"servers": "1", "client": 0},
            "setups": {
                "base_url": setup([100.0, 200.0, 100.0]),
                "endpoints-1": setup([101.0, 202.0, 101.0]),  # +1% every round
                "instances-3": setup([100.0, 100.0, 100.0]),
                "endpoints-3": setup([103.0, 105.0, 90.0]),  # +3%, +5%, -10%
            },
        },
        "llama": {
            "date": "yesterday",
            "python": "3.11",
            "cpus": 2,
            "seconds": 60.0,
            "versions": {"xllamacpp": "0"},
            "server": {"model": "m", "slots": 2, "context": 512, "threads": 1},
            "clients": 2,
            "max_tokens": 16,
            "replicas": [{"servers": 1, "requests": 4, "wall_s": 2.0, "ttft_ms": [4, 1, 3, 2]}],
            "failover": {
                "requests": 4,
                "lost": {},
                "gone_ms": 5.0,
                "cut_ms": [7.0],
                "refused_ms": [],
                "extra_ms": [],
                "typical_ms": 9.0,
                "first_answer_ms": None,
                "victim_attempts": 1,
            },
        },
    }


def test_the_pool_section_judges_the_goal_on_each_rounds_ratio() -> None:
    page = report.markdown(results(), None, pool())
    targets = {line.split(" | ")[0].lstrip("| "): line for line in page.splitlines()}
    one = "pool adds, % CPU per request: `endpoints` of 1 vs `base_url`"
    three = "pool adds, % CPU per request: `endpoints` of 3 vs three instances"
    assert targets[one].endswith("| < 2 | 1.00 | met |")
    assert targets[three].endswith("| < 2 | 3.00 | **not met** |")  # the median round
    assert "| 1 | 2 | 4 | 2.00 | 3 | 4 |" in page  # requests/s, TTFT p50 and p99 (nearest rank)
    assert "Requests lost: 0 of 4" in page
    assert "Kept from that run" not in page


def test_figures_kept_from_an_earlier_run_say_so() -> None:
    page = report.markdown(results(), None, pool({"llama": "this run had `--no-llama`"}))
    assert "Measured yesterday" in page
    assert "Kept from that run, as this run had `--no-llama`." in page


def test_rewrite_keeps_the_other_sections_and_adds_the_pools(tmp_path: Path) -> None:
    assert not report.rewrite(tmp_path, pool())  # no benchmarks.json: nothing written
    (tmp_path / "benchmarks.json").write_text(json.dumps(results()), encoding="utf-8")
    assert report.rewrite(tmp_path, pool())
    page = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert page == report.markdown(results(), None, pool())
    assert page.index("## Start-up") < page.index("## Endpoint pools")
