"""The conformance kit, run on the scripted provider — and shown to catch broken providers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jackfield import (
    Completion,
    FinishReason,
    ProviderError,
    ServerError,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from jackfield.testing import ScriptedOptions, ScriptedProvider
from jackfield.testing.conformance import ProviderConformance, check_lifecycle

STOP = Completion(FinishReason.STOP, "stop", Usage(1, 2, 3))


def answer(request: Any) -> list[Any]:
    """Calls the first tool, unless the conversation ends with a tool's result."""
    if request.tools and request.conversation.messages[-1].role != "tool":
        tool = request.tools[0]
        return [
            ToolCallDelta(0, "c1", tool.name, '{"city":'),
            ToolCallDelta(0, None, None, ' "Paris"}'),
            ToolCall("c1", tool.name, '{"city": "Paris"}', tool.source),
            Completion(FinishReason.TOOL_CALLS, "tool_calls", Usage(1, 2, 3)),
        ]
    return [TextDelta("Hel"), TextDelta("lo"), STOP]


class TestScriptedProviderConformance(ProviderConformance):
    tools = True
    model_listing = True

    @pytest.fixture
    def provider(self) -> Iterator[ScriptedProvider]:
        with ScriptedProvider(ScriptedOptions(), script=answer, name="scripted") as provider:
            yield provider

    @pytest.fixture
    def failing_provider(self) -> Iterator[ScriptedProvider]:
        class Down(ScriptedProvider):
            def status_operation(self) -> Any:
                from jackfield import Operation, Status

                return Operation.of(Status(connected=False, error="down"))

        return Down(script=[ServerError("backend down")], name="down")


def test_capabilities_not_claimed_are_not_collected() -> None:
    class Minimal(ProviderConformance):
        pass

    assert Minimal.test_tools is None  # type: ignore[comparison-overlap]
    assert Minimal.test_embeddings is None  # type: ignore[comparison-overlap]
    assert callable(Minimal.test_embeddings_are_refused)
    assert callable(TestScriptedProviderConformance.test_tools)

    class Claiming(Minimal):  # a shared base class in between
        tools = True

        def test_embeddings_are_refused(self) -> None:  # a provider's own version
            pass

    class Unclaiming(Claiming):
        tools = False

    assert Claiming.test_tools is ProviderConformance.__dict__["test_tools"]
    assert (
        Claiming.test_embeddings_are_refused
        is not (ProviderConformance.__dict__["test_embeddings_are_refused"])
    )
    assert Unclaiming.test_tools is None  # type: ignore[comparison-overlap]


