"""The tool loop: ask the model, run the tools it calls, send back what they gave, repeat.

:meth:`Pipeline.run <jackfield.provider.Pipeline.run>` returns a :class:`Run` (``arun``, an
:class:`AsyncRun`): iterating it streams every step's fragments, each tool call's
:class:`~jackfield.ToolResult` after the :class:`~jackfield.ToolCall` it answers, until the
model answers without calling a tool or ``max_steps`` model calls were made. The decisions
(which tool a call names, whether the host approves it, what a failure becomes, what goes into
the conversation) are made once, in :class:`_Steps`; the two drivers only do the I/O.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import attrs

from jackfield._errors import InvalidToolArguments, ToolError
from jackfield._fragments import RunFragment, ToolCall, ToolResult, Usage
from jackfield._messages import (
    AssistantMessage,
    Conversation,
    Message,
    MessagesLike,
    Tool,
    ToolMessage,
)
from jackfield._options import own_affinity
from jackfield._response import Response
from jackfield._tools import Executable, Toolbox, ToolLike, ToolOutput

if TYPE_CHECKING:
    from jackfield._pipeline import Pipeline

__all__ = ["AsyncRun", "Run", "StopReason", "ToolErrors"]

StopReason = Literal["answer", "max_steps", "pending"]
"""Why a run ended: the model answered without calling a tool; ``max_steps`` model calls were
made; or it called tools that only the host can run (:attr:`Run.pending`)."""

ToolErrors = Literal["result", "raise"]
"""What a tool that raises becomes: an error result the model reads (``"result"``), or a
:class:`~jackfield.ToolError` that ends the run (``"raise"``)."""

Approve = Callable[[ToolCall], Any]
"""Asked before each call runs: ``True`` or ``None`` lets it run; ``False`` refuses it; a string
refuses it with that reason, which the model reads. May be ``async`` in an :class:`AsyncRun`."""

StepOptions = Callable[[int, Conversation], "Mapping[str, Any] | None"]
"""Called before each model call with its number (from 1) and the conversation so far; the
options it returns are merged over the run's for that call (``tool_choice="required"`` on the
first, ``"none"`` once results came back, say)."""

Execute = Callable[[ToolCall], Any]
"""Runs the calls of tools that are only described (a :class:`~jackfield.Tool` with no code):
returns the result's text or a :class:`~jackfield.ToolOutput`. May be ``async`` in an
:class:`AsyncRun`."""

MAX_PARALLEL = 8
"""Calls of one answer run at the same time, at most (sync runs use this many threads)."""


@attrs.frozen
class _Plan:
    """One call of an answer and how it will be answered."""

    call: ToolCall
    runner: Executable | None = None  # runs it
    result: ToolResult | None = None  # already answered (unknown tool, bad JSON, refused)
    arguments: Any = None


def _result(call: ToolCall, content: str, *, error: bool = False, data: Any = None) -> ToolResult:
    return ToolResult(
        call.id, call.name, content, error, call.source, data, call.choice, call.index
    )


def _shown_name(call: ToolCall) -> str:
    return f"{call.source}__{call.name}" if call.source else call.name


class _Steps:
    """The loop's state and decisions, shared by both drivers."""

    def __init__(
        self,
        pipeline: Pipeline[Any],
        messages: MessagesLike,
        tools: Iterable[ToolLike],
        *,
        max_steps: int | None,
        approve: Approve | None,
        execute: Execute | None,
        tool_errors: ToolErrors,
        options: Mapping[str, Any],
        step_options: StepOptions | None = None,
    ) -> None:
        if tool_errors not in ("result", "raise"):
            raise ValueError(f"tool_errors is 'result' or 'raise', got {tool_errors!r}")
        pipeline = pipeline._for_run(messages)
        self.pipeline = pipeline
        self.toolbox = Toolbox((*pipeline._tools(), *tools))
        steps = pipeline._max_steps() if max_steps is None else max_steps
        if steps < 1:
            raise ValueError(f"max_steps is at least 1, got {steps}")
        self.max_steps = steps
        self.approve = approve
        self.execute = execute
        self.tool_errors = tool_errors
        self.options = dict(options)
        if own_affinity(pipeline, self.options):  # every step on one server: its cache holds
            key = getattr(pipeline, "conversation", None) or f"run-{uuid.uuid4().hex}"
            self.options["affinity"] = key
        self.step_options = step_options
        self.messages: list[Message] = list(Conversation.of(messages).messages)
        last = self.messages[-1] if self.messages else None
        self.resumed: tuple[ToolCall, ...] = (
            last.tool_calls if isinstance(last, AssistantMessage) else ()
        )
        """The calls the given conversation ends with, unanswered (a run that stopped at
        ``max_steps``, or the host's calls): run before the first model call."""
        self.responses: list[Response] = []
        self.current: Response | None = None  # the answer streaming now
        self.stop_reason: StopReason | None = None
        self.pending: tuple[ToolCall, ...] = ()

    def request(self) -> tuple[Conversation, Any, dict[str, Any]]:
        """The next step's conversation (as the host gave it and as it grew), its validated
        request (with an agent's system prompt) and its options."""
        conversation = Conversation(tuple(self.messages))
        options = self.options
        if self.step_options is not None:
            extra = self.step_options(len(self.responses) + 1, conversation)
            if extra:
                options = {**options, **extra}
        request = self.pipeline.request(conversation, tools=self.toolbox.tools, **options)
        return conversation, request, options

    def answered(self, response: Response) -> list[ToolCall]:
        """Record a step's answer; the calls to run next (``[]``: the run is over)."""
        self.current = None
        self.responses.append(response)
        calls = list(response.tool_calls)
        # A call whose arguments are not JSON (cut short by max_tokens, say) goes back with
        # "{}": servers refuse to read it otherwise, and its error result quotes what it was.
        sent = tuple(c if c.arguments_valid else attrs.evolve(c, arguments="{}") for c in calls)
        self.messages.append(AssistantMessage(response.text, sent, response.thoughts or None))
        if not calls:
            self.stop_reason = "answer"
        elif len(self.responses) >= self.max_steps:
            self.stop_reason, self.pending = "max_steps", tuple(calls)
            return []
        return calls

    def plan(self, call: ToolCall) -> _Plan:
        """How a call will be answered, before approval."""
        found = self.toolbox.find(call)
        if found is None:
            names = ", ".join(self.toolbox.names()) or "none"
            text = f"error: there is no tool named {_shown_name(call)!r}; the tools are: {names}"
            return _Plan(call, result=_result(call, text, error=True))
        try:
            arguments = call.parsed_arguments()
        except InvalidToolArguments as exc:
            return _Plan(call, result=_result(call, f"error: {exc}", error=True))
        if not isinstance(arguments, dict):
            text = f"error: the arguments must be a JSON object, got {call.arguments!r}"
            return _Plan(call, result=_result(call, text, error=True))
        from jackfield._schema import validate

        spec = found if isinstance(found, Tool) else found.tool
        problems = validate(arguments, spec.parameters)
        if problems:
            text = f"error: invalid arguments for {_shown_name(call)}: " + "; ".join(problems)
            return _Plan(call, result=_result(call, text, error=True))
        if isinstance(found, Executable):
            return _Plan(call, runner=found, arguments=arguments)
        return _Plan(call, arguments=arguments)  # described only: execute, or the host, runs it

    def verdict(self, plan: _Plan, answer: Any) -> _Plan:
        """A plan after the host's approval function said ``answer``."""
        if answer is None or answer is True:
            return plan
        reason = answer if isinstance(answer, str) and answer else "the user refused this call"
        return attrs.evolve(plan, result=_result(plan.call, f"refused: {reason}", error=True))

    def finished(
        self, plan: _Plan, output: Any = None, error: BaseException | None = None
    ) -> ToolResult:
        """The result of a call that ran (or raised ``error``)."""
        call = plan.call
        if error is not None:
            if self.tool_errors == "raise":
                failure = ToolError(
                    f"tool {_shown_name(call)!r} failed: {type(error).__name__}: {error}",
                    tool=call.name,
                    source=call.source,
                )
                failure.messages = tuple(self.messages)
                raise failure from error
            return _result(call, f"error: {type(error).__name__}: {error}", error=True)
        if not isinstance(output, ToolOutput):
            output = ToolOutput("" if output is None else str(output))
        return _result(call, output.content, error=output.is_error, data=output.data)

    def record(self, calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> None:
        """Send the results of ``calls`` back (as tool messages); unrun hosted calls end the
        run."""
        answered = {r.id for r in results}
        for result in results:
            self.messages.append(ToolMessage(result.id, result.content))
        pending = tuple(c for c in calls if c.id not in answered)
        if pending:
            self.stop_reason, self.pending = "pending", pending


class _Outcome:
    """What every run offers once it ended (and, so far, while it runs)."""

    _steps: _Steps

    @property
    def messages(self) -> tuple[Message, ...]:
        """The whole conversation: what was given, then every answer and tool result (an
        agent's system prompt is not in it: it is added to every call)."""
        return tuple(self._steps.messages)

    @property
    def responses(self) -> tuple[Response, ...]:
        """Each model call's folded response, in order."""
        return tuple(self._steps.responses)

    @property
    def response(self) -> Response:
        """The answer streaming now, else the last one (the answer, once the run ended with
        one)."""
        steps = self._steps
        if steps.current is not None:
            return steps.current
        return steps.responses[-1] if steps.responses else Response()

    @property
    def text(self) -> str:
        """The last answer's text."""
        return self.response.text

    @property
    def stop_reason(self) -> StopReason | None:
        """Why the run ended (``None`` while it runs)."""
        return self._steps.stop_reason

    @property
    def pending(self) -> tuple[ToolCall, ...]:
        """Calls of the last answer that were not run: the host's to run (a described-only tool
        with no ``execute`` function), or left when ``max_steps`` was reached."""
        return self._steps.pending

    @property
    def steps(self) -> int:
        """Model calls made."""
        return len(self._steps.responses)

    @property
    def usage(self) -> Usage:
        """Tokens of every model call added up (a count no step reported stays ``None``)."""
        totals: dict[str, int | None] = {}
        for field in attrs.fields(Usage):
            values = [
                getattr(r.usage, field.name)
                for r in self._steps.responses
                if r.usage is not None and getattr(r.usage, field.name) is not None
            ]
            totals[field.name] = sum(values) if values else None
        return Usage(**totals)


class Run(_Outcome):
    """A tool loop: iterate it for fragments (:data:`~jackfield.RunFragment`), or ``collect()``.

    Every step's fragments come through, and a :class:`~jackfield.ToolResult` for each call,
    in the order of the calls. Several calls of one answer run at the same time (in threads).
    Closing the run (``close()``, leaving a ``with`` block, Ctrl-C) closes the model's stream;
    a Python tool already running in a thread cannot be stopped and finishes on its own.
    """

    def __init__(self, steps: Any) -> None:  # a _Steps: runs are made by Pipeline.run
        self._steps: _Steps = steps
        self._iterator = self._drive()

    def __iter__(self) -> Iterator[RunFragment]:
        return self._iterator

    def __next__(self) -> RunFragment:
        return next(self._iterator)

    def _drive(self) -> Generator[RunFragment, None, None]:
        steps = self._steps
        calls = list(steps.resumed)
        while steps.stop_reason is None:
            if not calls:
                conversation, request, options = steps.request()
                with steps.pipeline._open(request, conversation, options) as stream:
                    steps.current = stream.response
                    yield from stream
                calls = steps.answered(stream.response)
                if not calls:
                    break
            plans = [steps.plan(call) for call in calls]
            if steps.approve is not None:
                plans = [
                    p if p.result is not None else steps.verdict(p, steps.approve(p.call))
                    for p in plans
                ]
            results = yield from self._run_all(plans)
            steps.record(calls, results)
            calls = []

    def _run_all(self, plans: list[_Plan]) -> Generator[RunFragment, None, list[ToolResult]]:
        steps = self._steps
        runnable = [p for p in plans if p.result is None and (p.runner or steps.execute)]
        results: list[ToolResult] = []
        if len(runnable) <= 1:
            for plan in plans:
                result = plan.result if plan.result is not None else self._one(plan)
                if result is not None:
                    results.append(result)
                    yield result
            return results
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(min(MAX_PARALLEL, len(runnable)), "jackfield-tool")
        try:
            futures = {id(p): pool.submit(self._one, p) for p in runnable}
            for plan in plans:
                future = futures.get(id(plan))
                result = plan.result if future is None else future.result()
                if result is not None:
                    results.append(result)
                    yield result
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return results

    def _one(self, plan: _Plan) -> ToolResult | None:
        steps = self._steps
        try:
            if plan.runner is not None:
                output = plan.runner.call(plan.arguments)
            elif steps.execute is not None:
                output = steps.execute(plan.call)
            else:
                return None  # the host's to run
        except Exception as exc:  # noqa: BLE001 - a tool's failure is a result (or ToolError)
            return steps.finished(plan, error=exc)
        return steps.finished(plan, output)

    def collect(self) -> Run:
        """Run to the end; returns the run itself (``run.text``, ``run.messages`` ...)."""
        for _ in self._iterator:
            pass
        return self

    def close(self) -> None:
        """Stop the run and close the model's stream (safe to call more than once)."""
        self._iterator.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncRun(_Outcome):
    """The async twin of :class:`Run` (``async for``, ``async with``, ``await collect()``).

    Calls of one answer run as tasks at the same time (sync Python tools in worker threads).
    Cancelling the task that iterates the run cancels the running tools and the stream.
    """

    def __init__(self, steps: Any) -> None:  # a _Steps: runs are made by Pipeline.arun
        self._steps: _Steps = steps
        self._iterator = self._drive()

    def __aiter__(self) -> AsyncIterator[RunFragment]:
        return self._iterator

    async def __anext__(self) -> RunFragment:
        return await self._iterator.__anext__()

    async def _drive(self) -> AsyncGenerator[RunFragment, None]:
        steps = self._steps
        calls = list(steps.resumed)
        while steps.stop_reason is None:
            if not calls:
                conversation, request, options = steps.request()
                async with steps.pipeline._aopen(request, conversation, options) as stream:
                    steps.current = stream.response
                    async for fragment in stream:
                        yield fragment
                calls = steps.answered(stream.response)
                if not calls:
                    break
            plans = [steps.plan(call) for call in calls]
            if steps.approve is not None:
                approved = []
                for plan in plans:
                    if plan.result is None:
                        answer = steps.approve(plan.call)
                        if inspect.isawaitable(answer):
                            answer = await answer
                        plan = steps.verdict(plan, answer)
                    approved.append(plan)
                plans = approved
            tasks = {id(p): asyncio.ensure_future(self._one(p)) for p in plans if p.result is None}
            results: list[ToolResult] = []
            try:
                for plan in plans:
                    task = tasks.get(id(plan))
                    result = plan.result if task is None else await task
                    if result is not None:
                        results.append(result)
                        yield result
            finally:
                for task in tasks.values():
                    task.cancel()
                if tasks:
                    await asyncio.gather(*tasks.values(), return_exceptions=True)
            steps.record(calls, results)
            calls = []

    async def _one(self, plan: _Plan) -> ToolResult | None:
        steps = self._steps
        try:
            if plan.runner is not None:
                output = await plan.runner.acall(plan.arguments)
            elif steps.execute is not None:
                output = steps.execute(plan.call)
                if inspect.isawaitable(output):
                    output = await output
            else:
                return None
        except Exception as exc:  # noqa: BLE001 - a tool's failure is a result (or ToolError)
            return steps.finished(plan, error=exc)
        return steps.finished(plan, output)

    async def collect(self) -> AsyncRun:
        """Run to the end; returns the run itself."""
        async for _ in self._iterator:
            pass
        return self

    async def aclose(self) -> None:
        """Stop the run: cancel running tools and close the model's stream."""
        await self._iterator.aclose()

    async def __aenter__(self) -> AsyncRun:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
