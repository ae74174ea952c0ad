"""Keeping credentials where they belong: masks, base URL checks, header checks, warnings,
and log records of the HTTP libraries kept free of the secrets jackfield sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jackfield._errors import ConfigError, SecurityWarning
from jackfield._secret import (
    MASK,
    Secret,
    is_known_secret,
    is_secret_header,
    known_secrets,
    mask_url,
    remember,
)

__all__ = [
    "MASK",
    "address_problem",
    "check_base_url",
    "check_headers",
    "is_loopback",
    "resolves_to_loopback",
    "is_secret_header",
    "mask_headers",
    "mask_url",
    "protect_logs",
    "secret_values",
    "sendable_headers",
    "shown_headers",
    "shown_url",
    "warn_if_key_exposed",
]


def mask_headers(headers: Mapping[str, str | Secret]) -> dict[str, str]:
    """A copy of ``headers`` with credential-like values replaced by a mask (an
    ``Authorization`` value keeps its scheme: ``Bearer ********``); a :class:`~jackfield.Secret`
    value, or the value one gave when sent, is masked whatever the header's name."""
    masked = {}
    for name, value in headers.items():
        if isinstance(value, Secret) or is_known_secret(value):
            value = MASK
        elif is_secret_header(name):
            scheme, _, rest = str(value).partition(" ")
            value = f"{scheme} {MASK}" if rest and "authorization" in name.lower() else MASK
        masked[name] = value
    return masked


def shown_headers(headers: Mapping[str, str | Secret]) -> str:
    """The repr of ``headers`` with credentials masked (options reprs use it)."""
    return repr(mask_headers(headers))


def shown_url(url: str | None) -> str:
    """The repr of a URL with its password masked (options reprs use it)."""
    return repr(url if url is None else mask_url(url))


def secret_values(headers: Mapping[str, str | Secret]) -> list[str]:
    """The credentials among ``headers``' values: each :class:`~jackfield.Secret` (that can be
    read) and credential-like header's value, and the token after its scheme (``Bearer``,
    ``Basic``) when it has one."""
    found = []
    for name, value in headers.items():
        if isinstance(value, Secret):
            try:
                value = value.reveal()
            except ConfigError:
                continue  # never sent, so never echoed
            found.append(value)
        elif value and is_secret_header(name):
            found.append(value)
            token = value.partition(" ")[2].strip()
            if token:
                found.append(token)
    return found


# Where the HTTP libraries log (a logger's filters see only its own records).
_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack.hpack",
    "hpack.table",
)
_log_filter: Any = None


def protect_logs() -> None:
    """Mask, in every record the HTTP libraries log (httpx's request lines, httpcore's
    response headers at DEBUG), the secrets this process has sent and URL passwords. Installed
    once, when the first secret is sent; costs nothing while those loggers are quiet."""
    global _log_filter
    if _log_filter is not None:
        return
    import logging

    class SecretFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad record is the handler's to report
                return True
            clean = mask_url(known_secrets().text(message))
            if clean != message:
                record.msg, record.args = clean, None
            return True

    made = SecretFilter()
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(made)
    _log_filter = made


def _address(host: str) -> Any:
    """``host`` as an IP address, in any spelling an OS accepts (``127.1``, ``2130706433``,
    ``0x7f000001``, ``[::ffff:127.0.0.1]``), or ``None`` for a name."""
    import ipaddress
    import socket

    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))  # the legacy IPv4 spellings
    except (OSError, ValueError):
        return None


