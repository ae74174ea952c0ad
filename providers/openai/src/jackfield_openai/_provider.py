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
    Secret,
    Status,
)
from jackfield.http import BodyParser, HTTPProvider, HTTPRequest, ParserFactory, Target
from jackfield_openai import __version__
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._body import chat_body
from jackfield_openai._models import credentials_flow, embeddings_flow, models_flow, status_flow
from jackfield_openai._options import OpenAIOptions
from jackfield_openai._parsers import choose_parser
from jackfield_openai._presets import DEFAULT_BASE_URL, PRESETS, Preset
from jackfield_openai._toolnames import ToolNames

__all__ = ["OpenAIProvider"]


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
        return self.operation(lambda: models_flow(self))

    def status_operation(self) -> Operation[Status]:
        return self.operation(lambda: status_flow(self))

    def credentials_operation(self) -> Operation[CredentialCheck]:
        return self.operation(lambda: credentials_flow(self))

    def embeddings_operation(
        self, texts: tuple[str, ...], options: OpenAIOptions
    ) -> Operation[Embeddings]:
        return self.operation(lambda: embeddings_flow(self, texts, options), options=options)
