"""``jackfield chat`` as people use it: an interactive session on a pseudo-terminal (history,
pastes, blocks, Ctrl-C, slash commands, colour), and conversations continued from the log.

Each session runs the real command as a child whose controlling terminal is the pty, so Ctrl-C
typed there is a real SIGINT, against a scripted loopback server."""

from __future__ import annotations

import base64
import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jackfield._config import user_dir
from jackfield._logs import ConversationLog
from tests.cli.conftest import jackfield
from tests.cli.test_cli import ANSWER, config_for
from tests.support.scripted_server import Pause, Received, Reply, serving

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

SGR = re.compile(rb"\x1b\[[0-9;]*m")  # colour and other character attributes
PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"
UP = b"\x1b[A"
TRICKLE = [piece for _ in range(400) for piece in (ANSWER[1], Pause(0.02))]

# The child makes the pty its controlling terminal (it leads a session of its own), so the
# terminal turns Ctrl-C into SIGINT for it, as a shell's terminal would.
BOOT = (
    "import fcntl, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "from jackfield._cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


class Terminal:
    """``jackfield ARGS`` on a pseudo-terminal: what it shows, and keys typed into it."""

    def __init__(self, *args: str, env: dict[str, str | None] | None = None) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        environment = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, *args],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
            env={k: v for k, v in environment.items() if v is not None},
        )
        os.close(follower)
        self.transcript = b""

    def read(self, seconds: float = 0.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            ready, _, _ = select.select(
                [self.leader], [], [], max(0.0, deadline - time.monotonic())
            )
            if not ready:
                return
            try:
                data = os.read(self.leader, 4096)
            except OSError:  # the child is gone
                return
            if not data:
                return
            self.transcript += data

    def expect(self, marker: bytes, count: int = 1, timeout: float = 15) -> None:
        """Read until ``marker`` has appeared ``count`` times in all."""
        deadline = time.monotonic() + timeout
        while self.transcript.count(marker) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.read(0.2)
                if self.transcript.count(marker) >= count:
                    return
                raise AssertionError(f"no {marker!r} (x{count}) in {self.transcript!r}")
            self.read(0.05)

    def type(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def ends(self, timeout: float = 15) -> int:
        """The exit status, once the child has ended (reading what it still shows)."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.05)
        self.read(0.1)
        return self.process.wait(timeout=1)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.leader)


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def start(*args: str, env: dict[str, str | None] | None = None) -> Terminal:
        opened.append(Terminal(*args, env=env))
        return opened[-1]

    yield start
    for each in opened:
        each.close()


def users(request: Received) -> list[str]:
    """The user messages' texts of a request."""
    body = json.loads(request.body)
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def roles(request: Received) -> list[tuple[str, str]]:
    body = json.loads(request.body)
    return [(m["role"], m["content"]) for m in body["messages"]]


def test_history_pastes_blocks_and_commands_none_of_which_are_sent(
    write_config: Any, terminal: Callable[..., Terminal]
) -> None:
    history = user_dir() / "history"  # this test's own (tests/conftest.py)
    history.write_text("older\nfrom an earlier\\nsession\n", encoding="utf-8")
    with serving([Reply(body=ANSWER)]) as server:
        config = write_config(config_for(server.url))
        chat = terminal("--config", str(config), "chat", "-m", "helper", "--no-log")
        chat.expect(b"you> ")
        chat.type(UP + b"\r")  # the history file's last entry, its two lines whole
        chat.expect(b"you> ", 2)
        chat.type(PASTE_START + b"alpha\nbeta\ngamma" + PASTE_END + b"\r")
        chat.expect(b"you> ", 3)
        chat.type(b"one\ntwo\nthree\n")  # a paste the terminal does not bracket
        chat.expect(b"you> ", 4)
        chat.type(b'"""\r')
        chat.expect(b"... ", 3)  # two were the unbracketed paste's
        chat.type(b"block line 1\r")
        chat.expect(b"... ", 4)
        chat.type(b'\rblock line 3\r"""\r')  # a blank line inside, a line, the end
        chat.expect(b"you> ", 5)
        chat.type(b"/hepl\r")
        chat.expect(b"unknown command /hepl: did you mean /help?")
        chat.type(b"/help\r")
        chat.expect(b"/reset")
        chat.type(UP + UP + UP + b"\r")  # past /help and /hepl: the block, one entry
        chat.expect(b"you> ", 8)
        chat.type(b"exit\r")
        assert chat.ends() == 0
        asked = [users(request)[-1] for request in server.requests]
    assert asked == [
        "from an earlier\nsession",
        "alpha\nbeta\ngamma",
        "one\ntwo\nthree",
        "block line 1\n\nblock line 3",
        "block line 1\n\nblock line 3",
    ]
    assert [len(users(request)) for request in server.requests] == [1, 2, 3, 4, 5]
    assert b"jackfield chat with helper (local:tiny)" in chat.transcript
    assert b'""" on a line of its own starts and ends a block' in chat.transcript
    assert not SGR.search(chat.transcript), chat.transcript  # NO_COLOR: no colour at all
    assert history.read_text(encoding="utf-8").splitlines() == [
        "older",
        "from an earlier\\nsession",
        "alpha\\nbeta\\ngamma",
        "one\\ntwo\\nthree",
        "block line 1\\n\\nblock line 3",
        "/hepl",
        "/help",
        "block line 1\\n\\nblock line 3",
        "exit",
    ]


def test_ctrl_c_stops_the_answer_and_the_session_goes_on(
    write_config: Any, terminal: Callable[..., Terminal]
) -> None:
    answers = iter([Reply(body=ANSWER), Reply(body=TRICKLE), Reply(body=ANSWER)])
    with serving(lambda request: next(answers)) as server:
        config = write_config(config_for(server.url))
        chat = terminal("--config", str(config), "chat", "-m", "helper")
        chat.expect(b"you> ")
        chat.type(b"first\r")
        chat.expect(b"you> ", 2)
        chat.type(b"second\r")
        chat.expect(b"Hello", 4)  # "Hello there." once, then the trickle is streaming
        chat.type(b"\x03")
        chat.expect(b"[interrupted: generation stopped]")
        chat.expect(b"you> ", 3)
        assert server.wait_for(lambda: bool(server.disconnects))
        chat.type(b"third\r")
        chat.expect(b"you> ", 4)
        chat.type(b"half typed")
        chat.expect(b"half typed")
        chat.type(b"\x03")  # clears the line
        chat.expect(b"you> ", 5)
        chat.type(b"\x03")  # on an empty line: says how to leave
        chat.expect(b"Ctrl-C again, Ctrl-D or exit to leave")
        chat.type(b"\x03")
        assert chat.ends() == 0
        third = roles(server.requests[2])
    assert len(server.requests) == 3
    assert third == [
        ("system", "Be brief."),
        ("user", "first"),
        ("assistant", "Hello there."),
        ("user", "third"),
    ]
    assert server.disconnects[0] < 400
    # The log has every turn, the cut one with what arrived and why it ended.
    log = ConversationLog()
    cid = log.last_id()
    assert cid is not None
    turns = log.turns(cid)
    assert [(t.error, t.answer.startswith("Hello")) for t in turns] == [
        (None, True),
        ("cancelled", True),
        (None, True),
    ]
    assert [m.role for m in log.history(cid)] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    log.close()


def test_system_reset_and_save(
    write_config: Any, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)
    with serving([Reply(body=ANSWER)]) as server:
        config = write_config(config_for(server.url))
        chat = terminal("--config", str(config), "chat", "-m", "helper", "-a", str(image))
        chat.expect(b"you> ")
        chat.type(b"/system\r")
        chat.expect(b"system prompt: Be brief.")
        chat.type(b"/system Talk like a pirate.\r")
        chat.expect(b"system prompt set")
        chat.type(b"hi\r")
        chat.expect(b"you> ", 4)
        chat.type(f"/save {tmp_path / 'chat.json'}\r".encode())
        chat.expect(b"(JSON)")
        chat.type(f"/save {tmp_path / 'chat.md'}\r".encode())
        chat.expect(b"(Markdown)")
        chat.type(f"/save {tmp_path / 'nowhere' / 'chat.md'}\r".encode())
        chat.expect(b"cannot save to")
        chat.type(b"/reset\r")
        chat.expect(b"new conversation")
        chat.type(b"hello again\r")
        chat.expect(b"you> ", 9)
        chat.type(b"/exit\r")
        assert chat.ends() == 0
        first, second = (roles(request) for request in server.requests)
    assert b"1 image goes with your first message" in chat.transcript
    picture = {
        "type": "image_url",
        "image_url": {
            "url": "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode()
        },
    }
    hi = [{"type": "text", "text": "hi"}, picture]
    assert first == [("system", "Talk like a pirate."), ("user", hi)]
    assert second == [("system", "Talk like a pirate."), ("user", "hello again")]
    saved = json.loads((tmp_path / "chat.json").read_text(encoding="utf-8"))
    assert saved["model"] == "helper"
    assert saved["system"] == "Talk like a pirate."
    assert saved["messages"] == [
        {"role": "user", "content": hi},
        {"role": "assistant", "content": "Hello there.", "reasoning_content": "Let me think."},
    ]
    markdown = (tmp_path / "chat.md").read_text(encoding="utf-8")
    assert markdown.startswith(
        "# Chat with helper (local:tiny)\n\n## System\n\nTalk like a pirate."
    )
    assert (
        "## You\n\nhi\n\n*[image: image/png, 16 bytes]*\n\n## helper\n\nHello there.\n" in markdown
    )
    log = ConversationLog()
    conversations = log.conversations()
    assert [(c.system, c.turn_count) for c in conversations] == [
        ("Talk like a pirate.", 1),
        ("Talk like a pirate.", 1),
    ]
    log.close()


def test_colour_and_the_waiting_indicator_only_on_a_terminal_that_wants_them(
    write_config: Any, terminal: Callable[..., Terminal]
) -> None:
    slow = Reply(body=ANSWER, header_delay=0.5)
    with serving([slow]) as server:
        config = str(write_config(config_for(server.url)))
        command = ("--config", config, "chat", "-m", "helper", "--no-log", "hi")
        coloured = terminal(*command, env={"NO_COLOR": None})
        assert coloured.ends() == 0
        plain = terminal(*command, "--no-color", env={"NO_COLOR": None})
        dumb = terminal(*command, env={"NO_COLOR": None, "TERM": "dumb"})
        assert (plain.ends(), dumb.ends()) == (0, 0)
    assert b"waiting for helper" in coloured.transcript
    assert b"\x1b[2m[thinking] \x1b[0m" in coloured.transcript
    assert b"Hello there." in coloured.transcript
    for quiet in (plain, dumb):
        assert b"Hello there." in quiet.transcript
        assert b"waiting for" not in quiet.transcript
        assert b"\x1b" not in quiet.transcript, quiet.transcript


# --- conversations continued from the log ------------------------------------------------------


def test_continue_and_cid_carry_the_logged_conversation(write_config: Any) -> None:
    with serving([Reply(body=ANSWER)]) as server:
        config = write_config(config_for(server.url))
        assert (
            jackfield("chat", "-m", "helper", "-s", "Be terse.", "first", config=config).code == 0
        )
        log = ConversationLog()
        cid = log.last_id()
        assert cid is not None
        continued = jackfield("chat", "-c", "second", config=config)  # the conversation's model
        other = jackfield("chat", "-m", "local:other", "unrelated", config=config)
        by_id = jackfield("chat", "--cid", cid, "third", config=config)
        unlogged = jackfield("chat", "--cid", cid, "--no-log", "fourth", config=config)
        peek = jackfield("chat", "--cid", cid, "--dry-run", "peek", config=config)
        unknown = jackfield("chat", "--cid", "nope", "fifth", config=config)
        both = jackfield("chat", "-c", "--cid", cid, "sixth", config=config)
        requests = [roles(r) for r in server.requests]
        turns = [t.prompt[-1]["content"] for t in log.turns(cid)]
        log.close()
    assert (continued.code, other.code, by_id.code, unlogged.code) == (0, 0, 0, 0)
    assert requests[1] == [
        ("system", "Be terse."),
        ("user", "first"),
        ("assistant", "Hello there."),
        ("user", "second"),
    ]
    assert json.loads(server.requests[1].body)["model"] == "tiny"
    assert requests[2] == [("user", "unrelated")]  # a model, not the agent: no system prompt
    assert requests[3][-3:] == [
        ("user", "second"),
        ("assistant", "Hello there."),
        ("user", "third"),
    ]
    assert requests[4][-1] == ("user", "fourth")
    assert len(requests[4]) == 8  # system, three turns, fourth
    assert turns == ["first", "second", "third"]  # --no-log and --dry-run recorded nothing
    assert [m["content"] for m in json.loads(peek.out)["body"]["messages"]][-3:] == [
        "third",
        "Hello there.",
        "peek",
    ]
    assert unknown.code == 2
    assert "no conversation 'nope'" in unknown.err
    assert both.code == 2
    assert "give one" in both.err
    assert len(server.requests) == 5


def test_nothing_is_logged_when_logging_is_off(write_config: Any) -> None:
    (user_dir() / "logs-off").write_text("off\n", encoding="utf-8")
    with serving([Reply(body=ANSWER)]) as server:
        config = write_config(config_for(server.url))
        result = jackfield("chat", "-m", "helper", "hi", config=config)
        again = jackfield("chat", "-c", "hi", config=config)
    assert result.code == 0
    assert not (user_dir() / "logs.db").exists()
    assert again.code == 2
    assert "no conversation is logged yet" in again.err
