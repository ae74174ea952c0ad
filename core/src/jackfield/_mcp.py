"""MCP servers and their tools, reached with the official ``mcp`` SDK.

An :class:`MCPServer` is one configured server (``[mcp.<name>]``): a program started over
stdio, or a streamable-HTTP URL. Making one starts nothing. The first :meth:`~MCPServer.tools`
or call starts the program (or connects), initializes the session and lists the tools, every
page; this happens once, however many threads and tasks ask at the same time. Each tool is an
:class:`MCPTool`, an executable tool a run calls like any other.

One loop for every server: the SDK is async (anyio), and a transport must be opened and closed
by the same task. So every server's session runs on one shared event loop, in a daemon thread
named ``jackfield-mcp`` that starts on first use. Each server has one task on it, which opens
the transport and the session and keeps them open until the server is closed; calls are tasks
of their own beside it, so calls on one server may run at the same time. Sync methods wait for
the loop; async methods await it, and cancelling the caller cancels the call on the loop (the
server is told the call was cancelled).

Stopping: :meth:`MCPServer.close` ends the session. For a program the SDK closes its stdin,
waits 2 s for it to exit, then terminates its process group, and kills it 2 s later. An
``atexit`` hook closes every server still open and stops the loop thread, so no program
outlives the interpreter. A closed server starts again when it is next used.

Failures: a server that will not start, or breaks while in use, raises :class:`MCPError`
naming the server, its command line or URL, the reason, and the last lines the program wrote
to stderr (kept in a temporary file; its environment and headers are never shown). A broken
server stays broken, and raises the same error, until it is closed. A call longer than
``timeout`` is cancelled and raises :class:`ToolError`, as does an error the server answers
instead of a result (an unknown tool, say); the server stays usable.

Results: a ``CallToolResult`` becomes a :class:`ToolOutput`. Its text blocks are joined with
newlines; an image or audio block reads ``[image image/png, 1234 bytes]``; an embedded resource
gives its text, or ``[resource <uri>]``, as does a resource link. ``structuredContent`` is the
output's ``data``, and its JSON is the content when no block was text. ``isError`` is
``is_error``.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import json
import math
import os
import shlex
import tempfile
import threading
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from jackfield._errors import ConfigError, MCPError, ToolError
from jackfield._messages import Tool
from jackfield._tools import ToolOutput

if TYPE_CHECKING:
    import anyio
    from mcp import ClientSession
    from mcp.types import CallToolResult
    from mcp.types import Tool as SDKTool

    from jackfield._config.model import MCPServerConfig
    from jackfield._secret import Scrubber

__all__ = ["MCPServer", "MCPTool"]

T = TypeVar("T")

_STDERR_LINES = 10
"""How many of the last lines of a program's stderr an error shows."""
_STDERR_TAIL_BYTES = 16384
_STDERR_LINE_LIMIT = 300
_CLOSE_TIMEOUT = 10.0
"""Seconds a close waits for a session to end. The SDK's own steps are bounded: 0.5 s to flush,
2 s for the program to exit once its stdin closes, 2 s after SIGTERM, 2 s after SIGKILL."""
_WAIT_MARGIN = 30.0
"""Seconds a sync caller waits beyond the server's own deadlines before it stops waiting."""
_MAX_PAGES = 1000


# --- the shared loop ----------------------------------------------------------------------------


