"""The native Ollama provider: /api/chat over NDJSON, /api/tags, /api/show, /api/ps, /api/embed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
import orjson

from jackfield import (
    Capabilities,
    ChatRequest,
    ConfigError,
    CredentialCheck,
    Embeddings,
    MalformedStreamError,
    ModelInfo,
    ModelList,
    Operation,
    Status,
    Usage,
)
from jackfield.http import (
    BodyParser,
    EventParser,
    Flow,
    HTTPProvider,
    HTTPRequest,
    ParserFactory,
    Target,
    UnexpectedBodyParser,
)
from jackfield.provider import NDJSONDecoder, ThinkSplitter
from jackfield_ollama import __version__
from jackfield_ollama._options import DEFAULT_BASE_URL, OllamaOptions, default_url
from jackfield_ollama._wire import OllamaAssembler, chat_body

__all__ = ["OllamaProvider"]


def _parser(assembler: OllamaAssembler, options: OllamaOptions, *, stream: bool) -> EventParser:
    """NDJSON lines (or one whole JSON object) through the assembler."""
    limit = options.limits.event_bytes if stream else options.limits.body_bytes
    decoder = NDJSONDecoder(max_line_size=limit, loads=orjson.loads)
    # The final object (done: true) finishes the body, even if the connection stays open.
    return EventParser(decoder, assembler.chunk, assembler.finish, ended=lambda: assembler.done)


class OllamaProvider(HTTPProvider[OllamaOptions]):
    """Talks to Ollama's native API (see :class:`OllamaOptions`)."""

    options_class = OllamaOptions
    capabilities = Capabilities(
        streaming=True, tools=True, vision=True, reasoning=True, embeddings=True
    )
    default_url = DEFAULT_BASE_URL
    example_url = DEFAULT_BASE_URL
    user_agent = f"jackfield-ollama/{__version__}"

    def resolve_target(self, options: OllamaOptions) -> Target:
        """Ollama's root URL (a ``base_url`` ending in ``/api`` is read as the root); without
        ``base_url``, ``host`` or ``port``, the server ``OLLAMA_HOST`` names, else this
        machine's default port."""
        if not (options.base_url or options.host or options.port):
            default = default_url()
            if default != DEFAULT_BASE_URL:
                options = attrs.evolve(options, base_url=default)  # checked like a base_url
        target = super().resolve_target(options)
        if not target.base_url.endswith("/api"):
            return target
        return target.at(target.base_url.removesuffix("/api"))  # keeps a URL's user:password

    @property
    def start_hint(self) -> str | None:
        """How Ollama is started at this instance's address (for advice when nothing
        answers), or ``None`` when that is not on this machine."""
        if not self.target.loopback:
            return None
        port = urlsplit(self.base_url).port or 80
        return "ollama serve" if port == 11434 else f"OLLAMA_HOST=127.0.0.1:{port} ollama serve"

    def _get(self, path: str, *, auth: bool = True) -> HTTPRequest:
        return self.http_request("GET", f"{self.base_url}{path}", auth=auth)

    def _post(self, path: str, body: Any, *, options: OllamaOptions | None = None) -> HTTPRequest:
        options = self.options if options is None else options
        target = self.target_for(options)
        url = f"{target.base_url}{path}"
        return self.http_request(
            "POST", url, target=target, options=options, body=orjson.dumps(body)
        )

    # chat ---------------------------------------------------------------------------------------------

    def chat_request(
        self, request: ChatRequest[OllamaOptions], target: Target, *, reveal: bool = True
    ) -> tuple[HTTPRequest, dict[str, Any]]:
        """``POST {base_url}/api/chat`` with the body built from the request. A call to send
        that names no model is a :class:`~jackfield.ConfigError` before anything is sent (Ollama
        has no default model); a dry run (``reveal=False``) shows the body as it is."""
        options = request.options
        body = chat_body(request.conversation, request.tools, options, stream=request.stream)
        http_request = self.http_request(
            "POST",
            f"{target.base_url}/api/chat",
            target=target,
            options=options,
            body=orjson.dumps(body),
            reveal=reveal,
        )
        if reveal and options.model is None:
            name = self.name
            raise ConfigError(
                f"instance {name!r} names no model, and Ollama needs one: write "
                f"-m {name}:<model> on the command line, or set model (in the call, the agent "
                f"or the instance's configuration); `jackfield models {name}` lists the models"
            )
        return http_request, body

    def chat_parser(self, request: ChatRequest[OllamaOptions]) -> ParserFactory:
        """NDJSON lines (or one whole object), or a clear error for anything else."""
        options = request.options
        think = (
            None
            if options.think_tags == "off"
            else ThinkSplitter(options.think_tags, options.think_open, options.think_close)
        )
        assembler = OllamaAssembler(request.tools, self.name, think)

        def parser(status: int, headers: Mapping[str, str]) -> BodyParser:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind in ("application/x-ndjson", "application/json", "") or kind.endswith("+json"):
                return _parser(assembler, options, stream=request.stream)
            return UnexpectedBodyParser(
                kind, self.name, expected="Ollama's JSON", hint="is base_url pointing at Ollama?"
            )

        return parser

    # models, status, credentials, embeddings ------------------------------------------------------------

    def models_operation(self) -> Operation[ModelList]:
        def flow() -> Flow[ModelList]:
            url = f"{self.base_url}/api/tags"
            data = self.expect_json((yield self._get("/api/tags")), url)
            entries = data.get("models") if isinstance(data, dict) else None
            models = []
            for entry in entries if isinstance(entries, list) else []:
                name = entry.get("name") or entry.get("model") if isinstance(entry, dict) else None
                if not isinstance(name, str):
                    continue
                show = yield self._post("/api/show", {"model": name})
                models.append(_model(name, entry, self.json(show, "/api/show") if show.ok else {}))
            return ModelList(
                models, reason=None if models else f"{url} lists no models (ollama pull one)"
            )

        return self.operation(flow, control=True)

    def health_path(self, options: OllamaOptions) -> str:
        """Ollama's cheapest answer: its version."""
        return "/api/version"

    def status_operation(self) -> Operation[Status]:
        def flow() -> Flow[Status]:
            details: dict[str, Any] = {"base_url": self.base_url}
            try:
                version = yield self._get("/api/version")
            except ConfigError as exc:
                return Status(connected=False, server_kind="ollama", error=str(exc))
            if version.error is not None:
                return Status(connected=False, error=str(version.error), details=details)
            if not version.ok:
                problem = self.failure(version, f"{self.base_url}/api/version")
                return Status(connected=True, error=str(problem), details=details)
            data = self.json(version, "/api/version")
            details["version"] = data.get("version") if isinstance(data, dict) else None
            tags = yield self._get("/api/tags")
            running = yield self._get("/api/ps")
            models = _names(self.json(tags, "/api/tags")) if tags.ok else ()
            loaded = _names(self.json(running, "/api/ps")) if running.ok else ()
            return Status(
                connected=True,
                server_kind="ollama",
                models=models,
                loaded_models=loaded,
                details=details,
            )

        return self.operation(flow, control=True)

    def credentials_operation(self) -> Operation[CredentialCheck]:
        if self.target.key is None:
            return Operation.of(
                CredentialCheck(ok=True, kind="none", message="Ollama needs no key")
            )

        def flow() -> Flow[CredentialCheck]:
            url = f"{self.base_url}/api/tags"
            result = yield self._get("/api/tags")
            if result.status in (401, 403):
                return CredentialCheck(
                    ok=False, kind="api_key", message=str(self.failure(result, url))
                )
            if not result.ok:
                raise self.failure(result, url)
            return CredentialCheck(ok=True, kind="api_key", message="the server accepted the key")

        return self.operation(flow, control=True)

    def embeddings_operation(
        self, texts: tuple[str, ...], options: OllamaOptions
    ) -> Operation[Embeddings]:
        def flow() -> Flow[Embeddings]:
            target = self.target_for(options)
            url = f"{target.base_url}/api/embed"
            body: dict[str, Any] = {"input": list(texts)}
            if options.model:
                body["model"] = options.model
            result = yield self._post("/api/embed", body, options=options)
            data = self.expect_json(result, url, target)
            vectors = data.get("embeddings") if isinstance(data, dict) else None
            if not isinstance(vectors, list) or len(vectors) != len(texts):
                raise MalformedStreamError(
                    f"{self.name}: /api/embed returned no vectors for {len(texts)} texts"
                )
            count = data.get("prompt_eval_count")
            usage = (
                Usage(prompt_tokens=count, total_tokens=count) if isinstance(count, int) else None
            )
            return Embeddings(
                tuple(tuple(float(x) for x in v) for v in vectors), data.get("model"), usage
            )

        return self.operation(flow, options=options)


def _names(data: Any) -> tuple[str, ...]:
    entries = data.get("models") if isinstance(data, dict) else None
    return tuple(
        str(e.get("name") or e.get("model"))
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and (e.get("name") or e.get("model"))
    )


def _model(name: str, entry: Mapping[str, Any], show: Any) -> ModelInfo:
    info = show.get("model_info") if isinstance(show, dict) else None
    context = None
    if isinstance(info, dict):
        architecture = info.get("general.architecture")
        value = info.get(f"{architecture}.context_length")
        context = value if isinstance(value, int) else None
    capabilities = show.get("capabilities") if isinstance(show, dict) else None
    names = set(capabilities) if isinstance(capabilities, list) else set()
    kind = "embedding" if "embedding" in names and "completion" not in names else "chat"
    return ModelInfo(
        name,
        context_length=context,
        kind=kind,
        owned_by="ollama",
        capabilities=Capabilities(
            tools="tools" in names,
            vision="vision" in names,
            reasoning="thinking" in names,
            embeddings="embedding" in names,
            max_context=context,
        )
        if names
        else None,
        metadata=dict(entry),
    )
