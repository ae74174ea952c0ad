"""Provider interfaces: what a provider implements, and the API hosts call on it.

A provider class subclasses :class:`Provider`, names its attrs options class in
``options_class`` and implements three small methods, each returning a description of I/O
that jackfield can drive synchronously *or* asynchronously:

* :meth:`Provider.chat_exchange` -> an :class:`Exchange` yielding batches of fragments;
* :meth:`Provider.models_operation` -> an :class:`Operation` returning :class:`ModelInfo`;
* :meth:`Provider.status_operation` -> an :class:`Operation` returning :class:`Status`.

Everything hosts call — ``stream``/``astream``, ``complete``/``acomplete``,
``list_models``/``alist_models``, ``status``/``astatus``, ``validate``/``avalidate`` — is
built here once from those, so a provider writes each rule one time.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, TypeVar

import attrs

from jackfield._errors import NotSupportedError
from jackfield._response import Response
from jackfield._stream import AsyncFragmentStream, FragmentStream
from jackfield.fragments import Fragment, Usage
from jackfield.messages import Conversation, MessagesLike, Tool
from jackfield.options import Resolved, resolve, structure

__all__ = [
    "Capabilities",
    "ChatRequest",
    "CredentialCheck",
    "Embeddings",
    "Exchange",
    "ModelInfo",
    "ModelList",
    "Operation",
    "Provider",
    "Status",
]

OptionsT = TypeVar("OptionsT")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@attrs.frozen
class Capabilities:
    """What a provider (or one of its models) can do. ``max_context`` in tokens, if known."""

    streaming: bool = True
    tools: bool = False
    system_prompt: bool = True
    multi_turn: bool = True
    vision: bool = False
    reasoning: bool = False
    embeddings: bool = False
    max_context: int | None = None


@attrs.frozen
class ModelInfo:
    """One model a backend offers.

    ``kind`` is ``"chat"``, ``"embedding"`` or ``"unknown"``; ``loaded`` is ``None`` when the
    backend does not say; ``capabilities`` is what the server revealed about this model (its
    context length, vision ...), when it did; ``metadata`` keeps what the server reported
    beyond these fields.
    """

    id: str
    context_length: int | None = None
    kind: str = "chat"
    owned_by: str | None = None
    created: int | None = None
    loaded: bool | None = None
    aliases: tuple[str, ...] = ()
    capabilities: Capabilities | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


class ModelList(list[ModelInfo]):
    """The models a backend offers; ``reason`` says why the list is empty when it knows."""

    def __init__(self, models: Iterable[ModelInfo] = (), reason: str | None = None) -> None:
        super().__init__(models)
        self.reason = reason

    def __repr__(self) -> str:
        return f"ModelList({list(self)!r}, reason={self.reason!r})"


@attrs.frozen
class Status:
    """A backend's state, learned without generating any tokens.

    ``server_kind`` names the server software when it can be told (``"llama.cpp"``,
    ``"vllm"`` ...); ``error`` says what is wrong when ``connected`` is false or auth failed.
    """

    connected: bool
    server_kind: str | None = None
    models: tuple[str, ...] = ()
    loaded_models: tuple[str, ...] = ()
    error: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class CredentialCheck:
    """The outcome of :meth:`Provider.validate`. ``kind`` says which credential is in use."""

    ok: bool
    kind: Literal["none", "api_key"]
    message: str


@attrs.frozen
class Embeddings:
    """Vectors for texts, in the order the texts were given."""

    vectors: tuple[tuple[float, ...], ...]
    model: str | None = None
    usage: Usage | None = None


@attrs.frozen
class ChatRequest(Generic[OptionsT]):
    """Everything a provider needs for one chat call (already validated)."""

    conversation: Conversation
    tools: tuple[Tool, ...]
    options: OptionsT
    stream: bool


class Exchange(abc.ABC):
    """One chat call's I/O. Iterate it (sync) *or* async-iterate it, once, for fragment batches.

    A batch is whatever the transport delivered at once (one network chunk, one callback),
    already assembled into fragments. ``close``/``aclose`` must release the connection and
    make the backend stop generating; they are always called, also after errors.
    """

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Iterable[Fragment]]:
        """Run the call synchronously."""

    @abc.abstractmethod
    def __aiter__(self) -> AsyncIterator[Iterable[Fragment]]:
        """Run the call asynchronously."""

    def close(self) -> None:  # noqa: B027 - a no-op default is the right default
        """Release what the synchronous run holds."""

    async def aclose(self) -> None:  # noqa: B027
        """Release what the asynchronous run holds."""


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


_TYPED_CALLS = 64  # distinct plain call options remembered per provider instance
_PLAIN = (str, int, float, bool, type(None))


def _plain_key(options: dict[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key for call options made only of plain values, else ``None``. Types are
    part of it, so ``temperature=1`` and ``temperature=True`` stay apart."""
    key = []
    for name, value in options.items():
        if type(value) not in _PLAIN:
            return None
        key.append((name, type(value), value))
    key.sort(key=lambda item: item[0])
    return tuple(key)


