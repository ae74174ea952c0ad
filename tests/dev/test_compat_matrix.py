"""The compatibility matrix is built from evidence only, and refuses evidence it cannot place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dev.docs.compat_matrix import FEATURES, NOT_APPLICABLE, SERVERS, main, render


def table(page: str) -> list[list[str]]:
    """The matrix's header and rows, cell by cell."""
    lines = [x for x in page.splitlines() if x.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def row(page: str, feature: str) -> list[str]:
    """The cells of ``feature`` for every server, in SERVERS' order: a column of the table,
    which has a row per server."""
    header, *body = table(page)
    column = header.index(feature)
    return [cells[column] for cells in body]


def test_a_row_per_server_and_a_column_per_feature() -> None:
    header, *body = table(render([]))
    assert header == ["server", *FEATURES]
    assert [cells[0] for cells in body] == list(SERVERS.values())


def test_files_that_hold_no_evidence_are_skipped(tmp_path: Path) -> None:
    evidence = tmp_path / "compat.json"
    evidence.write_text(json.dumps([{"server": "vllm", "feature": "usage", "how": "live"}]))
    mutation = tmp_path / "mutation.json"  # nox -s mutate writes its report beside them
    mutation.write_text(json.dumps({"tool": "mutmut", "targets": {}}))
    page = tmp_path / "compatibility.md"
    assert main(["compat_matrix", str(page), str(evidence), str(mutation)]) == 0
    usage = dict(zip(SERVERS, row(page.read_text(encoding="utf-8"), "usage"), strict=True))
    assert usage["vllm"] == "live"


def test_the_best_evidence_wins_and_the_rest_is_unverified() -> None:
    evidence = [
        {"server": "vllm", "feature": "usage", "how": "transcript", "test": "a"},
        {"server": "vllm", "feature": "usage", "how": "live", "test": "b"},
        {"server": "vllm", "feature": "usage", "how": "recorded", "test": "c"},
        {"server": "ollama-native", "feature": "timings", "how": "transcript", "test": "d"},
        {"server": "openai", "feature": "timings", "how": "transcript", "test": "e"},
        {"server": "openai", "feature": "timings", "how": "recorded", "test": "f"},
    ]
    page = render(evidence)
    usage = dict(zip(SERVERS, row(page, "usage"), strict=True))
    timings = dict(zip(SERVERS, row(page, "timings"), strict=True))
    assert usage["vllm"] == "live"
    assert timings["ollama-native"] == "transcript"
    assert timings["openai"] == "recorded"  # a real server's recording beats a transcript
    assert list(usage.values()).count("unverified") == len(SERVERS) - 1
    left = len(FEATURES) * len(SERVERS) - 3 - len(NOT_APPLICABLE)
    assert (
        f"1 cells live, 1 recorded, 1 by transcript, {len(NOT_APPLICABLE)} n/a, "
        f"{left} unverified, from 6 passing checks." in page
    )
    (feature, server), _ = next(iter(NOT_APPLICABLE.items()))
    assert dict(zip(SERVERS, row(page, feature), strict=True))[server] == "n/a"


def test_a_live_suite_writes_down_what_its_server_cannot_have() -> None:
    reason = "llama-cpp-python reports no timings."
    page = render(
        [{"server": "llama-cpp-python", "feature": "timings", "how": "n/a", "reason": reason}]
    )
    timings = dict(zip(SERVERS, row(page, "timings"), strict=True))
    assert timings["llama-cpp-python"] == "n/a"
    assert f"- timings, llama-cpp-python: n/a. {reason}" in page


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"server": "vllm", "feature": "telepathy", "how": "live"}, "unknown features"),
        ({"server": "vlm", "feature": "usage", "how": "live"}, "unknown servers"),
        ({"server": "llamacpp-embedded", "feature": "auth", "how": "live"}, "not applicable"),
        ({"server": "vllm", "feature": "usage", "how": "rumour"}, "unknown kinds of proof"),
    ],
)
def test_unknown_cells_are_refused(item: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render([item])
