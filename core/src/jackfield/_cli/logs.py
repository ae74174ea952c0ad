"""``jackfield logs``: the conversations remembered (list, show, search), and logging on or off.

The parser part imports nothing but argparse (``jackfield --help`` stays instant); the command
imports the log (and sqlite3) when it runs. Everything goes through the command line's safe
writers: what models said never steers the terminal.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from jackfield._logs import ConversationInfo, ConversationLog, LoggedTurn

__all__ = ["add_logs_parser", "cmd_logs"]

OK, USAGE = 0, 2  # as in jackfield._cli.report (which this module cannot import: args does)
COUNT = 10
PREVIEW = 60  # characters of a conversation's first prompt in a listing


def count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return number


def _listing(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-n``, ``--model`` (listing) and ``--json``; on an action's parser they default to
    nothing, so a value given before the action (``logs --json list``) stands."""
    parser.add_argument(
        "-n",
        "--count",
        type=count,
        default=COUNT if top else argparse.SUPPRESS,
        metavar="N",
        help=f"how many conversations (default {COUNT})",
    )
    parser.add_argument(
        "--model",
        metavar="M",
        default=None if top else argparse.SUPPRESS,
        help="only conversations with a model whose name contains M",
    )
    _json_flag(parser, top=top)


def _json_flag(parser: argparse.ArgumentParser, *, top: bool) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="JSON output (see the docs for its shape)",
    )


def add_logs_parser(commands: Any) -> None:
    """Add ``logs`` and its actions to the command line's subparsers ``commands``."""
    logs = commands.add_parser(
        "logs",
        help="conversations remembered: list, show, search; logging on or off",
        description="Every chat turn is logged (unless --no-log, or `jackfield logs off`) in "
        "one SQLite file in the per-user directory. Without an action: list the newest "
        "conversations.",
    )
    _listing(logs, top=True)
    actions = logs.add_subparsers(dest="logs_action", metavar="ACTION")
    _listing(actions.add_parser("list", help="the newest conversations (the default)"), top=False)
    show = actions.add_parser("show", help="a conversation as a transcript")
    show.add_argument("id", metavar="ID", help="a conversation id, or latest")
    _json_flag(show, top=False)
    search = actions.add_parser(
        "search", help="conversations whose prompts or answers hold every word"
    )
    search.add_argument("text", nargs="+", metavar="TEXT", help="words to look for")
    search.add_argument(
        "-n", "--count", type=count, default=argparse.SUPPRESS, metavar="N", help="how many"
    )
    _json_flag(search, top=False)
    for name, help in (
        ("path", "where the log is"),
        ("status", "whether logging is on, and how much is logged"),
        ("on", "log conversations (the default)"),
        ("off", "log nothing until `jackfield logs on` (what is logged stays)"),
    ):
        _json_flag(actions.add_parser(name, help=help), top=False)


def cmd_logs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from jackfield._logs import ConversationLog

    action = args.logs_action or "list"
    with ConversationLog() as log:
        if action in ("path", "status", "on", "off"):
            return _settings(action, log, args, out)
        if action == "show":
            return _show(log, log.resolve(args.id), args, out)
        if action == "search":
            return _search(log, " ".join(args.text), args, out, err)
        listed = log.conversations(args.count, model=args.model)
        if args.json:
            _write_json(out, [info.to_json() for info in listed])
            return OK
        for info in listed:
            out.write(_row(info) + "\n")
        if not listed:
            _nothing(log, err, "matches" if args.model else "is logged yet")
    return OK


def _settings(action: str, log: ConversationLog, args: argparse.Namespace, out: TextIO) -> int:
    from jackfield._logs import logging_enabled, set_logging

    if action == "path":
        out.write(json.dumps({"path": str(log.path)}) + "\n" if args.json else f"{log.path}\n")
        return OK
    if action in ("on", "off"):
        set_logging(action == "on")
    enabled = logging_enabled()
    conversations, turns = log.stats()
    if args.json:
        _write_json(
            out,
            {
                "enabled": enabled,
                "path": str(log.path),
                "conversations": conversations,
                "turns": turns,
            },
        )
        return OK
    held = f"{_plural(conversations, 'conversation')}, {_plural(turns, 'turn')} in {log.path}"
    if action == "on":
        out.write(f"logging is on: each chat turn is logged ({held})\n")
    elif action == "off":
        out.write(f"logging is off until `jackfield logs on` ({held}, kept)\n")
    else:
        out.write(f"logging is {'on' if enabled else 'off'}; {held}\n")
    return OK


