"""One-line calls on a shared host: ``jackfield.complete("ollama:qwen3:8b", "Hi").text``.

The host is made on first use from the default configuration (``$JACKFIELD_CONFIG``, else the
per-user file, else none: ready-made instances such as ``ollama`` and ``llamacpp`` always
work), shared by every thread, and closed when the interpreter exits. A program that wants its
own configuration, or to close connections itself, uses a :class:`~jackfield.Host`.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, overload

from jackfield._host import Host
from jackfield._info import Embeddings
from jackfield._messages import MessagesLike
from jackfield._response import Response
from jackfield._stream import AsyncFragmentStream, FragmentStream

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jackfield._loop import AsyncRun, Run
    from jackfield._tools import ToolLike

__all__ = ["acomplete", "arun", "astream", "complete", "default_host", "embed", "run", "stream"]

T = TypeVar("T")

_lock = threading.Lock()
_host: Host | None = None


def default_host() -> Host:
    """The host the one-line calls use (made on first use, closed at exit)."""
    global _host
    with _lock:
        if _host is None:
            _host = Host.load()
            atexit.register(_host.close)
        return _host


@overload
def complete(
    model: str,
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
    model: str,
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
    model: str,
    messages: MessagesLike,
    /,
    *,
    tools: Iterable[ToolLike] = (),
    output: Mapping[str, Any],
    output_strategy: str | None = None,
    **options: Any,
) -> Any: ...


def complete(
    model: str,
    messages: MessagesLike,
    /,
    *,
    tools: Iterable[ToolLike] = (),
    output: Any = None,
    output_strategy: str | None = None,
    **options: Any,
) -> Any:
    """Ask ``model`` (an agent's name or ``"<instance>:<model>"``) and return the whole answer:
    ``jackfield.complete("ollama:qwen3:8b", "Hi").text``. With ``output`` (an attrs class, a
    pydantic model class or a JSON Schema), the checked object instead:
    ``jackfield.complete("llamacpp", "Paris?", output=City).population``."""
    agent = default_host().agent(model)
    return agent.complete(
        messages, tools=tools, output=output, output_strategy=output_strategy, **options
    )


def stream(
    model: str, messages: MessagesLike, /, *, tools: Iterable[ToolLike] = (), **options: Any
) -> FragmentStream:
    """Stream ``model``'s answer: ``for text in jackfield.stream(model, "Hi").text_stream``."""
    return default_host().agent(model).stream(messages, tools=tools, **options)


@overload
async def acomplete(
    model: str,
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
    model: str,
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
    model: str,
    messages: MessagesLike,
    /,
    *,
    tools: Iterable[ToolLike] = (),
    output: Mapping[str, Any],
    output_strategy: str | None = None,
    **options: Any,
) -> Any: ...


async def acomplete(
    model: str,
    messages: MessagesLike,
    /,
    *,
    tools: Iterable[ToolLike] = (),
    output: Any = None,
    output_strategy: str | None = None,
    **options: Any,
) -> Any:
    """:func:`complete`, asynchronously."""
    agent = default_host().agent(model)
    return await agent.acomplete(
        messages, tools=tools, output=output, output_strategy=output_strategy, **options
    )


def astream(
    model: str, messages: MessagesLike, /, *, tools: Iterable[ToolLike] = (), **options: Any
) -> AsyncFragmentStream:
    """:func:`stream`, asynchronously (``async for``)."""
    return default_host().agent(model).astream(messages, tools=tools, **options)


def embed(model: str, texts: Iterable[str], /, **options: Any) -> Embeddings:
    """Embedding vectors of ``texts`` from ``model``."""
    return default_host().agent(model).embed(texts, **options)


def run(
    model: str, messages: MessagesLike, /, *, tools: Iterable[ToolLike] = (), **options: Any
) -> Run:
    """Chat with tools (the tool loop, :meth:`~jackfield.provider.Pipeline.run`):
    ``jackfield.run("embedded", "What time is it?", tools=[now]).collect().text``. ``options``
    takes the loop's (``max_steps``, ``approve`` ...) and the call's."""
    return default_host().agent(model).run(messages, tools=tools, **options)


def arun(
    model: str, messages: MessagesLike, /, *, tools: Iterable[ToolLike] = (), **options: Any
) -> AsyncRun:
    """:func:`run`, asynchronously (``async for``)."""
    return default_host().agent(model).arun(messages, tools=tools, **options)
