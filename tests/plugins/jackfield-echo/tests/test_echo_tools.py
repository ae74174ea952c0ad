"""The echo plugin's Python tool, seen as a third party sees it: registered through the
``register_tools`` hook, listed by the registry, imported only when a run needs it, callable by
the model in a tool loop; and a second plugin claiming its name is reported, not obeyed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import jackfield
from jackfield.hookspecs import hookimpl
from jackfield.testing import ScriptedProvider, reply_fragments

CONFIG = {
    "providers": {"local": {"type": "echo"}},
    "agents": {"helper": {"model": "local", "functions": ["echo_reverse"]}},
}


def test_the_registry_lists_the_tool_with_its_plugin() -> None:
    registry = jackfield.load_registry()
    assert "echo_reverse" in registry.tool_names()
    spec = registry.tool_spec("echo_reverse")
    assert spec.function == "jackfield_echo._tools:echo_reverse"
    assert spec.description == "Reverses a text (an example plugin's tool)."
    assert (spec.plugin, spec.distribution) == ("echo", "jackfield-echo")
    (echo,) = [p for p in registry.plugins if p.name == "echo"]
    assert echo.providers == ("echo",)
    assert echo.tools == ("echo_reverse",)
    assert [p for p in registry.problems if p.plugin == "echo"] == []


LAZY = """
import json, sys
import jackfield

MODULE = "jackfield_echo._tools"
seen = {}
registry = jackfield.load_registry()
seen["listed"] = MODULE in sys.modules
spec = registry.tool_spec("echo_reverse")
seen["spec"] = MODULE in sys.modules
host = jackfield.Host.from_mapping(json.loads(sys.argv[1]), registry=registry)
seen["host"] = MODULE in sys.modules
(tool,) = host.tools_of("helper", host.config.agents["helper"])
seen["tools_of"] = MODULE in sys.modules
seen["tool"] = [tool.tool.name, tool.tool.description, tool.tool.parameters]
seen["call"] = tool.call({"text": "stressed"}).content
print(json.dumps(seen))
"""


def test_the_tool_is_imported_only_when_an_agent_needs_it(tmp_path: Path) -> None:
    # A fresh interpreter: nothing imported the tool's module before.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    environment["JACKFIELD_HOME"] = str(tmp_path)  # no user's files are read
    result = subprocess.run(
        [sys.executable, "-c", LAZY, json.dumps(CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert (seen["listed"], seen["spec"], seen["host"]) == (False, False, False)
    assert seen["tools_of"] is True
    # the model is told the function's docstring and hints, under the registered name
    assert seen["tool"] == [
        "echo_reverse",
        "Reverse a text, character by character.",
        {
            "type": "object",
            "properties": {"text": {"type": "string", "description": "the text to reverse."}},
            "required": ["text"],
            "additionalProperties": False,
        },
    ]
    assert seen["call"] == "desserts"


def test_a_model_calls_the_tool_in_a_run() -> None:
    host = jackfield.Host.from_mapping(CONFIG, registry=jackfield.load_registry())
    with host:
        tools = host.tools_of("helper", host.config.agents["helper"])

    def script(request: Any) -> list[Any]:
        last = request.conversation.messages[-1]
        if isinstance(last, jackfield.ToolMessage):
            return reply_fragments(f"reversed: {last.content}")
        return [
            jackfield.ToolCall("c0", "echo_reverse", '{"text": "drawer"}'),
            jackfield.Completion(jackfield.FinishReason.TOOL_CALLS, "tool_calls"),
        ]

    provider = ScriptedProvider(script=script)
    run = provider.run("Reverse 'drawer'.", tools=tools).collect()
    assert run.text == "reversed: reward"
    assert [t.name for t in provider.requests[0].tools] == ["echo_reverse"]
    results = [m for m in run.messages if isinstance(m, jackfield.ToolMessage)]
    assert [(m.tool_call_id, m.content) for m in results] == [("c0", "reward")]


def test_the_tool_rejects_arguments_that_do_not_fit_its_hints() -> None:
    host = jackfield.Host.from_mapping(CONFIG, registry=jackfield.load_registry())
    with host:
        (tool,) = host.tools_of("helper", host.config.agents["helper"])
    with pytest.raises(ValueError, match=r"\$.text: expected string, got integer 3"):
        tool.call({"text": 3})
    with pytest.raises(ValueError, match=r"'text' is missing"):
        tool.call({})


def test_a_second_plugin_claiming_the_name_is_reported_and_neither_is_used() -> None:
    @hookimpl
    def register_tools(register: Any) -> None:
        register("echo_reverse", function="impostor.tools:reverse")

    registry = jackfield.load_registry()
    registry.add_plugin(
        SimpleNamespace(register_tools=register_tools), "impostor", distribution="impostor-dist"
    )
    (problem,) = [p for p in registry.problems if p.plugin == "impostor"]
    assert problem.distribution == "impostor-dist"
    assert "tool 'echo_reverse' is also registered by plugin 'echo'" in problem.error
    assert "jackfield-echo" in problem.error
    assert "echo_reverse" in registry.tool_names()  # listed, so the user sees the clash
    with pytest.raises(jackfield.DuplicateProviderError) as caught:
        registry.tool_spec("echo_reverse")
    assert "jackfield-echo" in str(caught.value)
    assert "impostor-dist" in str(caught.value)
    # an agent that names it is refused, saying where; the echo provider is unharmed
    host = jackfield.Host.from_mapping(CONFIG, registry=registry)
    with host:
        with pytest.raises(jackfield.ConfigError) as refused:
            host.tools_of("helper", host.config.agents["helper"])
        assert "agent 'helper': functions[0] 'echo_reverse'" in str(refused.value)
        assert "more than one plugin" in str(refused.value)
        assert host.provider("local").complete("still here").text == "still here"
