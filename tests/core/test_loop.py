"""The tool loop (``Pipeline.run``/``arun``), step by step, with the scripted provider.

A script looks at the conversation it is sent and decides: call tools, or answer. So every
test checks both what the loop yields and what it sent back to the model.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import jackfield
from jackfield import (
    AssistantMessage,
    Completion,
    FinishReason,
    Tool,
    ToolCall,
    ToolError,
    ToolMessage,
    ToolOutput,
    ToolResult,
    UserMessage,
)
from jackfield.provider import ChatRequest
from jackfield.testing import ScriptedProvider, plugin, reply_fragments

Script = Callable[[ChatRequest[Any]], Sequence[Any]]
anyio = pytest.mark.anyio


def calls(*items: tuple[str, str] | tuple[str, str, str | None]) -> list[Any]:
    """A step that calls tools: (name, arguments[, source]) each, ids c0, c1 ..."""
    fragments: list[Any] = [
        ToolCall(f"c{i}", item[0], item[1], item[2] if len(item) > 2 else None, index=i)
        for i, item in enumerate(items)
    ]
    return [*fragments, Completion(FinishReason.TOOL_CALLS, "tool_calls")]


def answer_with_results(request: ChatRequest[Any]) -> list[Any]:
    """Answer with the tool results the conversation ends with, joined."""
    results = []
    for message in reversed(request.conversation.messages):
        if not isinstance(message, ToolMessage):
            break
        results.insert(0, message.content)
    return reply_fragments("results: " + " | ".join(results))


def first_calls(*items: Any) -> Script:
    """Call ``items`` when the conversation ends with the user; then answer with the results."""

    def script(request: ChatRequest[Any]) -> list[Any]:
        if isinstance(request.conversation.messages[-1], UserMessage):
            return calls(*items)
        return answer_with_results(request)

    return script


@jackfield.tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first.
        b: the second.
    """
    return a + b


def test_a_call_runs_and_its_result_goes_back() -> None:
    provider = ScriptedProvider(script=first_calls(("add", '{"a": 2, "b": 3}')))
    run = provider.run("What is 2 + 3?", tools=[add])
    fragments = list(run)
    results = [f for f in fragments if isinstance(f, ToolResult)]
    assert results == [ToolResult("c0", "add", "5", data=None)]
    call_at = next(i for i, f in enumerate(fragments) if isinstance(f, ToolCall))
    assert fragments.index(results[0]) > call_at
    assert run.text == "results: 5"
    assert run.stop_reason == "answer"
    assert run.steps == 2
    # the second request carried the call and its result
    second = provider.requests[1].conversation.messages
    assert isinstance(second[-2], AssistantMessage)
    assert [c.id for c in second[-2].tool_calls] == ["c0"]
    assert second[-1] == ToolMessage("c0", "5")
    # the tool was offered both times, described from its hints and docstring
    assert [t.name for t in provider.requests[0].tools] == ["add"]
    assert provider.requests[0].tools[0].parameters["required"] == ["a", "b"]
    # the whole conversation comes back
    kinds = [type(m).__name__ for m in run.messages]
    assert kinds == ["UserMessage", "AssistantMessage", "ToolMessage", "AssistantMessage"]


def test_plain_functions_are_tools_too() -> None:
    def shout(text: str) -> str:
        """Say it louder."""
        return text.upper()

    provider = ScriptedProvider(script=first_calls(("shout", '{"text": "hi"}')))
    assert provider.run("x", tools=[shout]).collect().text == "results: HI"


def test_without_calls_a_run_is_one_answer() -> None:
    provider = ScriptedProvider()
    run = provider.run("Hello", tools=[add]).collect()
    assert run.steps == 1
    assert run.stop_reason == "answer"
    assert run.text == provider.options.reply
    assert run.pending == ()


def test_parallel_calls_run_at_the_same_time_and_come_back_in_call_order() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def wait(n: int) -> int:
        """Wait for the others."""
        barrier.wait()  # only returns when three calls run at once
        time.sleep(0.01 * (3 - n))  # the first call finishes last
        return n

    items = [("wait", f'{{"n": {n}}}') for n in range(3)]
    provider = ScriptedProvider(script=first_calls(*items))
    run = provider.run("x", tools=[wait])
    results = [f for f in run if isinstance(f, ToolResult)]
    assert [r.id for r in results] == ["c0", "c1", "c2"]
    assert [r.content for r in results] == ["0", "1", "2"]
    assert run.text == "results: 0 | 1 | 2"


@anyio
async def test_async_parallel_calls_run_concurrently() -> None:
    started: list[int] = []
    both = asyncio.Event()

    async def slow(n: int) -> str:
        """Wait for the other call."""
        started.append(n)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)
        return f"done {n}"

    provider = ScriptedProvider(script=first_calls(("slow", '{"n": 1}'), ("slow", '{"n": 2}')))
    run = await provider.arun("x", tools=[slow]).collect()
    assert run.text == "results: done 1 | done 2"


