"""``jackfield logs``: list, show, search, path, on/off/status, run as a subprocess on a log
written here (each test has its own per-user directory, which the command inherits)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from jackfield._fragments import ToolCall
from jackfield._logs import VERSION, ConversationLog
from jackfield._response import Response
from jackfield.testing import reply_fragments
from tests.cli.conftest import jackfield

ID = r"[0-9a-z]{14}"
MINUTE = r"\d{4}-\d\d-\d\d \d\d:\d\d"
SECOND = MINUTE + r":\d\d"


def home() -> Path:
    return Path(os.environ["JACKFIELD_HOME"])


def answer(text: str, **kwargs: object) -> Response:
    return Response.fold(reply_fragments(text, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def logged() -> dict[str, str]:
    """Two conversations in the user's log: a geography one (two turns, the second
    cancelled), then a newer one with a tool call; their ids."""
    log = ConversationLog()
    geo = log.start("geo", system="Be brief.")
    log.record(
        geo,
        model="geo",
        prompt=[{"role": "user", "content": "What is the capital of France?"}],
        response=answer("Paris.", thoughts="Easy one.", model="tiny-q4"),
        options={"temperature": 0, "api_key": "sk-never-shown-1234"},
    )
    log.record(
        geo,
        model="geo",
        prompt=[{"role": "user", "content": "And of Spain?"}],
        response=answer("Mad"),
        options={},
        error="cancelled",
    )
    tools = log.start("ollama:qwen3:8b")
    call = ToolCall("call_1", "weather", '{"city": "Oslo"}')
    log.record(
        tools,
        model="ollama:qwen3:8b",
        prompt=[{"role": "user", "content": "Weather in Oslo? " + "Please be thorough. " * 5}],
        response=Response.fold([call, *reply_fragments("", model="qwen3:8b")]),
        options={},
    )
    log.close()
    return {"geo": geo, "tools": tools}


def test_nothing_logged_yet_is_no_error_and_makes_no_file() -> None:
    listed = jackfield("logs")
    assert (listed.code, listed.out) == (0, "")
    assert listed.err == f"no conversation is logged yet ({home() / 'logs.db'})\n"
    assert json.loads(jackfield("logs", "--json").out) == []
    latest = jackfield("logs", "show", "latest")
    assert latest.code == 2
    assert "no conversation is logged yet" in latest.err
    assert jackfield("logs", "path").out == f"{home() / 'logs.db'}\n"
    assert not (home() / "logs.db").exists()


def test_the_newest_conversations_by_default(logged: dict[str, str]) -> None:
    result = jackfield("logs")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(
        rf"{logged['tools']}  {MINUTE}  ollama:qwen3:8b       Weather in Oslo\? Please be "
        r"thorough\. Please be thorough\. Pl…",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        rf"{logged['geo']}  {MINUTE}  geo                   What is the capital of France\?",
        lines[1],
    ), lines[1]
    assert jackfield("logs", "list").out == result.out
    assert jackfield("logs", "list", "-n", "1").out.splitlines() == lines[:1]
    assert jackfield("logs", "-n", "1").out.splitlines() == lines[:1]
    assert jackfield("logs", "list", "--model", "QWEN").out.splitlines() == lines[:1]
    assert jackfield("logs", "list", "--model", "tiny").out.splitlines() == lines[1:]
    bad = jackfield("logs", "list", "-n", "0")
    assert bad.code == 2
    assert "expected a whole number above 0" in bad.err


def test_json_listing_is_a_list_of_conversations(logged: dict[str, str]) -> None:
    after = json.loads(jackfield("logs", "list", "--json").out)
    before = json.loads(jackfield("logs", "--json", "list").out)
    assert after == before
    assert [c["id"] for c in after] == [logged["tools"], logged["geo"]]
    geo = after[1]
    assert set(geo) == {"id", "started", "updated", "model", "system", "turn_count", "preview"}
    assert (geo["model"], geo["system"], geo["turn_count"]) == ("geo", "Be brief.", 2)
    assert geo["preview"] == "What is the capital of France?"


def test_show_is_a_transcript_and_latest_works(logged: dict[str, str]) -> None:
    result = jackfield("logs", "show", logged["geo"])
    assert result.code == 0, result.err
    expected = [
        rf"# conversation {logged['geo']}, geo, started {SECOND}",
        r"system: Be brief\.",
        "",
        rf"## turn 1, {SECOND}, geo \(tiny-q4\)",
        r"user: What is the capital of France\?",
        r"\[thinking\] Easy one\.",
        r"assistant: Paris\.",
        r'\[finish: stop \| 1 prompt \+ 1 completion tokens \| options: \{"temperature": 0, '
        r'"api_key": "\*{8}"\}\]',
        "",
        rf"## turn 2, {SECOND}, geo",
        r"user: And of Spain\?",
        r"assistant: Mad",
        r"\[error: cancelled \| finish: stop \| 1 prompt \+ 1 completion tokens\]",
    ]
    lines = result.out.splitlines()
    assert len(lines) == len(expected), result.out
    for pattern, line in zip(expected, lines, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)
    assert "sk-never-shown" not in result.out
    latest = jackfield("logs", "show", "latest")
    assert latest.out.startswith(f"# conversation {logged['tools']}, ollama:qwen3:8b")
    assert '[tool call call_1] weather({"city": "Oslo"})' in latest.out


def test_show_json_is_the_conversation_with_its_turns(logged: dict[str, str]) -> None:
    shown = json.loads(jackfield("logs", "show", logged["geo"], "--json").out)
    assert (shown["id"], shown["turn_count"]) == (logged["geo"], 2)
    first, second = shown["turns"]
    assert first["prompt"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert (first["answer"], first["thoughts"], first["response_model"]) == (
        "Paris.",
        "Easy one.",
        "tiny-q4",
    )
    assert first["usage"] == {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    assert first["options"] == {"temperature": 0, "api_key": "********"}
    assert (second["error"], second["answer"]) == ("cancelled", "Mad")
    tools = json.loads(jackfield("logs", "show", "latest", "--json").out)
    [call] = tools["turns"][0]["tool_calls"]
    assert call["function"] == {"name": "weather", "arguments": '{"city": "Oslo"}'}


def test_an_unknown_id_is_a_usage_error_that_says_where_to_look(logged: dict[str, str]) -> None:
    result = jackfield("logs", "show", "nosuchconversation")
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        f"jackfield: no conversation 'nosuchconversation' in the log {home() / 'logs.db'}: "
        "`jackfield logs list` shows the logged conversations\n"
    )


def test_search_finds_conversations_by_their_words(logged: dict[str, str]) -> None:
    result = jackfield("logs", "search", "capital", "FRANCE")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{logged['geo']}  ")
    assert lines[1] == "    turn 1: What is the capital of France? Paris."
    assert jackfield("logs", "search", "paris", "oslo").out == ""  # every word must match
    hits = json.loads(jackfield("logs", "search", "weather", "--json").out)
    assert [(h["id"], h["match"]["turn"]) for h in hits] == [(logged["tools"], 1)]
    nothing = jackfield("logs", "search", "zanzibar")
    assert (nothing.code, nothing.out) == (0, "")
    assert nothing.err.startswith("no conversation matches")
    blank = jackfield("logs", "search", "  ")
    assert blank.code == 2
    assert "needs words" in blank.err


def test_logging_off_on_and_status(logged: dict[str, str]) -> None:
    path = home() / "logs.db"
    assert jackfield("logs", "status").out == f"logging is on; 2 conversations, 3 turns in {path}\n"
    off = jackfield("logs", "off")
    assert (
        off.out
        == f"logging is off until `jackfield logs on` (2 conversations, 3 turns in {path}, kept)\n"
    )
    assert (home() / "logs-off").is_file()
    assert json.loads(jackfield("logs", "status", "--json").out) == {
        "enabled": False,
        "path": str(path),
        "conversations": 2,
        "turns": 3,
    }
    listed = jackfield("logs")
    assert len(listed.out.splitlines()) == 2  # what was logged stays readable
    on = jackfield("logs", "on")
    assert on.out.startswith("logging is on: each chat turn is logged")
    assert not (home() / "logs-off").exists()
    assert json.loads(jackfield("logs", "path", "--json").out) == {"path": str(path)}


def test_what_models_said_never_steers_the_terminal() -> None:
    hostile = "Hi\x1b]0;owned\x07 \x1b[2J\x9b31m done"
    log = ConversationLog()
    cid = log.start("geo")
    log.record(
        cid,
        model="geo",
        prompt=[{"role": "user", "content": "say \x1b[5m"}],
        response=answer(hostile),
        options={},
    )
    log.close()
    for args in (("logs",), ("logs", "show", cid), ("logs", "search", "done")):
        result = jackfield(*args)
        assert result.code == 0, result.err
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.out), (args, result.out)
        assert "\\u001b" in result.out
    shown = json.loads(jackfield("logs", "show", cid, "--json").out)
    assert shown["turns"][0]["answer"] == hostile  # escaped on screen, intact in JSON


def test_a_newer_log_is_refused_with_exit_2(logged: dict[str, str]) -> None:
    path = home() / "logs.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    result = jackfield("logs")
    assert result.code == 2
    assert result.err == (
        f"jackfield: the conversation log {path} was written by a newer jackfield (schema "
        f"version {VERSION + 1}; this one knows up to {VERSION}): it was left untouched; "
        "upgrade jackfield to use it, or log elsewhere (Host(log=PATH))\n"
    )


def test_logs_help_imports_neither_the_log_nor_sqlite() -> None:
    code = (
        "import sys\nfrom jackfield._cli import main\n"
        "try:\n    main(['logs', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m == 'sqlite3' or m.startswith('jackfield._logs')),"
        " file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "usage: jackfield logs" in result.stdout
    assert result.stderr.strip() == "[]"
