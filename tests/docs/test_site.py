"""The site builds strictly (no warning, no broken link, no unresolved reference), and what a
reader relies on is in the pages it builds: the install page, copy buttons, links to the
repository and its issues, a compatibility matrix drawn as one, a CLI reference without
stray escapes. One build serves every check here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from dev.browser.site_check import PAGES
from dev.docs import build, compat_matrix

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class Built:
    def __init__(self, result: subprocess.CompletedProcess[str], html: Path) -> None:
        self.result, self.html = result, html

    def page(self, name: str) -> str:
        return (self.html / f"{name}.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        build.command(out), capture_output=True, text=True, cwd=build.ROOT, check=False
    )
    return Built(result, out / "html")


def test_the_site_builds_without_a_warning(site: Built) -> None:
    assert site.result.returncode == 0, f"sphinx-build failed:\n{site.result.stderr}"
    assert not site.result.stderr.strip(), site.result.stderr
    for page in ("index", "quickstart", "reference/configuration", "reference/api/index"):
        assert (site.html / f"{page}.html").is_file(), page


def test_the_pages_the_browser_check_opens_exist(site: Built) -> None:
    assert [p for p in PAGES if not (site.html / f"{p}.html").is_file()] == []


def test_code_blocks_have_a_copy_button_but_output_blocks_do_not(site: Built) -> None:
    assert (site.html / "_static" / "copybutton.js").is_file()
    assert "copybutton.js" in site.page("install")
    options = (site.html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    assert "div:not(.highlight-output) > div.highlight > pre" in options


def test_every_page_links_to_the_repository_and_its_issues(site: Built) -> None:
    urls = tomllib.loads((build.ROOT / "core" / "pyproject.toml").read_text("utf-8"))
    repository, issues = urls["project"]["urls"]["Repository"], urls["project"]["urls"]["Issues"]
    assert repository.startswith("https://")
    assert issues.startswith(repository)
    for name in PAGES:
        page = site.page(name)
        assert f'href="{repository}"' in page, name
        assert f'href="{issues}"' in page, name
    # "View source" and "Edit this page" lead to the page's Markdown in the repository.
    assert f"{repository}/blob/main/docs/install.md?plain=true" in site.page("install")
    assert f"{repository}/edit/main/docs/install.md" in site.page("install")


def test_the_compatibility_matrix_is_one_row_per_server_and_a_mark_per_cell(site: Built) -> None:
    page = site.page("compatibility")
    (table,) = re.findall(r'<table class="[^"]*proof-matrix[^"]*">.*?</table>', page, re.DOTALL)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.DOTALL)
    assert len(rows) == len(compat_matrix.SERVERS)
    for row in rows:
        cells = re.findall(r"<td([^>]*)>", row)[1:]  # the first is the server's name
        assert len(cells) == len(compat_matrix.FEATURES)
        assert all(
            re.search(r"\bproof proof-(live|recorded|transcript|unverified|na)\b", c) for c in cells
        ), row
    # The legend above shows the same marks, next to the words.
    assert '<strong class="proof proof-live">live</strong>' in page


def test_the_cli_reference_shows_no_escape(site: Built) -> None:
    text = re.sub(r"<[^>]+>", "", site.page("reference/cli"))
    assert "\\|" not in text
    assert "| head" in text.replace("&#124;", "|")