class _LoopThread:
    """The one event loop every MCP session runs on, in a daemon thread made on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._hooked = False
        self.exiting = False

    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started if it is not running (or was made before a fork)."""
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_run_loop, args=(loop,), name="jackfield-mcp", daemon=True
                )
                thread.start()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
                if not self._hooked:
                    atexit.register(_close_all)
                    self._hooked = True
            return self._loop

    def running(self) -> asyncio.AbstractEventLoop | None:
        """The loop if this process started it and it runs, else ``None`` (nothing starts)."""
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                return None
            return self._loop

    def is_current_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def stop(self, timeout: float) -> None:
        """Stop the loop and wait for its thread (tasks still there are cancelled)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None or self._pid != os.getpid():
                return
            self._loop = self._thread = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=_CLOSE_TIMEOUT))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


_LOOP = _LoopThread()
_OPEN: set[MCPServer] = set()
"""Servers with a session (or a start) under way; read and changed on the MCP loop only."""


def _close_all() -> None:
    """Close every server still open and stop the loop thread (the ``atexit`` hook)."""
    _LOOP.exiting = True
    loop = _LOOP.running()
    if loop is None:
        return

    async def close_all() -> None:
        await asyncio.gather(*(server._close() for server in list(_OPEN)), return_exceptions=True)

    with contextlib.suppress(Exception):
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(_CLOSE_TIMEOUT * 2)
    _LOOP.stop(_CLOSE_TIMEOUT)


def _require_mcp(name: str) -> None:
    """Import the SDK, or say how to install it."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise MCPError(
            f"MCP server {name!r} cannot be used: the mcp package is not installed "
            f'(pip install "jackfield[mcp]"; importing it failed: {exc})',
            source=name,
        ) from exc


# --- a program's stderr -------------------------------------------------------------------------


class _StderrLog:
    """Where a program's stderr goes: a temporary file, whose last lines errors show.

    The program appends (the file is opened with ``O_APPEND``); its lines are read through a
    second handle, so reading never moves where the program writes. On POSIX the file has no
    name once both are open.
    """

    def __init__(self) -> None:
        fd, path = tempfile.mkstemp(prefix="jackfield-mcp-", suffix=".stderr")
        os.close(fd)
        self.sink = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._reader = open(path, "rb")  # noqa: SIM115
        self._path: str | None = path
        if os.name != "nt":
            os.unlink(path)
            self._path = None

    def tail(self, lines: int = _STDERR_LINES) -> list[str]:
        """The last non-blank lines written, each cut to a few hundred characters."""
        try:
            size = self._reader.seek(0, os.SEEK_END)
            start = max(0, size - _STDERR_TAIL_BYTES)
            self._reader.seek(start)
            data = self._reader.read()
        except (OSError, ValueError):
            return []
        rows = data.decode("utf-8", "replace").splitlines()
        if start > 0 and rows:
            rows = rows[1:]  # the first line read may be the end of a longer one
        rows = [row.rstrip() for row in rows if row.strip()][-lines:]
        limit = _STDERR_LINE_LIMIT
        return [row if len(row) <= limit else row[: limit - 3] + "..." for row in rows]

    def close(self) -> None:
        for handle in (self.sink, self._reader):
            with contextlib.suppress(OSError):
                handle.close()
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = None


# --- one start of a server ----------------------------------------------------------------------


