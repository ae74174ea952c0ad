"""Every exception jackfield raises on purpose, and the one type that describes a bad value.

The hierarchy::

    JackfieldError
    ├── ConfigError (also ValueError)         options, a configuration file, a secret reference
    │   ├── OptionsError (also ValidationError)   options that do not validate
    │   └── ConfigFileError                        a configuration file that does not validate
    ├── ValidationError (also ValueError)     data that does not validate (a fragment, say)
    │   └── OptionsError
    ├── ConversationError (also ValueError)   messages that cannot be sent
    ├── InvalidToolArguments (also ValueError) a tool call whose arguments are not JSON
    ├── ToolError                             a tool failed, or its server did (a run's tools)
    │   └── MCPError                          an MCP server would not start, or broke
    ├── OutputError (also ValueError)         an answer that is not the structured output asked
    ├── NotSupportedError                     the provider cannot do this at all
    ├── RegistryError                         providers and instances by name
    │   ├── UnknownProviderError (also LookupError)
    │   ├── DuplicateProviderError
    │   └── ProviderLoadError (also ImportError)
    └── ProviderError                         a backend failed (status, body, partial answer)
        ├── ServiceConnectionError
        ├── ServiceTimeoutError               .phase: connect, first_byte, idle, total, server
        ├── AuthenticationError
        ├── PermissionDeniedError
        ├── RateLimitError
        ├── BadRequestError
        │   └── ContextLengthError
        ├── NotFoundError
        ├── ServerError
        └── StreamError
            ├── MalformedStreamError
            │   └── StreamLimitError
            └── TruncatedStreamError

    SecurityWarning (a UserWarning, not an error)
    DisabledInstanceWarning (a UserWarning: a configured instance whose plugin is missing)

Errors raised while a stream runs carry what had already arrived in ``partial``. Messages never
contain secrets: they are built from URLs, statuses and server messages, never from headers or
options. A value that fails validation is an :class:`Issue`: where it is (a path of keys and
indexes, a line of a file), what is wrong, and which option layer set it; every error that holds
issues renders them with :meth:`Issue.render`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from jackfield._response import Response

__all__ = [
    "TIMEOUT_PHASES",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConfigFileError",
    "ContextLengthError",
    "ConversationError",
    "DisabledInstanceWarning",
    "DuplicateProviderError",
    "InvalidToolArguments",
    "Issue",
    "JackfieldError",
    "MalformedStreamError",
    "NotFoundError",
    "MCPError",
    "NotSupportedError",
    "OutputError",
    "OptionsError",
    "Path",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderLoadError",
    "RateLimitError",
    "RegistryError",
    "SecurityWarning",
    "ServerError",
    "ServiceConnectionError",
    "ServiceTimeoutError",
    "StreamError",
    "StreamLimitError",
    "TimeoutPhase",
    "ToolError",
    "TruncatedStreamError",
    "UnknownProviderError",
    "ValidationError",
    "format_path",
]


class JackfieldError(Exception):
    """Root of every error jackfield raises on purpose."""


class SecurityWarning(UserWarning):
    """Something is about to happen that may expose a secret (a key over plain http ...)."""


class DisabledInstanceWarning(UserWarning):
    """A configured instance cannot be used (its plugin is missing, turned off or broken) and
    is left out; the message gives the file, line and section, and what to install."""


# --- where a bad value is -------------------------------------------------------------------

Path = tuple["str | int", ...]
"""A path of keys and array indexes: ``("extra_body", "samplers", 2)``."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def format_path(path: Sequence[str | int], root: str = "$") -> str:
    """Render a path: ``$.extra_body.samplers[2]``; odd keys as ``$["a key"]``.

    With ``root=""`` the path reads as dotted keys from the top (``agents.coder.model``), as
    configuration files name them.
    """
    out = [root]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part)}]")
    text = "".join(out)
    return text[1:] if not root and text.startswith(".") else text


