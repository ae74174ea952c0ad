"""The OpenAI-compatible provider: one provider for every server speaking /v1/chat/completions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield import Capabilities, CredentialCheck, Embeddings, ModelList, Status
from jackfield.http import (
    Clients,
    HTTPExchange,
    HTTPOperation,
    error_for_response,
    mask_headers,
    warn_if_key_exposed,
)
from jackfield.options import Resolved
from jackfield.provider import ChatRequest, Operation, Provider
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._models import (
    credentials_flow,
    embeddings_flow,
    models_flow,
    status_flow,
)
from jackfield_openai._options import OpenAIOptions
from jackfield_openai._parsers import choose_parser
from jackfield_openai._request import Target, chat_request, target
from jackfield_openai._toolnames import ToolNames

__all__ = ["OpenAIProvider"]


class OpenAIProvider(Provider[OpenAIOptions]):
    """Talks to any OpenAI-compatible server (see :class:`OpenAIOptions`)."""

    options_class = OpenAIOptions
    capabilities = Capabilities(
        streaming=True, tools=True, vision=True, reasoning=True, embeddings=True
    )

    def __init__(
        self,
        options: OpenAIOptions,
        *,
        name: str | None = None,
        resolved: Resolved | None = None,
        transport: Any = None,
        async_transport: Any = None,
    ) -> None:
        super().__init__(options, name=name, resolved=resolved)
        self._target = target(options, self.name)
        warn_if_key_exposed(
            self._target.base_url,
            has_key=self._target.key is not None,
            enabled=options.warn_insecure_key,
        )
        self._transports = (transport, async_transport)
        self._clients: dict[tuple[bool, bool | str, bool], Clients] = {}

    @property
    def base_url(self) -> str:
        """Where this instance sends requests."""
        return self._target.base_url

    def _where(self, options: OpenAIOptions) -> Target:
        """Where a call goes: the instance's own target unless the call changed it."""
        mine = self.options
        if options is mine or (
            options.base_url == mine.base_url
            and options.preset == mine.preset
            and options.host == mine.host
            and options.port == mine.port
            and options.api_key == mine.api_key
            and options.api_key_header == mine.api_key_header
        ):
            return self._target
        return target(options, self.name)

    def _pool(self, where: Target, options: OpenAIOptions) -> Clients:
        key = (where.https, options.verify, not where.loopback)
        clients = self._clients.get(key)
        if clients is None:
            made = Clients(
                https=where.https,
                verify=options.verify,
                trust_env=not where.loopback,
                transport=self._transports[0],
                async_transport=self._transports[1],
            )
            # Threads racing here must share one pool: a lost one would leak its sockets.
            clients = self._clients.setdefault(key, made)
        return clients

    # --- chat ---------------------------------------------------------------------------------

    def chat_exchange(self, request: ChatRequest[OpenAIOptions]) -> HTTPExchange:
        options = request.options
        where = self._where(options)
        names = ToolNames(request.tools)
        http_request, _ = chat_request(request, where, names)
        assembler = ChunkAssembler(
            think_tags=options.think_tags,
            think_open=options.think_open,
            think_close=options.think_close,
            tool_names=names,
            label=self.name,
            limits=options.limits,
        )
        secret = where.key.reveal() if where.key is not None else None
        url = http_request.url

        def parser(status: int, headers: Mapping[str, str]) -> Any:
            return choose_parser(headers, assembler, stream=request.stream, limits=options.limits)

        def error(status: int, headers: Mapping[str, str], body: bytes) -> Any:
            return error_for_response(
                status, headers, body, label=self.name, url=url, secret=secret
            )

        return HTTPExchange(
            self._pool(where, options),
            http_request,
            parser,
            error,
            timeouts=options.timeouts,
            retries=options.retries,
            label=self.name,
        )

    def describe(self, request: ChatRequest[OpenAIOptions]) -> dict[str, Any]:
        """The exact HTTP request that would be sent; credentials masked."""
        names = ToolNames(request.tools)
        where = self._where(request.options)
        http_request, body = chat_request(request, where, names, reveal=False)
        return {
            "method": http_request.method,
            "url": http_request.url,
            "headers": mask_headers(http_request.headers),
            "body": body,
        }

    # --- models, status, credentials --------------------------------------------------------

    def _operation(self, flow: Any) -> HTTPOperation[Any]:
        where = self._target
        return HTTPOperation(
            self._pool(where, self.options),
            lambda: flow(where, self.name),
            timeouts=self.options.timeouts,
            label=self.name,
            max_body=self.options.limits.body_bytes,
        )

    def models_operation(self) -> Operation[ModelList]:
        return self._operation(models_flow)

    def status_operation(self) -> Operation[Status]:
        return self._operation(status_flow)

    def credentials_operation(self) -> Operation[CredentialCheck]:
        return self._operation(credentials_flow)

    def embeddings_operation(
        self, texts: tuple[str, ...], options: OpenAIOptions
    ) -> Operation[Embeddings]:
        where = self._where(options)
        return HTTPOperation(
            self._pool(where, options),
            lambda: embeddings_flow(where, self.name, texts, options),
            timeouts=options.timeouts,
            label=self.name,
            max_body=options.limits.body_bytes,
        )

    # --- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        for clients in self._clients.values():
            clients.close()

    async def aclose(self) -> None:
        for clients in self._clients.values():
            await clients.aclose()

    def __repr__(self) -> str:
        return f"<OpenAIProvider {self.name!r} {self._target.base_url}>"
