"""The command line's parser, and the ``-o``/``--extra`` options it turns into call options.

Building the parser imports nothing but argparse, so ``jackfield --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from jackfield._cli.logs import add_logs_parser

__all__ = [
    "PROBE_SECONDS",
    "UsageError",
    "assignments",
    "call_options",
    "flag_for",
    "parser",
    "positive_seconds",
]


class UsageError(Exception):
    """A command line that cannot be carried out as written."""


class _Version(argparse.Action):
    """``--version``: the version is read when asked for (``importlib.metadata`` costs ~20 ms,
    which ``jackfield --help`` and every command would otherwise pay)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        import sys

        sys.stdout.write(f"{parser.prog} {version()}\n")  # on stdout, as argparse's own
        parser.exit()


def version() -> str:
    """jackfield's version (its installed distribution's), and Python's."""
    import platform
    from importlib.metadata import version as installed

    return f"{installed('jackfield')} (Python {platform.python_version()})"


class _Parser(argparse.ArgumentParser):
    """argparse with a did-you-mean for commands: ``jackfield chta`` says "unknown command
    'chta'; did you mean 'chat'?" (exit 2), for subcommands too (``jackfield logs shwo``)."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            import difflib

            visible = [name for name in action.choices if not name.startswith("_")]
            close = difflib.get_close_matches(value, visible, n=1)
            hint = (
                f"; did you mean {close[0]!r}?" if close else f" (commands: {', '.join(visible)})"
            )
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        super()._check_value(action, value)


def global_flags(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """``--config`` and ``--verbose`` (each unless ``parser`` has a flag of that spelling).
    After a command they default to nothing at all (``SUPPRESS``), so they only set what is
    given and never undo a flag given before it."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if after_command else {}
    taken = parser._option_string_actions
    if "--config" not in taken:
        parser.add_argument("--config", metavar="FILE", help="configuration file (TOML)", **default)
    flags = [flag for flag in ("--verbose", "-v") if flag not in taken]
    if "--verbose" in flags:  # "-v" alone may mean something else to a command
        parser.add_argument(*flags, action="store_true", help="show tracebacks", **default)