def _local(address: Any) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return bool(address.is_loopback or address.is_unspecified)  # 0.0.0.0 reaches this machine


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine by its spelling alone, without resolving it: a
    loopback or unspecified address in any form, or ``localhost`` and its subdomains (RFC 6761),
    with or without the final dot."""
    address = _address(host)
    if address is not None:
        return _local(address)
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def resolves_to_loopback(host: str) -> bool:
    """Whether ``host`` is this machine, by its spelling or else by what it resolves to (every
    address it resolves to must be local); a name that does not resolve is not."""
    if is_loopback(host) or _address(host) is not None:
        return is_loopback(host)
    import socket

    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = [_address(str(info[4][0])) for info in found]
    return bool(addresses) and all(a is not None and _local(a) for a in addresses)


def address_problem(base_url: str | None, port: int | None, url_path: str = "") -> str | None:
    """What is wrong with the ``base_url`` and ``port`` options, found when options are
    validated (each message starts with its field's name, so an issue points at that key);
    ``None`` when nothing is. An address without a scheme (``localhost:8080``) gets the URL
    to write instead, ``url_path`` added when it has no path (``/v1``); the rest of a URL is
    checked when it is used (:func:`check_base_url`)."""
    if base_url is not None:
        if "://" not in base_url:
            scheme, misspelt, _ = base_url.partition(":/")
            if misspelt and scheme[:1].isalpha() and all(c.isalnum() or c in "+.-" for c in scheme):
                return "base_url must start with http:// or https://"  # "http:/host": no guess
            fixed = f"http://{base_url.lstrip('/')}"
            if not urlsplit(fixed).path.strip("/"):
                fixed = fixed.rstrip("/") + url_path
            return f"base_url must start with http:// or https://: write {mask_url(fixed)}"
        if urlsplit(base_url).scheme.lower() not in ("http", "https"):
            return "base_url must start with http:// or https://"
    if port is not None and not 0 < port < 65536:
        return f"port must be from 1 to 65535; got {port}"
    return None


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
            f"instance {label!r}: base_url {mask_url(url)!r} is not a valid URL ({problem}); "
            f"write it as {example}"
        )
    return url


def sendable_headers(headers: Mapping[str, str | Secret], label: str) -> dict[str, str]:
    """``headers`` (the ``headers`` option) as sent: each :class:`~jackfield.Secret` value read
    (a missing variable is a :class:`~jackfield.ConfigError` naming the header), every value
    checked by :func:`check_headers`, and the secret values noted for the log filter."""
    sent: dict[str, str] = {}
    secrets = []
    for name, value in headers.items():
        if isinstance(value, Secret):
            try:
                value = value.reveal(f"the {name} header")
            except ConfigError as exc:
                raise ConfigError(f"instance {label!r}: {exc}") from None
            secrets.append(value)
        sent[name] = value
    check_headers(sent, label)
    if secrets:
        remember(*secrets)
        protect_logs()
    return sent


def check_headers(headers: Mapping[str, str], label: str) -> None:
    """Raise :class:`~jackfield.ConfigError` when a header cannot be sent as it is (a line
    break, a control or non-ASCII character in its value): naming the header, never showing the
    value, which may be a key (a trailing newline read from an environment variable, say)."""
    names, values = "".join(headers), "".join(headers.values())
    printable = names.isascii() and names.isprintable() and values.isascii()
    if (
        printable
        and values.isprintable()
        and ":" not in names
        and all(headers)
        and not any(v[:1] == " " or v[-1:] == " " for v in headers.values())
    ):
        # The common case, checked in one pass over all names and one over all values.
        # Credentials are noted for the log filter: a server may echo them in a header.
        secrets = secret_values(headers)
        if secrets:
            remember(*secrets)
            protect_logs()
        return
    for name, value in headers.items():
        if not (name.isascii() and name.isprintable() and name and ":" not in name):
            raise ConfigError(f"instance {label!r}: {name!r} is not a valid header name")
        if not (value.isascii() and value.isprintable()):
            raise ConfigError(
                f"instance {label!r}: the value of the {name} header has a line break, a "
                "control or a non-ASCII character, so it cannot be sent (check the api_key "
                "or headers option; a key read from a file or variable may end in a newline)"
            )
        if value != value.strip(" "):  # h11 refuses it, quoting the value: say it first
            raise ConfigError(
                f"instance {label!r}: the value of the {name} header starts or ends with a "
                "space, so it cannot be sent (check the api_key or headers option)"
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
