"""The call pipeline, written once: options, requests, streams, answers, dry runs, explanations.

A :class:`~jackfield.provider.Provider` and a :class:`~jackfield.Agent` are both a
:class:`Pipeline`: each names the provider that does the I/O and a :class:`Binding` (the option
layers under the call, a system prompt and tools sent with every call). Everything a host calls
to chat is here, so an agent is a provider with more layers, never a second implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs

from jackfield._messages import Conversation, MessagesLike, SystemMessage, Tool
from jackfield._options import CALL, Resolved, structure

if TYPE_CHECKING:
    from jackfield._info import Embeddings
    from jackfield._loop import Approve, AsyncRun, Execute, Run, StepOptions, ToolErrors
    from jackfield._response import Response
    from jackfield._stream import AsyncFragmentStream, FragmentStream
    from jackfield._tools import Executable, ToolLike
    from jackfield.provider import Provider

__all__ = ["Binding", "ChatRequest", "Pipeline"]

OptionsT = TypeVar("OptionsT")
T = TypeVar("T")

_TYPED_CALLS = 64  # distinct plain call options remembered per binding
_PLAIN = (str, int, float, bool, type(None))


def _plain_key(options: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key for call options made only of plain values, else ``None``. Types are
    part of it, so ``temperature=1`` and ``temperature=True`` stay apart."""
    key = []
    for name, value in options.items():
        if type(value) not in _PLAIN:
            return None
        key.append((name, type(value), value))
    key.sort(key=lambda item: item[0])
    return tuple(key)


@attrs.frozen
class ChatRequest(Generic[OptionsT]):
    """Everything a provider needs for one chat call (already validated)."""

    conversation: Conversation
    tools: tuple[Tool, ...]
    options: OptionsT
    stream: bool


class Binding:
    """What sits under a call's own options.

    ``layers``: every option layer below the call (preset, instance, agent). ``system_prompt``
    and ``tools``: sent with every call, before the call's own. ``target``: how errors name the
    caller (``"agent 'coder'"``). ``base``: the typed options of the layers alone, when known.
    """

    __slots__ = ("_base", "_typed", "layers", "system_prompt", "target", "tools")

    def __init__(
        self,
        layers: Resolved,
        *,
        target: str,
        system_prompt: str | None = None,
        tools: Iterable[Tool] = (),
        base: Any = None,
    ) -> None:
        self.layers = layers
        self.target = target
        self.system_prompt = system_prompt or None
        self.tools = tuple(tools)
        self._base = base
        self._typed: dict[tuple[Any, ...], Any] = {}

    def typed(self, options_class: type[Any], options: Mapping[str, Any]) -> Any:
        """The typed options of a call: ``options`` merged over the layers, validated.

        Calls that repeat the same plain options (strings, numbers, booleans, ``None``: say
        ``model=...`` and ``temperature=...``) reuse the typed options of the first such call:
        merging and validating them again could only give the same result. Typed options are
        frozen and shared.
        """
        if not options and self._base is not None:
            return self._base
        key = _plain_key(options)
        if key is not None:
            cached = self._typed.get(key)
            if cached is not None:
                return cached
        layers = self.layers.with_layer(CALL, options) if options else self.layers
        typed = structure(options_class, layers, target=self.target)
        if not options:
            self._base = typed
        elif key is not None:
            if len(self._typed) >= _TYPED_CALLS:
                self._typed.clear()
            self._typed[key] = typed
        return typed


