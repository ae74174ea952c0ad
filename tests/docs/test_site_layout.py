"""The layout rules of the site and the check that enforces them (``nox -s site-check``).

- The verdict on a measurement (``problems``) is a pure rule, checked here on measurements
  written by hand, and so are the viewport sizes it is given.
- The detector (dev/browser/overflow.js) is checked in headless Chromium on small pages whose
  answer is known (``CASES``), when a Chromium is installed (``apt-get install chromium``);
  ``nox -s site-check`` runs the same cases before any page of the site, so there it cannot
  be skipped.
- What the generators write fits a code block: usage lines wrap between arguments, and a
  ``\\|`` is only ever written inside a table.
"""

from __future__ import annotations

import argparse
import string
from collections.abc import Iterator
from typing import Any

import pytest
from dev.browser import chromium
from dev.browser.site_check import CASES, SIZES, Size, case_url, measure, problems
from dev.docs import generate
from hypothesis import given
from hypothesis import strategies as st

# --- the verdict ---------------------------------------------------------------------------------


def measured(**changes: Any) -> dict[str, Any]:
    fits = {
        "viewport": 1265,
        "scrollWidth": 1265,
        "clientWidth": 1265,
        "outside": [],
        "columns": [],
        "clipped": [],
        "scrolling": [],
        "mobile": False,
    }
    return {**fits, **changes}


def box(**changes: Any) -> dict[str, Any]:
    return {
        "element": "pre",
        "section": "chat",
        "left": 400,
        "right": 1900,
        "width": 1500,
        "text": "$ jackfield chat",
        **changes,
    }


def test_a_page_that_fits_passes() -> None:
    assert problems(measured()) == []
    assert problems(measured(scrolling=[box(hidden=300, scrollbar=10)])) == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"scrollWidth": 1900}, "the page scrolls sideways: 1900 px of content in a 1265 px"),
        ({"outside": [box()]}, "pre in #chat reaches 1900 px, past the 1265 px viewport"),
        ({"columns": [box(element="div.content")]}, "div.content in #chat holds the page's text"),
        ({"clipped": [box()]}, "pre in #chat cuts its content off"),
        ({"scrolling": [box(hidden=300, scrollbar=0)]}, "hides 300 px with no scrollbar"),
    ],
)
def test_each_kind_of_overflow_fails_and_says_where(changes: dict[str, Any], words: str) -> None:
    (found,) = problems(measured(**changes))
    assert words in found


def test_a_phone_shows_its_scrollbars_only_while_scrolling() -> None:
    hidden = [box(hidden=300, scrollbar=0)]
    assert problems(measured(scrolling=hidden, mobile=True)) == []
    assert problems(measured(scrolling=hidden, mobile=False)) != []


@given(
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(0, 10),
    st.booleans(),
)
def test_one_line_per_problem(
    outside: int, columns: int, clipped: int, wide: int, mobile: bool
) -> None:
    page = measured(
        scrollWidth=1265 + wide,
        outside=[box()] * outside,
        columns=[box()] * columns,
        clipped=[box()] * clipped,
        scrolling=[box(hidden=10, scrollbar=0)] * 3,
        mobile=mobile,
    )
    hidden_scrollbars = 0 if mobile else 3
    assert len(problems(page)) == (wide > 0) + outside + columns + clipped + hidden_scrollbars


@given(st.integers(1, 9999), st.integers(1, 9999), st.booleans())
def test_sizes_read_back(width: int, height: int, mobile: bool) -> None:
    text = f"{width}x{height}{'m' if mobile else ''}"
    size = Size(text)
    assert (size.width, size.height, size.mobile) == (width, height, mobile)
    assert repr(size) == text
    assert size.name == f"{width}x{height}"


@pytest.mark.parametrize("text", ["1280", "1280x", "x800", "wide", "1280x800x2", "1280*800"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="WIDTHxHEIGHT"):
        Size(text)


def test_the_default_sizes_are_a_desktop_and_a_phone() -> None:
    assert [(s.width, s.mobile) for s in SIZES] == [(1280, False), (390, True)]


# --- the detector, in a real browser -------------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> Iterator[chromium.Page]:
    try:
        chromium.find()
    except chromium.BrowserError as exc:
        pytest.skip(str(exc))
    with chromium.Chromium.launch() as browser:
        yield browser.new_page()


@pytest.mark.parametrize("case", CASES)
def test_the_detector_gives_the_known_answer(page: chromium.Page, case: str) -> None:
    body, *expected = CASES[case]
    for size, passes in zip(SIZES, expected, strict=True):
        found = problems(measure(page, case_url(body), size))
        assert (found == []) == passes, (size, found)


def test_the_detector_measures_the_viewport_it_is_given(page: chromium.Page) -> None:
    wide = measure(page, case_url(CASES["a box wider than the screen"][0]), Size("1280x800"))
    assert wide["clientWidth"] <= 1280
    assert wide["scrollWidth"] > 1280
    (outside,) = wide["outside"]
    assert outside["element"] == "div"
    assert outside["width"] == 2000


def test_a_missing_chromium_says_how_to_install_it() -> None:
    with pytest.raises(chromium.BrowserError, match="apt-get install -y chromium"):
        chromium.find("/nonexistent/chromium")


# --- what the generators write -------------------------------------------------------------------

PART = st.text(string.ascii_letters + "-=[]. ", min_size=1, max_size=30).map(str.strip).filter(bool)


@given(st.sampled_from(["jackfield", "jackfield chat", "jackfield models default"]), st.lists(PART))
def test_usage_lines_wrap_between_arguments(prog: str, parts: list[str]) -> None:
    lines = generate._wrap_usage([prog, *parts]).split("\n")
    assert lines[0].startswith(prog)
    for line in lines[1:]:
        assert line.startswith(" " * (len(prog) + 1))
        assert line[len(prog) + 1] != " "  # a whole argument starts each continued line
    for line in lines:  # longer only when one argument alone is
        assert len(line) <= generate.USAGE_WIDTH or line.strip() in parts
    assert " ".join(" ".join(lines).split()) == " ".join(" ".join([prog, *parts]).split())


def test_a_pipe_is_escaped_in_a_table_cell_only() -> None:
    assert generate.markdown("closed (``| head``)") == "closed (`| head`)"
    assert generate.markdown("a ``x | y`` b", cell=True) == "a `x \\| y` b"


def test_the_generated_pages_escape_pipes_only_in_tables() -> None:
    for relative, text in generate.pages().items():
        if not relative.endswith(".md"):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if not line.startswith("|"):
                assert "\\|" not in line, f"{relative}:{number}: {line}"
