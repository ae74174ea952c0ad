"""Fragment streams handed to hosts: iterate, close early, read what arrived so far."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import attrs

from jackfield._errors import ProviderError
from jackfield._fragments import Completion, Fragment, TextDelta, ThoughtDelta
from jackfield._response import Response

if TYPE_CHECKING:
    from jackfield.provider import Exchange

__all__ = ["AsyncFragmentStream", "FragmentStream"]


def _failed(exc: BaseException, response: Response, who: str) -> ProviderError:
    """Attach the partial response to a provider error, or wrap a foreign exception."""
    partial = response if response._states else None
    if isinstance(exc, ProviderError):
        if exc.partial is None:
            exc.partial = partial
        return exc
    return ProviderError(f"{who} failed: {type(exc).__name__}: {exc}", partial=partial)


def _stamped(batch: Iterable[Fragment], exchange: Exchange) -> Iterable[Fragment]:
    """``batch`` with each :class:`Completion` carrying the call's request id (a batch with one
    is rare: once per choice)."""
    for fragment in batch:
        if type(fragment) is Completion:
            request_id = exchange.request_id
            if request_id is None:
                return batch
            return [
                attrs.evolve(f, request_id=request_id)
                if type(f) is Completion and f.request_id is None
                else f
                for f in batch
            ]
    return batch


def _run(exchange: Exchange, response: Response, who: str) -> Generator[Fragment, None, None]:
    # A batch (what one chunk brought) is folded as it arrives, then handed out. Most batches
    # are one text (or reasoning) delta of a choice already started: folded inline, the
    # hottest path. Only the others are looked at for a completion to stamp.
    extend = response.extend
    states = response._states
    try:
        for batch in exchange:
            if type(batch) is list and len(batch) == 1:
                fragment = batch[0]
                if type(fragment) is TextDelta:
                    state = states.get(fragment.choice)
                    if state is not None:
                        state.text.append(fragment.text)
                        yield fragment
                        continue
                elif type(fragment) is ThoughtDelta:
                    state = states.get(fragment.choice)
                    if state is not None:
                        state.thoughts.append(fragment.text)
                        yield fragment
                        continue
            batch = _stamped(batch, exchange)
            extend(batch)
            yield from batch
    except Exception as exc:
        error = _failed(exc, response, who)
        if error is exc:
            raise
        raise error from exc
    finally:
        exchange.close()


async def _arun(exchange: Exchange, response: Response, who: str) -> AsyncGenerator[Fragment, None]:
    extend = response.extend
    states = response._states
    batches = exchange.__aiter__()
    try:
        async for batch in batches:
            if type(batch) is list and len(batch) == 1:  # the same fast path as _run
                fragment = batch[0]
                if type(fragment) is TextDelta:
                    state = states.get(fragment.choice)
                    if state is not None:
                        state.text.append(fragment.text)
                        yield fragment
                        continue
                elif type(fragment) is ThoughtDelta:
                    state = states.get(fragment.choice)
                    if state is not None:
                        state.thoughts.append(fragment.text)
                        yield fragment
                        continue
            batch = _stamped(batch, exchange)
            extend(batch)
            for fragment in batch:
                yield fragment
    except Exception as exc:
        error = _failed(exc, response, who)
        if error is exc:
            raise
        raise error from exc
    finally:
        # The exchange's own generator is closed now, in this task, not finalised later by
        # the garbage collector (which would leave a task behind to close it).
        close = getattr(batches, "aclose", None)
        if close is not None:
            await close()
        await exchange.aclose()


class FragmentStream:
    """A chat stream: iterate it for fragments; ``response`` folds what arrived so far.

    The request is sent when iteration starts. Closing the stream (``close()``, leaving a
    ``with`` block, or abandoning the iterator) closes the connection, which tells the server
    to stop generating. Errors are :class:`~jackfield.ProviderError` subclasses carrying
    the partial response.
    """

    __slots__ = ("_iterator", "response")

    def __init__(self, exchange: Exchange, who: str, response: Response | None = None) -> None:
        self.response = Response() if response is None else response
        self._iterator = _run(exchange, self.response, who)

    def __iter__(self) -> Iterator[Fragment]:
        return self._iterator

    def __next__(self) -> Fragment:
        return next(self._iterator)

    @property
    def text_stream(self) -> Iterator[str]:
        """The answer's text (of the first choice) as it arrives, and nothing else: no
        reasoning, no tool calls, no final fragment. ``response`` still folds everything."""
        return (f.text for f in self._iterator if type(f) is TextDelta and f.choice == 0)

    def close(self) -> None:
        """Stop the stream and close its connection (safe to call more than once)."""
        self._iterator.close()

    def collect(self) -> Response:
        """Read the stream to its end and return the folded response."""
        for _ in self._iterator:
            pass
        return self.response

    def __enter__(self) -> FragmentStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncFragmentStream:
    """The async twin of :class:`FragmentStream` (``async for``, ``async with``, ``aclose``)."""

    __slots__ = ("_iterator", "response")

    def __init__(self, exchange: Exchange, who: str, response: Response | None = None) -> None:
        self.response = Response() if response is None else response
        self._iterator = _arun(exchange, self.response, who)

    def __aiter__(self) -> AsyncIterator[Fragment]:
        return self._iterator

    async def __anext__(self) -> Fragment:
        return await self._iterator.__anext__()

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The answer's text (of the first choice) as it arrives, and nothing else
        (``async for text in stream.text_stream``)."""
        return _texts(self._iterator)

    async def aclose(self) -> None:
        """Stop the stream and close its connection (safe to call more than once)."""
        await self._iterator.aclose()

    async def collect(self) -> Response:
        """Read the stream to its end and return the folded response."""
        async for _ in self._iterator:
            pass
        return self.response

    async def __aenter__(self) -> AsyncFragmentStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _texts(fragments: AsyncIterator[Fragment]) -> AsyncGenerator[str, None]:
    async for fragment in fragments:
        if type(fragment) is TextDelta and fragment.choice == 0:
            yield fragment.text