def test_a_tool_that_raises_is_an_error_result_the_model_reads() -> None:
    def broken() -> str:
        """Always fails."""
        raise RuntimeError("disk on fire")

    provider = ScriptedProvider(script=first_calls(("broken", "{}")))
    run = provider.run("x", tools=[broken])
    results = [f for f in run if isinstance(f, ToolResult)]
    assert results[0].is_error
    assert results[0].content == "error: RuntimeError: disk on fire"
    assert run.text == "results: error: RuntimeError: disk on fire"


def test_tool_errors_raise_ends_the_run_with_the_conversation_so_far() -> None:
    def broken() -> str:
        """Always fails."""
        raise RuntimeError("disk on fire")

    provider = ScriptedProvider(script=first_calls(("broken", "{}")))
    with pytest.raises(ToolError, match="disk on fire") as caught:
        provider.run("x", tools=[broken], tool_errors="raise").collect()
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert caught.value.tool == "broken"
    assert [type(m).__name__ for m in caught.value.messages] == [
        "UserMessage",
        "AssistantMessage",
    ]


def test_unknown_tools_bad_json_and_bad_arguments_are_error_results() -> None:
    provider = ScriptedProvider(
        script=first_calls(
            ("nope", "{}"),
            ("add", '{"a": 1,'),
            ("add", '{"a": 1, "b": "two"}'),
            ("add", "[1, 2]"),
        )
    )
    run = provider.run("x", tools=[add])
    results = [f for f in run if isinstance(f, ToolResult)]
    assert all(r.is_error for r in results)
    assert "no tool named 'nope'; the tools are: add" in results[0].content
    assert "not valid JSON" in results[1].content
    assert results[2].content == (
        'error: invalid arguments for add: $.b: expected integer, got string "two"'
    )
    assert "must be a JSON object" in results[3].content
    assert run.stop_reason == "answer"


def test_approval_refuses_with_a_reason_the_model_reads() -> None:
    ran: list[int] = []

    def record(n: int) -> int:
        """Record n."""
        ran.append(n)
        return n

    seen: list[str] = []

    def approve(call: ToolCall) -> bool | str:
        seen.append(call.arguments)
        return True if '"n": 1' in call.arguments else "not that one"

    provider = ScriptedProvider(script=first_calls(("record", '{"n": 1}'), ("record", '{"n": 2}')))
    run = provider.run("x", tools=[record], approve=approve).collect()
    assert ran == [1]
    assert seen == ['{"n": 1}', '{"n": 2}']
    assert run.text == "results: 1 | refused: not that one"


@anyio
async def test_async_approval_may_be_async() -> None:
    async def approve(call: ToolCall) -> bool:
        await asyncio.sleep(0)
        return False

    provider = ScriptedProvider(script=first_calls(("add", '{"a": 1, "b": 1}')))
    run = await provider.arun("x", tools=[add], approve=approve).collect()
    assert run.text == "results: refused: the user refused this call"


def test_max_steps_stops_a_model_that_keeps_calling() -> None:
    provider = ScriptedProvider(script=lambda request: calls(("add", '{"a": 1, "b": 1}')))
    run = provider.run("x", tools=[add], max_steps=3).collect()
    assert run.steps == 3
    assert run.stop_reason == "max_steps"
    assert [c.name for c in run.pending] == ["add"]
    assert len(provider.requests) == 3
    # two rounds of results went back; the third answer's call was not run
    assert sum(isinstance(m, ToolMessage) for m in run.messages) == 2
    with pytest.raises(ValueError, match="max_steps is at least 1"):
        provider.run("x", max_steps=0)


def test_a_run_given_a_stopped_runs_conversation_runs_its_calls_first() -> None:
    provider = ScriptedProvider(script=first_calls(("add", '{"a": 20, "b": 22}')))
    stopped = provider.run("What is 20 + 22?", tools=[add], max_steps=1).collect()
    assert (stopped.stop_reason, [c.id for c in stopped.pending]) == ("max_steps", ["c0"])
    went_on = provider.run(stopped.messages, tools=[add])
    fragments = list(went_on)
    assert fragments[0] == ToolResult("c0", "add", "42")  # before any model call
    assert went_on.text == "results: 42"
    assert (went_on.stop_reason, went_on.steps) == ("answer", 1)
    assert provider.requests[-1].conversation.messages[-1] == ToolMessage("c0", "42")
    kinds = [type(m).__name__ for m in went_on.messages]
    assert kinds == ["UserMessage", "AssistantMessage", "ToolMessage", "AssistantMessage"]


