"""``jackfield chat`` runs tools: an agent's, ``-T`` ones, MCP servers'; ``--no-tools``; ``--json``.

The model is a scripted loopback server that calls a tool on the first request and answers with
what the tool gave on the second; the MCP server is the real ``mcp-server-time``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.cli.conftest import jackfield
from tests.cli.test_cli import config_for as config
from tests.support.scripted_server import Received, Reply, serving, sse


def tool_call(name: str, arguments: str) -> Reply:
    return Reply(
        body=sse(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": name, "arguments": arguments},
                                }
                            ]
                        },
                    }
                ]
            },
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        )
    )


def answer(text: str) -> Reply:
    return Reply(
        body=sse(
            {"choices": [{"index": 0, "delta": {"content": text}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        )
    )


def calling(name: str, arguments: str) -> Any:
    """Call ``name`` first; then answer with the tool message's content."""

    def reply(request: Received) -> Reply:
        messages = json.loads(request.body)["messages"]
        if messages[-1]["role"] == "tool":
            return answer(f"The tool said: {messages[-1]['content']}")
        return tool_call(name, arguments)

    return reply


TOOLS_FILE = '''
def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


def explode(text: str) -> str:
    """Always fails."""
    raise RuntimeError("kaboom")
'''


def script_of(name: str) -> str:
    found = shutil.which(name, path=os.path.dirname(sys.executable))
    assert found is not None, f"{name} is not installed next to {sys.executable}"
    return found


def test_a_python_tool_given_with_T_runs_and_is_shown(write_config: Any, tmp_path: Path) -> None:
    tools = tmp_path / "mytools.py"
    tools.write_text(TOOLS_FILE, encoding="utf-8")
    with serving(calling("word_count", '{"text": "one two three"}')) as server:
        path = write_config(config(server.url))
        result = jackfield(
            "chat", "-m", "helper", "-T", f"{tools}:word_count", "Count", config=path
        )
        first, second = (json.loads(r.body) for r in server.requests)
    assert result.code == 0, result.err
    assert result.out == "The tool said: 3\n"
    assert '⚙ word_count({"text": "one two three"})\n  → 3\n' in result.err
    assert [t["function"]["name"] for t in first["tools"]] == ["word_count"]
    assert first["tools"][0]["function"]["description"] == "Count the words of a text."
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "3"}
    assert second["messages"][-2]["tool_calls"][0]["id"] == "call_1"


def test_a_failing_tool_is_shown_and_the_model_reads_the_error(
    write_config: Any, tmp_path: Path
) -> None:
    tools = tmp_path / "mytools.py"
    tools.write_text(TOOLS_FILE, encoding="utf-8")
    with serving(calling("explode", '{"text": "x"}')) as server:
        path = write_config(config(server.url))
        result = jackfield("chat", "-m", "helper", "-T", f"{tools}:explode", "Go", config=path)
    assert result.code == 0, result.err
    assert "  → error: RuntimeError: kaboom\n" in result.err
    assert result.out == "The tool said: error: RuntimeError: kaboom\n"


def test_json_gives_every_step_as_a_line(write_config: Any, tmp_path: Path) -> None:
    tools = tmp_path / "mytools.py"
    tools.write_text(TOOLS_FILE, encoding="utf-8")
    with serving(calling("word_count", '{"text": "a b"}')) as server:
        path = write_config(config(server.url))
        result = jackfield(
            "chat", "-m", "helper", "--json", "-T", f"{tools}:word_count", "Count", config=path
        )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    kinds = [line["type"] for line in lines]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("text")
    assert kinds.count("completion") == 2
    result_line = lines[kinds.index("tool_result")]
    assert (result_line["content"], result_line["is_error"]) == ("2", False)


def test_an_agents_mcp_server_runs_and_no_tools_turns_it_off(write_config: Any) -> None:
    extra = f"""mcp = ["time:get_current_time"]

[mcp.time]
command = "{script_of("mcp-server-time")}"
args = ["--local-timezone", "UTC"]
"""
    arguments = '{"timezone": "Europe/Paris"}'
    with serving(calling("time__get_current_time", arguments)) as server:
        path = write_config(config(server.url, extra))
        result = jackfield("chat", "-m", "helper", "What time is it in Paris?", config=path)
        first, second = (json.loads(r.body) for r in server.requests[:2])
        off = jackfield("chat", "-m", "helper", "--no-tools", "Hi", config=path)
        third = json.loads(server.requests[2].body)
    assert result.code == 0, result.err
    assert [t["function"]["name"] for t in first["tools"]] == ["time__get_current_time"]
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool"
    assert json.loads(tool_message["content"])["timezone"] == "Europe/Paris"
    assert f"⚙ time__get_current_time({arguments})" in result.err
    assert result.out.startswith("The tool said: {")
    # --no-tools: nothing offered, the server never started
    assert off.code == 0, off.err
    assert "tools" not in third