def _search(
    log: ConversationLog, text: str, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    if not text.split():
        err.write("jackfield: logs search needs words to look for\n")
        return USAGE
    hits = log.search(text, args.count)
    if args.json:
        _write_json(out, [hit.to_json() for hit in hits])
        return OK
    for hit in hits:
        out.write(f"{_row(hit.conversation)}\n    turn {hit.turn}: {hit.excerpt}\n")
    if not hits:
        _nothing(log, err, "matches")
    return OK


def _show(log: ConversationLog, cid: str, args: argparse.Namespace, out: TextIO) -> int:
    info, turns = log.conversation(cid), log.turns(cid)
    if args.json:
        _write_json(out, {**info.to_json(), "turns": [turn.to_json() for turn in turns]})
        return OK
    out.write(
        f"# conversation {info.id}, {info.model}, started {_time(info.started, seconds=True)}\n"
    )
    if info.system:
        out.write(f"system: {info.system}\n")
    for turn in turns:
        out.write("\n" + "\n".join(_transcript(turn)) + "\n")
    return OK


def _transcript(turn: LoggedTurn) -> list[str]:
    served = f" ({turn.response_model})" if turn.response_model else ""
    lines = [f"## turn {turn.seq}, {_time(turn.created, seconds=True)}, {turn.model}{served}"]
    lines += [_message(message) for message in turn.prompt]
    if turn.thoughts:
        lines.append(f"[thinking] {turn.thoughts}")
    if turn.answer or not (turn.tool_calls or turn.error):
        lines.append(f"assistant: {turn.answer}")
    for call in turn.tool_calls:
        function = call.get("function") or {}
        source = f"{call['source']}/" if call.get("source") else ""
        lines.append(
            f"[tool call {call.get('id')}] {source}{function.get('name')}"
            f"({function.get('arguments', '')})"
        )
    facts = []
    if turn.error is not None:
        facts.append(f"error: {turn.error}")
    if turn.finish_reason is not None:
        facts.append(f"finish: {turn.finish_reason}")
    usage = turn.usage or {}
    if usage.get("completion_tokens") is not None:
        facts.append(
            f"{usage.get('prompt_tokens')} prompt + {usage['completion_tokens']} completion tokens"
        )
    if turn.options:
        facts.append("options: " + json.dumps(turn.options, ensure_ascii=False))
    if facts:
        lines.append("[" + " | ".join(facts) + "]")
    return lines


def _message(message: Any) -> str:
    role = message.get("role", "?")
    content = message.get("content")
    if role == "tool":
        return f"tool ({message.get('tool_call_id')}): {content}"
    if role == "assistant":
        return f"assistant: {content}"
    if isinstance(content, list):
        parts = []
        for part in content:
            if part.get("type") == "text":
                parts.append(part.get("text", ""))
            else:
                url = str((part.get("image_url") or {}).get("url", ""))
                shown = url.split(",", 1)[0] + ",..." if url.startswith("data:") else url
                parts.append(f"[image {shown}]")
        content = " ".join(parts)
    return f"{role}: {content}"


def _row(info: ConversationInfo) -> str:
    preview = info.preview
    if len(preview) > PREVIEW:
        preview = preview[: PREVIEW - 1] + "…"
    return f"{info.id}  {_time(info.updated)}  {info.model:<20}  {preview}".rstrip()


def _time(stamp: str, *, seconds: bool = False) -> str:
    """A stored UTC time as local time."""
    from datetime import datetime

    try:
        local = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return stamp
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _nothing(log: ConversationLog, err: TextIO, what: str) -> None:
    from jackfield._logs import logging_enabled

    state = "" if logging_enabled() else "; logging is off (`jackfield logs on`)"
    err.write(f"no conversation {what} ({log.path}){state}\n")


def _write_json(out: TextIO, data: Any) -> None:
    out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