@anyio
async def test_an_async_run_goes_on_the_same_way_and_asks_approval_first() -> None:
    provider = ScriptedProvider(script=first_calls(("add", '{"a": 1, "b": 2}')))
    stopped = await provider.arun("1 + 2?", tools=[add], max_steps=1).collect()
    asked: list[str] = []

    async def approve(call: ToolCall) -> str:
        asked.append(call.id)
        return "not today"

    went_on = await provider.arun(stopped.messages, tools=[add], approve=approve).collect()
    assert asked == ["c0"]
    assert went_on.text == "results: refused: not today"
    assert went_on.steps == 1


def test_calls_only_the_host_runs_stop_a_resumed_run_again_before_any_model_call() -> None:
    weather = Tool("weather", "The weather in a city.", {"type": "object"})
    provider = ScriptedProvider(script=first_calls(("weather", '{"city": "Oslo"}')))
    first = provider.run("Oslo?", tools=[weather]).collect()
    assert first.stop_reason == "pending"
    again = provider.run(first.messages, tools=[weather]).collect()
    assert (again.stop_reason, again.steps, len(provider.requests)) == ("pending", 0, 1)
    done = provider.run(first.messages, tools=[weather], execute=lambda call: "rain").collect()
    assert done.text == "results: rain"


def test_described_tools_are_the_hosts_to_run() -> None:
    weather = Tool("weather", "The weather in a city.", {"type": "object"})
    provider = ScriptedProvider(script=first_calls(("weather", '{"city": "Oslo"}')))
    run = provider.run("x", tools=[weather]).collect()
    assert run.stop_reason == "pending"
    assert [c.arguments for c in run.pending] == ['{"city": "Oslo"}']
    assert run.steps == 1
    # the host runs it and goes on from the conversation it got back
    more = provider.run(
        [*run.messages, ToolMessage(run.pending[0].id, "rain")], tools=[weather]
    ).collect()
    assert more.text == "results: rain"

    # or gives an execute function
    executed = provider.run(
        "x", tools=[weather], execute=lambda call: ToolOutput("sun", data={"sky": "clear"})
    )
    results = [f for f in executed if isinstance(f, ToolResult)]
    assert results[0].content == "sun"
    assert results[0].data == {"sky": "clear"}
    assert executed.text == "results: sun"


def test_calls_route_back_by_source() -> None:
    def lookup(source: str) -> Callable[..., str]:
        def find(key: str) -> str:
            """Look a key up."""
            return f"{source}:{key}"

        return find

    tools = [
        jackfield.FunctionTool(lookup("a"), name="find", source="a"),
        jackfield.FunctionTool(lookup("b"), name="find", source="b"),
    ]
    provider = ScriptedProvider(
        script=first_calls(("find", '{"key": "x"}', "b"), ("find", '{"key": "y"}', "a"))
    )
    run = provider.run("x", tools=tools).collect()
    assert run.text == "results: b:x | a:y"
    assert [(t.source, t.name) for t in provider.requests[0].tools] == [
        ("a", "find"),
        ("b", "find"),
    ]


def test_a_calls_tool_overrides_one_of_the_same_name() -> None:
    @jackfield.tool(name="add")
    def other(a: int, b: int) -> int:
        """Subtract, really."""
        return a - b

    provider = ScriptedProvider(script=first_calls(("add", '{"a": 5, "b": 3}')))
    run = provider.run("x", tools=[add, other]).collect()
    assert run.text == "results: 2"
    assert [t.description for t in provider.requests[0].tools] == ["Subtract, really."]


def test_closing_a_run_closes_the_stream() -> None:
    provider = ScriptedProvider(script=first_calls(("add", '{"a": 1, "b": 1}')))
    run = provider.run("x", tools=[add])
    next(iter(run))
    run.close()
    assert provider.exchanges[0].closed
    assert run.stop_reason is None


@anyio
async def test_cancelling_an_async_run_cancels_running_tools() -> None:
    cancelled = asyncio.Event()
    running = asyncio.Event()

    async def forever() -> str:
        """Never ends."""
        running.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    provider = ScriptedProvider(script=first_calls(("forever", "{}")))

    async def consume() -> None:
        async for _ in provider.arun("x", tools=[forever]):
            pass

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(running.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), 5)
    assert provider.exchanges[0].closed


@anyio
async def test_sync_and_async_runs_agree() -> None:
    def script(request: ChatRequest[Any]) -> list[Any]:
        return first_calls(("add", '{"a": 2, "b": 2}'), ("add", '{"a": 3, "b": 3}'))(request)

    sync = list(ScriptedProvider(script=script).run("x", tools=[add]))
    arun = ScriptedProvider(script=script).arun("x", tools=[add])
    assert [f async for f in arun] == sync