def test_tools_lists_servers_and_a_servers_tools(write_config: Any) -> None:
    extra = f"""mcp = ["time"]

[mcp.time]
command = "{script_of("mcp-server-time")}"
"""
    path = write_config(config("http://127.0.0.1:9", extra))
    listing = jackfield("tools", config=path)
    assert listing.code == 0, listing.err
    assert "MCP servers:\n  time " in listing.out
    assert "agent helper: mcp:time" in listing.out
    server = jackfield("tools", "time", config=path)
    assert server.code == 0, server.err
    assert "time__get_current_time" in server.out
    assert "time__convert_time" in server.out


def test_T_names_what_it_cannot_find(write_config: Any, tmp_path: Path) -> None:
    path = write_config(config("http://127.0.0.1:9", '\n[mcp.time]\ncommand = "x"\n'))
    typo = jackfield("chat", "-m", "helper", "-T", "tmie", "Hi", config=path)
    assert typo.code == 2
    assert "-T tmie: not an MCP server of the configuration nor a plugin's tool" in typo.err
    assert "did you mean 'time'?" in typo.err
    missing = jackfield("chat", "-m", "helper", "-T", f"{tmp_path}/no.py:f", "Hi", config=path)
    assert missing.code == 2
    assert "no such file" in missing.err
    both = jackfield("chat", "-m", "helper", "-T", "time", "--no-tools", "Hi", config=path)
    assert both.code == 2
    assert "--no-tools and -T/--tool contradict each other" in both.err


def test_a_plugins_tool_is_listed_and_runs_with_T(write_config: Any) -> None:
    listing = jackfield("tools", config=write_config(config("http://127.0.0.1:9")))
    assert listing.code == 0, listing.err
    assert "Python tools from plugins:\n  echo_reverse " in listing.out
    assert "(plugin 'echo'" in listing.out
    with serving(calling("echo_reverse", '{"text": "abc"}')) as server:
        path = write_config(config(server.url))
        result = jackfield("chat", "-m", "helper", "-T", "echo_reverse", "Reverse abc", config=path)
    assert result.code == 0, result.err
    assert result.out == "The tool said: cba\n"


def test_a_logged_chat_keeps_its_tool_turns_for_the_next(write_config: Any, tmp_path: Path) -> None:
    tools = tmp_path / "mytools.py"
    tools.write_text(TOOLS_FILE, encoding="utf-8")
    tool = f"{tools}:word_count"
    with serving(calling("word_count", '{"text": "one two"}')) as server:
        path = write_config(config(server.url))
        first = jackfield("chat", "-m", "helper", "-T", tool, "Count", config=path)
        second = jackfield("chat", "-c", "-T", tool, "Again", config=path)
        shown = jackfield("logs", "show", "latest", "--json", config=path)
        continued = json.loads(server.requests[2].body)["messages"]
    assert (first.code, second.code, shown.code) == (0, 0, 0), first.err + second.err
    # the continued chat sends the first turn whole: question, call, result, answer
    assert [m["role"] for m in continued] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert continued[2]["tool_calls"][0]["function"]["name"] == "word_count"
    assert continued[3] == {"role": "tool", "tool_call_id": "call_1", "content": "2"}
    assert continued[4]["content"] == "The tool said: 2"
    turns = json.loads(shown.out)["turns"]
    assert len(turns) == 4  # a turn per model call: two per question
    assert [t["answer"] for t in turns] == ["", "The tool said: 2"] * 2


def test_calls_a_turn_never_ran_are_answered_before_the_next_question(
    write_config: Any, tmp_path: Path
) -> None:
    tools = tmp_path / "mytools.py"
    tools.write_text(TOOLS_FILE, encoding="utf-8")
    tool = f"{tools}:word_count"
    with serving(calling("word_count", '{"text": "a b c"}')) as server:
        path = write_config(config(server.url, "max_steps = 1"))
        first = jackfield("chat", "-m", "helper", "-T", tool, "Count", config=path)
        second = jackfield("chat", "-c", "-T", tool, "Go on", config=path)
        third = jackfield("chat", "-c", "-T", tool, "And?", config=path)
        bodies = [json.loads(r.body)["messages"] for r in server.requests]
    assert "stopped after 1 model calls" in first.err
    assert (second.code, third.code) == (0, 0), second.err + third.err
    # the stopped turn's call never ran: it is answered as such, then the question follows
    assert [m["role"] for m in bodies[1]] == ["system", "user", "assistant", "tool", "user"]
    assert bodies[1][3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "not run: the turn ended before this call ran",
    }
    assert [m["role"] for m in bodies[2]] == [
        *["system", "user", "assistant", "tool", "user", "assistant", "tool", "user"]
    ]  # the log kept that answer for the next chat -c
