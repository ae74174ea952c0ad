"""The benchmark harness itself (no timing here): its stream, its checks and its report."""

from __future__ import annotations

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