class Issue(NamedTuple):
    """One value that cannot be used: where it is, what is wrong, and who set it."""

    path: Path
    """Keys and indexes from the top of what was checked: ``("timeouts", "connect")``."""
    message: str
    """What is wrong, and what was expected."""
    layer: str | None = None
    """The option layer that set the value (``"call"``, ``"agent:coder"`` ...), if one did."""
    line: int | None = None
    """The line of the configuration file the value is on (from 1), when it can be found."""

    def render(self, *, root: str = "$", source: str | None = None) -> str:
        """The issue as one line. Options read ``$.temperature: ... (set by layer 'call')``; a
        file's issues read ``config.toml:12: agents.coder.model: ...`` (``source`` given,
        ``root=""``)."""
        where = format_path(self.path, root)
        text = f"{where}: {self.message}" if where else self.message
        if self.layer:
            text += f" (set by layer {self.layer!r})"
        if source is not None:
            origin = f"{source}:{self.line}" if self.line else source
            text = f"{origin}: {text}"
        return text

    def __str__(self) -> str:
        return self.render()


# --- configuration, registry, input ---------------------------------------------------------


class ConfigError(JackfieldError, ValueError):
    """Configuration or options that cannot be used as given."""


class ValidationError(JackfieldError, ValueError):
    """Data failed validation; ``issues`` lists every problem with its path."""

    def __init__(self, target: str, issues: Sequence[Issue]) -> None:
        self.target = target
        self.issues = tuple(issues)
        lines = "\n".join(f"  {issue.render()}" for issue in self.issues)
        super().__init__(f"invalid {target}:\n{lines}")


class OptionsError(ValidationError, ConfigError):
    """Options failed validation; each issue names its path and the layer that set it."""

    def __init__(self, target: str, issues: Sequence[Issue]) -> None:
        super().__init__(f"options for {target}", issues)
        self.target = target


class ConfigFileError(ConfigError):
    """A configuration (a file, or a mapping shaped like one) cannot be used; ``issues`` lists
    every problem found, each with its key path and, for a file, its line."""

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        super().__init__("\n".join(i.render(root="", source=source) for i in self.issues))


class NotSupportedError(JackfieldError):
    """The provider cannot do this at all (embeddings from a chat-only backend, say)."""


class ConversationError(JackfieldError, ValueError):
    """A conversation that cannot be sent (raised before anything goes over the wire)."""


class InvalidToolArguments(JackfieldError, ValueError):
    """A tool call's arguments are not valid JSON (the raw string is kept on the call)."""

    def __init__(self, name: str, call_id: str, arguments: str, reason: str) -> None:
        self.name = name
        self.call_id = call_id
        self.arguments = arguments
        preview = arguments if len(arguments) <= 80 else arguments[:77] + "..."
        super().__init__(
            f"tool call {call_id!r} ({name}) has arguments that are not valid JSON: "
            f"{reason}; raw arguments: {preview!r}"
        )


