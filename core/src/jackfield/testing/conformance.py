"""The provider conformance kit: one base class of pytest tests every provider should pass.

Subclass :class:`ProviderConformance` in a test module, set the capability flags, and give
two fixtures: ``provider`` (a working instance) and ``failing_provider`` (one whose backend
cannot answer — an unreachable URL, a missing model file)::

    from jackfield.testing.conformance import ProviderConformance


    class TestEchoConformance(ProviderConformance):
        tools = False
        model_listing = True

        @pytest.fixture
        def provider(self):
            with registry.create("echo") as provider:
                yield provider

        @pytest.fixture
        def failing_provider(self): ...

The checks: the stream lifecycle (fragments in a valid order, exactly one final
``Completion`` per choice, text/thought/tool-argument deltas adding up to the folded
``Response``); closing a stream (sync and async) closes its exchange; failures are
jackfield error types, never transport exceptions; options are validated with the
offending path and layer named; ``status()`` and ``list_models()`` generate nothing;
secrets never appear in reprs, explanations, dry runs or errors; sync and async agree; and,
per flag, tools, reasoning, vision, usage, model listing and embeddings work. A provider with
``tools`` also carries a tool loop (``run``/``arun``): the calls it decodes run, their results
go back to the server as tool messages it accepts, and a tool's ``source`` survives the wire.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

import pytest

from jackfield._errors import JackfieldError, NotSupportedError, OptionsError, ProviderError
from jackfield._fragments import (
    Completion,
    Fragment,
    RunFragment,
    TextDelta,
    ThoughtDelta,
    ToolCall,
    ToolCallDelta,
    ToolResult,
)
from jackfield._loop import AsyncRun, Run
from jackfield._messages import (
    AssistantMessage,
    ImagePart,
    MessagesLike,
    TextPart,
    Tool,
    ToolMessage,
    UserMessage,
)
from jackfield._options import CALL, INSTANCE, layer_name
from jackfield._response import Response
from jackfield._tools import ToolOutput
from jackfield.provider import ChatRequest, Exchange, Provider

__all__ = ["ExchangeSpy", "ProviderConformance", "check_lifecycle"]

# A 1x1 red PNG, for the vision check.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763"
    "f8cfc000000301010018dd8db00000000049454e44ae426082"
)


class ExchangeSpy(Exchange):
    """Wraps an exchange and records whether it was closed (and the request it answers)."""

    def __init__(self, inner: Exchange, request: ChatRequest[Any] | None = None) -> None:
        self.inner = inner
        self.request = request
        self.closed = False

    def __iter__(self) -> Iterator[Iterable[Fragment]]:
        return iter(self.inner)

    def __aiter__(self) -> AsyncIterator[Iterable[Fragment]]:
        return self.inner.__aiter__()

    def close(self) -> None:
        self.closed = True
        self.inner.close()

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


def spy_on(provider: Provider[Any]) -> list[ExchangeSpy]:
    """Record every exchange the provider opens from now on (on this instance only)."""
    spies: list[ExchangeSpy] = []
    original = provider.chat_exchange

    def chat_exchange(request: Any) -> Exchange:
        spy = ExchangeSpy(original(request), request)
        spies.append(spy)
        return spy

    provider.chat_exchange = chat_exchange  # type: ignore[method-assign]
    return spies


def check_lifecycle(fragments: list[Fragment]) -> Response:
    """Assert the stream protocol on a complete fragment sequence; return the folded response.

    Per choice: deltas and tool calls, then exactly one Completion, nothing after it; each
    ToolCall comes after its deltas and its arguments are the concatenation of their
    ``arguments_delta``; the folded text and thoughts are the concatenated deltas.
    """
    assert fragments, "the stream produced no fragments"
    finished: set[int] = set()
    arguments: dict[tuple[int, int], list[str]] = {}
    for fragment in fragments:
        choice = fragment.choice
        assert choice not in finished, f"{fragment!r} came after the Completion of choice {choice}"
        if isinstance(fragment, Completion):
            finished.add(choice)
        elif isinstance(fragment, ToolCallDelta):
            arguments.setdefault((choice, fragment.index), []).append(fragment.arguments_delta)
        elif isinstance(fragment, ToolCall):
            parts = arguments.get((choice, fragment.index))
            if parts is not None:
                assert "".join(parts) == fragment.arguments, "tool-call deltas do not add up"
    assert isinstance(fragments[-1], Completion), "the stream must end with a Completion"
    response = Response.fold(fragments)
    chosen = {f.choice for f in fragments}
    assert finished == chosen, f"choices {sorted(chosen - finished)} never completed"
    for folded in response.choices:
        texts = [f.text for f in fragments if isinstance(f, TextDelta) and f.choice == folded.index]
        thoughts = [
            f.text for f in fragments if isinstance(f, ThoughtDelta) and f.choice == folded.index
        ]
        assert folded.text == "".join(texts)
        assert folded.thoughts == "".join(thoughts)
        assert folded.pending_tool_calls == ()
    return response


class _RecordingTool:
    """A tool the kit's runs can call: the model is told ``tool``; every call is recorded in
    ``calls`` (its arguments) and gives ``output``."""

    def __init__(self, tool: Tool, output: str) -> None:
        self.tool = tool
        self.output = output
        self.calls: list[dict[str, Any]] = []

    def call(self, arguments: Mapping[str, Any]) -> ToolOutput:
        self.calls.append(dict(arguments))
        return ToolOutput(self.output)

    async def acall(self, arguments: Mapping[str, Any]) -> ToolOutput:
        return self.call(arguments)


def _run_steps(fragments: Iterable[RunFragment]) -> list[tuple[list[Fragment], list[ToolResult]]]:
    """A run's fragments cut into its steps: each model call's fragments, and the
    :class:`~jackfield.ToolResult` fragments that followed them."""
    steps: list[tuple[list[Fragment], list[ToolResult]]] = []
    for fragment in fragments:
        if isinstance(fragment, ToolResult):
            if not steps:
                raise AssertionError(f"{fragment!r} came before any model call")
            steps[-1][1].append(fragment)
        elif not steps or steps[-1][1]:
            steps.append(([fragment], []))
        else:
            steps[-1][0].append(fragment)
    return steps


class ProviderConformance:
    """The conformance tests. Override the fixtures ``provider`` and ``failing_provider``.

    Tests of capabilities a subclass does not claim are left out of its collection (for
    embeddings, a check that the provider refuses them cleanly takes their place).

    With ``tools``, the tool-loop checks make runs of at most two model calls and send
    ``call_options`` and ``tool_call_options`` with both: the first must call ``tool``; the
    second, which carries the results, may call it again (the run then ends at its step limit)
    or answer. ``tool_loop_options`` (instead of ``tool_call_options``) must make the server
    answer a conversation that ends with tool results without calling a tool again (for
    example ``{"tool_choice": "none"}``; the default ``{}`` suits a server that answers tool
    results by itself).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        claims = {
            "test_tools": cls.tools,
            "test_tool_loop": cls.tools,
            "test_async_tool_loop": cls.tools,
            "test_tool_source_survives_the_wire": cls.tools,
            "test_reasoning": cls.reasoning,
            "test_vision": cls.vision,
            "test_usage": cls.usage,
            "test_model_listing": cls.model_listing,
            "test_embeddings": cls.embeddings,
            "test_embeddings_are_refused": not cls.embeddings,
            "test_secrets_are_never_shown": cls.secret_option is not None,
        }
        for name, claimed in claims.items():
            if not claimed:
                setattr(cls, name, None)  # pytest collects only callables
            elif getattr(cls, name) is None:  # a base class in between did not claim it
                setattr(cls, name, ProviderConformance.__dict__[name])

    # capability flags -----------------------------------------------------------------------
    tools: ClassVar[bool] = False
    reasoning: ClassVar[bool] = False
    vision: ClassVar[bool] = False
    usage: ClassVar[bool] = True
    model_listing: ClassVar[bool] = True
    embeddings: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True
    """Identical calls give identical fragments (set ``call_options`` to make them so)."""
    secret_option: ClassVar[str | None] = None
    """The options field holding an API key, if the provider takes one."""

    # what to send ----------------------------------------------------------------------------
    prompt: ClassVar[MessagesLike] = "Say hello."
    call_options: ClassVar[dict[str, Any]] = {}
    tool_call_options: ClassVar[dict[str, Any]] = {}
    """Options that make the model call ``tool`` (for example ``{"tool_choice": "required"}``)."""
    tool_loop_options: ClassVar[dict[str, Any]] = {}
    """Options that make the model answer tool results without calling a tool again (for
    example ``{"tool_choice": "none"}``)."""
    reasoning_call_options: ClassVar[dict[str, Any]] = {}
    tool: ClassVar[Tool] = Tool(
        "get_weather",
        "Get the weather for a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )

    @pytest.fixture
    def provider(self) -> Iterator[Provider[Any]]:
        """Override: yield (or return) a working provider instance for the checks to use.

        The base version raises ``NotImplementedError``.
        """
        raise NotImplementedError("override the `provider` fixture")

    @pytest.fixture
    def failing_provider(self) -> Iterator[Provider[Any]]:
        """Override: yield (or return) a provider whose backend cannot answer (an unreachable URL,
        a missing model file). The base version raises ``NotImplementedError``.
        """
        raise NotImplementedError("override the `failing_provider` fixture")

    # the stream ---------------------------------------------------------------------------------

    def test_stream_lifecycle(self, provider: Provider[Any]) -> None:
        """Streaming ``prompt`` passes :func:`check_lifecycle`, and the stream's ``response`` equals
        the response folded from its fragments.
        """
        stream = provider.stream(self.prompt, **self.call_options)
        fragments = list(stream)
        response = check_lifecycle(fragments)
        assert response == stream.response

    def test_complete_gives_a_finished_response(self, provider: Provider[Any]) -> None:
        """``complete()`` returns a ``done`` response with a ``completion``; with ``deterministic``,
        its text equals that of the same call streamed and collected.
        """
        response = provider.complete(self.prompt, **self.call_options)
        assert response.done
        assert response.completion is not None
        if self.deterministic:
            streamed = provider.stream(self.prompt, **self.call_options).collect()
            assert response.text == streamed.text

    @pytest.mark.anyio
    async def test_sync_and_async_agree(self, provider: Provider[Any]) -> None:
        """``astream()`` passes :func:`check_lifecycle` and ``acomplete()`` finishes; with
        ``deterministic``, ``astream()`` and ``stream()`` give the same fragments (metrics aside).
        """
        fragments = [f async for f in provider.astream(self.prompt, **self.call_options)]
        check_lifecycle(fragments)
        if self.deterministic:
            assert _comparable(fragments) == _comparable(
                list(provider.stream(self.prompt, **self.call_options))
            )
        answer = await provider.acomplete(self.prompt, **self.call_options)
        assert answer.done
        await provider.aclose()  # async connection pools belong to this test's event loop

    def test_closing_a_stream_closes_its_exchange(self, provider: Provider[Any]) -> None:
        """Leaving a ``with`` block after the first fragment, or breaking out of a ``for`` loop over
        a stream, closes the stream's exchange.
        """
        spies = spy_on(provider)
        with provider.stream(self.prompt, **self.call_options) as stream:
            next(iter(stream))
        assert spies[-1].closed
        for _ in provider.stream(self.prompt, **self.call_options):
            break
        assert spies[-1].closed

    @pytest.mark.anyio
    async def test_closing_an_async_stream_closes_its_exchange(
        self, provider: Provider[Any]
    ) -> None:
        """Leaving an ``async with`` block over ``astream()`` after the first fragment closes the
        stream's exchange.
        """
        spies = spy_on(provider)
        async with provider.astream(self.prompt, **self.call_options) as stream:
            await stream.__anext__()
        assert spies[-1].closed
        await provider.aclose()

    # failures -------------------------------------------------------------------------------------

    def test_failures_are_jackfield_errors(self, failing_provider: Provider[Any]) -> None:
        """On ``failing_provider``, ``stream()`` and ``complete()`` raise ``ProviderError``;
        ``status()`` reports not connected or an error instead of raising; ``list_models()``
        raises a ``JackfieldError`` or returns a list.
        """
        with pytest.raises(ProviderError):
            list(failing_provider.stream(self.prompt, **self.call_options))
        with pytest.raises(ProviderError):
            failing_provider.complete(self.prompt, **self.call_options)
        status = failing_provider.status()  # never raises: it reports
        assert not status.connected or status.error
        try:
            models = failing_provider.list_models()
        except JackfieldError:
            pass  # reporting the failure is right
        else:
            assert isinstance(models, list)  # or answering from what it knows without the backend

    @pytest.mark.anyio
    async def test_async_failures_are_jackfield_errors(
        self, failing_provider: Provider[Any]
    ) -> None:
        """On ``failing_provider``, ``acomplete()`` raises ``ProviderError``."""
        with pytest.raises(ProviderError):
            await failing_provider.acomplete(self.prompt, **self.call_options)
        await failing_provider.aclose()

    def test_options_are_validated_with_path_and_layer(self, provider: Provider[Any]) -> None:
        """An unknown option raises ``OptionsError``: via ``from_options(..., name="checked")``, one
        issue with path ``("no_such_option_xyz",)`` and layer ``instance:checked``; via ``stream()``,
        layer ``call``.
        """
        with pytest.raises(OptionsError) as info:
            type(provider).from_options({"no_such_option_xyz": 1}, name="checked")
        (issue,) = info.value.issues
        assert issue.path == ("no_such_option_xyz",)
        assert issue.layer == layer_name(INSTANCE, "checked")
        with pytest.raises(OptionsError) as info:
            provider.stream(self.prompt, no_such_option_xyz=1)
        assert info.value.issues[0].layer == layer_name(CALL)

    def test_status_and_models_generate_nothing(self, provider: Provider[Any]) -> None:
        """``status()`` reports connected, and neither it nor ``list_models()`` (called only with
        ``model_listing``) opens a chat exchange.
        """
        spies = spy_on(provider)
        status = provider.status()
        assert status.connected
        if self.model_listing:
            provider.list_models()
        assert spies == [], "status() or list_models() started a chat"

    def test_secrets_are_never_shown(
        self, provider: Provider[Any], failing_provider: Provider[Any]
    ) -> None:
        """A key set in ``secret_option`` never appears in reprs, the options, ``explain()``,
        ``dry_run()`` or errors, for both fixtures. Collected only when ``secret_option`` is set.
        """
        assert self.secret_option is not None
        key = "sk-" + secrets.token_hex(16)
        shown: list[str] = []
        for base in (provider, failing_provider):
            keyed = type(base).from_options(
                base.resolved.with_layer("secret", {self.secret_option: key}), name=base.name
            )
            shown += [repr(keyed), repr(keyed.options), str(keyed.options), keyed.explain()]
            shown.append(str(keyed.dry_run(self.prompt, **self.call_options)))
            try:
                keyed.complete(self.prompt, **self.call_options)
            except JackfieldError as exc:
                shown += [str(exc), repr(exc), repr(exc.__dict__)]
            keyed.close()
        for text in shown:
            assert key not in text, f"the secret leaked into: {text[:200]}"

    # capabilities --------------------------------------------------------------------------------

    def test_usage(self, provider: Provider[Any]) -> None:
        """``complete()`` gives ``usage`` with integer ``prompt_tokens`` and ``completion_tokens``.

        Collected only with ``usage`` (on by default).
        """
        usage = provider.complete(self.prompt, **self.call_options).usage
        assert usage is not None
        assert isinstance(usage.prompt_tokens, int)
        assert isinstance(usage.completion_tokens, int)

    def test_model_listing(self, provider: Provider[Any]) -> None:
        """``list_models()`` returns at least one model, and no model has an empty ``id``.

        Collected only with ``model_listing`` (on by default).
        """
        models = provider.list_models()
        assert models, "no models listed"
        assert all(m.id for m in models), "a listed model has an empty id"

    def test_tools(self, provider: Provider[Any]) -> None:
        """Streaming with ``tools=[tool]`` and ``tool_call_options`` passes :func:`check_lifecycle`
        and returns tool calls, each naming ``tool`` with arguments that parse to a JSON object.
        Collected only with ``tools``.
        """
        options = {**self.call_options, **self.tool_call_options}
        fragments = list(provider.stream(self.prompt, tools=[self.tool], **options))
        response = check_lifecycle(fragments)
        assert response.tool_calls, "no tool call came back"
        for call in response.tool_calls:
            assert call.name == self.tool.name
            assert isinstance(call.parsed_arguments(), dict), "tool arguments are not an object"

    def test_tool_loop(self, provider: Provider[Any]) -> None:
        """``run(prompt, tools=[tool], max_steps=2)``, ``tool`` being runnable and recording its
        calls, with ``tool_call_options`` for the first model call and ``tool_loop_options``
        for the second (``step_options``), runs each call of the first answer once, yields its
        ``ToolResult`` (same id) after that answer, and sends the results back: the second
        request's conversation ends with the answer's calls and a ``ToolMessage`` per call, and
        the server answers it without a tool call, so the run ends with ``"answer"``. Collected
        only with ``tools``.
        """
        recorder, spies = _RecordingTool(self.tool, _tool_output()), spy_on(provider)
        run = provider.run(
            self.prompt,
            tools=[recorder],
            max_steps=TOOL_LOOP_STEPS,
            step_options=self._step_options(),
            **self.call_options,
        )
        fragments = list(run)
        self._check_run(fragments, run, recorder, spies, source=None)

    def _step_options(self) -> Callable[[int, Any], dict[str, Any]]:
        """``tool_call_options`` for a run's first model call, ``tool_loop_options`` after."""
        first, later = dict(self.tool_call_options), dict(self.tool_loop_options)
        return lambda step, conversation: first if step == 1 else later

    @pytest.mark.anyio
    async def test_async_tool_loop(self, provider: Provider[Any]) -> None:
        """``arun()`` passes the checks of :meth:`test_tool_loop`'s run; with ``deterministic``,
        it yields the same fragments as ``run()`` (ids and metrics aside). Collected only with
        ``tools``.
        """
        output = _tool_output()
        recorder, spies = _RecordingTool(self.tool, output), spy_on(provider)
        options = {"max_steps": TOOL_LOOP_STEPS, **self.call_options}
        run = provider.arun(
            self.prompt, tools=[recorder], step_options=self._step_options(), **options
        )
        fragments = [f async for f in run]
        self._check_run(fragments, run, recorder, spies, source=None)
        if self.deterministic:
            again = _RecordingTool(self.tool, output)
            synced = list(
                provider.run(
                    self.prompt, tools=[again], step_options=self._step_options(), **options
                )
            )
            assert _comparable(fragments) == _comparable(synced)
        await provider.aclose()

    def test_tool_source_survives_the_wire(self, provider: Provider[Any]) -> None:
        """A tool with ``source="kit"`` (sent as ``kit__<name>``) comes back as calls with that
        source and the plain name, so a run finds and runs it; the calls go back to the server
        in the next request, which it answers. Collected only with ``tools``.
        """
        tool = Tool(self.tool.name, self.tool.description, self.tool.parameters, TOOL_SOURCE)
        recorder, spies = _RecordingTool(tool, _tool_output()), spy_on(provider)
        run = provider.run(
            self.prompt,
            tools=[recorder],
            max_steps=TOOL_LOOP_STEPS,
            step_options=self._step_options(),
            **self.call_options,
        )
        self._check_run(list(run), run, recorder, spies, source=TOOL_SOURCE)

    def _check_run(
        self,
        fragments: list[RunFragment],
        run: Run | AsyncRun,
        recorder: _RecordingTool,
        spies: list[ExchangeSpy],
        *,
        source: str | None,
    ) -> None:
        """The checks of one run of :meth:`test_tool_loop` (see there)."""
        steps = _run_steps(fragments)
        assert len(steps) == run.steps == len(spies), (
            f"{len(steps)} steps streamed, run.steps is {run.steps}, {len(spies)} requests sent"
        )
        assert all(spy.closed for spy in spies), "a step's exchange was left open"
        first, results = steps[0]
        calls = check_lifecycle(first).tool_calls
        assert calls, "no tool call came back: set tool_call_options so that the model must call"
        for call in calls:
            assert (call.name, call.source) == (self.tool.name, source), (
                f"the call names {call.name!r} from source {call.source!r}, expected "
                f"{self.tool.name!r} from {source!r} (sent as "
                f"{f'{source}__' if source else ''}{self.tool.name})"
            )
            assert call.id, f"{call!r} has no id: tool messages answer a call by its id"
        assert [r.id for r in results] == [c.id for c in calls], (
            "each call needs a ToolResult with its id, after the answer, in order"
        )
        for result in results:
            assert not result.is_error, f"the tool did not run: {result.content}"
            assert result.content == recorder.output
        assert recorder.calls == [c.parsed_arguments() for c in calls], "the tool ran otherwise"
        assert len(steps) > 1, "the tool results were never sent back"
        sent = _sent(spies[1]).conversation.messages
        turn, answers = sent[-len(calls) - 1], sent[-len(calls) :]
        assert isinstance(turn, AssistantMessage), "the tool calls' turn was not sent back"
        assert [c.id for c in turn.tool_calls] == [c.id for c in calls]
        tool_messages = [m for m in answers if isinstance(m, ToolMessage)]
        assert len(tool_messages) == len(calls), "a tool message is missing"
        assert [(m.tool_call_id, m.content) for m in tool_messages] == [
            (c.id, recorder.output) for c in calls
        ]
        last = check_lifecycle(steps[-1][0])  # the server accepted the tool messages
        assert run.stop_reason == "answer", (
            f"the run ended with {run.stop_reason!r}: the tool results were answered with "
            "another tool call; set tool_loop_options (for example {'tool_choice': 'none'}) so "
            "that the model answers them"
        )
        assert not last.tool_calls, "the answer to the tool results called a tool again"
        assert not steps[-1][1], "a ToolResult came after the answer"

    def test_reasoning(self, provider: Provider[Any]) -> None:
        """Streaming with ``reasoning_call_options`` passes :func:`check_lifecycle` and yields at
        least one ``ThoughtDelta``. Collected only with ``reasoning``.
        """
        options = {**self.call_options, **self.reasoning_call_options}
        fragments = list(provider.stream(self.prompt, **options))
        check_lifecycle(fragments)
        assert any(isinstance(f, ThoughtDelta) for f in fragments), "no reasoning came back"

    def test_vision(self, provider: Provider[Any]) -> None:
        """A user message with a text part and a 1x1 PNG ``ImagePart`` streams and passes
        :func:`check_lifecycle`. Collected only with ``vision``.
        """
        message = UserMessage(
            (TextPart("What is in this image?"), ImagePart.from_bytes(PIXEL_PNG, "image/png"))
        )
        check_lifecycle(list(provider.stream([message], **self.call_options)))

    def test_embeddings(self, provider: Provider[Any]) -> None:
        """``embed()`` of two texts returns two vectors of the same, non-zero length.

        Collected only with ``embeddings``.
        """
        result = provider.embed(["the sea", "a lighthouse"])
        assert len(result.vectors) == 2
        assert len(result.vectors[0]) == len(result.vectors[1]) > 0

    def test_embeddings_are_refused(self, provider: Provider[Any]) -> None:
        """``embed()`` raises ``NotSupportedError``. Collected only when ``embeddings`` is off."""
        with pytest.raises(NotSupportedError):
            provider.embed(["a"])


TOOL_LOOP_STEPS = 2
"""``max_steps`` of the kit's runs: the call that must call the tool, then the one that sends
its results."""
TOOL_SOURCE = "kit"
"""The ``source`` of the tool :meth:`ProviderConformance.test_tool_source_survives_the_wire`
sends."""


def _tool_output() -> str:
    return f"sunny, 21 C (report {secrets.token_hex(4)})"


def _sent(spy: ExchangeSpy) -> ChatRequest[Any]:
    assert spy.request is not None
    return spy.request


def _comparable(fragments: Iterable[RunFragment]) -> list[Any]:
    """Fragments without the metrics and tool-call ids (they differ between runs)."""
    out: list[Any] = []
    for fragment in fragments:
        if isinstance(fragment, ToolResult):
            out.append((fragment.name, fragment.content, fragment.is_error, fragment.source))
            continue
        if isinstance(fragment, Completion):
            out.append((fragment.finish_reason, fragment.usage, fragment.model, fragment.choice))
        elif isinstance(fragment, ToolCall):
            out.append((fragment.name, fragment.arguments, fragment.source, fragment.index))
        elif isinstance(fragment, ToolCallDelta):
            out.append((fragment.index, fragment.name, fragment.arguments_delta))
        else:
            out.append(fragment)
    return out
