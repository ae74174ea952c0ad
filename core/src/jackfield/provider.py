"""What a provider implements, and the kit a provider author builds with.

A provider class subclasses :class:`Provider`, names its attrs options class (frozen) in
``options_class`` and implements three small methods, each returning a description of I/O that
jackfield drives synchronously *or* asynchronously:

* :meth:`Provider.chat_exchange` -> an :class:`Exchange` yielding batches of fragments;
* :meth:`Provider.models_operation` -> an :class:`Operation` returning :class:`ModelInfo`;
* :meth:`Provider.status_operation` -> an :class:`Operation` returning :class:`Status`.

Everything hosts call (``stream``/``astream``, ``complete``/``acomplete``, ``list_models``,
``status``, ``validate``, ``embed``, their async twins, ``dry_run`` and ``explain``) is built
once from those. A provider that speaks HTTP builds on :class:`jackfield.http.HTTPProvider`.

This module also carries the sans-I/O tools of the wire layer, for providers of any transport:
:class:`SSEDecoder`, :class:`NDJSONDecoder`, :class:`ThinkSplitter`, :class:`Limits` and the
error-body readers :func:`error_from_payload` and :func:`error_for_response`.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from jackfield._errors import NotSupportedError
from jackfield._info import (
    Capabilities,
    CredentialCheck,
    Embeddings,
    ModelInfo,
    ModelList,
    Status,
)
from jackfield._io import Exchange
from jackfield._options import Resolved, instance_layers, structure
from jackfield._pipeline import Binding, ChatRequest, Pipeline
from jackfield._stream import AsyncFragmentStream, FragmentStream
from jackfield._wire import (
    Limits,
    NDJSONDecoder,
    ServerSentEvent,
    SSEDecoder,
    ThinkSplitter,
    ThinkTags,
    error_for_response,
    error_from_payload,
)

if TYPE_CHECKING:
    from jackfield._observe import ObservedExchange, Observer

__all__ = [
    "Binding",
    "Capabilities",
    "ChatRequest",
    "CredentialCheck",
    "Embeddings",
    "Exchange",
    "Limits",
    "ModelInfo",
    "ModelList",
    "NDJSONDecoder",
    "Operation",
    "Pipeline",
    "Provider",
    "SSEDecoder",
    "ServerSentEvent",
    "Status",
    "ThinkSplitter",
    "ThinkTags",
    "error_for_response",
    "error_from_payload",
]

OptionsT = TypeVar("OptionsT")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Operation(abc.ABC, Generic[T_co]):
    """A non-streaming piece of work (list models, status ...) runnable sync or async."""

    @abc.abstractmethod
    def run(self) -> T_co:
        """Do the work synchronously."""

    @abc.abstractmethod
    async def arun(self) -> T_co:
        """Do the work asynchronously."""

    @staticmethod
    def of(value: T) -> Operation[T]:
        """An operation that needs no I/O and returns ``value``."""
        return _Value(value)

    @staticmethod
    def call(function: Callable[[], T], afunction: Callable[[], Awaitable[T]]) -> Operation[T]:
        """An operation from a sync and an async function doing the same work."""
        return _Call(function, afunction)


class _Value(Operation[T]):
    def __init__(self, value: T) -> None:
        self._value = value

    def run(self) -> T:
        return self._value

    async def arun(self) -> T:
        return self._value


class _Call(Operation[T]):
    def __init__(self, function: Callable[[], T], afunction: Callable[[], Awaitable[T]]) -> None:
        self._function = function
        self._afunction = afunction

    def run(self) -> T:
        return self._function()

    async def arun(self) -> T:
        return await self._afunction()


class Provider(Pipeline[OptionsT], abc.ABC):
    """A configured provider instance: the one object hosts stream chats through.

    Subclasses set ``options_class`` (a frozen attrs class) and ``capabilities``, and implement
    :meth:`chat_exchange`, :meth:`models_operation` and :meth:`status_operation`. The calls
    hosts make (``stream``, ``complete``, ``dry_run``, ``explain`` ...) come from
    :class:`Pipeline`, the same code an :class:`~jackfield.Agent` runs.

    ``options`` are the instance's typed options; ``resolved`` the layers they came from
    (``preset:...``, ``instance:...``), which per-call options are merged over.
    """

    options_class: ClassVar[type[Any]]
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(
        self, options: OptionsT, *, name: str | None = None, resolved: Resolved | None = None
    ):
        self.options = options
        self.name = name or type(self).__name__
        if resolved is None:
            from jackfield._converter import converter

            resolved = instance_layers(self.name, converter.unstructure(options))
        self.resolved = resolved
        self.binding = Binding(resolved, target=f"provider {self.name!r}", base=options)

    def _bound(self) -> tuple[Provider[OptionsT], Binding]:
        return self, self.binding

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any] | Resolved | None = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> Provider[OptionsT]:
        """Build an instance from an options mapping (or resolved layers), validating it.

        ``kwargs`` go to the constructor (e.g. a test transport for HTTP providers).
        """
        label = name or cls.__name__
        if not isinstance(options, Resolved):
            options = instance_layers(label, options)
        typed = structure(cls.options_class, options, target=f"provider {label!r}")
        return cls(typed, name=name, resolved=options, **kwargs)

    # --- what a provider implements -----------------------------------------------------------

    @abc.abstractmethod
    def chat_exchange(self, request: ChatRequest[OptionsT]) -> Exchange:
        """Describe the I/O of one chat call; nothing may be sent before it is iterated."""

    @abc.abstractmethod
    def models_operation(self) -> Operation[list[ModelInfo]]:
        """Describe how to list the backend's models."""

    @abc.abstractmethod
    def status_operation(self) -> Operation[Status]:
        """Describe how to learn the backend's status without generating tokens."""

    def credentials_operation(self) -> Operation[CredentialCheck]:
        """Describe how to validate credentials. The default: this provider needs none."""
        return Operation.of(CredentialCheck(ok=True, kind="none", message="no credentials needed"))

    def embeddings_operation(
        self, texts: tuple[str, ...], options: OptionsT
    ) -> Operation[Embeddings]:
        """Describe how to embed texts. The default: this provider offers no embeddings."""
        raise NotSupportedError(f"provider {self.name!r} does not offer embeddings")

    def learned(self) -> dict[str, list[str]]:
        """What this instance learned about its backend while it ran: for each endpoint (and
        model), how its requests are adapted (an optional feature the server refused, say).
        Shown by ``explain`` and ``status``; the default: nothing."""
        return {}

    def output_strategies(self, options: OptionsT) -> tuple[str, ...]:
        """How a call with typed ``options`` can ask for structured output
        (``complete(..., output=X)``), best first; the first is used unless the call names
        one with ``output_strategy=``. The strategies: ``"response_format"`` (OpenAI's
        ``json_schema`` response format; needs the option ``response_format``),
        ``"json_schema"`` (llama.cpp's body field, sent through ``extra_body``), ``"format"``
        (Ollama's native option), ``"tool"`` (a call of one tool, forced with
        ``tool_choice``) and ``"prompt"`` (the schema in the system prompt; always possible).
        Whichever is used, the answer is checked.

        The default follows the options class's fields: with ``response_format``,
        ``("response_format", "tool", "prompt")`` (``"tool"`` only with ``tool_choice``, and
        unless ``capabilities`` say the provider has no tools); with ``format``, ``("format", "prompt")``; else
        ``("prompt",)``. Override it when the server is known to do better.
        """
        import attrs

        from jackfield._output import default_strategies

        fields = {field.name for field in attrs.fields(self.options_class)}
        return default_strategies(fields, tools=self.capabilities.tools is not False)

    def describe(self, request: ChatRequest[OptionsT]) -> dict[str, Any]:
        """What sending ``request`` means, as JSON-ready data with secrets masked.

        HTTP providers return the method, URL, headers and body; the default describes the
        validated request.
        """
        from jackfield._converter import converter

        return {
            "provider": self.name,
            "conversation": converter.unstructure(request.conversation),
            "tools": converter.unstructure(request.tools),
            "options": _masked(converter.unstructure(request.options)),
        }

    # --- running -------------------------------------------------------------------------------

    observers: tuple[Observer, ...] = ()
    """Told of every chat call's progress (start, first chunk, retries, failovers, end); the
    registry gives every provider it creates the observers plugins ship (``jackfield-otel``)."""
    provider_name: str | None = None
    """The name the provider is registered under (set by the registry that created it)."""

    def open_stream(self, request: ChatRequest[OptionsT]) -> FragmentStream:
        """Stream a prepared request (see :meth:`~Pipeline.request`)."""
        exchange = self.chat_exchange(request)
        if self.observers:
            observed = self._observed(exchange, request)
            return FragmentStream(observed, self.name, observed.response)
        return FragmentStream(exchange, self.name)

    def open_astream(self, request: ChatRequest[OptionsT]) -> AsyncFragmentStream:
        """Stream a prepared request asynchronously."""
        exchange = self.chat_exchange(request)
        if self.observers:
            observed = self._observed(exchange, request)
            return AsyncFragmentStream(observed, self.name, observed.response)
        return AsyncFragmentStream(exchange, self.name)

    def _observed(self, exchange: Exchange, request: ChatRequest[OptionsT]) -> ObservedExchange:
        from jackfield._observe import Call, ObservedExchange

        call = Call(
            self.provider_name or type(self).__name__,
            self.name,
            getattr(request.options, "model", None),
            request.stream,
        )
        return ObservedExchange(exchange, self.observers, call)

    def list_models(self) -> list[ModelInfo]:
        """The backend's models."""
        return self.models_operation().run()

    async def alist_models(self) -> list[ModelInfo]:
        """The backend's models, asynchronously."""
        return await self.models_operation().arun()

    def status(self) -> Status:
        """The backend's status; never spends a token."""
        return self.status_operation().run()

    async def astatus(self) -> Status:
        """The backend's status, asynchronously."""
        return await self.status_operation().arun()

    def validate(self) -> CredentialCheck:
        """Check the configured credentials."""
        return self.credentials_operation().run()

    async def avalidate(self) -> CredentialCheck:
        """Check the configured credentials, asynchronously."""
        return await self.credentials_operation().arun()

    # --- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the instance's resources (connection pools ...)."""

    async def aclose(self) -> None:
        """Release the instance's resources, asynchronously."""
        self.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _masked(data: Any) -> Any:
    """JSON-ready data with secrets shown by reference or masked (never revealed)."""
    from jackfield._secret import Secret

    if isinstance(data, Secret):
        return data.unstructure()
    if isinstance(data, Mapping):
        return {k: _masked(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_masked(v) for v in data]
    return data
