"""The conformance kit, run on the scripted provider — and shown to catch broken providers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from switchboard import (
    Completion,
    FinishReason,
    ProviderError,
    ServerError,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from switchboard.testing import ScriptedOptions, ScriptedProvider
from switchboard.testing.conformance import ProviderConformance, check_lifecycle

STOP = Completion(FinishReason.STOP, "stop", Usage(1, 2, 3))


def answer(request: Any) -> list[Any]:
    if request.tools:
        return [
            ToolCallDelta(0, "c1", request.tools[0].name, '{"city":'),
            ToolCallDelta(0, None, None, ' "Paris"}'),
            ToolCall("c1", request.tools[0].name, '{"city": "Paris"}'),
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
                from switchboard import Operation, Status

                return Operation.of(Status(connected=False, error="down"))

        return Down(script=[ServerError("backend down")], name="down")


def test_capabilities_not_claimed_are_not_collected() -> None:
    class Minimal(ProviderConformance):
        pass

    assert Minimal.test_tools is None  # type: ignore[comparison-overlap]
    assert Minimal.test_embeddings is None  # type: ignore[comparison-overlap]
    assert callable(Minimal.test_embeddings_are_refused)
    assert callable(TestScriptedProviderConformance.test_tools)


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
