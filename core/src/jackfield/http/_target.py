"""Where an instance's requests go and how they authenticate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from jackfield._errors import ConfigError
from jackfield._secret import Scrubber, Secret, remember
from jackfield.http._security import MASK, is_loopback, protect_logs, secret_values

__all__ = ["KeyHeader", "Target", "server_url"]

KeyHeader = Literal["authorization", "x-api-key", "both"]
"""How an API key is sent: ``Authorization: Bearer <key>``, ``x-api-key: <key>``, or both."""


class Target:
    """Where an instance's requests go and how they authenticate, resolved from its options.

    ``missing_key``: what to say when a key is required and none is configured (``None``: a key
    is optional).

    A ``user:password@`` in ``base_url`` is taken out of it: ``base_url`` is the address alone,
    safe to show anywhere (errors, reprs, status, dry runs, logs), and the user and password go
    in an ``Authorization: Basic`` header, as they would have (``userinfo`` holds them).
    """

    __slots__ = (
        "base_url",
        "https",
        "key",
        "key_header",
        "label",
        "loopback",
        "missing_key",
        "userinfo",
    )

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        key: Secret | None = None,
        key_header: KeyHeader = "authorization",
        missing_key: str | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        self.userinfo: tuple[str, str] | None = None
        if "@" in parts.netloc:
            userinfo, _, netloc = parts.netloc.rpartition("@")
            user, _, password = userinfo.partition(":")
            base_url = urlunsplit(parts._replace(netloc=netloc))
            if user or password:
                self.userinfo = (unquote(user), unquote(password))
                remember(*self._url_secrets())
                protect_logs()
        self.base_url = base_url
        self.label = label
        self.key = key
        self.key_header = key_header
        self.missing_key = missing_key
        self.https = parts.scheme == "https"
        self.loopback = is_loopback(parts.hostname or "")

    def at(self, base_url: str) -> Target:
        """This target's credentials at another address (``base_url`` is shown as given)."""
        moved = Target(
            base_url,
            label=self.label,
            key=self.key,
            key_header=self.key_header,
            missing_key=self.missing_key,
        )
        if moved.userinfo is None:
            moved.userinfo = self.userinfo
        return moved

    @property
    def has_credentials(self) -> bool:
        """Whether requests carry credentials (or must, and say what is missing)."""
        return self.key is not None or self.missing_key is not None or self.userinfo is not None

    def _url_secrets(self) -> list[str]:
        if self.userinfo is None:
            return []
        user, password = self.userinfo
        # A user name alone is often a token (https://TOKEN@host): then it is the secret.
        return [password or user, self._basic()]

    def _basic(self) -> str:
        import base64

        assert self.userinfo is not None
        pair = ":".join(self.userinfo).encode("utf-8")
        return base64.b64encode(pair).decode("ascii")

    def auth_headers(self, *, reveal: bool = True) -> dict[str, str]:
        """The credential headers. The key is read now, so a missing environment variable fails
        the call that needs it, naming instance and variable; ``reveal=False`` puts the mask in
        its place (for dry runs). A user and password from the URL are sent as
        ``Authorization: Basic``, which wins over a key sent as ``Authorization`` (as when the
        HTTP client read them from the URL)."""
        headers = {}
        if self.key is None:
            if self.missing_key is not None and reveal:
                raise ConfigError(f"instance {self.label!r}: {self.missing_key}")
        else:
            value = self._reveal() if reveal else MASK
            if self.key_header in ("authorization", "both"):
                headers["Authorization"] = f"Bearer {value}"
            if self.key_header in ("x-api-key", "both"):
                headers["x-api-key"] = value
        if self.userinfo is not None:
            headers["Authorization"] = f"Basic {self._basic() if reveal else MASK}"
        return headers

    def _reveal(self) -> str:
        assert self.key is not None
        try:
            value = self.key.reveal()
        except ConfigError as exc:
            raise ConfigError(f"instance {self.label!r}: {exc}") from None
        if value != value.strip():  # "Bearer  key" would go out, and mean another key
            raise ConfigError(
                f"instance {self.label!r}: the API key ({self.key.reference}) starts or ends "
                "with a space or a line break, so it cannot be sent (check the api_key option)"
            )
        return value

    def secret(self) -> str | None:
        """The key's value, to scrub from what a server echoes (``None`` when unreadable)."""
        if self.key is None:
            return None
        try:
            return self.key.reveal()
        except ConfigError:
            return None

    def secrets(self, headers: Mapping[str, str | Secret] | None = None) -> list[str]:
        """Every secret a request to this target sends: the key, the URL's password (and its
        Basic form), and the credential-like values of ``headers`` (the ``headers`` option)."""
        found = [] if self.key is None else [self.secret() or ""]
        found += self._url_secrets()
        if headers:
            found += secret_values(headers)
        return [s for s in found if s]

    def scrubber(self, headers: Mapping[str, str | Secret] | None = None) -> Scrubber:
        """A :class:`Scrubber` for what servers echo of :meth:`secrets`; reads the key only when
        something must be scrubbed."""
        return Scrubber(lambda: self.secrets(headers))

    def __repr__(self) -> str:
        key = "no key" if self.key is None else f"key {self.key!r} as {self.key_header}"
        return f"<Target {self.base_url} {key}>"


def server_url(value: str, *, default_port: int) -> str:
    """The server a host variable names (such as ``OLLAMA_HOST``), read as Ollama's client
    reads it: ``host``, ``host:port``, ``scheme://host:port`` or ``:port``, optionally with a
    path; quotes and surrounding spaces ignored; no port: ``default_port`` (80 after
    ``http://``, 443 after ``https://``); an address that listens everywhere (``0.0.0.0``,
    ``::``) or no host means this machine.

    >>> server_url("0.0.0.0", default_port=11434), server_url("gpu-box:8000", default_port=1)
    ('http://127.0.0.1:11434', 'http://gpu-box:8000')
    >>> server_url("https://ollama.lan", default_port=11434)
    'https://ollama.lan'
    """
    text = value.strip().strip("\"'")
    scheme, found, rest = text.partition("://")
    scheme = scheme.lower() if found else "http"
    rest = rest if found else text
    default = str(default_port)
    fallback = {"http": "80", "https": "443"}.get(scheme, default) if found else default
    scheme = "https" if scheme == "https" else "http"
    hostport, slash, path = rest.partition("/")
    host, port = _split_host_port(hostport)
    if port is None or not (port.isascii() and port.isdigit() and 0 < int(port[:6]) < 65536):
        port = fallback
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"):  # listening everywhere: this machine
        host = "::1" if host.startswith((":", "0:")) else "127.0.0.1"
    shown_host = f"[{host}]" if ":" in host else host
    shown_port = "" if int(port) == {"http": 80, "https": 443}[scheme] else f":{int(port)}"
    path = path.strip("/")
    return f"{scheme}://{shown_host}{shown_port}{'/' + path if slash and path else ''}"


def _split_host_port(text: str) -> tuple[str, str | None]:
    """``host:port`` (``[v6]:port``) split as Go's ``net.SplitHostPort`` splits it; ``(text,
    None)`` when it has no port (a bare IPv6 address has colons but no port)."""
    if text.startswith("["):
        end = text.find("]")
        if end != -1 and text[end + 1 : end + 2] == ":":
            return text[1:end], text[end + 2 :]
        return text, None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    return text, None
