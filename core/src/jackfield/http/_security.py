"""Keeping credentials where they belong: masks, base URL checks, header checks, warnings."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from jackfield._errors import ConfigError, SecurityWarning

__all__ = [
    "MASK",
    "check_base_url",
    "check_headers",
    "is_loopback",
    "mask_headers",
    "warn_if_key_exposed",
]

MASK = "********"
"""What a secret shows instead of itself."""
SENSITIVE_HEADER_PARTS = ("authorization", "key", "token", "secret", "cookie", "password")


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credential-like values replaced by a mask."""
    masked = {}
    for name, value in headers.items():
        lower = name.lower()
        if any(part in lower for part in SENSITIVE_HEADER_PARTS):
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {MASK}" if rest and lower == "authorization" else MASK
        masked[name] = value
    return masked


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = host.strip("[]").lower()
    return host == "localhost" or host.startswith("127.") or host == "::1"


def check_base_url(url: str, label: str, *, example: str) -> str:
    """``url`` without a trailing ``/``, or a :class:`~jackfield.ConfigError` naming the
    instance ``label`` when it is not an http(s) URL with a host (and a valid port)."""
    url = url.rstrip("/")
    problem = None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates it (a port of "80a" raises)
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme not in ("http", "https"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname:
            problem = "it names no host"
        elif any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
            problem = "it holds a space or a control character"
    if problem is not None:
        raise ConfigError(
            f"instance {label!r}: base_url {url!r} is not a valid URL ({problem}); "
            f"write it as {example}"
        )
    return url


def check_headers(headers: Mapping[str, str], label: str) -> None:
    """Raise :class:`~jackfield.ConfigError` when a header cannot be sent as it is (a line
    break, a control or non-ASCII character in its value): naming the header, never showing the
    value, which may be a key (a trailing newline read from an environment variable, say)."""
    names, values = "".join(headers), "".join(headers.values())
    printable = names.isascii() and names.isprintable() and values.isascii()
    if printable and values.isprintable() and ":" not in names and all(headers):
        return  # the common case, checked in one pass over all names and one over all values
    for name, value in headers.items():
        if not (name.isascii() and name.isprintable() and name and ":" not in name):
            raise ConfigError(f"instance {label!r}: {name!r} is not a valid header name")
        if not (value.isascii() and value.isprintable()):
            raise ConfigError(
                f"instance {label!r}: the value of the {name} header has a line break, a "
                "control or a non-ASCII character, so it cannot be sent (check the api_key "
                "or headers option; a key read from a file or variable may end in a newline)"
            )


def warn_if_key_exposed(base_url: str, *, has_key: bool, enabled: bool = True) -> None:
    """Warn (:class:`~jackfield.SecurityWarning`) when an API key would travel over plain
    http to another machine, where anyone on the way can read it. ``enabled`` is the
    instance's ``warn_insecure_key`` option. The warning points at the code that created the
    provider."""
    parts = urlsplit(base_url)
    if has_key and enabled and parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        import warnings

        warnings.warn(
            f"the API key would be sent over plain http to {base_url}; use https, "
            "or set warn_insecure_key = false if this network is trusted",
            SecurityWarning,
            stacklevel=4,
        )