def _everywhere(parser: argparse.ArgumentParser) -> None:
    """Give every command (and subcommand) the global flags it does not define itself."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in {id(p): p for p in action.choices.values()}.values():  # aliases once
            global_flags(sub, after_command=True)
            _everywhere(sub)


def parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jackfield",
        description="Talk to any LLM chat backend: providers, models, status, chat.",
        epilog="Configuration: --config FILE, else $JACKFIELD_CONFIG, else the per-user file; "
        "no file is fine (preset instances such as llamacpp, ollama, lmstudio always exist).",
    )
    global_flags(parser, after_command=False)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("providers", help="installed provider plugins and load problems")

    models = commands.add_parser(
        "models",
        help="models of some or all reachable instances; `models default [NAME]` shows or sets "
        "the model used without -m",
    )
    models.add_argument(
        "instances",
        nargs="*",
        help="instances (default: those configured, and ready-made ones that answer); or "
        "`default` [NAME]: show the default model, or set it to an agent or <instance>:<model>",
    )
    models.add_argument("--json", action="store_true", help="JSON output")
    models.add_argument("--all", action="store_true", help="say why each other instance is absent")
    models.add_argument("--clear", action="store_true", help="with `default`: forget the default")
    probe_timeout(models)

    for name in ("status", "doctor"):
        status = commands.add_parser(name, help="is each instance reachable? (no tokens spent)")
        status.add_argument(
            "instances",
            nargs="*",
            help="instances (default: those configured, and ready-made ones that answer)",
        )
        status.add_argument("--json", action="store_true", help="JSON output")
        status.add_argument(
            "--all", action="store_true", help="every ready-made instance too, with its state"
        )
        probe_timeout(status)

    keys = commands.add_parser("keys", help="API keys stored by name (never shown)")
    actions = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    stored = actions.add_parser(
        "set", help="store a key, read from a hidden prompt (or stdin), for the instance NAME"
    )
    stored.add_argument("name", metavar="NAME", help="the instance (or preset) using the key")
    actions.add_parser("list", help="the names of the stored keys (never their values)")
    removed = actions.add_parser("remove", help="forget a stored key")
    removed.add_argument("name", metavar="NAME", help="the key's name")
    actions.add_parser("path", help="where the keys file is")

    discover = commands.add_parser(
        "discover", help="find servers on the default local ports (or at the given addresses)"
    )
    discover.add_argument(
        "urls", nargs="*", metavar="URL", help="OpenAI-compatible API roots to probe instead"
    )
    discover.add_argument("--timeout", type=positive_seconds, default=1.5, help="seconds per probe")

    chat = commands.add_parser("chat", help="chat with a model or an agent, streamed")
    chat.add_argument(
        "-m",
        "--model",
        help="agent name, or <instance>:<model> (default: the default model, see "
        "`jackfield models default`; continuing: the conversation's)",
    )
    chat.add_argument("prompt", nargs="?", help="the message (default: stdin, or interactive)")
    chat.add_argument("-s", "--system", help="a system prompt (instead of the agent's)")
    chat.add_argument(
        "-a",
        "--attach",
        action="append",
        metavar="IMAGE",
        help="an image to send with the message: a file, an http(s) URL, or - for stdin "
        "(then the prompt is an argument); repeatable",
    )
    chat.add_argument(
        "--schema",
        metavar="SCHEMA",
        help="ask for JSON following a schema and check the answer: a JSON Schema (inline, "
        "@FILE or FILE.json) or fields such as 'name, age int, height float: in metres'",
    )
    chat.add_argument(
        "-T",
        "--tool",
        dest="tools",
        action="append",
        metavar="TOOL",
        help="a tool for this run: an [mcp.NAME] server (NAME:TOOL for one of its tools), a "
        "plugin's tool (jackfield tools), or MODULE:FUNCTION / FILE.py:FUNCTION; repeatable",
    )
    chat.add_argument(
        "--no-tools", action="store_true", help="offer no tools (not even the agent's)"
    )
    chat.add_argument(
        "--approve",
        action="store_true",
        help="ask before each tool call runs (on the terminal)",
    )
    chat.add_argument(
        "-c",
        "--continue",
        dest="cont",
        action="store_true",
        help="continue the newest conversation",
    )
    chat.add_argument("--cid", metavar="ID", help="continue the conversation ID (jackfield logs)")
    chat.add_argument("--no-log", action="store_true", help="do not log this conversation")
    option_arguments(chat)
    chat.add_argument("--json", action="store_true", help="one JSON fragment per line")
    chat.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    chat.add_argument("--no-thoughts", action="store_true", help="do not show reasoning")
    chat.add_argument(
        "--no-color", action="store_true", help="no colour and no waiting indicator (as NO_COLOR)"
    )

    explain = commands.add_parser(
        "explain", help="an agent's effective options, and where each came from"
    )
    explain.add_argument("agent", help="agent name, or <instance>:<model>")
    option_arguments(explain)

    commands.add_parser("schema", help="print the JSON Schema of the configuration file")
    tools = commands.add_parser(
        "tools", help="Python tools from plugins, MCP servers, and the agents' tools"
    )
    tools.add_argument("server", nargs="?", help="an MCP server: start it and list its tools")
    tools.add_argument("--json", action="store_true", help="as JSON")
    add_logs_parser(commands)
    add_embed_parser(commands)
    add_completion_parsers(commands)
    _everywhere(parser)  # last: every command added above gets the global flags
    return parser


def add_embed_parser(commands: argparse._SubParsersAction[Any]) -> None:
    embed = commands.add_parser(
        "embed",
        help="embedding vectors for texts (the arguments, else one per line of stdin)",
        description="Print one JSON array of numbers per text, in the order given. The texts "
        "are the arguments, else the lines of stdin (empty lines skipped).",
    )
    embed.add_argument(
        "-m",
        "--model",
        required=True,
        help="agent name, or <instance>:<model> (an embedding model)",
    )
    embed.add_argument("texts", nargs="*", metavar="TEXT", help="texts to embed (default: stdin)")
    option_arguments(embed)
    embed.add_argument(
        "--json",
        action="store_true",
        help="one JSON object with every vector, the model and the token usage",
    )


def add_completion_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description='Print the completion script of a shell. bash: eval "$(jackfield '
        'completion bash)" in ~/.bashrc; zsh: eval "$(jackfield completion zsh)" in ~/.zshrc '
        "(after compinit); fish: jackfield completion fish > "
        "~/.config/fish/completions/jackfield.fish.",
    )
    completion.add_argument("shell", choices=("bash", "fish", "zsh"), help="the shell")
    # Hidden (no help): what the scripts call at each Tab.
    complete = commands.add_parser("__complete", add_help=False)
    complete.add_argument("words", nargs=argparse.REMAINDER)


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


def flag_for(path: Sequence[str | int], args: argparse.Namespace) -> str | None:
    """The ``-o``/``--extra`` argument that set the call option at ``path`` (as typed:
    ``-o max_tokens=lots``), so errors name the flag rather than the option's JSON path."""
    given: list[tuple[str, str, tuple[str, ...]]]
    given = [("-o", item, ()) for item in getattr(args, "option", None) or []]
    given += [("--extra", item, ("extra_body",)) for item in getattr(args, "extra", None) or []]
    for flag, item, prefix in reversed(given):  # the last one given wins, as it does when set
        key = (*prefix, *item.partition("=")[0].split("."))
        size = min(len(key), len(path))
        if tuple(path[:size]) == key[:size]:
            return f"{flag} {item}"
    return None


def call_options(args: argparse.Namespace) -> dict[str, Any]:
    options = assignments(args.option, "-o")
    extras = assignments(args.extra, "--extra")
    if extras:
        options.setdefault("extra_body", {}).update(extras)
    return options