class _Connection:
    """One start of a server: its task on the MCP loop, then its session and tools, or why it
    failed. Read and changed on the MCP loop only (``ready`` and ``failure`` are also read from
    other threads, for :attr:`MCPServer.started`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ready: asyncio.Future[None] = loop.create_future()
        self.stop = asyncio.Event()
        self.scope: anyio.CancelScope | None = None
        self.task: asyncio.Task[None] | None = None
        self.session: ClientSession | None = None
        self.tools: tuple[MCPTool, ...] = ()
        self.stderr: _StderrLog | None = None
        self.scrubber: Scrubber | None = None
        self.failure: str | None = None
        self.cause: BaseException | None = None

    def fail(self, message: str, cause: BaseException | None = None) -> None:
        """Remember the first failure; later ones are its consequences."""
        if self.failure is None:
            self.failure = message
            self.cause = cause

    def error(self, name: str, tool: str | None = None) -> MCPError:
        assert self.failure is not None
        error = MCPError(self.failure, tool=tool, source=name)
        error.__cause__ = self.cause
        return error


# --- servers and their tools --------------------------------------------------------------------


class MCPServer:
    """One configured MCP server, started lazily, reached with the official mcp SDK.

    Nothing starts when the object is made. :meth:`tools` (or a call) starts the program, or
    connects to the URL, within ``config.startup_timeout`` seconds; each call may take
    ``config.timeout`` seconds. :meth:`close` stops it; a later use starts it again.
    """

    def __init__(self, name: str, config: MCPServerConfig) -> None:
        if (config.command is None) == (config.url is None):
            raise ConfigError(f"MCP server {name!r} needs exactly one of 'command' and 'url'")
        self.name = name
        self.config = config
        self._conn: _Connection | None = None  # changed on the MCP loop only
        self._tools: tuple[MCPTool, ...] | None = None  # set on the MCP loop, read anywhere

    def __repr__(self) -> str:
        state = " started" if self.started else ""
        return f"<MCPServer {self.name!r} {self._where()}{state}>"

    @property
    def started(self) -> bool:
        """Whether the server is running: started, its tools listed, not failed or closed."""
        conn = self._conn
        return conn is not None and conn.ready.done() and conn.failure is None

    # -- public, sync and async

    def tools(self) -> tuple[MCPTool, ...]:
        """The server's tools, listed when it starts (every page; started on first use).

        The list is kept until :meth:`close`, also when the server breaks (its calls then
        raise :class:`MCPError`).
        """
        tools = self._tools
        if tools is not None:
            return tools
        return self._run(self._list(), self.config.startup_timeout)

    async def atools(self) -> tuple[MCPTool, ...]:
        """The server's tools (see :meth:`tools`), without blocking the caller's loop."""
        tools = self._tools
        if tools is not None:
            return tools
        return await self._arun(self._list())

    def call(self, tool: str, arguments: Mapping[str, Any]) -> ToolOutput:
        """Call one of the server's tools (starting the server on first use).

        Raises :class:`ToolError` when the call takes longer than ``config.timeout`` (it is
        cancelled) or the server answers with an error instead of a result, and
        :class:`MCPError` when the server will not start or broke.
        """
        call = self._call(tool, _arguments(arguments))
        return self._run(call, self.config.startup_timeout + self.config.timeout)

    async def acall(self, tool: str, arguments: Mapping[str, Any]) -> ToolOutput:
        """Call one of the server's tools (see :meth:`call`); cancelling the caller cancels
        the call."""
        return await self._arun(self._call(tool, _arguments(arguments)))

    def close(self) -> None:
        """Stop the server: end the session, stop the program (killed if it will not stop
        within a few seconds). Does nothing if it never started; closing twice is fine."""
        if self._conn is None or _LOOP.running() is None or _LOOP.exiting:
            return
        self._run(self._close(), 2 * _CLOSE_TIMEOUT)

    async def aclose(self) -> None:
        """Stop the server (see :meth:`close`), without blocking the caller's loop."""
        if self._conn is None or _LOOP.running() is None or _LOOP.exiting:
            return
        await self._arun(self._close())

    # -- getting onto the loop

    def _run(self, coro: Coroutine[Any, Any, T], bound: float) -> T:
        if _LOOP.is_current_thread():
            coro.close()
            raise RuntimeError(
                f"MCP server {self.name!r} was used with a sync method on the MCP loop's "
                "thread; await the async method (atools, acall, aclose) instead"
            )
        future = asyncio.run_coroutine_threadsafe(coro, self._loop(coro))
        try:
            done, _ = concurrent.futures.wait([future], timeout=bound + _WAIT_MARGIN)
        except BaseException:
            future.cancel()
            raise
        if not done:
            future.cancel()
            raise MCPError(
                f"MCP server {self.name!r} ({self._where()}) did not answer within "
                f"{bound + _WAIT_MARGIN:g} s",
                source=self.name,
            )
        return future.result()

    async def _arun(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop(coro))
        return await asyncio.wrap_future(future)

    def _loop(self, coro: Coroutine[Any, Any, Any]) -> asyncio.AbstractEventLoop:
        if _LOOP.exiting:
            coro.close()
            raise MCPError(
                f"MCP server {self.name!r} cannot be used: the interpreter is exiting",
                source=self.name,
            )
        return _LOOP.loop()

    # -- on the loop

    async def _open(self, tool: str | None = None) -> _Connection:
        """The running connection, started if there is none; raises its failure if it has one
        (naming ``tool``, the tool a call was for)."""
        _require_mcp(self.name)
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is None or conn.loop is not loop:
            conn = self._conn = _Connection(loop)
            conn.task = loop.create_task(self._serve(conn), name=f"jackfield-mcp {self.name}")
            _OPEN.add(self)
        await asyncio.shield(conn.ready)
        if conn.failure is not None:
            raise conn.error(self.name, tool)
        return conn

    async def _list(self) -> tuple[MCPTool, ...]:
        return (await self._open()).tools

    async def _serve(self, conn: _Connection) -> None:
        """The server's task: open the transport and session, list the tools, then keep them
        open until the server is closed."""
        import anyio
        from mcp import ClientSession, Implementation

        config = self.config
        try:
            deadline = anyio.current_time() + config.startup_timeout
            with anyio.CancelScope(deadline=deadline) as scope:
                conn.scope = scope
                async with contextlib.AsyncExitStack() as stack:
                    read, write = await self._connect(stack, conn)
                    session = ClientSession(
                        read,
                        write,
                        client_info=Implementation(name="jackfield", version=_version()),
                    )
                    await stack.enter_async_context(session)
                    await session.initialize()
                    listed = await _list_tools(session)
                    conn.session = session
                    conn.tools = tuple(MCPTool(self, self._tool(entry)) for entry in listed)
                    self._tools = conn.tools
                    scope.deadline = math.inf
                    conn.ready.set_result(None)
                    await conn.stop.wait()
            if not conn.ready.done():
                if conn.stop.is_set():
                    conn.fail(f"MCP server {self.name!r} was closed while it started")
                else:
                    conn.fail(
                        self._message(
                            f"did not start and list its tools within {config.startup_timeout:g} s "
                            "(its startup_timeout)",
                            conn,
                        )
                    )
        except Exception as exc:  # noqa: BLE001 - every failure is kept and raised to the callers
            if not conn.stop.is_set():  # else the noise of a close
                started = conn.ready.done()
                conn.fail(self._message(_reason(exc, config, started=started), conn), exc)
        finally:
            if conn.failure is None and not conn.ready.done():
                conn.fail(f"MCP server {self.name!r} was closed while it started")
            if conn.stderr is not None:
                conn.stderr.close()
            if not conn.ready.done():
                conn.ready.set_result(None)

    async def _connect(self, stack: contextlib.AsyncExitStack, conn: _Connection) -> Any:
        """Open the transport: start the program, or connect to the URL."""
        from jackfield._secret import Scrubber

        config = self.config
        if config.command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            env = {
                key: value.reveal(needed_for=f"the environment of MCP server {self.name!r}")
                for key, value in config.env.items()
            }
            conn.scrubber = Scrubber(env.values())
            cwd = os.path.expanduser(config.cwd) if config.cwd else None
            if cwd is not None and not os.path.isdir(cwd):
                raise _StartError(f"its working directory {cwd!r} (cwd) is not a directory")
            conn.stderr = _StderrLog()
            parameters = StdioServerParameters(
                command=config.command, args=list(config.args), env=env or None, cwd=cwd
            )
            return await stack.enter_async_context(
                stdio_client(parameters, errlog=conn.stderr.sink)
            )

        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        assert config.url is not None
        headers = {
            key: value.reveal(needed_for=f"the headers of MCP server {self.name!r}")
            for key, value in config.headers.items()
        }
        conn.scrubber = Scrubber(headers.values())
        client = httpx2.AsyncClient(
            headers=headers,
            timeout=httpx2.Timeout(30.0, read=300.0),
            trust_env=_proxied(config.url),
            follow_redirects=False,
        )
        await stack.enter_async_context(client)
        return await stack.enter_async_context(
            streamable_http_client(config.url, http_client=client)
        )

    async def _call(self, tool: str, arguments: dict[str, Any]) -> ToolOutput:
        import anyio
        from mcp.shared.exceptions import MCPError as SDKError
        from mcp.types import CONNECTION_CLOSED

        conn = await self._open(tool)
        assert conn.session is not None
        timeout = self.config.timeout
        try:
            with anyio.move_on_after(timeout) as scope:
                result = await conn.session.call_tool(tool, arguments)
        except SDKError as exc:
            if exc.code == CONNECTION_CLOSED:
                raise await self._broken(conn, tool, "the connection closed", exc) from exc
            raise ToolError(
                f"MCP server {self.name!r} answered the call of {tool!r} with an error: "
                f"{self._scrub(conn, exc.message)} (code {exc.code})",
                tool=tool,
                source=self.name,
            ) from exc
        except Exception as exc:
            if conn.failure is not None or conn.task is None or conn.task.done():
                raise await self._broken(conn, tool, _describe(exc), exc) from exc
            raise ToolError(
                f"MCP server {self.name!r}: the call of {tool!r} failed: "
                f"{self._scrub(conn, _describe(exc))}",
                tool=tool,
                source=self.name,
            ) from exc
        if scope.cancelled_caught:
            raise ToolError(
                f"{self.name}__{tool} took longer than {timeout:g} s (the MCP server's timeout) "
                "and was cancelled",
                tool=tool,
                source=self.name,
            )
        return _output(result)

    async def _broken(
        self, conn: _Connection, tool: str, reason: str, cause: BaseException
    ) -> MCPError:
        """The error of a call whose server broke (it stays broken until closed), or was
        closed while the call ran."""
        if conn.stop.is_set() and conn.failure is None:  # closed, not broken
            error = MCPError(
                f"MCP server {self.name!r} was closed while {tool!r} ran",
                tool=tool,
                source=self.name,
            )
            error.__cause__ = cause
            return error
        for _ in range(10):  # a transport that failed may be about to say why
            if conn.failure is not None:
                break
            await asyncio.sleep(0)
        message = f"stopped answering while {tool!r} ran: {reason}"
        conn.fail(self._message(message, conn), cause)  # kept only if the transport said nothing
        conn.stop.set()  # release the transport; the failure stays until close()
        return conn.error(self.name, tool)

    async def _close(self) -> None:
        conn = self._conn
        self._conn = None
        self._tools = None
        _OPEN.discard(self)
        if conn is None or conn.task is None or conn.loop is not asyncio.get_running_loop():
            return  # never started, or started before a fork (the program is the parent's)
        conn.stop.set()
        if not conn.ready.done():
            if conn.scope is not None:
                conn.scope.cancel()
            else:
                conn.task.cancel()
        done, _ = await asyncio.wait({conn.task}, timeout=_CLOSE_TIMEOUT)
        if not done and conn.scope is not None:
            conn.scope.cancel()
            await asyncio.wait({conn.task}, timeout=_CLOSE_TIMEOUT / 2)

    # -- describing

    def _tool(self, entry: SDKTool) -> Tool:
        return Tool(
            name=entry.name,
            description=entry.description or entry.title or "",
            parameters=dict(entry.input_schema),
            source=self.name,
        )

    def _where(self) -> str:
        """``command: <command line>`` or ``url: <url>`` (a password in the URL masked)."""
        config = self.config
        if config.command is not None:
            return "command: " + shlex.join([config.command, *config.args])
        from jackfield._secret import mask_url

        return f"url: {mask_url(config.url or '')}"

    def _message(self, reason: str, conn: _Connection) -> str:
        """The failure's message: the server, where it is, what happened, its stderr's end."""
        text = f"MCP server {self.name!r} ({self._where()}) {reason}"
        lines = conn.stderr.tail() if conn.stderr is not None else []
        if lines:
            text += "\nThe last lines of its stderr:\n" + "\n".join(f"  | {line}" for line in lines)
        return self._scrub(conn, text)

    @staticmethod
    def _scrub(conn: _Connection, text: str) -> str:
        return conn.scrubber.text(text) if conn.scrubber is not None else text


