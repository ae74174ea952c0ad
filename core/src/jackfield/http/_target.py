"""Where an instance's requests go and how they authenticate."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from jackfield._errors import ConfigError
from jackfield._secret import Secret
from jackfield.http._security import MASK, is_loopback

__all__ = ["KeyHeader", "Target"]

KeyHeader = Literal["authorization", "x-api-key", "both"]
"""How an API key is sent: ``Authorization: Bearer <key>``, ``x-api-key: <key>``, or both."""


class Target:
    """Where an instance's requests go and how they authenticate, resolved from its options.

    ``missing_key``: what to say when a key is required and none is configured (``None``: a key
    is optional).
    """

    __slots__ = ("base_url", "https", "key", "key_header", "label", "loopback", "missing_key")

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        key: Secret | None = None,
        key_header: KeyHeader = "authorization",
        missing_key: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.label = label
        self.key = key
        self.key_header = key_header
        self.missing_key = missing_key
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.loopback = is_loopback(parts.hostname or "")

    def auth_headers(self, *, reveal: bool = True) -> dict[str, str]:
        """The credential headers. The key is read now, so a missing environment variable fails
        the call that needs it, naming instance and variable; ``reveal=False`` puts the mask in
        its place (for dry runs)."""
        if self.key is None:
            if self.missing_key is not None and reveal:
                raise ConfigError(f"instance {self.label!r}: {self.missing_key}")
            return {}
        value = self._reveal() if reveal else MASK
        headers = {}
        if self.key_header in ("authorization", "both"):
            headers["Authorization"] = f"Bearer {value}"
        if self.key_header in ("x-api-key", "both"):
            headers["x-api-key"] = value
        return headers

    def _reveal(self) -> str:
        assert self.key is not None
        try:
            return self.key.reveal()
        except ConfigError as exc:
            raise ConfigError(f"instance {self.label!r}: {exc}") from None

    def secret(self) -> str | None:
        """The key's value, to scrub from what a server echoes (``None`` when unreadable)."""
        if self.key is None:
            return None
        try:
            return self.key.reveal()
        except ConfigError:
            return None

    def __repr__(self) -> str:
        key = "no key" if self.key is None else f"key {self.key!r} as {self.key_header}"
        return f"<Target {self.base_url} {key}>"
