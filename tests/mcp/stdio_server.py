"""A small stdio MCP server for the tests, made with the SDK's MCPServer (FastMCP).

``python stdio_server.py`` speaks MCP on stdin and stdout; it writes a line to stderr first.
"""

from __future__ import annotations

import os
import sys

import anyio
from mcp.server.mcpserver import MCPServer as FastMCP

server = FastMCP("jackfield-test-stdio")


@server.tool()
def pid() -> int:
    """This program's process id."""
    return os.getpid()


@server.tool()
async def sleep(seconds: float) -> str:
    """Wait, then say so."""
    await anyio.sleep(seconds)
    return f"slept {seconds:g} s"


@server.tool()
def environment(name: str) -> str:
    """The value of one of this program's environment variables ("" when it is unset)."""
    return os.environ.get(name, "")


@server.tool()
def die() -> str:
    """Write to stderr and exit at once, without answering."""
    sys.stderr.write("dying on purpose\n")
    sys.stderr.flush()
    os._exit(7)


if __name__ == "__main__":
    sys.stderr.write("stdio test server starting\n")
    sys.stderr.flush()
    server.run("stdio")
