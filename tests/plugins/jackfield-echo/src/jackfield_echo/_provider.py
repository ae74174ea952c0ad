"""The echo provider: imported only when the provider is first used."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from jackfield import (
    Completion,
    FinishReason,
    Fragment,
    ModelInfo,
    Operation,
    Provider,
    ServiceConnectionError,
    Status,
    TextDelta,
    Usage,
    UserMessage,
)
from jackfield.provider import ChatRequest, Exchange
from jackfield_echo._options import EchoOptions


class EchoExchange(Exchange):
    """One call: the same fragment batches, driven sync or async."""

    def __init__(self, text: str, options: EchoOptions) -> None:
        self.text = text
        self.options = options

    def _batches(self) -> Iterator[list[Fragment]]:
        if self.options.unreachable:  # nothing happens before iteration starts
            raise ServiceConnectionError("echo: the backend is unreachable")
        size = max(1, self.options.chunk_size)
        for start in range(0, len(self.text), size):
            yield [TextDelta(self.text[start : start + size])]
        words = len(self.text.split())
        usage = Usage(prompt_tokens=words, completion_tokens=words, total_tokens=2 * words)
        yield [Completion(FinishReason.STOP, "stop", usage, self.options.model)]

    def __iter__(self) -> Iterator[list[Fragment]]:
        return self._batches()

    async def _abatches(self) -> AsyncIterator[list[Fragment]]:
        for batch in self._batches():
            await asyncio.sleep(0)  # a real provider awaits its transport here
            yield batch

    def __aiter__(self) -> AsyncIterator[list[Fragment]]:
        return self._abatches()


class EchoProvider(Provider[EchoOptions]):
    options_class = EchoOptions

    def chat_exchange(self, request: ChatRequest[EchoOptions]) -> EchoExchange:
        users = [m for m in request.conversation if isinstance(m, UserMessage)]
        said = users[-1].text if users else ""
        return EchoExchange(request.options.prefix + said, request.options)

    def models_operation(self) -> Operation[list[ModelInfo]]:
        return Operation.of([ModelInfo(self.options.model)])

    def status_operation(self) -> Operation[Status]:
        if self.options.unreachable:
            return Operation.of(Status(connected=False, error="the backend is unreachable"))
        model = self.options.model
        return Operation.of(Status(connected=True, server_kind="echo", models=(model,)))