class ToolError(JackfieldError):
    """A tool failed: it raised (in a run with ``tool_errors="raise"``), or where it lives broke.

    ``tool`` is the tool's name as the model called it, ``source`` where it lives (an MCP
    server's name, or ``None``); the tool's own exception, if any, is ``__cause__``. A run that
    stops with this error keeps the conversation so far in ``messages``.
    """

    def __init__(self, message: str, *, tool: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.tool = tool
        self.source = source
        self.messages: tuple[Any, ...] = ()


class MCPError(ToolError):
    """An MCP server would not start, would not list its tools, or broke while in use.

    The message names the server and its command or URL, and ends with the last lines the
    program wrote to stderr when there were any (never its environment).
    """


class OutputError(JackfieldError, ValueError):
    """An answer that is not the structured output asked for, even after a repair round.

    ``text`` is the last answer's raw text (nothing is lost), ``problems`` what is wrong with
    it (each line starts with a JSON path), ``response`` the last :class:`Response`, and
    ``attempts`` how many answers were checked.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        problems: Sequence[str] = (),
        response: Response | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.text = text
        self.problems = tuple(problems)
        self.response = response
        self.attempts = attempts


class RegistryError(JackfieldError):
    """A provider cannot be found or loaded."""


class UnknownProviderError(RegistryError, LookupError):
    """No provider (or instance, per ``kind``) is registered under this name."""

    def __init__(
        self,
        name: str,
        known: Sequence[str],
        suggestions: Sequence[str],
        *,
        kind: str = "provider",
        plural: str | None = None,
    ) -> None:
        self.name = name
        self.known = tuple(known)
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
        none = "none (is a provider package installed?)" if kind == "provider" else "none"
        listing = ", ".join(known) if known else none
        super().__init__(f"unknown {kind} {name!r}.{hint} Known {plural or kind + 's'}: {listing}.")


class DuplicateProviderError(RegistryError):
    """Two plugins registered the same provider name; neither is chosen silently."""

    def __init__(self, name: str, origins: Sequence[str], *, kind: str = "provider") -> None:
        self.name = name
        self.origins = tuple(origins)
        super().__init__(
            f"{kind} {name!r} is registered by more than one plugin: "
            f"{' and '.join(origins)}. Uninstall one, or disable one with "
            f"JACKFIELD_DISABLE_PLUGINS=<plugin name>."
        )


class ProviderLoadError(RegistryError, ImportError):
    """A provider's implementation or options class could not be imported."""


# --- backends -------------------------------------------------------------------------------


class ProviderError(JackfieldError):
    """A backend failed to do what was asked.

    ``status`` is the HTTP status when there was one, ``request_id`` the server's id for the
    request, ``body`` the parsed error body, ``retry_after`` the server's advice in seconds
    (``Retry-After``), ``retry`` whether the answer itself says another attempt could (or
    could not) succeed (``None``: the status decides), and ``partial`` the
    :class:`~jackfield.Response` folded from everything that arrived before the failure
    (``None`` when nothing had). ``sent_request_id`` is the ``X-Request-Id`` jackfield sent
    (an HTTP provider's call: the caller's, else one made for the call), to find the call in a
    server's or router's logs.
    """

    sent_request_id: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        retry: bool | None = None,
        partial: Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
        self.retry = retry
        self.partial = partial

    def __str__(self) -> str:
        extra = []
        if self.status is not None:
            extra.append(f"HTTP {self.status}")
        if self.request_id:
            extra.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(extra)})" if extra else self.message


class ServiceConnectionError(ProviderError):
    """The backend could not be reached (refused, reset, DNS, TLS)."""


TimeoutPhase = Literal["connect", "first_byte", "idle", "total", "server"]
"""The deadline a :class:`ServiceTimeoutError` is about (see :data:`TIMEOUT_PHASES`)."""

TIMEOUT_PHASES: dict[TimeoutPhase, str] = {
    "connect": "opening the connection, sending the request or waiting for a pooled connection",
    "first_byte": "waiting for the first event of the answer, while the prompt is read or the "
    "model loads",
    "idle": "waiting for the next event of a streamed answer",
    "total": "on the whole call, retries and the waits between them included",
    "server": "on the server's side: it stopped waiting for the request (HTTP 408)",
}
"""Every phase a timeout may have, and what was being waited for."""


class ServiceTimeoutError(ProviderError):
    """A deadline passed. ``phase`` says which (see :data:`TIMEOUT_PHASES`); ``chunks`` counts
    the chunks of the answer that had arrived."""

    def __init__(
        self, message: str, *, phase: TimeoutPhase, chunks: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.phase: TimeoutPhase = phase
        self.chunks = chunks


class AuthenticationError(ProviderError):
    """The backend rejected the credentials (or needs some and got none)."""


class PermissionDeniedError(ProviderError):
    """The credentials are valid but not allowed to do this."""


class RateLimitError(ProviderError):
    """Too many requests; ``retry_after`` is the server's advice in seconds, if it gave one."""


class BadRequestError(ProviderError):
    """The backend refused the request as malformed or unsupported."""


class ContextLengthError(BadRequestError):
    """The prompt (plus requested output) does not fit the model's context window."""

    def __init__(
        self,
        message: str,
        *,
        prompt_tokens: int | None = None,
        context_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length


class NotFoundError(ProviderError):
    """The endpoint or model does not exist on this backend."""


class ServerError(ProviderError):
    """The backend failed on its side (5xx, or an error reported inside the stream)."""


class StreamError(ProviderError):
    """A stream could not be read to its end."""


class MalformedStreamError(StreamError):
    """The backend sent bytes that are not the protocol it promised."""


class StreamLimitError(MalformedStreamError):
    """A configured size limit was exceeded (one line, one event, tool-call arguments ...)."""


class TruncatedStreamError(StreamError):
    """The stream ended before the backend said it was complete."""
