"""An agent's toolbox: its tool descriptions, its Python functions and its MCP servers' tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jackfield._errors import ConfigError, RegistryError

if TYPE_CHECKING:
    from jackfield._config import AgentConfig
    from jackfield._host import Host
    from jackfield._messages import Tool
    from jackfield._tools import Executable

__all__ = ["agent_tools"]


def agent_tools(host: Host, agent: str, config: AgentConfig) -> tuple[Tool | Executable, ...]:
    """The tools of the agent ``agent`` (configured as ``config``) on ``host``: its tool
    descriptions, then its ``functions`` (a plugin's tool by name, or ``module:function``),
    then its ``mcp`` servers' tools (all of a server's, or the ones named ``server:tool``),
    starting those servers. A function that cannot be imported, or a tool a server does not
    have, is a :class:`~jackfield.ConfigError` saying which entry of which agent."""
    from jackfield._tools import load_function

    tools: list[Tool | Executable] = list(config.tools)
    for index, entry in enumerate(config.functions):
        where = f"agent {agent!r}: functions[{index}] {entry!r}"
        if ":" in entry:
            tools.append(load_function(entry, where))
        else:
            try:
                spec = host.registry.tool_spec(entry)
            except RegistryError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            tools.append(load_function(spec.function, f"{where} ({spec.origin})", name=entry))
    wanted: dict[str, set[str] | None] = {}
    for entry in config.mcp:
        server, _, tool = entry.partition(":")
        if tool:
            chosen = wanted.setdefault(server, set())
            if chosen is not None:
                chosen.add(tool)
        else:
            wanted[server] = None  # every tool
    for server, names in wanted.items():
        offered = host.mcp(server).tools()
        if names is not None:
            missing = names - {t.tool.name for t in offered}
            if missing:
                known = ", ".join(t.tool.name for t in offered)
                raise ConfigError(
                    f"agent {agent!r}: MCP server {server!r} has no tool "
                    f"{', '.join(map(repr, sorted(missing)))}; its tools are: {known}"
                )
            offered = tuple(t for t in offered if t.tool.name in names)
        tools.extend(offered)
    return tuple(tools)