class MCPTool:
    """One tool of an MCP server, as a run calls it (an executable tool).

    ``tool`` is what the model is told: the tool's name, its description (or title), its input
    schema, and the server's name as ``source``.
    """

    __slots__ = ("server", "tool")

    def __init__(self, server: MCPServer, tool: Tool) -> None:
        self.server = server
        self.tool = tool

    def __repr__(self) -> str:
        return f"<MCPTool {self.tool.name!r} of MCP server {self.server.name!r}>"

    def call(self, arguments: Mapping[str, Any]) -> ToolOutput:
        """Call the tool (see :meth:`MCPServer.call`)."""
        return self.server.call(self.tool.name, arguments)

    async def acall(self, arguments: Mapping[str, Any]) -> ToolOutput:
        """Call the tool (see :meth:`MCPServer.acall`)."""
        return await self.server.acall(self.tool.name, arguments)


# --- helpers ------------------------------------------------------------------------------------


class _StartError(Exception):
    """A reason a server cannot start found before the SDK is asked (shown as it is)."""


def _version() -> str:
    """jackfield's version, as the client tells servers."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jackfield")
    except PackageNotFoundError:
        return "unknown"


def _arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(arguments, Mapping):
        raise ValueError(f"arguments must be a JSON object, got {type(arguments).__name__}")
    return dict(arguments)


async def _list_tools(session: ClientSession) -> list[SDKTool]:
    """Every page of the server's tools (none when it says it has no tools)."""
    from mcp.types import PaginatedRequestParams

    capabilities = session.server_capabilities
    if capabilities is not None and capabilities.tools is None:
        return []
    tools: list[SDKTool] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        params = None if cursor is None else PaginatedRequestParams(cursor=cursor)
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor or cursor in seen:
            break
        seen.add(cursor)
    return tools


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or the exception itself."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple) and inner:
        return [leaf for sub in inner for leaf in _leaves(sub)]
    return [exc]


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _reason(exc: BaseException, config: MCPServerConfig, *, started: bool) -> str:
    """Why a server failed, in words, from what was raised."""
    from mcp.shared.exceptions import MCPError as SDKError
    from mcp.types import CONNECTION_CLOSED

    leaves = _leaves(exc)
    leaf = next((e for e in leaves if not isinstance(e, asyncio.CancelledError)), leaves[0])
    verb = "broke while in use" if started else "could not start"
    if isinstance(leaf, _StartError):
        return f"{verb}: {leaf}"
    if isinstance(leaf, ConfigError):
        return f"{verb}: {leaf}"
    if isinstance(leaf, FileNotFoundError) and config.command is not None:
        return (
            f"could not start: the command {config.command!r} was not found. Install the "
            "program, or set the server's 'command' to its full path"
        )
    if isinstance(leaf, PermissionError) and config.command is not None:
        return (
            f"could not start: the command {config.command!r} cannot be run ({leaf.strerror}). "
            "Make it executable, or set the server's 'command' to the right program"
        )
    if isinstance(leaf, SDKError):
        if leaf.code == CONNECTION_CLOSED:
            if config.command is not None:
                return f"{verb}: the connection closed (the program exited, or closed its stdout)"
            return f"{verb}: the connection closed"
        return f"{verb}: it answered with an error: {leaf.message} (code {leaf.code})"
    return f"{verb}: {_describe(leaf)}"


