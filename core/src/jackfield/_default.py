"""One-line calls on a shared host: ``jackfield.complete("ollama:qwen3:8b", "Hi").text``.

The host is made on first use from the default configuration (``$JACKFIELD_CONFIG``, else the
per-user file, else none: ready-made instances such as ``ollama`` and ``llamacpp`` always
work), shared by every thread, and closed when the interpreter exits. A program that wants its
own configuration, or to close connections itself, uses a :class:`~jackfield.Host`.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable
from typing import Any

from jackfield._host import Host
from jackfield._info import Embeddings
from jackfield._messages import MessagesLike, Tool
from jackfield._response import Response
from jackfield._stream import AsyncFragmentStream, FragmentStream

__all__ = ["acomplete", "astream", "complete", "default_host", "embed", "stream"]

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


def complete(
    model: str, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
) -> Response:
    """Ask ``model`` (an agent's name or ``"<instance>:<model>"``) and return the whole answer:
    ``jackfield.complete("ollama:qwen3:8b", "Hi").text``."""
    return default_host().agent(model).complete(messages, tools=tools, **options)


def stream(
    model: str, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
) -> FragmentStream:
    """Stream ``model``'s answer: ``for text in jackfield.stream(model, "Hi").text_stream``."""
    return default_host().agent(model).stream(messages, tools=tools, **options)


async def acomplete(
    model: str, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
) -> Response:
    """:func:`complete`, asynchronously."""
    return await default_host().agent(model).acomplete(messages, tools=tools, **options)


def astream(
    model: str, messages: MessagesLike, /, *, tools: Iterable[Tool] = (), **options: Any
) -> AsyncFragmentStream:
    """:func:`stream`, asynchronously (``async for``)."""
    return default_host().agent(model).astream(messages, tools=tools, **options)


def embed(model: str, texts: Iterable[str], /, **options: Any) -> Embeddings:
    """Embedding vectors of ``texts`` from ``model``."""
    return default_host().agent(model).embed(texts, **options)
