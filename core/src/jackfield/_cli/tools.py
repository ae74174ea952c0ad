"""Tools on the command line: ``jackfield tools``, what ``-T`` names, and how a run shows them.

``-T`` (``--tool``, repeatable) adds tools to one chat: a configured MCP server (``time``, or
``time:get_current_time`` for one of its tools), a tool a plugin registered (``jackfield tools``
lists them), or a Python function (``package.module:function``, or ``path/to/file.py:function``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from jackfield._cli.args import UsageError
from jackfield._cli.report import FAILED, OK
from jackfield._cli.survey import load_host

if TYPE_CHECKING:
    from jackfield._cli.style import Style
    from jackfield._fragments import ToolCall, ToolResult
    from jackfield._host import Host
    from jackfield._specs import ToolSpec
    from jackfield._tools import ToolLike

__all__ = ["approve_on_terminal", "cmd_tools", "show_call", "show_result", "tools_for"]

SHOWN = 200
"""Characters of a tool's result shown in a chat (``--json`` shows it whole)."""


def tools_for(host: Host, given: Iterable[str]) -> list[ToolLike]:
    """The tools ``-T`` names, in order; a :class:`UsageError` saying what each may be."""
    from jackfield._tools import load_function

    found: list[ToolLike] = []
    for entry in given:
        server, _, tool = entry.partition(":")
        if server in host.config.mcp:
            offered = host.mcp(server).tools()
            if tool:
                chosen = [t for t in offered if t.tool.name == tool]
                if not chosen:
                    names = ", ".join(t.tool.name for t in offered)
                    raise UsageError(f"-T {entry}: {server!r} has no tool {tool!r}; it has {names}")
                offered = tuple(chosen)
            found.extend(offered)
        elif ":" not in entry and entry in host.registry.tool_names():
            spec = host.registry.tool_spec(entry)
            found.append(load_function(spec.function, f"-T {entry} ({spec.origin})", name=entry))
        elif ":" in entry:
            found.append(_function(entry))
        else:
            raise UsageError(_unknown(host, entry))
    return found


