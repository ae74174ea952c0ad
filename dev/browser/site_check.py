"""Render the documentation site in headless Chromium and fail on sideways overflow.

python -m dev.browser.site_check [SITE] [--out DIR] [--page NAME ...] [--all]
                                 [--size WIDTHxHEIGHT[m] ...] [--chromium PATH]

``nox -s site-check`` builds the site and runs this. SITE (default build/docs/html) is served
by a local ``http.server`` on 127.0.0.1; each page is opened at every size (default: a 1280x800
desktop and a 390x844 phone, ``m``: a mobile viewport) and measured by ``overflow.js``:

- the page must not scroll sideways (``scrollWidth`` of the scrolling element is at most its
  ``clientWidth``), and no box may reach past the viewport's right edge unless a box that
  scrolls contains it: a wide table or code block scrolls inside itself, never the page;
- no box of the page's content may cut its content off (``overflow: hidden`` with wider
  content and no ellipsis): what is too wide wraps or scrolls.

It writes a screenshot of each page at each size and ``report.json`` into DIR (default
build/site-check, ignored by git), prints one line per page and size, and exits 1 when any
page fails. Before the site, it checks itself on small pages whose answer is known (``CASES``),
so a detector that sees nothing cannot pass a site.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dev.browser.chromium import BrowserError, Chromium, Page

ROOT = Path(__file__).resolve().parents[2]
DETECTOR = (Path(__file__).parent / "overflow.js").read_text(encoding="utf-8")
PAGES = (
    "index",
    "install",
    "quickstart",
    "cli",
    "configuration",
    "tools",
    "compatibility",
    "reference/cli",
    "reference/configuration",
    "reference/api/index",
)
"""The key pages: where a stranger starts, and the widest tables and code of the site."""


class Size:
    """A viewport: ``1280x800``, or ``390x844m`` for a phone's (the page's viewport meta tag
    applies)."""

    def __init__(self, text: str):
        spec = text.strip().lower()
        self.mobile = spec.endswith("m")
        try:
            width, height = (int(part) for part in spec.rstrip("m").split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is no size: write WIDTHxHEIGHT, with m after it for a phone"
            ) from None
        self.width, self.height = width, height

    @property
    def name(self) -> str:
        return f"{self.width}x{self.height}"

    def __repr__(self) -> str:
        return f"{self.name}{'m' if self.mobile else ''}"


SIZES = (Size("1280x800"), Size("390x844m"))


def problems(measured: Mapping[str, Any]) -> list[str]:
    """What is wrong in one measurement of overflow.js, one line each; empty when it passes."""
    found = []
    if measured["scrollWidth"] > measured["clientWidth"]:
        found.append(
            f"the page scrolls sideways: {measured['scrollWidth']} px of content in a "
            f"{measured['clientWidth']} px viewport"
        )
    for box in measured["outside"]:
        found.append(
            f"{_where(box)} reaches {box['right']} px, past the {measured['viewport']} px "
            f"viewport, and nothing around it scrolls: {box['text']!r}"
        )
    for box in measured["columns"]:
        found.append(
            f"{_where(box)} holds the page's text and scrolls sideways: what is too wide in "
            "it must scroll or wrap by itself"
        )
    for box in measured["clipped"]:
        found.append(f"{_where(box)} cuts its content off (no scrollbar): {box['text']!r}")
    if not measured.get("mobile"):  # a phone shows a scrollbar while scrolling, by design
        for box in measured["scrolling"]:
            if box["scrollbar"] <= 0:
                found.append(
                    f"{_where(box)} hides {box['hidden']} px with no scrollbar to show it: "
                    f"{box['text']!r}"
                )
    return found


def _where(box: Mapping[str, Any]) -> str:
    return f"{box['element']}" + (f" in #{box['section']}" if box.get("section") else "")


# --- known answers -------------------------------------------------------------------------------

_WIDE = '<div style="width: 2000px">a line wider than any screen</div>'
_SCROLLS = f'<div style="overflow-x: auto">{_WIDE}</div>'
_PAGE = (
    '<!doctype html><html><head><meta name="viewport" content="width=device-width">'
    "</head><body>{}</body></html>"
)
CASES: dict[str, tuple[str, bool, bool]] = {
    "fits": ("<p>short</p><pre>print('hello')</pre>", True, True),
    "a box wider than the screen": (_WIDE, False, False),
    "a long unbreakable word": ("<p>" + "x" * 400 + "</p>", False, False),
    "a wide table": ("<table><tr>" + "<td>column_name</td>" * 80 + "</tr></table>", False, False),
    "a wide box in a scrolling box": (_SCROLLS, True, True),
    "a wide code block that scrolls": (
        '<pre style="overflow: auto">' + "word " * 300 + "</pre>",
        True,
        True,
    ),
    "a scrolling box with its scrollbar hidden": (
        f'<div style="overflow-x: auto; scrollbar-width: none">{_WIDE}</div>',
        False,
        True,  # a phone shows no scrollbar until the reader scrolls, whatever the page says
    ),
    "a text column that scrolls": (
        f'<main style="overflow-x: auto"><article><p>text</p>{_WIDE}</article></main>',
        False,
        False,
    ),
    "content cut off": (f'<div style="overflow: hidden">{_WIDE}</div>', False, False),
    "an ellipsis is meant": (
        '<div style="overflow: hidden; text-overflow: ellipsis; white-space: nowrap">'
        + "word " * 400
        + "</div>",
        True,
        True,
    ),
    "an off-canvas drawer": (
        '<nav style="position: fixed; left: 100%; width: 300px">menu</nav>',
        True,
        True,
    ),
}
"""Small pages, and whether each passes on a desktop's screen and on a phone's (SIZES)."""


def case_url(body: str) -> str:
    if "<article>" not in body:
        body = f"<article>{body}</article>"
    return "data:text/html," + urllib.parse.quote(_PAGE.format(body))


def measure(page: Page, url: str, size: Size) -> dict[str, Any]:
    """overflow.js's measurement of ``url`` at ``size`` (with ``mobile``: whether it is a
    phone's)."""
    page.open(url, width=size.width, height=size.height, mobile=size.mobile)
    measured: dict[str, Any] = page.evaluate(DETECTOR)
    return {**measured, "mobile": size.mobile}


