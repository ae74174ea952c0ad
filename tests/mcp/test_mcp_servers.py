"""MCP servers through jackfield._mcp: the reference servers (mcp-server-time, mcp-server-git),
a small stdio server and a small streamable-HTTP server made with the SDK (in this folder), and
programs that fail. Every program is started by absolute path and always stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jackfield._config.model import MCPServerConfig
from jackfield._errors import MCPError, ToolError
from jackfield._mcp import MCPServer, MCPTool, _output
from jackfield._secret import Secret
from jackfield._tools import Executable, ToolOutput

HERE = Path(__file__).resolve().parent
BIN = os.path.dirname(sys.executable)
BOUND = 30.0  # seconds any single wait in these tests may take before it fails


def program(name: str) -> str:
    """The absolute path of a console script installed next to this interpreter."""
    path = shutil.which(name, path=BIN)
    assert path, f"{name} is not installed in {BIN} (install it into the test environment)"
    return path


def stdio_server(**options: Any) -> MCPServerConfig:
    """The small stdio server of tests/mcp/stdio_server.py."""
    return MCPServerConfig(command=sys.executable, args=(str(HERE / "stdio_server.py"),), **options)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != b"Z"


def children(marker: str) -> set[int]:
    """This process's live children whose command line contains ``marker`` (Linux /proc)."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != b"Z" and marker.encode() in command:
            found.add(int(entry))
    return found


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what} after {BOUND} s"
        time.sleep(0.02)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def time_server() -> Iterator[MCPServer]:
    server = MCPServer("time", MCPServerConfig(command=program("mcp-server-time")))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def test_server() -> Iterator[MCPServer]:
    server = MCPServer("local", stdio_server(timeout=1.0))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of tests/mcp/http_server.py, started on a free port of 127.0.0.1."""
    folder = tmp_path_factory.mktemp("mcp-http")
    port_file, log_path = folder / "port", folder / "server.log"
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            [sys.executable, str(HERE / "http_server.py"), str(port_file)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    try:

        def port() -> int | None:
            assert child.poll() is None, f"the HTTP server exited: {log_path.read_text()}"
            try:
                return int(port_file.read_text(encoding="ascii"))
            except (OSError, ValueError):
                return None

        wait_until(lambda: port() is not None, "the HTTP server's port")
        number = port()
        assert number is not None

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", number), timeout=2) as sock:
                    sock.sendall(
                        b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    )
                    return sock.recv(16).startswith(b"HTTP/1.1")
            except OSError:
                return False

        wait_until(answers, "the HTTP server to answer")
        yield f"http://127.0.0.1:{number}/mcp"
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)


# --- mcp-server-time ----------------------------------------------------------------------------


def test_tools_of_the_time_server(time_server: MCPServer) -> None:
    tools = time_server.tools()
    by_name = {t.tool.name: t for t in tools}
    assert set(by_name) == {"get_current_time", "convert_time"}
    current = by_name["get_current_time"]
    assert isinstance(current, MCPTool)
    assert isinstance(current, Executable)
    assert current.server is time_server
    assert current.tool.source == "time"
    assert current.tool.description
    assert current.tool.parameters["type"] == "object"
    assert current.tool.parameters["required"] == ["timezone"]
    convert = by_name["convert_time"].tool.parameters
    assert set(convert["required"]) == {"source_timezone", "time", "target_timezone"}
    assert time_server.started
    assert time_server.tools() is tools  # listed once


def check_time(output: ToolOutput, zone: str) -> None:
    assert not output.is_error
    answer = json.loads(output.content)
    assert answer["timezone"] == zone
    moment = dt.datetime.fromisoformat(answer["datetime"])
    assert moment.utcoffset() == moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert output.data == answer  # structuredContent


def test_a_call_gives_the_time(time_server: MCPServer) -> None:
    check_time(time_server.call("get_current_time", {"timezone": "Europe/Paris"}), "Europe/Paris")
    (current,) = [t for t in time_server.tools() if t.tool.name == "get_current_time"]
    check_time(current.call({"timezone": "Asia/Tokyo"}), "Asia/Tokyo")


def test_an_invalid_timezone_is_an_error_result(time_server: MCPServer) -> None:
    output = time_server.call("get_current_time", {"timezone": "Nowhere/Nowhere"})
    assert output.is_error
    assert "Nowhere/Nowhere" in output.content
    assert output.data is None


def test_an_unknown_tool_is_a_tool_error_and_the_server_stays(time_server: MCPServer) -> None:
    with pytest.raises(ToolError) as caught:
        time_server.call("no_such_tool", {})
    assert not isinstance(caught.value, MCPError)
    assert caught.value.tool == "no_such_tool"
    assert caught.value.source == "time"
    assert "no_such_tool" in str(caught.value)
    assert "'time'" in str(caught.value)
    check_time(time_server.call("get_current_time", {"timezone": "UTC"}), "UTC")


def test_async_tools_and_calls(time_server: MCPServer) -> None:
    async def main() -> None:
        tools = await time_server.atools()
        (current,) = [t for t in tools if t.tool.name == "get_current_time"]
        check_time(await current.acall({"timezone": "America/New_York"}), "America/New_York")
        check_time(await time_server.acall("get_current_time", {"timezone": "UTC"}), "UTC")

    asyncio.run(main())


ZONES = [
    "Europe/Paris",
    "Asia/Tokyo",
    "America/New_York",
    "UTC",
    "Australia/Sydney",
    "Africa/Cairo",
    "Europe/London",
    "America/Sao_Paulo",
]


def test_concurrent_calls_in_one_loop(time_server: MCPServer) -> None:
    async def main() -> list[ToolOutput]:
        calls = [time_server.acall("get_current_time", {"timezone": z}) for z in ZONES]
        return await asyncio.wait_for(asyncio.gather(*calls), BOUND)

    for zone, output in zip(ZONES, asyncio.run(main()), strict=True):
        check_time(output, zone)


def test_concurrent_calls_from_threads(time_server: MCPServer) -> None:
    with ThreadPoolExecutor(len(ZONES)) as pool:
        outputs = list(
            pool.map(lambda z: time_server.call("get_current_time", {"timezone": z}), ZONES)
        )
    for zone, output in zip(ZONES, outputs, strict=True):
        check_time(output, zone)


def test_a_server_starts_once_when_many_ask_at_once() -> None:
    command = program("mcp-server-time")
    before = children(command)
    server = MCPServer("time2", MCPServerConfig(command=command))
    barrier = threading.Barrier(6)

    def first_use(_: int) -> Any:
        barrier.wait(BOUND)
        return server.tools()

    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(first_use, range(6)))

        async def more() -> list[Any]:
            return await asyncio.gather(*(server.atools() for _ in range(4)))

        results += asyncio.run(more())
        assert all(r is results[0] for r in results)
        assert len(children(command) - before) == 1
    finally:
        server.close()
    assert children(command) - before == set()


# --- mcp-server-git -----------------------------------------------------------------------------


def test_the_git_server_answers_on_a_repository(tmp_path: Path) -> None:
    git = shutil.which("git")
    assert git, "git is not installed"
    repository = tmp_path / "repository"
    repository.mkdir()
    isolated = {"HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    (repository / "notes.txt").write_text("hello\n", encoding="utf-8")
    for arguments in (
        ["init", "-q"],
        ["add", "notes.txt"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "Add the notes"],
    ):
        subprocess.run([git, *arguments], cwd=repository, env=isolated, check=True, timeout=BOUND)
    config = MCPServerConfig(
        command=program("mcp-server-git"),
        args=("--repository", str(repository)),
        env={key: Secret(value) for key, value in isolated.items()},
        cwd=str(tmp_path),
    )
    server = MCPServer("git", config)
    try:
        names = {t.tool.name for t in server.tools()}
        assert {"git_status", "git_log"} <= names
        status = server.call("git_status", {"repo_path": str(repository)})
        assert not status.is_error
        assert "nothing to commit" in status.content
        log = server.call("git_log", {"repo_path": str(repository)})
        assert not log.is_error
        assert "Add the notes" in log.content
    finally:
        server.close()


# --- streamable HTTP ----------------------------------------------------------------------------


def test_http_tools_calls_and_headers(http_url: str) -> None:
    config = MCPServerConfig(url=http_url, headers={"X-Test-Token": Secret("tok-7f3a9c")})
    server = MCPServer("web", config)
    try:
        assert "tok-7f3a9c" not in repr(server)
        assert http_url in repr(server)
        tools = {t.tool.name: t for t in server.tools()}
        assert set(tools) == {"add", "sleep", "header"}
        assert tools["add"].tool.source == "web"
        assert set(tools["add"].tool.parameters["required"]) == {"a", "b"}
        output = tools["add"].call({"a": 2, "b": 40})
        assert output.content == "42"
        assert not output.is_error
        assert server.call("header", {"name": "X-Test-Token"}).content == "tok-7f3a9c"

        async def concurrently() -> list[ToolOutput]:
            calls = [server.acall("add", {"a": i, "b": i}) for i in range(8)]
            return await asyncio.wait_for(asyncio.gather(*calls), BOUND)

        assert [o.content for o in asyncio.run(concurrently())] == [str(2 * i) for i in range(8)]
    finally:
        server.close()
    assert not server.started


def test_an_http_call_longer_than_the_timeout(http_url: str) -> None:
    server = MCPServer("web", MCPServerConfig(url=http_url, timeout=1.0))
    try:
        with pytest.raises(ToolError) as caught:
            server.call("sleep", {"seconds": 60})
        assert "web__sleep took longer than 1 s" in str(caught.value)
        assert not isinstance(caught.value, MCPError)
        assert server.call("add", {"a": 1, "b": 2}).content == "3"
    finally:
        server.close()


def test_a_url_nobody_listens_on() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, and is closed again
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://user:pa55word@127.0.0.1:{port}/mcp"
    server = MCPServer("gone", MCPServerConfig(url=url, startup_timeout=10.0))
    assert "pa55word" not in repr(server)
    with pytest.raises(MCPError) as caught:
        server.tools()
    message = str(caught.value)
    assert "'gone'" in message
    assert f"127.0.0.1:{port}/mcp" in message
    assert "could not start" in message
    assert "pa55word" not in message
    server.close()


# --- the small stdio server ---------------------------------------------------------------------


def test_a_stdio_call_longer_than_the_timeout(test_server: MCPServer) -> None:
    with pytest.raises(ToolError) as caught:
        test_server.call("sleep", {"seconds": 60})
    assert "local__sleep took longer than 1 s" in str(caught.value)
    assert caught.value.tool == "sleep"
    assert caught.value.source == "local"
    assert test_server.call("sleep", {"seconds": 0}).content == "slept 0 s"


def test_cancelling_an_async_call(test_server: MCPServer) -> None:
    async def main() -> None:
        call = asyncio.ensure_future(test_server.acall("sleep", {"seconds": 0.9}))
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 5)
        assert call.cancelled()
        answer = await asyncio.wait_for(test_server.acall("sleep", {"seconds": 0}), BOUND)
        assert answer.content == "slept 0 s"

    asyncio.run(main())


def test_the_environment_is_minimal_plus_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JACKFIELD_TEST_OUTER", "not passed on")
    config = stdio_server(env={"JACKFIELD_TEST_VALUE": Secret("v4lue")})
    server = MCPServer("env", config)
    try:
        assert server.call("environment", {"name": "JACKFIELD_TEST_VALUE"}).content == "v4lue"
        assert server.call("environment", {"name": "JACKFIELD_TEST_OUTER"}).content == ""
        assert "v4lue" not in repr(server)
    finally:
        server.close()


def test_close_stops_the_program() -> None:
    server = MCPServer("local2", stdio_server())
    assert not server.started
    server.close()  # before any start: nothing to do
    assert not server.started
    pid = int(server.call("pid", {}).content)
    assert alive(pid)
    assert server.started
    server.close()
    assert not server.started
    assert not alive(pid)
    server.close()  # twice is fine


def test_a_program_that_dies_while_in_use_then_a_start_after_close() -> None:
    server = MCPServer("fragile", stdio_server())
    try:
        pid = int(server.call("pid", {}).content)
        with pytest.raises(MCPError) as caught:
            server.call("die", {})
        message = str(caught.value)
        assert "'fragile'" in message
        assert "stopped answering while 'die' ran" in message
        assert "dying on purpose" in message  # its stderr's last lines
        assert caught.value.source == "fragile"
        assert caught.value.tool == "die"
        assert not server.started
        with pytest.raises(MCPError) as again:  # it stays broken until closed
            server.call("pid", {})
        assert str(again.value) == message
        wait_until(lambda: not alive(pid), "the program to be gone")
    finally:
        server.close()
    again_pid = int(server.call("pid", {}).content)  # closed: the next use starts it again
    assert again_pid != pid
    assert alive(again_pid)

    async def close_during_a_call() -> None:
        call = asyncio.ensure_future(server.acall("sleep", {"seconds": 20}))
        await asyncio.sleep(0.3)
        await server.aclose()
        with pytest.raises(MCPError, match="'fragile' was closed while 'sleep' ran"):
            await asyncio.wait_for(call, BOUND)
        await server.aclose()

    asyncio.run(close_during_a_call())
    assert not alive(again_pid)


# --- programs that will not start ---------------------------------------------------------------


def test_nothing_starts_before_use() -> None:
    marker = "jackfield-never-started"
    config = MCPServerConfig(command=sys.executable, args=("-c", "pass", marker))
    server = MCPServer("idle", config)
    assert not server.started
    assert repr(server) == f"<MCPServer 'idle' command: {sys.executable} -c pass {marker}>"
    server.close()
    assert children(marker) == set()
    assert not server.started


def test_a_command_that_does_not_exist() -> None:
    server = MCPServer("missing", MCPServerConfig(command="jackfield-no-such-program-x"))
    with pytest.raises(MCPError) as caught:
        server.tools()
    message = str(caught.value)
    assert "'missing'" in message
    assert "'jackfield-no-such-program-x' was not found" in message
    assert "Install the program" in message
    assert "'command'" in message
    assert caught.value.source == "missing"
    server.close()


def test_a_program_that_exits_at_once() -> None:
    code = "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"
    server = MCPServer("boom", MCPServerConfig(command=sys.executable, args=("-c", code)))
    with pytest.raises(MCPError) as caught:
        server.tools()
    message = str(caught.value)
    assert "'boom'" in message
    assert sys.executable in message
    assert "could not start" in message
    assert "  | boom" in message
    with pytest.raises(MCPError) as again:  # the failure is kept until close
        server.call("anything", {})
    assert str(again.value) == message
    server.close()


def test_a_secret_the_program_prints_is_masked() -> None:
    code = "import os, sys; sys.stderr.write('token=' + os.environ['TOKEN'] + '\\n'); sys.exit(1)"
    config = MCPServerConfig(
        command=sys.executable, args=("-c", code), env={"TOKEN": Secret("s3cr3t-t0ken")}
    )
    server = MCPServer("leaky", config)
    with pytest.raises(MCPError) as caught:
        server.tools()
    assert "token=********" in str(caught.value)
    assert "s3cr3t-t0ken" not in str(caught.value)
    server.close()


def test_a_program_that_never_answers_is_stopped_after_startup_timeout() -> None:
    marker = "jackfield-never-answers"
    code = "import sys, time; sys.stderr.write('waiting forever\\n'); sys.stderr.flush(); time.sleep(60)"
    config = MCPServerConfig(command=sys.executable, args=("-c", code, marker), startup_timeout=1.0)
    server = MCPServer("mute", config)
    with pytest.raises(MCPError) as caught:
        server.tools()
    message = str(caught.value)
    assert "did not start and list its tools within 1 s" in message
    assert "waiting forever" in message
    assert children(marker) == set()  # terminated (it does not exit when stdin closes)
    server.close()


def test_a_cwd_that_is_not_a_directory(tmp_path: Path) -> None:
    config = MCPServerConfig(command=sys.executable, cwd=str(tmp_path / "nowhere"))
    with pytest.raises(MCPError, match=r"working directory .* is not a directory"):
        MCPServer("lost", config).tools()


def test_without_the_mcp_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    server = MCPServer("time", MCPServerConfig(command=program("mcp-server-time")))
    with pytest.raises(MCPError, match=r'pip install "jackfield\[mcp\]"'):
        server.tools()


def test_no_program_outlives_the_interpreter(tmp_path: Path) -> None:
    script = f"""
