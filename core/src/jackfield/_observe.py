"""Observers: what a call did, told as it happens (for tracing, metrics, logs).

A provider with observers (``provider.observers``, filled by the registry from plugins that
implement the observer hooks, such as ``jackfield-otel``) wraps each chat exchange in an
:class:`ObservedExchange`. It tells every observer when the call starts, when its first chunk
arrives, each retry and failover (from the HTTP kit), and how it ended; a provider without
observers pays nothing. Observers must not raise: one that does is reported once as a warning
and left out of the rest of that call.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._io import Exchange
from jackfield._response import Response

if TYPE_CHECKING:
    from jackfield._fragments import Fragment

__all__ = ["HOOKS", "Call", "HookObserver", "ObservedExchange", "Observer"]


@attrs.define(eq=False)
class Call:
    """One chat call, as observers see it; ``data`` is theirs (a span, a start time ...)."""

    provider: str
    """The provider's name (``openai-compatible``)."""
    instance: str
    """The instance's name (``llamacpp``, ``local``)."""
    model: str | None
    """The model asked for, if the options name one."""
    stream: bool
    """Whether the answer is streamed."""
    request_id: str | None = None
    """The ``X-Request-Id`` sent (HTTP providers), once known."""
    server: str | None = None
    """The server's base URL the last attempt went to (an endpoint of a pool's), once known."""
    started: float = attrs.field(factory=time.monotonic)
    """``time.monotonic()`` when the call started."""
    first_chunk: float | None = None
    """``time.monotonic()`` when the first chunk of the answer arrived."""
    attempts: int = 0
    """Requests sent so far (retries and failovers included)."""
    operation: str = "chat"
    data: dict[str, Any] = attrs.field(factory=dict)


class Observer:
    """The observer interface; every method does nothing unless overridden.

    ``headers(call)`` returns headers to send with the call's requests (a W3C
    ``traceparent``, say).
    """

    def headers(self, call: Call) -> Mapping[str, str] | None:
        return None

    def started(self, call: Call) -> None:
        """The call is about to send its first request."""

    def attempt(self, call: Call, url: str) -> None:
        """A request goes to ``url`` (the first, a retry's, a failover's)."""

    def retried(self, call: Call, error: BaseException, delay: float) -> None:
        """An attempt failed with ``error``; the next one waits ``delay`` seconds."""

    def failed_over(self, call: Call, error: BaseException, url: str) -> None:
        """An endpoint (``url``) failed with ``error`` before answering: another is tried."""

    def first_chunk(self, call: Call) -> None:
        """The answer's first chunk arrived."""

    def finished(self, call: Call, response: Response) -> None:
        """The answer ended (``response``: all of it)."""

    def failed(self, call: Call, error: BaseException, response: Response) -> None:
        """The call failed with ``error`` (``response``: what had arrived)."""


class _Told:
    """Tells observers, each failing one warned about once and then left out."""

    __slots__ = ("call", "observers")

    def __init__(self, observers: Sequence[Observer], call: Call) -> None:
        self.observers = list(observers)
        self.call = call

    def __call__(self, event: str, *args: Any) -> None:
        for observer in list(self.observers):
            self._tell(observer, event, args)

    def _tell(self, observer: Observer, event: str, args: tuple[Any, ...]) -> Any:
        try:
            return getattr(observer, event)(self.call, *args)
        except Exception as exc:  # noqa: BLE001 - an observer never breaks a call
            self.observers.remove(observer)
            warnings.warn(
                f"jackfield: observer {observer!r} failed in {event}: "
                f"{type(exc).__name__}: {exc}; it is left out of this call",
                RuntimeWarning,
                stacklevel=3,
            )
            return None

    def headers(self) -> dict[str, str]:
        """The headers every observer adds to the call's requests."""
        merged: dict[str, str] = {}
        for observer in list(self.observers):
            extra = self._tell(observer, "headers", ())
            if extra:
                merged.update(extra)
        return merged


class ObservedExchange(Exchange):
    """An exchange whose progress observers are told of (see the module docstring).
    ``response`` is the stream's own (the stream folds each batch as it passes), so observers
    see the whole answer at its end without a second fold."""

    def __init__(self, inner: Exchange, observers: Sequence[Observer], call: Call) -> None:
        self.inner = inner
        self.call = call
        self.tell = _Told(observers, call)
        self.response = Response()
        hook = getattr(inner, "observe", None)
        if callable(hook):  # the HTTP kit: headers, attempts, retries, failovers
            hook(self.tell)

    @property
    def request_id(self) -> str | None:  # type: ignore[override]
        return self.inner.request_id

    def _batches(self, batches: Iterator[Iterable[Fragment]]) -> Iterator[Iterable[Fragment]]:
        tell, call = self.tell, self.call
        tell("started")
        try:
            for batch in batches:
                if call.first_chunk is None:
                    call.first_chunk = time.monotonic()
                    tell("first_chunk")
                yield batch
        except BaseException as exc:  # a failure, or the stream closed early
            tell("failed", exc, self.response)
            raise
        tell("finished", self.response)

    def __iter__(self) -> Iterator[Iterable[Fragment]]:
        return self._batches(iter(self.inner))

    async def _abatches(
        self, batches: AsyncIterator[Iterable[Fragment]]
    ) -> AsyncIterator[Iterable[Fragment]]:
        tell, call = self.tell, self.call
        tell("started")
        try:
            async for batch in batches:
                if call.first_chunk is None:
                    call.first_chunk = time.monotonic()
                    tell("first_chunk")
                yield batch
        except BaseException as exc:  # a failure, or the stream closed (or cancelled) early
            tell("failed", exc, self.response)
            raise
        finally:
            close = getattr(batches, "aclose", None)
            if close is not None:
                await close()
        tell("finished", self.response)

    def __aiter__(self) -> AsyncIterator[Iterable[Fragment]]:
        return self._abatches(self.inner.__aiter__())

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


HOOKS = {
    "headers": "call_headers",
    "started": "call_started",
    "attempt": "call_attempt",
    "retried": "call_retried",
    "failed_over": "call_failed_over",
    "first_chunk": "call_first_chunk",
    "finished": "call_finished",
    "failed": "call_failed",
}
"""Each observer method and the plugin hook (``jackfield.hookspecs``) it calls."""


class HookObserver(Observer):
    """The observer of a registry's plugins: each method calls the plugins' hook."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def __repr__(self) -> str:
        return "<HookObserver of the registry's plugins>"

    def headers(self, call: Call) -> Mapping[str, str] | None:
        merged: dict[str, str] = {}
        for extra in self.hook.call_headers(call=call):
            if extra:
                merged.update(extra)
        return merged

    def started(self, call: Call) -> None:
        self.hook.call_started(call=call)

    def attempt(self, call: Call, url: str) -> None:
        self.hook.call_attempt(call=call, url=url)

    def retried(self, call: Call, error: BaseException, delay: float) -> None:
        self.hook.call_retried(call=call, error=error, delay=delay)

    def failed_over(self, call: Call, error: BaseException, url: str) -> None:
        self.hook.call_failed_over(call=call, error=error, url=url)

    def first_chunk(self, call: Call) -> None:
        self.hook.call_first_chunk(call=call)

    def finished(self, call: Call, response: Response) -> None:
        self.hook.call_finished(call=call, response=response)

    def failed(self, call: Call, error: BaseException, response: Response) -> None:
        self.hook.call_failed(call=call, error=error, response=response)
