"""The OpenAI-compatible provider: one provider for every server speaking /v1/chat/completions."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import attrs
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
from jackfield_openai import _identity as identity
from jackfield_openai._assembler import ChunkAssembler
from jackfield_openai._body import chat_body
from jackfield_openai._models import credentials_flow, embeddings_flow, models_flow, status_flow
from jackfield_openai._options import OpenAIOptions
from jackfield_openai._parsers import choose_parser
from jackfield_openai._presets import (
    ADDRESS_FIELDS,
    DEFAULT_BASE_URL,
    PRESETS,
    Preset,
    from_environment,
)
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
        self._servers: dict[str, str] = {}
        """Base URL -> the server its chat answers named (by a header only it sends)."""

    def resolve_target(self, options: OpenAIOptions) -> Target:
        """The preset's address, key variable and key header as defaults under the options;
        where the options set neither an address nor a key, the preset's environment
        variables (``OPENAI_BASE_URL``, ``OLLAMA_HOST``, ``OPENAI_API_KEY``: see
        :func:`~jackfield_openai._presets.from_environment`)."""
        import os

        preset = preset_named(options.preset)
        found = from_environment(
            preset,
            os.environ,
            address=any(getattr(options, f) for f in ADDRESS_FIELDS),
            key=options.api_key is not None,
        )
        for _, values in found:
            url = values.get("base_url")
            if isinstance(url, str):
                options = attrs.evolve(options, base_url=url)
        base = self.address(options, preset.base_url if preset else DEFAULT_BASE_URL)
        key = options.api_key
        variable = preset.key_env if preset is not None else None
        if key is None and variable and any("api_key" in values for _, values in found):
            key = Secret.from_env(variable)
        missing = None
        if preset is not None and preset.key_required:
            where = f"set {preset.key_env}, " if preset.key_env else ""
            missing = (
                f"the {preset.name} preset needs an API key: {where}run `jackfield keys set "
                f"{self.name}`, or set the api_key option"
            )
        return Target(
            base,
            label=self.name,
            key=key,
            key_header=options.api_key_header or (preset.key_header if preset else "authorization"),
            missing_key=missing,
        )

    @property
    def key_variable(self) -> str | None:
        """The environment variable the preset reads its key from (``OPENAI_API_KEY``)."""
        preset = preset_named(self.options.preset)
        return preset.key_env if preset is not None else None

    def health_path(self, options: OpenAIOptions) -> str:
        """The preset's server's own health check (``/health`` for llama.cpp and vLLM,
        ``/health_generate`` for SGLang, ``/api/version`` for Ollama), else the model list."""
        preset = preset_named(options.preset)
        if preset is not None and preset.health is not None:
            return preset.health
        return "models"

    @property
    def start_hint(self) -> str | None:
        """How the preset's server is started on this instance's port (for advice when
        nothing answers), or ``None`` when it is not started on this machine."""
        preset = preset_named(self.options.preset)
        if preset is None or preset.start is None or not self.target.loopback:
            return None
        port = urlsplit(self.base_url).port or preset.port
        command = preset.start.format(port=port)
        if preset.address_env == "OLLAMA_HOST" and port != preset.port:
            command = f"OLLAMA_HOST=127.0.0.1:{port} {command}"
        return command

    # --- chat ---------------------------------------------------------------------------------

    def chat_request(
        self, request: ChatRequest[OpenAIOptions], target: Target, *, reveal: bool = True
    ) -> tuple[HTTPRequest, dict[str, Any]]:
        """``POST {base_url}/chat/completions`` with the body built from the request. A call
        to send that names no model to a server that needs one (OpenAI, Ollama) is a
        :class:`~jackfield.ConfigError` before anything is sent; a dry run (``reveal=False``)
        shows the body as it is."""
        options = request.options
        if reveal and options.model is None:
            self._check_model(options)  # first: `-m openai` hears of the model before the key
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

    def _check_model(self, options: OpenAIOptions) -> None:
        preset = preset_named(options.preset)
        if preset is None or not preset.model_required:
            return
        name, server = self.name, preset.server.split(" (")[0]  # "Ollama", not its API's name
        raise ConfigError(
            f"instance {name!r} names no model, and {server} needs one: write "
            f"-m {name}:<model> on the command line, or set model (in the call, the agent or "
            f"the instance's configuration); `jackfield models {name}` lists the models"
        )

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

        base_url = self.target_for(options).base_url

        def parser(status: int, headers: Mapping[str, str]) -> BodyParser:
            server = identity.from_headers(headers)
            if server is not None:
                self._servers[base_url] = server
            return choose_parser(headers, assembler, stream=request.stream, limits=options.limits)

        return parser

    def output_strategies(self, options: OpenAIOptions) -> tuple[str, ...]:
        """``response_format`` (OpenAI's ``json_schema``), a forced tool call, the prompt; for
        llama.cpp (the ``llamacpp`` preset, or a server whose answers carried its ``Server``
        header) its own ``json_schema`` body field first.

        Measured with llama.cpp b11549 (xllamacpp 2026.10.11549, tests/compat): both the
        ``json_schema`` field and ``response_format`` ``json_schema`` (with or without
        ``name`` and ``strict``, ``$defs`` included, streamed or not) are enforced. The field
        comes first all the same: it is llama.cpp's own, and builds have been reported to
        accept ``response_format`` ``json_schema`` with HTTP 200 without enforcing it
        (llama.cpp issues 11988 and 24097), as this build still does for the schema placed
        beside ``json_schema`` instead of in it. A forced tool is not enforced by every chat
        template: without tool support in the template the call is answered in plain text,
        and a small model may make llama.cpp fail the forced call with HTTP 500."""
        strategies = super().output_strategies(options)
        if options.preset == "llamacpp" or (
            self._servers.get(self.target_for(options).base_url) == "llama.cpp"
        ):
            return ("json_schema", *strategies)
        return strategies

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
