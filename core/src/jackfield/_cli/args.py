"""The command line's parser, and the ``-o``/``--extra`` options it turns into call options.

Building the parser imports nothing but argparse, so ``jackfield --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

__all__ = [
    "PROBE_SECONDS",
    "UsageError",
    "assignments",
    "call_options",
    "parser",
    "positive_seconds",
]


class UsageError(Exception):
    """A command line that cannot be carried out as written."""


def version() -> str:
    """jackfield's version (its installed distribution's), and Python's."""
    import platform
    from importlib.metadata import version as installed

    return f"{installed('jackfield')} (Python {platform.python_version()})"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jackfield",
        description="Talk to any LLM chat backend: providers, models, status, chat.",
        epilog="Configuration: --config FILE, else $JACKFIELD_CONFIG, else the per-user file; "
        "no file is fine (preset instances such as llamacpp, ollama, lmstudio always exist).",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version()}", help="show the version"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("providers", help="installed provider plugins and load problems")

    models = commands.add_parser("models", help="models of some or all reachable instances")
    models.add_argument("instances", nargs="*", help="instances (default: all that answer)")
    models.add_argument("--json", action="store_true", help="JSON output")
    probe_timeout(models)

    for name in ("status", "doctor"):
        status = commands.add_parser(name, help="is each instance reachable? (no tokens spent)")
        status.add_argument("instances", nargs="*", help="instances (default: all)")
        status.add_argument("--json", action="store_true", help="JSON output")
        probe_timeout(status)

    discover = commands.add_parser(
        "discover", help="find servers on the default local ports (or at the given addresses)"
    )
    discover.add_argument(
        "urls", nargs="*", metavar="URL", help="OpenAI-compatible API roots to probe instead"
    )
    discover.add_argument("--timeout", type=positive_seconds, default=1.5, help="seconds per probe")

    chat = commands.add_parser("chat", help="chat with a model or an agent, streamed")
    chat.add_argument("-m", "--model", required=True, help="agent name, or <instance>:<model>")
    chat.add_argument("prompt", nargs="?", help="the message (default: stdin, or interactive)")
    chat.add_argument("-s", "--system", help="a system prompt")
    option_arguments(chat)
    chat.add_argument("--json", action="store_true", help="one JSON fragment per line")
    chat.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    chat.add_argument("--no-thoughts", action="store_true", help="do not show reasoning")

    explain = commands.add_parser(
        "explain", help="an agent's effective options, and where each came from"
    )
    explain.add_argument("agent", help="agent name, or <instance>:<model>")
    option_arguments(explain)

    commands.add_parser("schema", help="print the JSON Schema of the configuration file")
    return parser


PROBE_SECONDS = 10.0
"""How long ``status`` and ``models`` wait for one instance, every request included."""


def probe_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=PROBE_SECONDS,
        metavar="SECONDS",
        help=f"the most each instance may take, all its requests included (default "
        f"{PROBE_SECONDS:g}); instances are asked at the same time",
    )


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return seconds


def option_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a call option, e.g. -o temperature=0.2 (dotted keys nest, values are JSON or text)",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a vendor extra merged into the request body, e.g. --extra cache_prompt=true",
    )


def assignments(items: Sequence[str], flag: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in items:
        key, equals, raw = item.partition("=")
        if not equals or not key:
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        target = result
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise UsageError(f"{flag} {item!r}: {part!r} is already set to a value")
        target[leaf] = value
    return result


def call_options(args: argparse.Namespace) -> dict[str, Any]:
    options = assignments(args.option, "-o")
    extras = assignments(args.extra, "--extra")
    if extras:
        options.setdefault("extra_body", {}).update(extras)
    return options