def test_usage_adds_up_over_steps() -> None:
    provider = ScriptedProvider(script=first_calls(("add", '{"a": 1, "b": 1}')))
    run = provider.run("x", tools=[add]).collect()
    assert run.usage.total_tokens == sum(
        r.usage.total_tokens or 0 for r in run.responses if r.usage
    )


def test_tool_results_serialise_as_json_lines() -> None:
    result = ToolResult("c0", "add", "5", source="math", data={"v": 5})
    data = jackfield.dump_fragment(result)
    assert data["type"] == "tool_result"
    assert jackfield.load_fragment(data) == result


# --- agents -------------------------------------------------------------------------------------


def _host(agent: dict[str, Any], script: Script) -> jackfield.Host:
    registry = jackfield.load_registry(autoload=False, plugins=[plugin])
    host = jackfield.Host.from_mapping(
        {"providers": {"local": {"type": "scripted"}}, "agents": {"helper": agent}},
        registry=registry,
    )
    host._providers["local"] = ScriptedProvider(script=script, name="local")
    return host


def test_an_agents_functions_are_its_tools() -> None:
    agent = {"model": "local", "functions": ["tests.core.test_loop:add"], "max_steps": 4}
    with _host(agent, first_calls(("add", '{"a": 20, "b": 22}'))) as host:
        run = host.agent("helper").run("x").collect()
        assert run.text == "results: 42"
        # a plain stream offers them too; tools=False offers none
        provider = host.provider("local")
        assert isinstance(provider, ScriptedProvider)
        assert [t.name for t in provider.requests[0].tools] == ["add"]
        host.agent("helper", tools=False).complete("y")
        assert provider.requests[-1].tools == ()


def test_an_agents_max_steps_is_the_runs_default() -> None:
    agent = {"model": "local", "functions": ["tests.core.test_loop:add"], "max_steps": 2}
    with _host(agent, lambda request: calls(("add", '{"a": 1, "b": 1}'))) as host:
        run = host.agent("helper").run("x").collect()
        assert (run.steps, run.stop_reason) == (2, "max_steps")


def test_an_agents_function_that_cannot_be_imported_says_where() -> None:
    agent = {"model": "local", "functions": ["tests.core.no_such_module:add"]}
    with _host(agent, first_calls()) as host, pytest.raises(jackfield.ConfigError) as caught:
        host.agent("helper").run("x")
    assert "agent 'helper': functions[0] 'tests.core.no_such_module:add'" in str(caught.value)
    assert "cannot import module 'tests.core.no_such_module'" in str(caught.value)


def test_a_logged_agents_run_is_one_conversation_with_its_tool_turns(tmp_path: Any) -> None:
    registry = jackfield.load_registry(autoload=False, plugins=[plugin])
    config = {
        "providers": {"local": {"type": "scripted"}},
        "agents": {"helper": {"model": "local", "functions": ["tests.core.test_loop:add"]}},
    }
    with jackfield.Host.from_mapping(config, registry=registry, log=tmp_path / "log.db") as host:
        script = first_calls(("add", '{"a": 1, "b": 2}'))
        host._providers["local"] = ScriptedProvider(script=script, name="local")
        messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "sum?"}]
        run = host.agent("helper").run(messages).collect()
        assert host.log is not None
        [conversation] = host.log.conversations()
        assert (conversation.turn_count, conversation.system) == (2, "S")
        history = host.log.history(conversation.id)
    assert history == list(run.messages)
    assert [type(m).__name__ for m in history] == [
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "ToolMessage",
        "AssistantMessage",
    ]


def test_step_options_change_one_model_call() -> None:
    seen: list[tuple[int, int]] = []

    def step_options(step: int, conversation: jackfield.Conversation) -> dict[str, Any]:
        seen.append((step, len(conversation.messages)))
        return {"temperature": 0.5} if step == 1 else {"max_tokens": 9}

    provider = ScriptedProvider(script=first_calls(("add", '{"a": 1, "b": 1}')))
    run = provider.run("x", tools=[add], step_options=step_options, temperature=0.1)
    run.collect()
    assert seen == [(1, 1), (2, 3)]
    first, second = (r.options for r in provider.requests)
    assert (first.temperature, first.max_tokens) == (0.5, None)
    assert (second.temperature, second.max_tokens) == (0.1, 9)


def test_a_call_cut_short_goes_back_as_an_empty_object_with_its_error() -> None:
    provider = ScriptedProvider(script=first_calls(("add", '{"a": 1, "b')))
    run = provider.run("x", tools=[add]).collect()
    turn = provider.requests[1].conversation.messages[-2]
    assert isinstance(turn, AssistantMessage)
    assert turn.tool_calls[0].arguments == "{}"  # servers refuse to read broken JSON back
    error = run.messages[2]
    assert isinstance(error, ToolMessage)
    assert "not valid JSON" in error.content
    assert 'raw arguments: \'{"a": 1, "b\'' in error.content  # nothing is lost