@pytest.mark.parametrize(
    ("fragments", "problem"),
    [
        ([TextDelta("a")], "must end with a Completion"),
        ([STOP, TextDelta("late")], "came after the Completion"),
        ([TextDelta("a", 1), STOP], "never completed"),
        (
            [ToolCallDelta(0, "c", "f", "{"), ToolCall("c", "f", "{}"), STOP],
            "tool-call deltas do not add up",
        ),
        ([], "no fragments"),
    ],
)
def test_the_lifecycle_check_catches_broken_streams(fragments: list[Any], problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        check_lifecycle(fragments)


def test_foreign_exceptions_from_a_provider_still_reach_hosts_as_provider_errors() -> None:
    leaky = ScriptedProvider(script=[ConnectionResetError("raw socket error")], name="leaky")
    with pytest.raises(ProviderError, match="leaky failed: ConnectionResetError: raw socket error"):
        list(leaky.stream("hi"))


# --- each check fails on a provider that breaks its rule -----------------------------------------
# The kit runs in a pytest of its own (pytester) against deliberately broken providers; the one
# check that names the broken rule must fail, and the others must still pass.

BROKEN = '''
import asyncio

import attrs
import pytest

from jackfield import Operation, Secret, Status, TextDelta
from jackfield.testing import ScriptedExchange, ScriptedOptions, ScriptedProvider
from jackfield.testing.conformance import ProviderConformance


class Down(ScriptedProvider):
    def status_operation(self):
        return Operation.of(Status(connected=False, error="down"))


class Base(ProviderConformance):
    provider_class = ScriptedProvider

    @pytest.fixture
    def provider(self):
        with self.provider_class(name="p") as provider:
            yield provider

    @pytest.fixture
    def failing_provider(self):
        from jackfield import ServerError

        return Down(script=[ServerError("down")], name="down")


class Chatty(ScriptedProvider):
    """Its status check generates text."""

    def status_operation(self):
        def run():
            self.complete("ping")
            return Status(connected=True)

        async def arun():
            return run()

        return Operation.call(run, arun)


class TestChatty(Base):
    provider_class = Chatty


class Panicky(Down):
    """Its status raises instead of reporting."""

    def status_operation(self):
        raise RuntimeError("no status today")


class TestPanicky(Base):
    @pytest.fixture
    def failing_provider(self):
        from jackfield import ServerError

        return Panicky(script=[ServerError("down")], name="panicky")


class TwoFacedExchange(ScriptedExchange):
    async def _abatches(self):
        async for batch in super()._abatches():
            yield [TextDelta(f.text.upper()) if isinstance(f, TextDelta) else f for f in batch]


class TwoFaced(ScriptedProvider):
    """Its async stream says something else than its sync stream."""

    def chat_exchange(self, request):
        exchange = super().chat_exchange(request)
        return TwoFacedExchange(exchange._steps)


class TestTwoFaced(Base):
    provider_class = TwoFaced


@attrs.define
class KeyedOptions(ScriptedOptions):
    api_key: Secret | None = None


class Blabbing(ScriptedProvider):
    """Its repr shows the key."""

    options_class = KeyedOptions

    def __init__(self, options=None, **kwargs):
        super().__init__(options or KeyedOptions(), **kwargs)

    def __repr__(self):
        key = self.options.api_key
        return f"<Blabbing {key.reveal() if key else None}>"


class BlabbingDown(Blabbing):
    def status_operation(self):
        return Operation.of(Status(connected=False, error="down"))


class TestBlabbing(Base):
    provider_class = Blabbing
    secret_option = "api_key"

    @pytest.fixture
    def failing_provider(self):
        from jackfield import ServerError

        return BlabbingDown(KeyedOptions(), script=[ServerError("down")], name="down")


def strict_server(request):
    """Calls the first tool unless the conversation ends with a tool's result; refuses, as
    OpenAI does, a turn of tool calls that tool messages do not answer."""
    from jackfield import Completion, FinishReason, ServerError, ToolCall, ToolMessage, Usage
    from jackfield.testing import reply_fragments

    waiting = set()
    for message in request.conversation.messages:
        if isinstance(message, ToolMessage):
            waiting.discard(message.tool_call_id)
        elif waiting:
            break
        else:
            waiting = {call.id for call in getattr(message, "tool_calls", ())}
    if waiting:
        return [ServerError("HTTP 400: tool calls without tool messages")]
    if request.tools and request.conversation.messages[-1].role != "tool":
        tool = request.tools[0]
        return [
            ToolCall("c1", tool.name, '{"city": "Paris"}', tool.source),
            Completion(FinishReason.TOOL_CALLS, "tool_calls", Usage(1, 2, 3)),
        ]
    return reply_fragments("It is sunny.")


class ToolBase(Base):
    tools = True

    @pytest.fixture
    def provider(self):
        with self.provider_class(script=strict_server, name="p") as provider:
            yield provider


class TestToolsWork(ToolBase):
    pass


class Forgetful(ScriptedProvider):
    """It leaves tool messages out of what it sends."""

    def chat_exchange(self, request):
        from jackfield import Conversation

        kept = tuple(m for m in request.conversation.messages if m.role != "tool")
        return super().chat_exchange(attrs.evolve(request, conversation=Conversation(kept)))


class TestForgetful(ToolBase):
    provider_class = Forgetful


class Lossy(ScriptedProvider):
    """It does not split a call's wire name, source__name, back into its source and name."""

    def chat_exchange(self, request):
        from jackfield import ToolCall

        def unsplit(step):
            if isinstance(step, ToolCall) and step.source:
                return attrs.evolve(step, name=f"{step.source}__{step.name}", source=None)
            return step

        exchange = super().chat_exchange(request)
        return ScriptedExchange([unsplit(step) for step in exchange._steps])


class TestLossy(ToolBase):
    provider_class = Lossy
'''


@pytest.fixture
def kit_run(pytester: pytest.Pytester) -> Any:
    pytester.makepyfile(test_broken=BROKEN)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", "-rf")
    failed = {
        line.split("::", 1)[1].split(" ", 1)[0].split("[", 1)[0]
        for line in result.outlines
        if line.startswith("FAILED ")
    }
    return result, failed


def test_each_check_fails_where_its_rule_is_broken(kit_run: Any) -> None:
    result, failed = kit_run
    assert failed == {
        "TestChatty::test_status_and_models_generate_nothing",
        "TestPanicky::test_failures_are_jackfield_errors",
        "TestTwoFaced::test_sync_and_async_agree",
        "TestBlabbing::test_secrets_are_never_shown",
        # a provider that does not send tool messages breaks every run that sends results
        "TestForgetful::test_tool_loop",
        "TestForgetful::test_async_tool_loop",
        "TestForgetful::test_tool_source_survives_the_wire",
        "TestLossy::test_tool_source_survives_the_wire",
    }, "\n".join(result.outlines[-40:])
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] > 7 * 8  # the rest of each provider's run still passes