import sys
from jackfield._config.model import MCPServerConfig
import jackfield._mcp
assert "mcp" not in sys.modules, "importing jackfield._mcp imported mcp"
server = jackfield._mcp.MCPServer(
    "local", MCPServerConfig(command=sys.executable, args=({str(HERE / "stdio_server.py")!r},))
)
print(server.call("pid", {{}}).content, flush=True)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=BOUND, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout)
    assert not alive(pid)


# --- results ------------------------------------------------------------------------------------


def test_what_a_result_becomes() -> None:
    from mcp import types

    result = types.CallToolResult(
        content=[
            types.TextContent(text="first"),
            types.ImageContent(data="aGVsbG8=", mime_type="image/png"),
            types.AudioContent(data="AAAA", mime_type="audio/wav"),
            types.EmbeddedResource(
                resource=types.TextResourceContents(uri="file:///a.txt", text="inside")
            ),
            types.EmbeddedResource(
                resource=types.BlobResourceContents(uri="file:///b.bin", blob="AAAA")
            ),
            types.ResourceLink(uri="file:///c.txt", name="c"),
            types.TextContent(text="last"),
        ],
        structured_content={"n": 1},
    )
    output = _output(result)
    assert output.content == (
        "first\n[image image/png, 5 bytes]\n[audio audio/wav, 3 bytes]\ninside\n"
        "[resource file:///b.bin]\n[resource file:///c.txt]\nlast"
    )
    assert output.data == {"n": 1}
    assert not output.is_error

    only_data = _output(types.CallToolResult(content=[], structured_content={"é": [1, 2]}))
    assert only_data == ToolOutput('{"é": [1, 2]}')
    assert only_data.data == {"é": [1, 2]}

    failed = _output(types.CallToolResult(content=[types.TextContent(text="no")], is_error=True))
    assert failed == ToolOutput("no", is_error=True)
    assert failed.data is None


def test_an_http_server_on_this_machine_is_never_reached_through_a_proxy(
    http_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.scripted_server import Reply, serving

    with serving([Reply(status=502, headers={"content-type": "text/plain"})]) as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        token = Secret("tok-9b1e")
        server = MCPServer("web", MCPServerConfig(url=http_url, headers={"X-Test-Token": token}))
        try:
            assert server.call("add", {"a": 1, "b": 2}).content == "3"
        finally:
            server.close()
    assert proxy.requests == []  # neither the call nor its token went to the proxy
