"""``[mcp.<name>]`` sections and an agent's ``mcp``, ``functions`` and ``max_steps``: what is
accepted, and every mistake reported with its line and what to write instead."""

from __future__ import annotations

import sys

import pytest

import jackfield
from jackfield import ConfigFileError, MCPServerConfig, Secret
from jackfield._config import parse_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def parse(text: str) -> jackfield.Config:
    return parse_config(tomllib.loads(text), source="jackfield.toml", text=text)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        parse(text)
    return [issue.render(root="", source="jackfield.toml") for issue in caught.value.issues]


def test_servers_and_an_agents_use_of_them() -> None:
    config = parse(
        """
[mcp.time]
command = "mcp-server-time"
args = ["--local-timezone", "UTC"]
env = { TOKEN = { env = "TIME_TOKEN" } }

[mcp.remote]
url = "http://127.0.0.1:8000/mcp"
headers = { Authorization = "Bearer s3cret" }
timeout = 5

[agents.helper]
model = "local:m"
mcp = ["time", "remote:add"]
functions = ["word_count", "mypackage.tools:search"]
max_steps = 4
"""
    )
    time, remote = config.mcp["time"], config.mcp["remote"]
    assert time == MCPServerConfig(
        command="mcp-server-time",
        args=("--local-timezone", "UTC"),
        env={"TOKEN": Secret.from_env("TIME_TOKEN")},
    )
    assert (remote.url, remote.timeout, remote.command) == ("http://127.0.0.1:8000/mcp", 5.0, None)
    assert "s3cret" not in repr(remote)  # a header is a secret
    agent = config.agents["helper"]
    assert agent.mcp == ("time", "remote:add")
    assert agent.functions == ("word_count", "mypackage.tools:search")
    assert agent.max_steps == 4


def test_every_mistake_is_reported_with_its_line() -> None:
    found = problems(
        """
[mcp.both]
command = "x"
url = "http://127.0.0.1:1/mcp"

[mcp.neither]
args = ["a"]

[mcp.web]
url = "localhost:8000/mcp"

[mcp.mixed]
url = "http://127.0.0.1:1/mcp"
args = ["a"]

[mcp.slow]
command = "x"
timeout = 0
headers = { A = "b" }

[mcp.Bad]
command = "x"

[mcp.typo]
comand = "x"

[agents.helper]
model = "local:m"
mcp = ["tme", "slow:"]
functions = ["a:b:c"]
max_steps = 0
"""
    )
    assert found == [
        "jackfield.toml:2: mcp.both: an MCP server needs exactly one of 'command' (a program "
        "speaking MCP over stdio, such as command = \"mcp-server-time\") or 'url' (a "
        'streamable-HTTP endpoint, such as url = "http://127.0.0.1:8000/mcp")',
        "jackfield.toml:6: mcp.neither: an MCP server needs exactly one of 'command' (a program "
        "speaking MCP over stdio, such as command = \"mcp-server-time\") or 'url' (a "
        'streamable-HTTP endpoint, such as url = "http://127.0.0.1:8000/mcp")',
        "jackfield.toml:10: mcp.web.url: 'localhost:8000/mcp' is not an http:// or https:// URL",
        "jackfield.toml:14: mcp.mixed.args: 'args' is for a 'command'; a 'url' server has none",
        "jackfield.toml:18: mcp.slow.timeout: expected a number of seconds greater than 0",
        "jackfield.toml:19: mcp.slow.headers: 'headers' is for a 'url'; a 'command' server has "
        "none",
        "jackfield.toml:21: mcp.Bad: names use lowercase letters, digits, '.', '_' and '-', "
        "starting with a letter",
        "jackfield.toml:25: mcp.typo.comand: unknown key 'comand'; did you mean 'command'?",
        "jackfield.toml:29: agents.helper.mcp[0]: unknown MCP server 'tme': declare it in an "
        "[mcp.tme] section (configured: mixed, slow)",
        "jackfield.toml:29: agents.helper.mcp[1]: write 'slow' or 'slow:<tool>'",
        "jackfield.toml:30: agents.helper.functions[0]: write a tool's name or 'module:function'",
        "jackfield.toml:31: agents.helper.max_steps: expected at least 1",
    ]


def test_a_near_miss_gets_a_did_you_mean() -> None:
    found = problems('[mcp.time]\ncommand = "x"\n[agents.a]\nmodel = "l:m"\nmcp = ["tmie"]\n')
    assert found == [
        "jackfield.toml:5: agents.a.mcp[0]: unknown MCP server 'tmie'; did you mean 'time'?"
    ]
