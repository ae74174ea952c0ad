"""docs/architecture.md is true: every module is on it, in one layer, and imports follow the
layers; providers reach the core through four public modules; runtime code never imports the
test helpers; the sans-I/O code runs without httpx or the HTTP kit."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import attrs
import pytest

import jackfield

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "src" / "jackfield"
PAGE = ROOT / "docs" / "architecture.md"
PROVIDER_SOURCES = {
    "jackfield_openai": ROOT / "providers" / "openai" / "src" / "jackfield_openai",
    "jackfield_ollama": ROOT / "providers" / "ollama" / "src" / "jackfield_ollama",
    "jackfield_llamacpp": ROOT / "providers" / "llamacpp" / "src" / "jackfield_llamacpp",
}
LONG = 450  # lines; a module this long must be one concern, and say so on the page


def _module_name(path: Path, top: Path, package: str) -> str:
    parts = list(path.relative_to(top).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


@cache
def core_modules() -> dict[str, Path]:
    return {_module_name(p, CORE, "jackfield"): p for p in sorted(CORE.rglob("*.py"))}


@cache
def layers() -> list[tuple[str, tuple[str, ...]]]:
    """``(layer, entries)`` from the page's layer table, bottom first; an entry is a module
    (``_errors``) or a package (``http/``), relative to ``jackfield``."""
    text = PAGE.read_text(encoding="utf-8")
    table = text[text.index("## Layers") :].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows.append((cells[0].strip("*"), tuple(re.findall(r"`([^`]+)`", cells[1]))))
    return rows


def layer_of(module: str) -> int:
    relative = module.removeprefix("jackfield").lstrip(".").replace(".", "/") or "__init__"
    for index, (_, entries) in enumerate(layers()):
        for entry in entries:
            if relative == entry.rstrip("/") or (
                entry.endswith("/") and relative.startswith(entry)
            ):
                return index
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules ``path`` imports when it runs (function-level imports included, imports
    for type checkers left out), as names of ``known`` modules where they are."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


# --- the page --------------------------------------------------------------------------------


def test_every_core_module_is_in_exactly_one_layer() -> None:
    assert [name for name, _ in layers()][:3] == ["vocabulary", "wire", "options"]
    entries = [entry for _, row in layers() for entry in row]
    assert len(entries) == len(set(entries)), "an entry is listed twice"
    for entry in entries:
        target = CORE / entry.rstrip("/")
        assert target.is_dir() if entry.endswith("/") else target.with_suffix(".py").is_file(), (
            f"docs/architecture.md names {entry}, which does not exist"
        )
    for module in core_modules():
        layer_of(module)  # raises for a module the page does not place


def test_long_modules_are_one_concern_the_page_names() -> None:
    text = PAGE.read_text(encoding="utf-8")
    paths = [*core_modules().values()]
    paths += [p for src in PROVIDER_SOURCES.values() for p in src.rglob("*.py")]
    for path in paths:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > LONG:
            src = next(parent for parent in path.parents if parent.name == "src")
            name = path.relative_to(src).as_posix()
            assert f"`{name}`" in text, f"{name} has {lines} lines: split it, or justify it"


# --- imports follow the layers ---------------------------------------------------------------


def test_each_layer_imports_only_from_itself_and_the_layers_below() -> None:
    known = set(core_modules())
    wrong = []
    for module, path in core_modules().items():
        if module == "jackfield" or module.startswith("jackfield.testing"):
            continue
        for target in runtime_imports(path, module, known):
            if target in known and target != "jackfield" and layer_of(target) > layer_of(module):
                wrong.append(f"{module} ({layers()[layer_of(module)][0]}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_facade_imports_nothing_and_no_module_imports_names_from_it() -> None:
    known = set(core_modules())
    assert runtime_imports(core_modules()["jackfield"], "jackfield", known) <= {"sys"}
    for module, path in core_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "jackfield" and node.level == 0:
                names = [a.name for a in node.names if f"jackfield.{a.name}" not in known]
                assert not names, f"{module} imports {names} from the facade: import the module"


def test_there_is_no_import_cycle_at_run_time() -> None:
    known = set(core_modules())
    graph = {
        module: {t for t in runtime_imports(path, module, known) if t in known and t != module}
        for module, path in core_modules().items()
        if module != "jackfield"
    }
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            cycle = " -> ".join([*trail[trail.index(module) :], module])
            raise AssertionError(f"import cycle: {cycle}")
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_runtime_code_never_imports_the_test_helpers() -> None:
    sources = {**core_modules()}
    for package, src in PROVIDER_SOURCES.items():
        sources.update({_module_name(p, src, package): p for p in src.rglob("*.py")})
    for module, path in sources.items():
        if module.startswith("jackfield.testing"):
            continue
        imported = runtime_imports(path, module, set(sources))
        assert not {t for t in imported if t.startswith("jackfield.testing")}, module


# --- providers -------------------------------------------------------------------------------

FOUR = {"jackfield", "jackfield.provider", "jackfield.http", "jackfield.hookspecs"}
# The llama.cpp demo is a small program, not part of the provider: it ends its answer with the
# command line's summary line (one format for both).
DEMO = ("jackfield_llamacpp.demo", "jackfield._cli.style")


@pytest.mark.parametrize("package", PROVIDER_SOURCES)
def test_providers_import_the_core_from_four_public_modules(package: str) -> None:
    src = PROVIDER_SOURCES[package]
    used: set[str] = set()
    for path in src.rglob("*.py"):
        module = _module_name(path, src, package)
        for target in runtime_imports(path, module, set()):
            if (module, target) == DEMO:
                continue
            if target == "jackfield" or target.startswith("jackfield."):
                used.add(target)
    assert used <= FOUR, used - FOUR
    if package == "jackfield_llamacpp":  # in-process: the HTTP kit is none of its business
        assert "jackfield.http" not in used
        siblings = set()
        for path in src.rglob("*.py"):
            module = _module_name(path, src, package)
            siblings |= {
                t for t in runtime_imports(path, module, set()) if t.startswith("jackfield_openai")
            }
        assert siblings == {"jackfield_openai.wire"}, siblings


def test_the_sans_io_code_runs_without_httpx_or_the_http_kit() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = None         # "import httpx" now fails
        sys.modules["jackfield.http"] = None
        from jackfield.provider import (
            Limits, NDJSONDecoder, SSEDecoder, ThinkSplitter, error_from_payload,
        )
        assert [e.data for e in SSEDecoder().feed(b"data: 1\\n\\n")] == ["1"]
        assert NDJSONDecoder().feed(b'{"a": 1}\\n') == [{"a": 1}]
        assert ThinkSplitter("auto").feed("<think>x</think>y") == [(True, "x"), (False, "y")]
        assert "boom" in str(error_from_payload({"message": "boom"}, "t"))
        assert Limits().choices > 0
        from jackfield_openai.wire import ChunkAssembler
        assembler = ChunkAssembler()
        assembler.chunk({"choices": [{"index": 0, "delta": {"content": "hi"}}]})
        import jackfield_llamacpp._provider, jackfield_llamacpp._engine
        assert "jackfield.http" not in {m for m, v in sys.modules.items() if v is not None}
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.stdout == "ok\n", result.stderr


def test_options_classes_are_frozen() -> None:
    registry = jackfield.load_registry()
    for name in registry.names():
        options = registry.options_class(name)()
        field = attrs.fields(type(options))[0]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(options, field.name, getattr(options, field.name))


def test_plugin_modules_type_their_callbacks_with_the_hookspecs_protocols() -> None:
    protocols = {"register_providers": "RegisterProvider", "register_instances": "RegisterInstance"}
    for package in PROVIDER_SOURCES:
        plugin = __import__(package)
        for hook, protocol in protocols.items():
            function = getattr(plugin, hook, None)
            if function is not None:
                assert function.__annotations__["register"] == protocol, (package, hook)
