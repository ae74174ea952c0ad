"""The OpenAI-compatible provider: one provider for every server speaking /v1/chat/completions."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import orjson

from jackfield import (
    Capabilities,
    ChatRequest,
    ConfigError,
    CredentialCheck,
    Embeddings,
    ModelList,
    Operation,
    ProviderError,
    Secret,
    Status,
)
from jackfield.http import BodyParser, HTTPProvider, HTTPRequest, ParserFactory, Reviser, Target
from jackfield_openai import __version__
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._body import chat_body
from jackfield_openai._models import credentials_flow, embeddings_flow, models_flow, status_flow
from jackfield_openai._options import OpenAIOptions
from jackfield_openai._parsers import choose_parser
from jackfield_openai._presets import DEFAULT_BASE_URL, PRESETS, Preset
from jackfield_openai._quirks import BY_NAME, adapt, refused_quirk
from jackfield_openai._toolnames import ToolNames

__all__ = ["OpenAIProvider"]

Endpoint = tuple[str, Any]
"""Where learned quirks apply: the chat URL's base and the model asked for."""


def preset_named(name: str | None) -> Preset | None:
    """The preset called ``name`` (``None`` for none), or a did-you-mean error."""
    if name is None:
        return None
    preset = PRESETS.get(name)
    if preset is None:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown preset {name!r}.{hint} Presets: {', '.join(sorted(PRESETS))}.")
    return preset


class OpenAIProvider(HTTPProvider[OpenAIOptions]):
    """Talks to any OpenAI-compatible server (see :class:`OpenAIOptions`)."""

    options_class = OpenAIOptions
    capabilities = Capabilities(
        streaming=True, tools=True, vision=True, reasoning=True, embeddings=True
    )
    default_url = DEFAULT_BASE_URL
    example_url = "http://127.0.0.1:8080/v1"
    user_agent = f"jackfield-openai/{__version__}"
    target_fields = (*HTTPProvider.target_fields, "preset")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._quirks: dict[Endpoint, tuple[str, ...]] = {}

    def resolve_target(self, options: OpenAIOptions) -> Target:
        """The preset's address, key variable and key header as defaults under the options."""
        preset = preset_named(options.preset)
        base = self.address(options, preset.base_url if preset else DEFAULT_BASE_URL)
        key = options.api_key
        if key is None and preset is not None and preset.key_env:
            key = Secret.from_env(preset.key_env)
        missing = None
        if preset is not None and preset.key_required:
            missing = f"the {preset.name} preset needs an API key: set the api_key option"
        return Target(
            base,
            label=self.name,
            key=key,
            key_header=options.api_key_header or (preset.key_header if preset else "authorization"),
            missing_key=missing,
        )

    # --- chat ---------------------------------------------------------------------------------

    def chat_request(
        self, request: ChatRequest[OpenAIOptions], target: Target, *, reveal: bool = True
    ) -> tuple[HTTPRequest, dict[str, Any]]:
        """``POST {base_url}/chat/completions`` with the body built from the request."""
        options = request.options
        names = ToolNames(request.tools)
        body = chat_body(request.conversation, request.tools, options, names, stream=request.stream)
        if self._quirks and options.learn_quirks:
            learned = self._quirks.get((target.base_url, body.get("model")))
            if learned:
                body = adapt(body, learned)
        url = f"{target.base_url}/chat/completions"
        if options.query:
            url = f"{url}?{urlencode(options.query)}"
        http_request = self.http_request(
            "POST",
            url,
            target=target,
            options=options,
            body=orjson.dumps(body),
            accept="text/event-stream" if request.stream else "application/json",
            reveal=reveal,
        )
        return http_request, body

    def chat_reviser(
        self, request: ChatRequest[OpenAIOptions], target: Target, body: Any
    ) -> Reviser | None:
        """Learns the optional features the server refuses (see ``learn_quirks``)."""
        if not request.options.learn_quirks:
            return None
        return _Learner(self, (target.base_url, body.get("model")), body)

    def learned(self) -> dict[str, list[str]]:
        """For each endpoint (and model), how requests are adapted to what it refused."""
        return {
            f"{url} (model {model})" if model else url: [BY_NAME[n].description for n in names]
            for (url, model), names in self._quirks.items()
        }

    def chat_parser(self, request: ChatRequest[OpenAIOptions]) -> ParserFactory:
        """An event stream, a whole JSON body, or anything else: by the content type."""
        options = request.options
        assembler = ChunkAssembler(
            think_tags=options.think_tags,
            think_open=options.think_open,
            think_close=options.think_close,
            tool_names=ToolNames(request.tools),
            label=self.name,
            limits=options.limits,
        )

        def parser(status: int, headers: Mapping[str, str]) -> BodyParser:
            return choose_parser(headers, assembler, stream=request.stream, limits=options.limits)

        return parser

    # --- models, status, credentials, embeddings --------------------------------------------

    def models_operation(self) -> Operation[ModelList]:
        return self.operation(lambda: models_flow(self), control=True)

    def status_operation(self) -> Operation[Status]:
        return self.operation(lambda: status_flow(self), control=True)

    def credentials_operation(self) -> Operation[CredentialCheck]:
        return self.operation(lambda: credentials_flow(self), control=True)

    def embeddings_operation(
        self, texts: tuple[str, ...], options: OpenAIOptions
    ) -> Operation[Embeddings]:
        return self.operation(lambda: embeddings_flow(self, texts, options), options=options)


class _Learner:
    """One call's :class:`~jackfield.http.Reviser`: each refusal that names an optional feature
    the body uses is answered with the body without it (each feature once); an answer to the
    adapted request makes the provider remember the adaptation for the endpoint."""

    __slots__ = ("body", "endpoint", "provider", "tried")

    def __init__(self, provider: OpenAIProvider, endpoint: Endpoint, body: dict[str, Any]) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.body = body
        self.tried: list[str] = []

    def revise(self, request: HTTPRequest, error: ProviderError) -> HTTPRequest | None:
        quirk = refused_quirk(error, self.body, self.tried)
        if quirk is None:
            return None
        self.tried.append(quirk.name)
        self.body = quirk.apply(self.body)
        return HTTPRequest(request.method, request.url, request.headers, orjson.dumps(self.body))

    def settled(self) -> None:
        known = self.provider._quirks.get(self.endpoint, ())
        learned = (*known, *(n for n in self.tried if n not in known))
        self.provider._quirks[self.endpoint] = learned
