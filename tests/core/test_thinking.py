"""Think-tag extraction: exact splits wherever the tags are cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield._wire.thinking import ThinkSplitter


def run(mode: str, *deltas: str) -> tuple[str, str]:
    splitter = ThinkSplitter(mode)
    segments = [s for d in deltas for s in splitter.feed(d)] + splitter.flush()
    thought = "".join(t for is_thought, t in segments if is_thought)
    text = "".join(t for is_thought, t in segments if not is_thought)
    return thought, text


@pytest.mark.parametrize(
    ("mode", "deltas", "expected"),
    [
        ("auto", ["<think>plan</think>\n\nAnswer"], ("plan", "Answer")),
        ("auto", ["  \n<think>plan</think>Answer"], ("plan", "Answer")),
        ("auto", ["<thi", "nk>pl", "an</th", "ink>", "\n", "Ans", "wer"], ("plan", "Answer")),
        ("auto", ["No thinking here."], ("", "No thinking here.")),
        (
            "auto",
            ["Text then <think>not a block</think>"],
            ("", "Text then <think>not a block</think>"),
        ),
        ("auto", ["<thi"], ("", "<thi")),  # a tag that never completed is text
        ("auto", ["<think>never closed"], ("never closed", "")),
        ("auto", ["  "], ("", "  ")),
        ("open", ["plan", "</think>", "Answer"], ("plan", "Answer")),
        ("open", ["pl", "an</", "thi", "nk>  Answer"], ("plan", "Answer")),
        ("open", ["a < b, c </thin"], ("a < b, c </thin", "")),
        ("open", ["</think>Answer"], ("", "Answer")),
        ("auto", ["<think>\n", "plan</think>\n\nx"], ("plan", "x")),  # llama.cpp, format none
        ("open", ["\n  pl", "an</think>x"], ("plan", "x")),
    ],
)
def test_splits(mode: str, deltas: list[str], expected: tuple[str, str]) -> None:
    assert run(mode, *deltas) == expected


def test_passthrough_after_the_block() -> None:
    splitter = ThinkSplitter("auto")
    splitter.feed("<think>x</think>y")
    assert splitter.passthrough


texts = st.text(alphabet="ab <>/thinkT\n", max_size=30)


@given(texts, texts, st.sampled_from(["auto", "open"]), st.lists(st.integers(0, 80), max_size=6))
def test_the_split_does_not_depend_on_how_content_was_cut(
    thought: str, answer: str, mode: str, cuts: list[int]
) -> None:
    content = ("<think>" if mode == "auto" else "") + thought + "</think>" + answer
    points = sorted({c % (len(content) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(content[start:point])
        start = point
    pieces.append(content[start:])
    assert run(mode, *pieces) == run(mode, content)


@given(st.text(alphabet="ab <>/thinkT\n", max_size=40), st.lists(st.integers(0, 50), max_size=5))
def test_nothing_is_lost_or_invented(content: str, cuts: list[int]) -> None:
    """Whatever the content, thought + text is the content minus the tags and dropped spaces."""
    points = sorted({c % (len(content) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(content[start:point])
        start = point
    pieces.append(content[start:])
    thought, text = run("auto", *pieces)
    assert (thought, text) == run("auto", content)
    if not content.lstrip().startswith("<think>"):
        assert (thought, text) == ("", content)
