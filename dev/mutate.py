"""Mutation testing of jackfield's core rules with mutmut (``nox -s mutate``).

    python -m dev.mutate [TARGET ...] [--max-children N]   # default: every target, 2 workers
    python -m dev.mutate --report-only [TARGET ...]          # re-read the last runs' results

mutmut changes the code one small bug at a time (a ``<`` for a ``<=``, a constant, a dropped
call) and runs the tests that reach the changed function; a mutant the tests do not notice
"survives". Each target below names the files mutated and a fast test subset, so one target
runs in minutes on 2 CPUs.

mutmut wants one ``src`` folder; the workspace has ``core/src`` and ``providers/*/src``. So each
target runs in a staged copy under ``.nox/_mutate/<target>/``: ``src/`` holds the packages,
``tests/`` the tests, and ``pyproject.toml`` the workspace's settings plus this target's
``[tool.mutmut]``; mutmut puts its mutated ``src`` first on ``sys.path``. Nothing in the work
tree is changed.

Results go to ``dev/evidence/mutation.json`` (targets not run keep their last result), and the
mutation section of ``docs/reliability.md`` is regenerated from it
(``dev/docs/reliability_page.py``). A survivor that no test can tell from the original (an
equivalent mutant) is listed in :data:`dev.mutation_equivalents.EQUIVALENT` with the reason;
every other survivor needs a test (the few without one are in ``NOT_KILLED``, with why, and
count as not killed). After editing those lists, ``--report-only`` re-reads the staged runs
and rewrites the evidence and the page without running anything.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "dev" / "evidence" / "mutation.json"
# Not .nox/mutate: that is the nox session's own environment.
STAGE = ROOT / ".nox" / "_mutate"
PAGE = ROOT / "docs" / "reliability.md"
PACKAGES = {
    "jackfield": ROOT / "core" / "src" / "jackfield",
    "jackfield_openai": ROOT / "providers" / "openai" / "src" / "jackfield_openai",
}


@dataclass(frozen=True)
class Target:
    title: str
    files: tuple[str, ...]  # globs under src/
    tests: tuple[str, ...]  # test files or folders, from the workspace root


# The unit tests of the core, the command line and the HTTP providers: bytes, mock transports
# and scripted servers on 127.0.0.1; not the tests that build virtual environments or load a
# model. mutmut runs them all once, then for each mutant only those that reached the mutated
# function (fastest first), stopping at the first failure. A surviving mutant runs every test
# that reaches it, so each target takes only the tests that exercise its files: the whole
# session then runs in minutes on 2 CPUs (the times are in the evidence file).
NOT_HERE = (
    "--ignore=tests/core/test_third_party.py",  # builds virtual environments
    "--ignore=tests/core/test_installed_plugin.py",
)
UNIT = ("tests/core", "tests/cli", "tests/providers/openai", "tests/providers/ollama", *NOT_HERE)
TARGETS = {
    "options": Target(
        "options (merge patch, layers, provenance, structuring, explain)",
        ("jackfield/_options.py",),
        UNIT,
    ),
    "secrets": Target(
        "secrets (jackfield.Secret, secret files, masking and scrubbing)",
        ("jackfield/_secret.py",),
        (
            "tests/core",
            *NOT_HERE,
            "tests/reliability/test_secrets.py",
            "tests/reliability/test_secrets_round2.py",
            "tests/reliability/test_mutants.py",
        ),
    ),
    "wire": Target(
        "the sans-I/O wire package (SSE, NDJSON, think tags, error bodies, limits)",
        ("jackfield/_wire/*",),
        (
            "tests/core",
            *NOT_HERE,
            "tests/providers/openai",
            "tests/providers/ollama",
            "tests/reliability/test_wire_round2.py",
        ),
    ),
    "assembler": Target(
        "the OpenAI-compatible chunk assembler",
        ("jackfield_openai/_assembler.py",),
        ("tests/providers/openai",),
    ),
}


# What the staged copy holds besides ``src/``: the workspace's layout, so tests that read files
# of the repository (docs examples, sources parsed with ``ast``) find them; these copies are
# never imported (the installed distributions and mutmut's ``src`` are).
COPIED = ("core", "providers", "docs", "README.md")


def stage(name: str, target: Target) -> Path:
    """A fresh staged copy of the workspace for ``target`` (see the module docstring)."""
    where = STAGE / name
    shutil.rmtree(where, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "*.gguf")
    for package, source in PACKAGES.items():
        shutil.copytree(source, where / "src" / package, ignore=ignore)
    for item in ("tests", *COPIED):
        if (ROOT / item).is_dir():
            shutil.copytree(ROOT / item, where / item, ignore=ignore)
        else:
            shutil.copy2(ROOT / item, where / item)
    settings = {
        "source_paths": ["src"],
        "also_copy": list(COPIED),
        "only_mutate": [f"src/{glob}" for glob in target.files],
        "pytest_add_cli_args_test_selection": list(target.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q"],
        "use_git_change_detection": False,
        "track_dependencies": False,
        # A mutant that loops forever (or blocks) is stopped after (the time of its tests + 1 s)
        # x 3 instead of mutmut's x 15: minutes per such mutant otherwise.
        "timeout_multiplier": 3.0,
    }
    lines = ["", "[tool.mutmut]"] + [
        f"{key} = {json.dumps(value)}" for key, value in settings.items()
    ]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (where / "pyproject.toml").write_text(pyproject + "\n".join(lines) + "\n", encoding="utf-8")
    return where


def mutmut(where: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        sys.stdout.write(result.stdout[-5000:])
        sys.stderr.write(result.stderr[-5000:])
        raise SystemExit(f"mutmut {' '.join(args)} failed in {where}")
    return result.stdout


RESULT = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a mutant's diff, stripped."""
    removed = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    added = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return removed, added