class Provider(abc.ABC, Generic[OptionsT]):
    """A configured provider instance: the one object hosts stream chats through.

    Subclasses set ``options_class`` (an attrs class) and ``capabilities``, and implement
    :meth:`chat_exchange`, :meth:`models_operation` and :meth:`status_operation`. Options
    given per call (``provider.stream(msgs, temperature=0)``) are merged over the instance's
    options with JSON Merge Patch and validated like any other layer.
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

            resolved = resolve((f"instance:{self.name}", converter.unstructure(options)))
        self.resolved = resolved
        self._typed_calls: dict[tuple[Any, ...], OptionsT] = {}

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
            options = resolve((f"instance:{label}", options or {}))
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

    # --- what hosts call -----------------------------------------------------------------------

    def request(
        self,
        messages: MessagesLike,
        *,
        tools: Iterable[Tool] = (),
        stream: bool = True,
        **options: Any,
    ) -> ChatRequest[OptionsT]:
        """Validate a call's conversation and options (nothing is sent)."""
        conversation = Conversation.of(messages)
        return ChatRequest(conversation, tuple(tools), self.options_for(**options), stream)

    def options_for(self, **options: Any) -> OptionsT:
        """The typed options of a call: ``options`` merged over the instance's, validated.

        Calls that repeat the same plain options (strings, numbers, booleans, ``None``: say
        ``model=...`` and ``temperature=...``) reuse the typed options of the first such call:
        merging and validating them again could only give the same result. Typed options
        are shared, so they are never to be mutated.
        """
        if not options:
            return self.options
        key = _plain_key(options)
        if key is not None:
            cached = self._typed_calls.get(key)
            if cached is not None:
                return cached
        typed: OptionsT = structure(
            self.options_class,
            self.resolved.with_layer("call", options),
            target=f"provider {self.name!r}",
        )
        if key is not None:
            if len(self._typed_calls) >= _TYPED_CALLS:
                self._typed_calls.clear()
            self._typed_calls[key] = typed
        return typed

    def describe(self, request: ChatRequest[OptionsT]) -> dict[str, Any]:
        """What sending ``request`` means, as JSON-ready data with secrets masked.

        Providers that speak HTTP override this to return the method, URL, headers and body;
        the default describes the validated request.
        """
        from jackfield._converter import converter

        return {
            "provider": self.name,
            "conversation": converter.unstructure(request.conversation),
            "tools": converter.unstructure(request.tools),
            "options": _masked(converter.unstructure(request.options)),
        }

    def dry_run(
        self, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
    ) -> dict[str, Any]:
        """What a ``stream(...)`` call would send (see :meth:`describe`); nothing is sent."""
        return self.describe(self.request(messages, tools=tools, stream=True, **options))

    def explain(self, **options: Any) -> str:
        """The effective options (with ``options`` as a call layer) and the layer behind each."""
        from jackfield._converter import converter

        resolved = self.resolved.with_layer("call", options) if options else self.resolved
        typed = structure(self.options_class, resolved, target=f"provider {self.name!r}")
        return resolved.explain(converter.unstructure(typed))

    def open_stream(self, request: ChatRequest[OptionsT]) -> FragmentStream:
        """Stream a prepared request (see :meth:`request`)."""
        return FragmentStream(self.chat_exchange(request), self.name)

    def open_astream(self, request: ChatRequest[OptionsT]) -> AsyncFragmentStream:
        """Stream a prepared request asynchronously."""
        return AsyncFragmentStream(self.chat_exchange(request), self.name)

    def stream(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[Tool] = (),
        **options: Any,
    ) -> FragmentStream:
        """Stream a chat: returns an iterable of fragments (the request goes out on first use)."""
        return self.open_stream(self.request(messages, tools=tools, stream=True, **options))

    def astream(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[Tool] = (),
        **options: Any,
    ) -> AsyncFragmentStream:
        """Stream a chat asynchronously (``async for`` / ``async with``)."""
        return self.open_astream(self.request(messages, tools=tools, stream=True, **options))

    def complete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[Tool] = (),
        **options: Any,
    ) -> Response:
        """Answer whole (a non-streaming request where the backend supports one)."""
        return self.open_stream(
            self.request(messages, tools=tools, stream=False, **options)
        ).collect()

    async def acomplete(
        self,
        messages: MessagesLike,
        /,
        *,
        tools: Iterable[Tool] = (),
        **options: Any,
    ) -> Response:
        """Answer whole, asynchronously."""
        request = self.request(messages, tools=tools, stream=False, **options)
        return await self.open_astream(request).collect()

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

    def _embedding_call(
        self, texts: Iterable[str], options: Mapping[str, Any]
    ) -> Operation[Embeddings]:
        items = (texts,) if isinstance(texts, str) else tuple(texts)
        if not all(isinstance(t, str) for t in items):
            raise TypeError("embed() takes a string or an iterable of strings")
        return self.embeddings_operation(items, self.options_for(**options))

    def embed(self, texts: Iterable[str], /, **options: Any) -> Embeddings:
        """Embedding vectors for ``texts`` (a string counts as one text)."""
        return self._embedding_call(texts, options).run()

    async def aembed(self, texts: Iterable[str], /, **options: Any) -> Embeddings:
        """Embedding vectors for ``texts``, asynchronously."""
        return await self._embedding_call(texts, options).arun()

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
