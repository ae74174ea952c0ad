"""A small streamable-HTTP MCP server for the tests, made with the SDK's MCPServer (FastMCP).

``python http_server.py PORT_FILE`` listens on 127.0.0.1 on a free port, writes the port to
``PORT_FILE``, and serves ``/mcp`` until it is terminated.
"""

from __future__ import annotations

import socket
import sys

import anyio
import uvicorn
from mcp.server.mcpserver import Context
from mcp.server.mcpserver import MCPServer as FastMCP

server = FastMCP("jackfield-test-http")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
async def sleep(seconds: float) -> str:
    """Wait, then say so."""
    await anyio.sleep(seconds)
    return f"slept {seconds:g} s"


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of one header of the HTTP request that carried this call."""
    return (ctx.headers or {}).get(name.lower(), "")


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    with open(sys.argv[1], "w", encoding="ascii") as out:
        out.write(str(sock.getsockname()[1]))
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
