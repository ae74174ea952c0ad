"""The errors module tells the truth: its tree is the class hierarchy, its timeout phases are
those the code raises, and issues render one way everywhere."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import jackfield
from jackfield import _errors
from jackfield._errors import TIMEOUT_PHASES, Issue, TimeoutPhase

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted((ROOT / "core" / "src").rglob("*.py")),
    *sorted((ROOT / "providers").glob("*/src/**/*.py")),
]


def drawn_tree() -> dict[str, str | None]:
    """``{class: parent}`` from the tree in the module docstring (indentation is depth)."""
    doc = _errors.__doc__ or ""
    tree = doc[doc.index("::") + 2 : doc.index("SecurityWarning")]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in tree.splitlines():
        match = re.match(r"^(\s*(?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)", line)
        if not match:
            continue
        depth = len(match.group(1).replace("│", " ")) // 4
        name = match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents.setdefault(name, stack[-1][1] if stack else None)
        stack.append((depth, name))
    return parents


def test_the_drawn_tree_is_the_class_hierarchy() -> None:
    drawn = drawn_tree()
    classes = {
        name: cls
        for name, cls in vars(_errors).items()
        if isinstance(cls, type) and issubclass(cls, jackfield.JackfieldError)
    }
    assert set(drawn) == set(classes), set(drawn) ^ set(classes)
    for name, parent in drawn.items():
        if parent is not None:
            assert issubclass(classes[name], classes[parent]), f"{name} is drawn under {parent}"
    assert drawn["JackfieldError"] is None


def test_every_error_is_exported_at_the_top() -> None:
    for name in drawn_tree():
        assert getattr(jackfield, name) is getattr(_errors, name)


def _raised_phases() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "phase" and isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "timeout" and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
            if name == "timeout" and node.args and isinstance(node.args[0], ast.IfExp):
                for branch in (node.args[0].body, node.args[0].orelse):
                    if isinstance(branch, ast.Constant):
                        found.add(branch.value)
    return found


def test_timeout_phases_are_exactly_those_raised_and_listed() -> None:
    assert set(typing.get_args(TimeoutPhase)) == set(TIMEOUT_PHASES)
    assert _raised_phases() == set(TIMEOUT_PHASES)


def test_issues_render_one_way_for_options_and_for_files() -> None:
    option = Issue(("extra_body", "samplers", 2), "set is not a JSON value", "agent:coder")
    assert str(option) == (
        "$.extra_body.samplers[2]: set is not a JSON value (set by layer 'agent:coder')"
    )
    in_file = Issue(("agents", "my agent", "model"), "unknown instance 'x'", line=7)
    assert in_file.render(root="", source="jf.toml") == (
        "jf.toml:7: agents[\"my agent\"].model: unknown instance 'x'"
    )
    whole = Issue((), "not valid TOML", line=2)
    assert whole.render(root="", source="jf.toml") == "jf.toml:2: not valid TOML"
    error = jackfield.ConfigFileError("jf.toml", [in_file, whole])
    assert str(error).splitlines() == [
        in_file.render(root="", source="jf.toml"),
        whole.render(root="", source="jf.toml"),
    ]
