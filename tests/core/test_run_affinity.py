"""A run's steps, and a command-line session's turns, carry an affinity key of their own when
they would go through a pool or to a router that reads one: each step then reaches the server
whose cache holds the conversation so far."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import jackfield
from jackfield._cli.chat import Chat
from tests.support.scripted_server import Received, Reply, serving, sse

CALL = Reply(
    body=sse(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "c0",
                                "type": "function",
                                "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
                            }
                        ]
                    },
                }
            ]
        },
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    )
)
ANSWER = Reply(
    body=sse(
        {"choices": [{"index": 0, "delta": {"content": "3"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
)


def model(received: Received) -> Reply:
    """Calls ``add`` until a tool result is in the conversation, then answers."""
    messages = json.loads(received.body)["messages"]
    return ANSWER if any(m["role"] == "tool" for m in messages) else CALL


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def chats(*servers: Any) -> list[Received]:
    return [r for s in servers for r in s.requests if r.path.endswith("/chat/completions")]


def create(settings: dict[str, Any]) -> Any:
    return jackfield.load_registry().create(
        "openai-compatible", {"retries": {"attempts": 0}, **settings}
    )


def test_every_step_of_a_run_goes_to_one_server_of_a_pool() -> None:
    with serving(model) as a, serving(model) as b, serving(model) as c:
        urls = [f"{s.url}/v1" for s in (a, b, c)]
        with create({"endpoints": urls, "balance": "round_robin"}) as pooled:
            homes = []
            for _ in range(6):
                run = pooled.run("sum?", tools=[add]).collect()
                assert run.text == "3"
                served = [s for s in (a, b, c) if s.requests]
                homes.append([len(s.requests) for s in (a, b, c)])
                assert len(run.responses) == 2
                for s in served:
                    s.requests.clear()
                assert len(served) == 1  # both steps on one server (round robin would split them)
    assert len({tuple(h) for h in homes}) > 1  # yet the runs themselves spread


def test_a_router_gets_one_session_key_per_run_in_its_header() -> None:
    with serving(model) as router:
        settings = {"base_url": f"{router.url}/v1", "affinity_header": "x-session-id"}
        with create(settings) as routed:
            routed.run("sum?", tools=[add]).collect()
            routed.run("sum?", tools=[add]).collect()
    keys = [r.headers.get("x-session-id") for r in chats(router)]
    assert len(keys) == 4
    assert keys[0] == keys[1]
    assert keys[2] == keys[3]
    assert keys[0] != keys[2]
    assert all(k is not None and k.startswith("run-") for k in keys)


def test_a_key_of_the_callers_own_wins_and_one_server_alone_gets_none() -> None:
    with serving(model) as router:
        settings = {"base_url": f"{router.url}/v1", "affinity_header": "x-session-id"}
        with create(settings) as routed:
            routed.run("sum?", tools=[add], affinity="mine").collect()
        with create({"base_url": f"{router.url}/v1", "affinity_header": "x-session-id"}) as other:
            other.run("sum?", tools=[add], affinity=None).collect()
        with create({"base_url": f"{router.url}/v1"}) as plain:
            plain.run("sum?", tools=[add]).collect()
    keys = [r.headers.get("x-session-id") for r in chats(router)]
    assert keys == ["mine", "mine", None, None, None, None]


def test_a_logged_agents_run_uses_its_conversation_id(tmp_path: Any) -> None:
    with serving(model) as router:
        config = {
            "providers": {
                "farm": {
                    "type": "openai-compatible",
                    "base_url": f"{router.url}/v1",
                    "affinity_header": "x-session-id",
                }
            },
            "agents": {
                "helper": {"model": "farm", "functions": ["tests.core.test_run_affinity:add"]}
            },
        }
        with jackfield.Host.from_mapping(config, log=tmp_path / "log.db") as host:
            assert host.agent("helper").run("sum?").collect().text == "3"
            assert host.log is not None
            [conversation] = host.log.conversations()
    keys = [r.headers.get("x-session-id") for r in chats(router)]
    assert keys == [conversation.id, conversation.id]


def test_a_command_line_session_keeps_its_turns_on_one_server(tmp_path: Any) -> None:
    import io

    from jackfield._messages import UserMessage

    with serving(model) as a, serving(model) as b:
        config = {
            "providers": {
                "farm": {
                    "type": "openai-compatible",
                    "endpoints": [f"{a.url}/v1", f"{b.url}/v1"],
                    "balance": "round_robin",
                    "affinity_header": "x-session-id",
                }
            },
            "agents": {"helper": {"model": "farm"}},
        }
        with jackfield.Host.from_mapping(config) as host:
            out, err = io.StringIO(), io.StringIO()
            chat = Chat(host.agent("helper"), "farm", {}, out=out, err=err, tools=[add])
            for _ in range(3):
                assert chat.ask(UserMessage("sum?")) == 0
            chat.reset()
            assert chat.ask(UserMessage("sum?")) == 0
    # turn 1: a call and an answer; turns 2 and 3: an answer (the tool result is in the
    # conversation already); after the reset: a call and an answer again
    on_a = Counter(r.headers["x-session-id"] for r in chats(a))
    on_b = Counter(r.headers["x-session-id"] for r in chats(b))
    assert not set(on_a) & set(on_b)  # each key on one server only
    assert sorted((on_a + on_b).values()) == [2, 4]
    assert out.getvalue().count("3") >= 4


def test_a_logged_conversations_calls_carry_its_id(tmp_path: Any) -> None:
    with serving(model) as router:
        config = {
            "providers": {
                "farm": {
                    "type": "openai-compatible",
                    "base_url": f"{router.url}/v1",
                    "affinity_header": "x-session-id",
                }
            },
            "agents": {"helper": {"model": "farm"}},
        }
        with jackfield.Host.from_mapping(config, log=tmp_path / "log.db") as host:
            assert host.log is not None
            cid = host.log.start("helper")
            agent = host.agent("helper", conversation=cid)
            agent.complete("sum?", tools=[add])
            agent.complete("sum?", tools=[add], affinity="mine")
            host.agent("helper").complete("sum?", tools=[add])  # a new conversation per call
    keys = [r.headers.get("x-session-id") for r in chats(router)]
    assert keys == [cid, "mine", None]