def _function(entry: str) -> ToolLike:
    """``module:function`` or ``file.py:function``."""
    import importlib.util
    from pathlib import Path

    from jackfield._errors import ConfigError
    from jackfield._tools import FunctionTool, load_function

    where, _, name = entry.rpartition(":")
    if not where.endswith(".py"):
        try:
            return load_function(entry, f"-T {entry}")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    path = Path(where).expanduser()
    if not path.is_file():
        raise UsageError(f"-T {entry}: no such file {str(path)!r}")
    spec = importlib.util.spec_from_file_location(f"jackfield_tools_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"-T {entry}: {path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - whatever the file does wrong, say where
        raise UsageError(
            f"-T {entry}: {path} failed to load: {type(exc).__name__}: {exc}"
        ) from None
    function = getattr(module, name, None)
    if isinstance(function, FunctionTool):
        return function
    if not callable(function):
        raise UsageError(f"-T {entry}: {path} has no function {name!r}")
    return FunctionTool(function)


def _unknown(host: Host, entry: str) -> str:
    import difflib

    known = [*host.mcp_names(), *host.registry.tool_names()]
    close = difflib.get_close_matches(entry, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = f" (known: {', '.join(known)})" if known and not close else ""
    return (
        f"-T {entry}: not an MCP server of the configuration nor a plugin's tool{hint}{listing}; "
        "a Python function is written MODULE:FUNCTION or FILE.py:FUNCTION"
    )


# --- showing a run -------------------------------------------------------------------------------


def _name(call: ToolCall | ToolResult) -> str:
    return f"{call.source}__{call.name}" if call.source else call.name


def show_call(err: TextIO, style: Style, call: ToolCall) -> None:
    """One line for a call: ``⚙ time__get_current_time({"timezone": "Asia/Tokyo"})``."""
    arguments = call.arguments if len(call.arguments) <= SHOWN else call.arguments[:SHOWN] + "…"
    style.write(err, f"⚙ {_name(call)}({arguments})\n", "cyan")


def show_result(err: TextIO, style: Style, result: ToolResult) -> None:
    """One line for a result (``→ ...``), cut to :data:`SHOWN` characters; red if it failed."""
    text = " ".join(result.content.split())
    if len(text) > SHOWN:
        text = f"{text[:SHOWN]}… ({len(result.content)} characters)"
    style.write(err, f"  → {text or '(empty)'}\n", "red" if result.is_error else "dim")


def approve_on_terminal(err: TextIO) -> Any:
    """An approval function that asks on the terminal (``/dev/tty``) before each call; with no
    terminal every call is refused (saying so)."""

    def approve(call: ToolCall) -> bool | str:
        try:
            with open("/dev/tty", "r+", encoding="utf-8") as tty:
                tty.write(f"run {_name(call)}({call.arguments})? [y/N] ")
                tty.flush()
                answer = tty.readline().strip().lower()
        except OSError:
            err.write(f"jackfield: no terminal to ask on: {_name(call)} refused\n")
            return "no one could approve it"
        return True if answer in ("y", "yes") else "the user said no"

    return approve


# --- jackfield tools ------------------------------------------------------------------------------


def cmd_tools(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``jackfield tools``: the plugins' tools, the configured MCP servers, the agents' tools;
    ``jackfield tools SERVER`` starts that server and lists its tools."""
    host = load_host(args)
    with host:
        if args.server:
            return _server_tools(host, args.server, args.json, out, err)
        plugins = [(n, s) for n in host.registry.tool_names() if (s := _spec(host, n, err))]
        if args.json:
            data = {
                "tools": [
                    {"name": n, "description": s.description, "plugin": s.plugin}
                    for n, s in plugins
                ],
                "mcp": {
                    name: {"command": c.command, "args": list(c.args), "url": c.url}
                    for name, c in sorted(host.config.mcp.items())
                },
            }
            out.write(json.dumps(data, indent=2) + "\n")
            return OK
        out.write("Python tools from plugins:\n" if plugins else "No plugin ships Python tools.\n")
        for name, spec in plugins:
            out.write(f"  {name:<20} {spec.description}  ({spec.origin})\n")
        servers = sorted(host.config.mcp.items())
        out.write("MCP servers:\n" if servers else "No MCP server is configured ([mcp.NAME]).\n")
        for name, config in servers:
            where = config.url or " ".join([config.command or "", *config.args])
            out.write(f"  {name:<20} {where}\n")
        for name in host.agent_names():
            agent = host.config.agents[name]
            parts = [
                *(t.name for t in agent.tools),
                *agent.functions,
                *(f"mcp:{m}" for m in agent.mcp),
            ]
            if parts:
                out.write(f"agent {name}: {', '.join(parts)}\n")
        return OK


def _spec(host: Host, name: str, err: TextIO) -> ToolSpec | None:
    """The plugin tool ``name``; ``None`` (said on ``err``) when two plugins claim it."""
    from jackfield._errors import RegistryError

    try:
        return host.registry.tool_spec(name)
    except RegistryError as exc:  # neither is used
        err.write(f"jackfield: {exc}\n")
        return None


def _server_tools(host: Host, name: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    from jackfield._errors import ToolError

    try:
        tools = host.mcp(name).tools()
    except ToolError as exc:
        err.write(f"jackfield: {exc}\n")
        return FAILED
    if as_json:
        data = [
            {
                "name": t.tool.name,
                "description": t.tool.description,
                "parameters": t.tool.parameters,
            }
            for t in tools
        ]
        out.write(json.dumps(data, indent=2) + "\n")
        return OK
    for item in tools:
        summary = " ".join(item.tool.description.split())
        if len(summary) > 100:
            summary = summary[:99] + "…"
        out.write(f"{name}__{item.tool.name:<24} {summary}\n")
    return OK
