"""The embedded llama.cpp provider: the same chats as the OpenAI-compatible one, no server."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import attrs
import orjson

from jackfield import (
    Capabilities,
    ChatRequest,
    ConfigError,
    Embeddings,
    JackfieldError,
    ModelInfo,
    ModelList,
    NotSupportedError,
    Operation,
    Provider,
    Resolved,
    Status,
)
from jackfield.provider import error_from_payload
from jackfield_llamacpp._engine import Engine, EngineExchange, model_path
from jackfield_llamacpp._options import ENGINE_FIELDS, LlamaCppOptions
from jackfield_openai.wire import ChunkAssembler, ToolNames, chat_body, parse_embeddings

__all__ = ["LlamaCppProvider"]


class LlamaCppProvider(Provider[LlamaCppOptions]):
    """llama.cpp in this process. The model loads on first use (``start()`` loads it now)
    and is shared by every call of the instance; ``close()`` unloads it."""

    options_class = LlamaCppOptions
    capabilities = Capabilities(streaming=True, tools=True, reasoning=True, embeddings=True)

    def __init__(
        self,
        options: LlamaCppOptions,
        *,
        name: str | None = None,
        resolved: Resolved | None = None,
    ) -> None:
        super().__init__(options, name=name, resolved=resolved)
        self._engine: Engine | None = None
        self._load_error: str | None = None
        self._lock = threading.Lock()

    # the engine ----------------------------------------------------------------------------------

    def start(self) -> Engine:
        """Load the model now (the first call would otherwise)."""
        with self._lock:
            if self._engine is None:
                try:
                    self._engine = Engine(self.options, self.name)
                except JackfieldError as exc:
                    self._load_error = str(exc)
                    raise
                self._load_error = None
        self._engine.restore_signals()
        return self._engine

    async def astart(self) -> Engine:
        """Load the model without blocking the event loop."""
        if self._engine is None:
            await asyncio.get_running_loop().run_in_executor(None, self.start)
        return self.start()  # loaded: this also restores signals on the main thread

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._engine is not None

    def _check_engine_options(self, options: LlamaCppOptions) -> None:
        if options is self.options:
            return
        changed = [f for f in ENGINE_FIELDS if getattr(options, f) != getattr(self.options, f)]
        if changed:
            verb = "shapes" if len(changed) == 1 else "shape"
            raise ConfigError(
                f"{self.name}: {', '.join(changed)} {verb} the loaded engine and cannot change "
                "per call; configure another instance for that"
            )

    # chats -----------------------------------------------------------------------------------------

    def chat_exchange(self, request: ChatRequest[LlamaCppOptions]) -> EngineExchange:
        options = request.options
        self._check_engine_options(options)
        names = ToolNames(request.tools)
        body = chat_body(request.conversation, request.tools, options, names, stream=request.stream)
        assembler = ChunkAssembler(
            think_tags=options.think_tags,
            think_open=options.think_open,
            think_close=options.think_close,
            tool_names=names,
            label=self.name,
        )
        return EngineExchange(
            self.start, self.astart, orjson.dumps(body), assembler, stream=request.stream
        )

    def describe(self, request: ChatRequest[LlamaCppOptions]) -> dict[str, Any]:
        """The request body handed to llama.cpp, and the engine it would run on."""
        names = ToolNames(request.tools)
        body = chat_body(
            request.conversation, request.tools, request.options, names, stream=request.stream
        )
        engine = {f: getattr(request.options, f) for f in ENGINE_FIELDS}
        return {"provider": self.name, "engine": engine, "body": body}

    # models, status ----------------------------------------------------------------------------

    def _model(self) -> ModelInfo:
        path = model_path(self.options)
        alias = self.options.alias or path.name.removesuffix(".gguf")
        return ModelInfo(
            alias,
            context_length=self.options.context,
            kind="embedding" if self.options.embeddings else "chat",
            owned_by="llamacpp",
            loaded=self.loaded,
            capabilities=attrs.evolve(self.capabilities, max_context=self.options.context),
            metadata={"model_path": str(path), "slots": self.options.slots},
        )

    def models_operation(self) -> Operation[ModelList]:
        def run() -> ModelList:
            return ModelList([self._model()])

        async def arun() -> ModelList:
            return run()

        return Operation.call(run, arun)

    def status_operation(self) -> Operation[Status]:
        def run() -> Status:
            try:
                model = self._model()
                import xllamacpp  # noqa: F401 - is the engine installed?
            except (ConfigError, ImportError) as exc:
                return Status(connected=False, server_kind="llama.cpp (embedded)", error=str(exc))
            path = model.metadata["model_path"]
            error = None if _is_file(path) else f"model_path {path!r} is not a file"
            error = error or self._load_error
            return Status(
                connected=error is None,
                server_kind="llama.cpp (embedded)",
                models=(model.id,),
                loaded_models=(model.id,) if self.loaded else (),
                error=error,
                details={"model_path": path, "loaded": self.loaded, "slots": self.options.slots},
            )

        async def arun() -> Status:
            return run()

        return Operation.call(run, arun)

    # embeddings -------------------------------------------------------------------------------------

    def embeddings_operation(
        self, texts: tuple[str, ...], options: LlamaCppOptions
    ) -> Operation[Embeddings]:
        self._check_engine_options(options)
        if not options.embeddings:
            raise NotSupportedError(
                f"{self.name}: this instance was not started for embeddings "
                "(set embeddings = true on an instance of its own)"
            )
        body = orjson.dumps({"input": list(texts), "encoding_format": "float"}).decode()

        def run() -> Embeddings:
            return _embeddings(self.start().server.handle_embeddings(body), len(texts), self.name)

        async def arun() -> Embeddings:
            engine = await self.astart()
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(None, engine.server.handle_embeddings, body)
            return _embeddings(raw, len(texts), self.name)

        return Operation.call(run, arun)

    # lifecycle ----------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded"
        return f"<LlamaCppProvider {self.name!r} {state}>"


def _is_file(path: str) -> bool:
    from pathlib import Path

    return Path(path).is_file()


def _embeddings(raw: Any, count: int, label: str) -> Embeddings:
    data = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
    if isinstance(data, dict) and "error" in data:
        raise error_from_payload(data["error"], label)
    return parse_embeddings(data, count, label)
