"""A provider that plays a script: for tests of hosts, and of jackfield itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, Union

import attrs

from jackfield._fragments import (
    Completion,
    FinishReason,
    Fragment,
    TextDelta,
    ThoughtDelta,
    Usage,
)
from jackfield.hookspecs import RegisterProvider, hookimpl
from jackfield.provider import (
    ChatRequest,
    Exchange,
    ModelInfo,
    Operation,
    Provider,
    Status,
)

__all__ = [
    "ScriptedExchange",
    "ScriptedOptions",
    "ScriptedProvider",
    "Step",
    "register_providers",
    "reply_fragments",
]

Step = Union[Fragment, BaseException, Sequence[Fragment]]
"""One step of a script: a fragment, a batch of fragments, or an exception to raise there."""


@attrs.frozen
class ScriptedOptions:
    """Options of the scripted provider. Without a script it replies with ``reply``."""

    model: str = "scripted"
    reply: str = "Hello from the scripted provider."
    thoughts: str = ""
    chunk_size: int = 8
    temperature: float | None = None
    max_tokens: int | None = None
    extra_body: dict[str, Any] = attrs.field(factory=dict)


def reply_fragments(
    text: str, *, thoughts: str = "", chunk_size: int = 8, model: str | None = None
) -> list[Fragment]:
    """The fragments of a plain answer: thought deltas, text deltas, one Completion."""
    size = max(1, chunk_size)
    fragments: list[Fragment] = [
        ThoughtDelta(thoughts[i : i + size]) for i in range(0, len(thoughts), size)
    ]
    fragments += [TextDelta(text[i : i + size]) for i in range(0, len(text), size)]
    words = len(text.split())
    fragments.append(Completion(FinishReason.STOP, "stop", Usage(1, words, 1 + words), model))
    return fragments


class ScriptedExchange(Exchange):
    """Plays steps one batch at a time; exceptions in the script are raised where they stand."""

    def __init__(self, steps: Iterable[Step], *, delay: float = 0.0) -> None:
        self._steps = list(steps)
        self._delay = delay
        self.closed = False

    def _batches(self) -> Iterator[Sequence[Fragment]]:
        for step in self._steps:
            if isinstance(step, BaseException):
                raise step
            yield step if isinstance(step, Sequence) else (step,)

    def __iter__(self) -> Iterator[Sequence[Fragment]]:
        return self._batches()

    async def _abatches(self) -> AsyncIterator[Sequence[Fragment]]:
        for batch in self._batches():
            await asyncio.sleep(self._delay)
            yield batch

    def __aiter__(self) -> AsyncIterator[Sequence[Fragment]]:
        return self._abatches()

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


Script = Union[Sequence[Step], Callable[[ChatRequest[ScriptedOptions]], Sequence[Step]]]


class ScriptedProvider(Provider[ScriptedOptions]):
    """Streams a script instead of calling a backend; ``requests`` records every call.

    ``script`` is a sequence of :data:`Step` (replayed for every call) or a function of the
    :class:`~jackfield.provider.ChatRequest` returning one. Without a script, the provider
    answers ``options.reply`` in ``options.chunk_size`` pieces. ``exchanges`` keeps each
    call's :class:`ScriptedExchange`, so tests can check it was closed.
    """

    options_class = ScriptedOptions

    def __init__(
        self,
        options: ScriptedOptions | None = None,
        *,
        script: Script | None = None,
        models: Sequence[ModelInfo] = (),
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(options if options is not None else ScriptedOptions(), name=name, **kwargs)
        self.script = script
        self.models = list(models) or [ModelInfo(self.options.model, context_length=4096)]
        self.requests: list[ChatRequest[ScriptedOptions]] = []
        self.exchanges: list[ScriptedExchange] = []

    def chat_exchange(self, request: ChatRequest[ScriptedOptions]) -> ScriptedExchange:
        self.requests.append(request)
        options = request.options
        if self.script is None:
            steps: Sequence[Step] = reply_fragments(
                options.reply,
                thoughts=options.thoughts,
                chunk_size=options.chunk_size,
                model=options.model,
            )
        elif callable(self.script):
            steps = self.script(request)
        else:
            steps = self.script
        exchange = ScriptedExchange(steps)
        self.exchanges.append(exchange)
        return exchange

    def models_operation(self) -> Operation[list[ModelInfo]]:
        return Operation.of(list(self.models))

    def status_operation(self) -> Operation[Status]:
        ids = tuple(m.id for m in self.models)
        return Operation.of(
            Status(connected=True, server_kind="scripted", models=ids, loaded_models=ids)
        )


@hookimpl
def register_providers(register: RegisterProvider) -> None:
    """Register ``scripted``."""
    register(
        "scripted",
        factory="jackfield.testing:ScriptedProvider",
        options="jackfield.testing:ScriptedOptions",
        description="Plays a script of fragments; for tests and examples.",
    )
