"""docs/reliability.md lists every reliability case, and the renderer says what it was given."""

from __future__ import annotations

import ast
from pathlib import Path

from dev.docs.reliability_page import render

ROOT = Path(__file__).resolve().parents[2]


def fault_tests() -> list[str]:
    names = []
    for path in sorted((ROOT / "tests" / "reliability").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    if (
                        isinstance(decorator, ast.Call)
                        and getattr(decorator.func, "id", "") == "fault"
                    ):
                        names.append(node.name)
    return names


def test_every_case_is_on_the_page() -> None:
    page = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    names = fault_tests()
    assert len(names) > 40
    missing = [name for name in names if f"`{name}`" not in page]
    assert not missing, f"not in docs/reliability.md (run `nox -s soak`): {missing}"


def test_the_page_shows_rows_fuzz_counts_and_soak_rounds() -> None:
    evidence = {
        "rows": [
            {"area": "timeouts", "case": "a | b", "outcome": "ok", "test": "t.py::test_x[1]"},
            {"area": "timeouts", "case": "a | b", "outcome": "ok", "test": "t.py::test_x[2]"},
        ],
        "facts": {
            "fuzz examples: bytes": 1200,
            "fuzz examples: json": 34,
            "soak (async)": {"streams per round": 9, "chunks": 4, "rounds": [{"rss MB": 5.5}]},
        },
    }
    page = render(evidence)
    assert "| a \\| b | ok | `test_x` |" in page
    assert page.count("`test_x`") == 1
    assert "| **all** | **1,234** |" in page
    assert "## Soak (async): 9 streams of 4 chunks per round" in page
    assert "| 1 | 5.5 |" in page
    assert "1 cases, all passing" in page