def function_of(name: str) -> str:
    """``Class.method`` or ``function`` from a mutant name such as
    ``jackfield._wire.sse.xǁSSEDecoderǁfeed__mutmut_12``."""
    base = name.rsplit(".", 1)[-1].split("__mutmut_")[0]
    parts = [p for p in re.split(r"[ǁ]", base) if p]
    if parts and parts[0] in ("x", "x_"):
        parts = parts[1:]
    if len(parts) == 1 and parts[0].startswith("x_"):
        parts = [parts[0][2:]]
    return ".".join(parts)


def equivalence(
    module: str, function: str, removed: list[str], added: list[str], *, listed: str = "EQUIVALENT"
) -> str | None:
    """The reason a survivor is equivalent, when :mod:`dev.mutation_equivalents` lists it (or,
    with ``listed="NOT_KILLED"``, why a survivor that is not equivalent has no test yet)."""
    import dev.mutation_equivalents as lists

    entries: list[dict[str, object]] = getattr(lists, listed, [])
    for entry in entries:
        if (
            entry["module"] == module
            and entry["function"] == function
            and entry["removed"] == removed
            and entry["added"] == added
        ):
            return str(entry["reason"])
    return None


def collect(name: str, target: Target, where: Path, seconds: float) -> dict[str, Any]:
    counts: dict[str, int] = {}
    survivors = []
    for line in mutmut(where, "results", "--all", "true").splitlines():
        match = RESULT.match(line)
        if not match:
            continue
        mutant, status = match["name"], match["status"]
        counts[status] = counts.get(status, 0) + 1
        if status in ("killed", "timeout", "caught by type check", "segfault"):
            continue
        diff = mutmut(where, "show", mutant, check=False)
        diff = "\n".join(line for line in diff.splitlines() if not line.startswith("# "))
        module = mutant.rsplit(".", 1)[0]
        function = function_of(mutant)
        removed, added = changed_lines(diff)
        survivors.append(
            {
                "mutant": mutant,
                "status": status,
                "module": module,
                "function": function,
                "removed": removed,
                "added": added,
                "equivalent": equivalence(module, function, removed, added),
                "why_not_killed": equivalence(
                    module, function, removed, added, listed="NOT_KILLED"
                ),
            }
        )
    total = sum(counts.values())
    killed = sum(
        counts.get(s, 0) for s in ("killed", "timeout", "caught by type check", "segfault")
    )
    equivalent = sum(1 for s in survivors if s["equivalent"])
    return {
        "title": target.title,
        "files": list(target.files),
        "tests": list(target.tests),
        "mutants": total,
        "killed": killed,
        "equivalent": equivalent,
        "statuses": dict(sorted(counts.items())),
        "survivors": survivors,
        "seconds": round(seconds),
        "date": datetime.date.today().isoformat(),
    }


def run(name: str, max_children: int | None) -> dict[str, Any]:
    target = TARGETS[name]
    where = stage(name, target)
    started = datetime.datetime.now()
    args = ["run"] + ([f"--max-children={max_children}"] if max_children else [])
    output = mutmut(where, *args, check=False)
    seconds = (datetime.datetime.now() - started).total_seconds()
    print(output[-2000:])
    return {**collect(name, target, where, seconds), "workers": max_children}


def previous(name: str) -> dict[str, Any]:
    """The last recorded result of target ``name`` (empty when there is none)."""
    if not EVIDENCE.exists():
        return {}
    result: dict[str, Any] = json.loads(EVIDENCE.read_text(encoding="utf-8"))["targets"].get(
        name, {}
    )
    return result


def save(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    evidence: dict[str, Any] = {"tool": "", "targets": {}}
    if EVIDENCE.exists():
        evidence = json.loads(EVIDENCE.read_text(encoding="utf-8"))
    from importlib.metadata import version

    evidence["tool"] = f"mutmut {version('mutmut')}"
    evidence["targets"].update(results)
    evidence["targets"] = {k: evidence["targets"][k] for k in TARGETS if k in evidence["targets"]}
    EVIDENCE.write_text(json.dumps(evidence, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return evidence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", choices=[*TARGETS, []], default=[])
    parser.add_argument("--max-children", type=int, default=2, help="parallel workers (2)")
    parser.add_argument(
        "--report-only", action="store_true", help="re-read the last runs' results (no run)"
    )
    args = parser.parse_args(argv)
    results = {}
    for name in args.targets or list(TARGETS):
        if args.report_only:  # the run's time and workers are those recorded when it ran
            last = previous(name)
            results[name] = {
                **collect(name, TARGETS[name], STAGE / name, last.get("seconds", 0)),
                "workers": last.get("workers", args.max_children),
            }
        else:
            results[name] = run(name, args.max_children)
        r = results[name]
        rest = r["mutants"] - r["equivalent"]
        rate = 100 * r["killed"] / rest if rest else 100.0
        print(f"{name}: {r['killed']} of {rest} non-equivalent mutants killed ({rate:.1f}%)")
        for s in r["survivors"]:
            if not s["equivalent"]:
                print(f"  {s['status']}: {s['mutant']}: {s['removed']} -> {s['added']}")
    save(results)
    from dev.docs.reliability_page import update_mutation_section

    update_mutation_section(PAGE, json.loads(EVIDENCE.read_text(encoding="utf-8")))
    print(f"wrote {EVIDENCE.relative_to(ROOT)} and the mutation section of docs/reliability.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
