"""The native Ollama provider: /api/chat over NDJSON, /api/tags, /api/show, /api/ps, /api/embed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from jackfield import (
    Capabilities,
    ConfigError,
    CredentialCheck,
    Embeddings,
    MalformedStreamError,
    ModelInfo,
    ModelList,
    ProviderError,
    Status,
    Usage,
)
from jackfield.fragments import Fragment
from jackfield.http import (
    MASK,
    Clients,
    Flow,
    HTTPExchange,
    HTTPOperation,
    HTTPRequest,
    HTTPResult,
    error_for_response,
    is_loopback,
    mask_headers,
    warn_if_key_exposed,
)
from jackfield.ndjson import NDJSONDecoder
from jackfield.options import Resolved
from jackfield.provider import ChatRequest, Operation, Provider
from jackfield.thinking import ThinkSplitter
from jackfield_ollama._options import DEFAULT_BASE_URL, OllamaOptions
from jackfield_ollama._wire import OllamaAssembler, chat_body

__all__ = ["OllamaProvider"]

USER_AGENT = "jackfield-ollama/0.2.0"
MAX_BODY = 64 * 1024 * 1024


def base_url(options: OllamaOptions) -> str:
    """Where Ollama listens: ``base_url``, else ``host``/``port``, else this machine."""
    if options.base_url:
        url = options.base_url.rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {url!r}"
            )
        return url.removesuffix("/api")
    if options.host or options.port:
        host = options.host or "127.0.0.1"
        return f"http://{f'[{host}]' if ':' in host else host}:{options.port or 11434}"
    return DEFAULT_BASE_URL


class _NDJSONParser:
    """NDJSON lines (or one whole JSON object) through the assembler."""

    __slots__ = ("_assembler", "_decoder", "error", "progress")

    def __init__(self, assembler: OllamaAssembler) -> None:
        self._assembler = assembler
        self._decoder = NDJSONDecoder(max_line_size=MAX_BODY, loads=orjson.loads)
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        out: list[Fragment] = []
        for value in self._decoder.feed(chunk):
            self.progress += 1
            try:
                out += self._assembler.chunk(value)
            except ProviderError as exc:
                if not out:
                    raise
                self.error = exc
                break
        return out

    def close(self) -> Sequence[Fragment]:
        out: list[Fragment] = []
        for value in self._decoder.close():
            out += self._assembler.chunk(value)
        return [*out, *self._assembler.finish()]


class _UnexpectedParser:
    __slots__ = ("_body", "_content_type", "_label", "error", "progress")

    def __init__(self, content_type: str, label: str) -> None:
        self._content_type = content_type
        self._label = label
        self._body = b""
        self.progress = 0
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> Sequence[Fragment]:
        self.progress += 1
        self._body = (self._body + chunk)[:2048]
        return ()

    def close(self) -> Sequence[Fragment]:
        raise MalformedStreamError(
            f"{self._label}: expected Ollama's JSON but the server sent {self._content_type}: "
            f"{self._body[:120].decode('utf-8', 'replace')!r} (is base_url pointing at Ollama?)"
        )


class OllamaProvider(Provider[OllamaOptions]):
    """Talks to Ollama's native API (see :class:`OllamaOptions`)."""

    options_class = OllamaOptions
    capabilities = Capabilities(
        streaming=True, tools=True, vision=True, reasoning=True, embeddings=True
    )

    def __init__(
        self,
        options: OllamaOptions,
        *,
        name: str | None = None,
        resolved: Resolved | None = None,
        transport: Any = None,
        async_transport: Any = None,
    ) -> None:
        super().__init__(options, name=name, resolved=resolved)
        self.base_url = base_url(options)
        parts = urlsplit(self.base_url)
        loopback = is_loopback(parts.hostname or "")
        warn_if_key_exposed(
            self.base_url, has_key=options.api_key is not None, enabled=options.warn_insecure_key
        )
        self._clients = Clients(
            https=parts.scheme == "https",
            verify=options.verify,
            trust_env=not loopback,
            transport=transport,
            async_transport=async_transport,
        )

    def _headers(self, options: OllamaOptions, *, reveal: bool = True) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        if options.api_key is not None:
            try:
                key = options.api_key.reveal() if reveal else MASK
            except ConfigError as exc:
                raise ConfigError(f"instance {self.name!r}: {exc}") from None
            headers["Authorization"] = f"Bearer {key}"
        headers.update(options.headers)
        return headers

    def _url(self, options: OllamaOptions) -> str:
        return self.base_url if options is self.options else base_url(options)

    def _error(
        self, options: OllamaOptions, url: str
    ) -> Callable[[int, Mapping[str, str], bytes], ProviderError]:
        secret = options.api_key.reveal() if options.api_key is not None else None

        def mapper(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
            return error_for_response(
                status, headers, body, label=self.name, url=url, secret=secret
            )

        return mapper

    # chat ---------------------------------------------------------------------------------------------

    def chat_exchange(self, request: ChatRequest[OllamaOptions]) -> HTTPExchange:
        options = request.options
        url = f"{self._url(options)}/api/chat"
        body = chat_body(request.conversation, request.tools, options, stream=request.stream)
        http_request = HTTPRequest("POST", url, self._headers(options), orjson.dumps(body))
        think = (
            None
            if options.think_tags == "off"
            else ThinkSplitter(options.think_tags, options.think_open, options.think_close)
        )
        assembler = OllamaAssembler(request.tools, self.name, think)

        def parser(status: int, headers: Mapping[str, str]) -> Any:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind in ("application/x-ndjson", "application/json", "") or kind.endswith("+json"):
                return _NDJSONParser(assembler)
            return _UnexpectedParser(kind, self.name)

        return HTTPExchange(
            self._clients,
            http_request,
            parser,
            self._error(options, url),
            timeouts=options.timeouts,
            retries=options.retries,
            label=self.name,
        )

    def describe(self, request: ChatRequest[OllamaOptions]) -> dict[str, Any]:
        """The exact HTTP request that would be sent; credentials masked."""
        options = request.options
        return {
            "method": "POST",
            "url": f"{self._url(options)}/api/chat",
            "headers": mask_headers(self._headers(options, reveal=False)),
            "body": chat_body(request.conversation, request.tools, options, stream=request.stream),
        }

    # models, status, embeddings -------------------------------------------------------------------------

    def _operation(self, flow: Any, options: OllamaOptions | None = None) -> HTTPOperation[Any]:
        options = options or self.options
        return HTTPOperation(self._clients, flow, timeouts=options.timeouts, label=self.name)

    def _json(self, result: HTTPResult, what: str) -> Any:
        try:
            return orjson.loads(result.body)
        except orjson.JSONDecodeError:
            raise MalformedStreamError(f"{self.name}: the {what} response is not JSON") from None

    def _failed(self, result: HTTPResult, url: str) -> ProviderError:
        if result.error is not None:
            return result.error
        return self._error(self.options, url)(result.status, result.headers, result.body)

    def models_operation(self) -> Operation[ModelList]:
        def flow() -> Flow[ModelList]:
            url = f"{self.base_url}/api/tags"
            result = yield HTTPRequest("GET", url, self._headers(self.options))
            if not result.ok:
                raise self._failed(result, url)
            data = self._json(result, "/api/tags")
            entries = data.get("models") if isinstance(data, dict) else None
            models = []
            for entry in entries if isinstance(entries, list) else []:
                name = entry.get("name") or entry.get("model") if isinstance(entry, dict) else None
                if not isinstance(name, str):
                    continue
                show = yield HTTPRequest(
                    "POST",
                    f"{self.base_url}/api/show",
                    self._headers(self.options),
                    orjson.dumps({"model": name}),
                )
                models.append(_model(name, entry, self._json(show, "/api/show") if show.ok else {}))
            return ModelList(
                models, reason=None if models else f"{url} lists no models (ollama pull one)"
            )

        return self._operation(flow)

    def status_operation(self) -> Operation[Status]:
        def flow() -> Flow[Status]:
            try:
                headers = self._headers(self.options)
            except ConfigError as exc:
                return Status(connected=False, server_kind="ollama", error=str(exc))
            version = yield HTTPRequest("GET", f"{self.base_url}/api/version", headers)
            if version.error is not None:
                return Status(
                    connected=False, error=str(version.error), details={"base_url": self.base_url}
                )
            details: dict[str, Any] = {"base_url": self.base_url}
            if not version.ok:
                problem = self._failed(version, f"{self.base_url}/api/version")
                return Status(connected=True, error=str(problem), details=details)
            details["version"] = self._json(version, "/api/version").get("version")
            tags = yield HTTPRequest("GET", f"{self.base_url}/api/tags", headers)
            running = yield HTTPRequest("GET", f"{self.base_url}/api/ps", headers)
            models = _names(self._json(tags, "/api/tags")) if tags.ok else ()
            loaded = _names(self._json(running, "/api/ps")) if running.ok else ()
            return Status(
                connected=True,
                server_kind="ollama",
                models=models,
                loaded_models=loaded,
                details=details,
            )

        return self._operation(flow)

    def credentials_operation(self) -> Operation[CredentialCheck]:
        if self.options.api_key is None:
            return Operation.of(
                CredentialCheck(ok=True, kind="none", message="Ollama needs no key")
            )

        def flow() -> Flow[CredentialCheck]:
            url = f"{self.base_url}/api/tags"
            result = yield HTTPRequest("GET", url, self._headers(self.options))
            if result.status in (401, 403):
                return CredentialCheck(
                    ok=False, kind="api_key", message=str(self._failed(result, url))
                )
            if not result.ok:
                raise self._failed(result, url)
            return CredentialCheck(ok=True, kind="api_key", message="the server accepted the key")

        return self._operation(flow)

    def embeddings_operation(
        self, texts: tuple[str, ...], options: OllamaOptions
    ) -> Operation[Embeddings]:
        def flow() -> Flow[Embeddings]:
            url = f"{self._url(options)}/api/embed"
            body: dict[str, Any] = {"input": list(texts)}
            if options.model:
                body["model"] = options.model
            result = yield HTTPRequest("POST", url, self._headers(options), orjson.dumps(body))
            if not result.ok:
                raise self._failed(result, url)
            data = self._json(result, "/api/embed")
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

        return self._operation(flow, options)

    # lifecycle ------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._clients.close()

    async def aclose(self) -> None:
        await self._clients.aclose()

    def __repr__(self) -> str:
        return f"<OllamaProvider {self.name!r} {self.base_url}>"


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