class Pipeline(Generic[OptionsT]):
    """The chat API hosts call, on a provider or an agent alike.

    Options given per call (``stream(msgs, temperature=0)``) are one more layer, merged over
    the others with JSON Merge Patch and validated like any other.
    """

    def _bound(self) -> tuple[Provider[OptionsT], Binding]:
        """The provider that does the I/O, and the binding of this caller."""
        raise NotImplementedError

    def options_for(self, **options: Any) -> OptionsT:
        """The typed options of a call (``options`` as the call layer)."""
        provider, binding = self._bound()
        typed: OptionsT = binding.typed(provider.options_class, options)
        return typed

    def _tools(self) -> tuple[Tool | Executable, ...]:
        """The caller's own tools, offered with every call before the call's: the binding's
        (an agent adds the Python and MCP tools it runs)."""
        return self._bound()[1].tools

    def _max_steps(self) -> int:
        """The most model calls a run makes unless told otherwise."""
        return 10

    def _for_run(self, messages: MessagesLike) -> Pipeline[OptionsT]:
        """The caller a run's steps go through (an agent with a log keeps them in one logged
        conversation)."""
        return self

    def request(
        self,
        messages: MessagesLike,
        *,
        tools: Iterable[ToolLike] = (),
        stream: bool = True,
        **options: Any,
    ) -> ChatRequest[OptionsT]:
        """Validate a call's conversation and options (nothing is sent). ``tools`` may hold
        functions and other runnable tools: only what the model is told about them is sent."""
        provider, binding = self._bound()
        conversation = Conversation.of(messages)
        if binding.system_prompt:
            conversation = Conversation(
                (SystemMessage(binding.system_prompt), *conversation.messages)
            )
        typed = binding.typed(provider.options_class, options)
        own = self._tools()
        if tools or (own and not all(type(t) is Tool for t in own)):
            from jackfield._tools import Toolbox

            offered = Toolbox((*own, *tools)).tools  # one per (source, name), the call's last
        else:
            offered = own  # type: ignore[assignment]
        return ChatRequest(conversation, offered, typed, stream)

    def explain(
        self, *, output: Any = None, output_strategy: str | None = None, **options: Any
    ) -> str:
        """Every effective option (``options`` as the call layer) and the layer that set it,
        then what the provider learned about its server while it ran (see
        :meth:`~jackfield.provider.Provider.learned`); with ``output``, a last line saying
        how it would be asked for (``output: City as JSON Schema via response_format``)."""
        from jackfield._converter import converter

        provider, binding = self._bound()
        layers = binding.layers.with_layer(CALL, options) if options else binding.layers
        typed = structure(provider.options_class, layers, target=binding.target)
        table = layers.explain(converter.unstructure(typed))
        learned = provider.learned()
        lines = [f"learned from {where}: {'; '.join(what)}" for where, what in learned.items()]
        if output is not None:
            from jackfield._output import explained

            lines.append(explained(provider, typed, output, output_strategy, target=binding.target))
        return "\n".join([table, *lines])

    def dry_run(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: Any = None,
        output_strategy: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """What a ``stream(...)`` call would send, as JSON-ready data with secrets masked;
        nothing is sent (see :meth:`~jackfield.provider.Provider.describe`). With ``output``,
        what the first request of ``complete(..., output=...)`` would send, and under
        ``"output"`` the output's name and the strategy that asks for it."""
        if output is not None:
            from jackfield._output import Structured

            return Structured(self, messages, tools, output, output_strategy, options).dry_run()
        provider, _ = self._bound()
        _no_strategy(output_strategy)
        return provider.describe(self.request(messages, tools=tools, stream=True, **options))

    def stream(
        self, messages: MessagesLike, /, *, tools: Iterable[ToolLike] = (), **options: Any
    ) -> FragmentStream:
        """Stream a chat: an iterable of fragments (the request goes out on first use)."""
        request = self.request(messages, tools=tools, stream=True, **options)
        return self._open(request, messages, options)

    def astream(
        self, messages: MessagesLike, /, *, tools: Iterable[ToolLike] = (), **options: Any
    ) -> AsyncFragmentStream:
        """Stream a chat asynchronously (``async for`` / ``async with``)."""
        request = self.request(messages, tools=tools, stream=True, **options)
        return self._aopen(request, messages, options)

    @overload
    def complete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: None = None,
        output_strategy: None = None,
        **options: Any,
    ) -> Response: ...

    @overload
    def complete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: type[T],
        output_strategy: str | None = None,
        **options: Any,
    ) -> T: ...

    @overload
    def complete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: Mapping[str, Any],
        output_strategy: str | None = None,
        **options: Any,
    ) -> Any: ...

    def complete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: Any = None,
        output_strategy: str | None = None,
        **options: Any,
    ) -> Any:
        """Answer whole (a non-streaming request where the backend supports one).

        With ``output`` (an attrs class, a pydantic model class or a JSON Schema mapping), the
        answer is asked for in that shape (see :meth:`Provider.output_strategies
        <jackfield.provider.Provider.output_strategies>`; ``output_strategy`` forces one),
        checked, and returned as the object (for a schema, its JSON value). An answer that does
        not fit is sent back once with what is wrong; then :class:`~jackfield.OutputError`,
        which keeps the raw text."""
        if output is not None:
            from jackfield._output import Structured

            return Structured(self, messages, tools, output, output_strategy, options).run()
        _no_strategy(output_strategy)
        request = self.request(messages, tools=tools, stream=False, **options)
        return self._open(request, messages, options).collect()

    @overload
    async def acomplete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: None = None,
        output_strategy: None = None,
        **options: Any,
    ) -> Response: ...

    @overload
    async def acomplete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: type[T],
        output_strategy: str | None = None,
        **options: Any,
    ) -> T: ...

    @overload
    async def acomplete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: Mapping[str, Any],
        output_strategy: str | None = None,
        **options: Any,
    ) -> Any: ...

    async def acomplete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        output: Any = None,
        output_strategy: str | None = None,
        **options: Any,
    ) -> Any:
        """Answer whole, asynchronously (``output`` as for :meth:`complete`)."""
        if output is not None:
            from jackfield._output import Structured

            structured = Structured(self, messages, tools, output, output_strategy, options)
            return await structured.arun()
        _no_strategy(output_strategy)
        request = self.request(messages, tools=tools, stream=False, **options)
        return await self._aopen(request, messages, options).collect()

    def _open(
        self, request: ChatRequest[OptionsT], messages: MessagesLike, options: Mapping[str, Any]
    ) -> FragmentStream:
        """The stream of a validated request (an agent with a log records it as well); the
        call's ``messages`` and ``options`` as given."""
        return self._bound()[0].open_stream(request)

    def _aopen(
        self, request: ChatRequest[OptionsT], messages: MessagesLike, options: Mapping[str, Any]
    ) -> AsyncFragmentStream:
        """The async twin of :meth:`_open`."""
        return self._bound()[0].open_astream(request)

    def run(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        max_steps: int | None = None,
        approve: Approve | None = None,
        execute: Execute | None = None,
        tool_errors: ToolErrors = "result",
        step_options: StepOptions | None = None,
        **options: Any,
    ) -> Run:
        """Chat with tools: stream the answer, run the tools it calls, send their results back,
        and repeat until the model answers without a call or ``max_steps`` calls were made (an
        agent's ``max_steps``, else 10). Returns a :class:`~jackfield.Run` to iterate.

        ``tools`` come after the caller's own: Python functions, :class:`~jackfield.Tool`
        descriptions (whose calls ``execute`` runs, or the run stops and leaves them in
        ``pending``) or other runnable tools. ``approve(call)`` is asked before each call runs.
        ``tool_errors``: a tool that raises becomes an error result the model reads
        (``"result"``), or ends the run with :class:`~jackfield.ToolError` (``"raise"``).
        ``step_options(step, conversation)`` returns options for one model call, merged over
        the others (force a tool call on the first, an answer once results came back).
        """
        from jackfield._loop import Run, _Steps

        steps = _Steps(
            self,
            messages,
            tools,
            max_steps=max_steps,
            approve=approve,
            execute=execute,
            tool_errors=tool_errors,
            options=options,
            step_options=step_options,
        )
        return Run(steps)

    def arun(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[ToolLike] = (),
        max_steps: int | None = None,
        approve: Approve | None = None,
        execute: Execute | None = None,
        tool_errors: ToolErrors = "result",
        step_options: StepOptions | None = None,
        **options: Any,
    ) -> AsyncRun:
        """The async twin of :meth:`run` (``async for``; ``approve`` and ``execute`` may be
        ``async``): calls of one answer run as tasks at the same time."""
        from jackfield._loop import AsyncRun, _Steps

        steps = _Steps(
            self,
            messages,
            tools,
            max_steps=max_steps,
            approve=approve,
            execute=execute,
            tool_errors=tool_errors,
            options=options,
            step_options=step_options,
        )
        return AsyncRun(steps)

    def embed(self, texts: Iterable[str], /, **options: Any) -> Embeddings:
        """Embedding vectors for ``texts`` (a string counts as one text)."""
        provider, _ = self._bound()
        return provider.embeddings_operation(_texts(texts), self.options_for(**options)).run()

    async def aembed(self, texts: Iterable[str], /, **options: Any) -> Embeddings:
        """Embedding vectors for ``texts``, asynchronously."""
        provider, _ = self._bound()
        operation = provider.embeddings_operation(_texts(texts), self.options_for(**options))
        return await operation.arun()


def _no_strategy(strategy: str | None) -> None:
    if strategy is not None:
        raise TypeError("output_strategy is given without output: name the output as well")


def _texts(texts: Iterable[str]) -> tuple[str, ...]:
    items = (texts,) if isinstance(texts, str) else tuple(texts)
    if not all(isinstance(t, str) for t in items):
        raise TypeError("embed() takes a string or an iterable of strings")
    return items