def self_check(page: Page) -> list[str]:
    """The cases whose known answer the detector does not give (empty: it sees right)."""
    wrong = []
    for name, (body, *expected) in CASES.items():
        for size, passes in zip(SIZES, expected, strict=True):
            found = problems(measure(page, case_url(body), size))
            if (not found) != passes:
                wrong.append(
                    f"{name} at {size!r}: expected {'no ' if passes else ''}problem, got {found}"
                )
    return wrong


# --- the site ------------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (a free port) while inside; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def all_pages(site: Path) -> list[str]:
    skip = {"genindex", "search", "py-modindex"}
    found = (p.relative_to(site).with_suffix("").as_posix() for p in site.rglob("*.html"))
    return sorted(p for p in found if p not in skip and not p.startswith(("_", "_modules/")))


def check_site(
    site: Path, out: Path, pages: Sequence[str], sizes: Sequence[Size], chromium: str | None
) -> list[dict[str, Any]]:
    """Measure and photograph every page at every size; one record each."""
    missing = [p for p in pages if not (site / f"{p}.html").is_file()]
    if missing:
        raise SystemExit(f"not in {site}: {', '.join(missing)} (build it with `nox -s docs`)")
    out.mkdir(parents=True, exist_ok=True)
    records = []
    with serve(site) as base, Chromium.launch(chromium) as browser:
        page = browser.new_page()
        wrong = self_check(page)
        if wrong:
            raise SystemExit("the overflow detector is wrong:\n" + "\n".join(wrong))
        for name in pages:
            for size in sizes:
                measured = measure(page, f"{base}{name}.html", size)
                shot = out / f"{name.replace('/', '-')}-{size.name}.png"
                page.screenshot(shot)
                records.append(
                    {
                        "page": name,
                        "size": repr(size),
                        "problems": problems(measured),
                        "screenshot": str(shot.relative_to(out)),
                        **measured,
                    }
                )
    return records


def summary(records: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for r in records:
        verdict = "ok" if not r["problems"] else f"FAIL ({len(r['problems'])})"
        scrolls = len(r["scrolling"])
        lines.append(
            f"{r['page']:<28} {r['size']:<10} page {r['scrollWidth']:>5}/{r['clientWidth']:<5} "
            f"outside {len(r['outside']):>2}  columns {len(r['columns'])}  clipped {len(r['clipped']):>2}  "
            f"scrolling boxes {scrolls:>2}  {verdict}"
        )
        lines += [f"    {problem}" for problem in r["problems"]]
    failed = sum(1 for r in records if r["problems"])
    pages = len({r["page"] for r in records})
    sizes = ", ".join(dict.fromkeys(r["size"] for r in records))
    lines.append(f"{pages} pages at {sizes}: {len(records) - failed} passed, {failed} failed")
    return lines


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.browser.site_check", description=__doc__)
    parser.add_argument("site", nargs="?", type=Path, default=ROOT / "build" / "docs" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site-check")
    parser.add_argument("--page", action="append", help="a page (index, reference/cli)")
    parser.add_argument("--all", action="store_true", help="every page of the site")
    parser.add_argument("--size", action="append", type=Size, help="WIDTHxHEIGHT[m]")
    parser.add_argument("--chromium", help="the Chromium executable (default: found on PATH)")
    args = parser.parse_args(argv)
    pages = all_pages(args.site) if args.all else (args.page or list(PAGES))
    try:
        records = check_site(args.site, args.out, pages, args.size or SIZES, args.chromium)
    except BrowserError as exc:
        print(f"site-check: {exc}", file=sys.stderr)
        return 2
    (args.out / "report.json").write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    lines = summary(records)
    print("\n".join(lines))
    print(f"screenshots and report.json in {args.out}")
    return 1 if any(r["problems"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
