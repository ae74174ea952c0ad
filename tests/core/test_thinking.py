"""Think-tag extraction: exact splits wherever the tags are cut."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jackfield._wire import thinking
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


def oracle(
    mode: str, content: str, open_tag: str = "<think>", close: str = "</think>"
) -> tuple[str, str]:
    """What the splitter must give for ``content`` as a whole, written from the rules in the
    module's docstring and nothing of its state machine: in ``auto`` mode a block opened at the
    start (after whitespace, at most ``MAX_LEADING_SPACE`` of it where that limit exists) is
    reasoning up to the first closing tag (to the end when none comes); the whitespace right
    after either tag is dropped; everything else is the answer, exactly."""
    if mode == "auto":
        body = content.lstrip()
        limit = getattr(thinking, "MAX_LEADING_SPACE", None)
        too_far = limit is not None and len(content) - len(body) > limit
        if too_far or not body.startswith(open_tag):
            return "", content
        content = body[len(open_tag) :]
    thought, closed, answer = content.lstrip().partition(close)
    return thought, answer.lstrip() if closed else ""


def cut(content: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(content) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(content[start:point])
        start = point
    pieces.append(content[start:])
    return pieces


@given(st.text(alphabet="ab <>/thinkT\n\t", max_size=40), st.lists(st.integers(0, 50), max_size=5))
def test_nothing_is_lost_or_invented(content: str, cuts: list[int]) -> None:
    """Whatever the content, thought + text is the content minus the tags and dropped spaces:
    what an independent oracle says, however the content was cut."""
    assert run("auto", *cut(content, cuts)) == oracle("auto", content)
    assert run("open", *cut(content, cuts)) == oracle("open", content)


# Content built from pieces of the tags (random characters seldom spell a whole tag), shaped
# like an answer: whitespace, a block (or not), whitespace, a thought, a closing tag (or not),
# whitespace, an answer; each part may hold more tags.
TOKENS = ["<think>", "</think>", "<thi", "nk>", "</", "<", ">", " ", "\n", "\t", "a", "T", "é"]
TAGS = [("<think>", "</think>"), ("<seed:think>", "</seed:think>"), ("[THINK]", "[/THINK]")]
spaces = st.text(alphabet=" \t\r\n\x0b\x0c\u00a0\u2003", max_size=3)
words = st.lists(st.sampled_from(TOKENS), max_size=6).map("".join)


@given(
    st.tuples(spaces, st.booleans(), spaces, words, st.booleans(), spaces, words),
    st.sampled_from(["auto", "open"]),
    st.sampled_from(TAGS),
    st.lists(st.integers(0, 200), max_size=6),
)
@example(("\t", True, "\r\n", "a</think>b", True, "\u2003\t", "c"), "auto", TAGS[0], [])
@example(("", False, "", "a", True, "\x0c\n", "b</think>c"), "open", TAGS[1], [3, 9])
def test_splits_match_the_oracle(
    parts: tuple[str, bool, str, str, bool, str, str],
    mode: str,
    tags: tuple[str, str],
    cuts: list[int],
) -> None:
    lead, opened, space, thought, closed, gap, answer = parts
    open_tag, close = tags
    content = lead + (open_tag if opened else "") + space + thought
    content += (close if closed else "") + gap + answer
    content = content.replace("<think>", open_tag).replace("</think>", close)
    splitter = ThinkSplitter(mode, open_tag, close)
    segments = [s for piece in cut(content, cuts) for s in splitter.feed(piece)]
    segments += splitter.flush()
    assert all(text for _, text in segments)  # no empty segments
    said = "".join(t for is_thought, t in segments if is_thought)
    text = "".join(t for is_thought, t in segments if not is_thought)
    assert (said, text) == oracle(mode, content, open_tag, close)