def _output(result: CallToolResult) -> ToolOutput:
    """A tool's result as a :class:`ToolOutput` (see the module's docstring)."""
    parts: list[str] = []
    texts = 0
    for block in result.content:
        kind = getattr(block, "type", None)
        if kind == "text":
            parts.append(block.text)  # type: ignore[union-attr]
            texts += 1
        elif kind in ("image", "audio"):
            size = _decoded_size(getattr(block, "data", ""))
            parts.append(f"[{kind} {getattr(block, 'mime_type', '')}, {size} bytes]")
        elif kind == "resource":
            resource = block.resource  # type: ignore[union-attr]
            text = getattr(resource, "text", None)
            if isinstance(text, str):
                parts.append(text)
                texts += 1
            else:
                parts.append(f"[resource {resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.uri}]")  # type: ignore[union-attr]
        else:
            parts.append(f"[{kind}]")
    data = result.structured_content
    if not texts and data is not None:
        parts.append(json.dumps(data, ensure_ascii=False, default=str))
    return ToolOutput("\n".join(parts), is_error=bool(result.is_error), data=data)


def _decoded_size(data: str) -> int:
    """The size of base64 data once decoded, without decoding it."""
    return len("".join(data.split()).rstrip("=")) * 3 // 4


def _proxied(url: str) -> bool:
    """Whether the proxies the environment names may carry requests to ``url``: never for
    this machine (by the host's spelling, or what it resolves to when a proxy is set), as for
    jackfield's own HTTP: no proxy sees a local server's calls or headers."""
    import urllib.request
    from urllib.parse import urlsplit

    from jackfield.http._security import is_loopback, resolves_to_loopback

    host = urlsplit(url).hostname or ""
    if is_loopback(host):
        return False
    return not (urllib.request.getproxies() and resolves_to_loopback(host))
