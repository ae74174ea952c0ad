"""Every code example in docs/ runs here.

Each page's ``python`` blocks run top to bottom in one namespace. A ``python`` block followed
directly by an ``output`` block must print exactly that, where ``...`` stands for any text
within a line and a line ``...`` for any number of lines (for what a real model says). A block with a ``title="path"``
attribute shows a file of this repository and must match it byte for byte, so the docs cannot
drift from tested code. Fences indented inside a list item count too (their lines read without
that indentation). ``console`` blocks hold shell commands (``$ jackfield ...``), each
followed by its expected standard output; a line ``...`` matches any number of lines. They run
with ``llamacpp`` pointing at a real llama.cpp server (the preset instance's default port in the
docs is 8080; the test redirects it), whose API root is also in ``$LLAMACPP_URL``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
READMES_AND_ROOT = [
    ROOT / "README.md",
    ROOT / "core" / "README.md",
    *sorted(ROOT.glob("providers/*/README.md")),
]
# A fence may be indented (a block inside a list item): its closing fence has the same
# indentation, and its lines lose that much of theirs, as CommonMark reads them.
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=indent)```$",
    re.MULTILINE | re.DOTALL,
)
TITLE = re.compile(r'title="([^"]+)"')


class Block:
    def __init__(self, lang: str, attrs: str, body: str, line: int) -> None:
        self.lang, self.attrs, self.body, self.line = lang, attrs, body, line
        match = TITLE.search(attrs)
        self.title = match.group(1) if match else None


def _dedent(body: str, indent: int) -> str:
    """``body`` with up to ``indent`` leading spaces taken off each line."""
    if not indent:
        return body
    return "".join(
        line[min(indent, len(line) - len(line.lstrip(" "))) :]
        for line in body.splitlines(keepends=True)
    )


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(
            m["lang"],
            m["attrs"],
            _dedent(m["body"], len(m["indent"])),
            text.count("\n", 0, m.start()) + 1,
        )
        for m in FENCE.finditer(text)
    ]


PAGES = sorted(DOCS.rglob("*.md"))


def test_indented_fences_are_found_and_read_without_their_indentation(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "- an item:\n\n  ```python\n  if True:\n      print(1)\n\n  ```\n\n"
        "  ```output\n  1\n  ```\n\n```python\nprint(2)\n```\n",
        encoding="utf-8",
    )
    found = [(b.lang, b.body, b.line) for b in blocks(page)]
    assert found == [
        ("python", "if True:\n    print(1)\n\n", 3),
        ("output", "1\n", 9),
        ("python", "print(2)\n", 13),
    ]


@pytest.mark.parametrize(
    "page", [*PAGES, *READMES_AND_ROOT], ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_fence_is_read(page: Path) -> None:
    """Each fence line of a page opens or closes a block that the tests read: none is skipped
    for its indentation or its closing line."""
    fences = re.findall(r"^[ \t]*```", page.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(fences) == 2 * len(blocks(page)), page


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_examples_run_and_print_what_the_page_says(page: Path) -> None:
    found = blocks(page)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    saved_environment = dict(os.environ)
    try:
        _run_blocks(page, found, namespace)
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        _close_default_host()


def _close_default_host() -> None:
    """Close the shared host of the one-line calls a page used (its providers, and any model
    they loaded), so that the next page starts from nothing."""
    from jackfield import _default

    if _default._host is not None:
        _default._host.close()
        _default._host = None


def _run_blocks(page: Path, found: list[Block], namespace: dict[str, object]) -> None:
    for i, block in enumerate(found):
        if block.lang != "python" or block.title:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                # dont_inherit: run as a reader's script would, without this module's
                # ``from __future__ import annotations`` (string annotations of classes made
                # here could not be resolved, as they can in a real module)
                code = compile(block.body, f"{page.name}:{block.line}", "exec", dont_inherit=True)
                exec(code, namespace)
            except Exception as exc:
                raise AssertionError(f"{page.name}:{block.line}: example raised {exc!r}") from exc
        follower = found[i + 1] if i + 1 < len(found) else None
        if follower is not None and follower.lang == "output":
            expected, actual = follower.body.splitlines(), out.getvalue().splitlines()
            assert out.getvalue().endswith("\n"), f"{page.name}:{block.line}: no final newline"
            assert _matches(expected, actual), (
                f"{page.name}:{block.line}: output differs\nexpected:\n{follower.body}"
                f"got:\n{out.getvalue()}"
            )


def _line_matches(expected: str, actual: str) -> bool:
    """Equality, where each ``...`` in the expected line stands for any text."""
    if "..." not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line matching where an expected ``...`` line matches any number of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and _line_matches(expected[0], actual[0])
        and _matches(expected[1:], actual[1:])
    )


def _commands(block: Block) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    return commands


CONSOLE_PAGES = [p for p in PAGES if any(b.lang == "console" for b in blocks(p))]


@pytest.fixture(scope="module")
def console_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from jackfield_llamacpp.server import LlamaServer

    with LlamaServer(context=1024) as server:
        config = tmp_path_factory.mktemp("docs") / "jackfield.toml"
        config.write_text(f'[providers.llamacpp]\nbase_url = "{server.base_url}"\n')
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        yield {
            **os.environ,
            "JACKFIELD_CONFIG": str(config),
            "JACKFIELD_HOME": str(tmp_path_factory.mktemp("home")),  # chat logs its turns there
            "LLAMACPP_URL": server.base_url,
            "NO_COLOR": "1",
            "PATH": path,
        }


@pytest.mark.compat
@pytest.mark.parametrize("page", CONSOLE_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_console_examples_print_what_the_page_says(
    page: Path, console_environment: dict[str, str]
) -> None:
    for block in blocks(page):
        if block.lang != "console":
            continue
        for command, expected in _commands(block):
            result = subprocess.run(
                command,
                shell=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=console_environment,
                timeout=120,
            )
            assert result.returncode == 0, f"{page.name}:{block.line}: {command}\n{result.stderr}"
            actual = result.stdout.rstrip("\n").splitlines()
            assert _matches(expected, actual), (
                f"{page.name}:{block.line}: {command}\nexpected:\n"
                + "\n".join(expected)
                + "\ngot:\n"
                + "\n".join(actual)
            )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_files_shown_in_the_docs_match_the_repository(page: Path) -> None:
    for block in blocks(page):
        if block.title:
            shown = ROOT / block.title
            assert shown.is_file(), f"{page.name}:{block.line}: {block.title} does not exist"
            assert block.body == shown.read_text(encoding="utf-8"), (
                f"{page.name}:{block.line}: the docs show an outdated copy of {block.title}"
            )


# The READMEs of the distributions (their PyPI pages): their examples run too, with the
# ``llamacpp`` preset pointing at a real llama.cpp server.
READMES = [ROOT / "core" / "README.md", *sorted(ROOT.glob("providers/*/README.md"))]


@pytest.mark.compat
@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_distribution_readmes_run(readme: Path, console_environment: dict[str, str]) -> None:
    found = blocks(readme)
    assert any(b.lang == "python" for b in found), f"{readme} has no example"
    saved_environment = dict(os.environ)
    os.environ["JACKFIELD_CONFIG"] = console_environment["JACKFIELD_CONFIG"]
    try:
        _run_blocks(readme, found, {"__name__": f"readme_{readme.parent.name}"})
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)


# Pages that are lists, not instructions: nothing to run.
WITHOUT_EXAMPLES = {"changelog.md"}


def test_every_page_has_examples() -> None:
    assert PAGES
    for page in PAGES:
        if page.read_text(encoding="utf-8").startswith("<!-- generated"):
            continue  # tables generated from code or from test results
        if page.name in WITHOUT_EXAMPLES:
            continue
        assert any(b.lang in ("python", "console") for b in blocks(page)), (
            f"{page.name} has no example"
        )


def test_the_quickstart_gives_the_readme_commands() -> None:
    readme = next(b for b in blocks(ROOT / "README.md") if b.lang in ("", "sh"))
    quickstart = next(b for b in blocks(DOCS / "quickstart.md") if b.lang == "sh")
    assert quickstart.body == readme.body
    assert len(readme.body.splitlines()) == 2


TOML_PAGES = [p for p in PAGES if any(b.lang == "toml" and not b.title for b in blocks(p))]


@pytest.mark.parametrize("page", TOML_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_configuration_examples_are_valid(page: Path) -> None:
    """A ``toml`` block without a title is a piece of a configuration file: it must load."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    import jackfield
    from jackfield._config import parse_config

    registry = jackfield.load_registry()
    for block in blocks(page):
        if block.lang == "toml" and not block.title:
            source = f"{page.name}:{block.line}"
            config = parse_config(tomllib.loads(block.body), source=source, registry=registry)
            assert config.instances or config.agents, source
