"""The error taxonomy: one root, a branch for configuration and one for backends.

Every exception jackfield raises on purpose derives from :class:`JackfieldError`.
Errors raised while a stream is running carry what had already arrived in ``partial``.
Messages never contain secrets: providers build them from URLs, statuses and server
messages, never from headers or options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from jackfield._response import Response

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ContextLengthError",
    "ConversationError",
    "DuplicateProviderError",
    "InvalidToolArguments",
    "MalformedStreamError",
    "NotFoundError",
    "NotSupportedError",
    "OptionIssue",
    "OptionsError",
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
    "JackfieldError",
    "TruncatedStreamError",
    "UnknownProviderError",
    "ValidationError",
]


class JackfieldError(Exception):
    """Root of every error jackfield raises on purpose."""


class SecurityWarning(UserWarning):
    """Something is about to happen that may expose a secret (a key over plain http ...)."""


# --- configuration, registry, input -------------------------------------------------------


class ConfigError(JackfieldError, ValueError):
    """Configuration or options that cannot be used as given."""


class OptionIssue(NamedTuple):
    """One problem found while structuring options: where, what, and which layer set it."""

    path: str
    """The JSON path of the value, such as ``$.extra_body.samplers[1]``."""
    message: str
    """What is wrong, and what was expected."""
    layer: str | None = None
    """The layer that set the value (``"call"``, ``"agent:coder"`` ...), if one did."""

    def __str__(self) -> str:
        origin = f" (set by layer {self.layer!r})" if self.layer else ""
        return f"{self.path}: {self.message}{origin}"


class ValidationError(JackfieldError, ValueError):
    """Data failed validation; ``issues`` lists every problem with its JSON path."""

    def __init__(self, target: str, issues: Sequence[OptionIssue]) -> None:
        self.target = target
        self.issues = tuple(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"invalid {target}:\n{lines}")


class OptionsError(ValidationError, ConfigError):
    """Options failed validation; each issue names its JSON path and the layer that set it."""

    def __init__(self, target: str, issues: Sequence[OptionIssue]) -> None:
        super().__init__(f"options for {target}", issues)
        self.target = target


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
        listing = ", ".join(known) if known else "none (is a provider package installed?)"
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


# --- backends ------------------------------------------------------------------------------


class ProviderError(JackfieldError):
    """A backend failed to do what was asked.

    ``status`` is the HTTP status when there was one, ``request_id`` the server's id for the
    request, ``body`` the parsed error body, ``retry_after`` the server's advice in seconds
    (``Retry-After``) and ``partial`` the :class:`~jackfield.Response` folded from
    everything that arrived before the failure (``None`` when nothing had).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        partial: Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
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


class ServiceTimeoutError(ProviderError):
    """A deadline passed. ``phase`` is one of connect, first_byte, idle, total."""

    def __init__(self, message: str, *, phase: str, chunks: int = 0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.phase = phase
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
