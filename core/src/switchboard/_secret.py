"""Secrets that never show themselves: literal values, or references resolved on first use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from switchboard._errors import ConfigError

__all__ = ["Secret"]

_MASK = "********"


class Secret:
    """An API key or other secret. ``str()``, ``repr()`` and JSON output never reveal it.

    Build one from a literal (``Secret("sk-...")``), an environment variable
    (``Secret.from_env("OPENAI_API_KEY")``) or a file (``Secret.from_file(path)``);
    references are read when :meth:`reveal` is first called, so a missing variable only
    fails the instance that uses it.
    """

    __slots__ = ("_env", "_file", "_value")

    def __init__(
        self, value: str | None = None, *, env: str | None = None, file: str | None = None
    ):
        if sum(x is not None for x in (value, env, file)) != 1:
            raise ConfigError("a secret needs exactly one of a value, env or file")
        self._value = value
        self._env = env
        self._file = file

    @classmethod
    def from_env(cls, name: str) -> Secret:
        """A secret read from the environment variable ``name`` on first use."""
        return cls(env=name)

    @classmethod
    def from_file(cls, path: str) -> Secret:
        """A secret read from a file (stripped of surrounding whitespace) on first use."""
        return cls(file=path)

    @classmethod
    def coerce(cls, raw: Any) -> Secret:
        """Accept a Secret, a string, or ``{"env": NAME}`` / ``{"file": PATH}``."""
        if isinstance(raw, Secret):
            return raw
        if isinstance(raw, str):
            return cls(raw)
        if isinstance(raw, Mapping) and len(raw) == 1:
            ((kind, ref),) = raw.items()
            if kind in ("env", "file") and isinstance(ref, str) and ref:
                return cls(**{kind: ref})
        raise ConfigError('expected a string or a reference {"env": "VARIABLE"} / {"file": "PATH"}')

    @property
    def reference(self) -> str:
        """Where the secret comes from, safe to show: ``env:NAME``, ``file:PATH`` or ``literal``."""
        if self._env is not None:
            return f"env:{self._env}"
        if self._file is not None:
            return f"file:{self._file}"
        return "literal"

    def reveal(self) -> str:
        """The secret's value. Raises :class:`~switchboard.ConfigError` if a reference is unset."""
        if self._value is not None:
            return self._value
        if self._env is not None:
            value = os.environ.get(self._env)
            if not value:
                raise ConfigError(
                    f"environment variable {self._env} is not set (needed for an API key)"
                )
            return value
        assert self._file is not None
        try:
            with open(self._file, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {self._file!r}: {exc.strerror}") from None

    def unstructure(self) -> Any:
        """The JSON form: the reference for env/file secrets, the mask for literals."""
        if self._env is not None:
            return {"env": self._env}
        if self._file is not None:
            return {"file": self._file}
        return _MASK

    def __repr__(self) -> str:
        return f"Secret({self.reference if self._value is None else _MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (self._value, self._env, self._file) == (other._value, other._env, other._file)

    def __hash__(self) -> int:
        return hash((self._value, self._env, self._file))

    def __reduce__(self) -> Any:
        raise TypeError("Secret objects cannot be pickled")
