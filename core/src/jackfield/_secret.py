"""Secrets that never show themselves: literal values, or references resolved on first use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from jackfield._errors import ConfigError

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
        """The secret's value. Raises :class:`~jackfield.ConfigError` if a reference is unset."""
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
        return _read_secret_file(self._file)

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


_MAX_FILE = 64 * 1024


def _read_secret_file(path: str) -> str:
    """Read a secret file the way ssh reads a key: only a regular file, not readable by
    every user, and only where the user pointed (``~`` expanded; a link may not lead out of
    the named file's directory)."""
    import stat

    path = os.path.expanduser(path)

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"refusing to read the secret file {path!r}: {why}")

    named_dir = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    real = os.path.realpath(path)
    if os.path.commonpath([real, named_dir]) != named_dir:
        raise refuse(f"it is a link to {real!r}, outside {named_dir!r}")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read the secret file {path!r}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse("it is not a regular file")
        if os.name == "posix" and info.st_mode & stat.S_IROTH:
            import warnings

            from jackfield._errors import SecurityWarning

            mode = stat.S_IMODE(info.st_mode)
            message = (
                f"every user of this machine can read it (mode {mode:o}); run: chmod o-r {path}"
            )
            warnings.warn(f"secret file {path!r}: {message}", SecurityWarning, stacklevel=4)
            raise refuse(message)
        data = os.read(fd, _MAX_FILE + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_FILE:
        raise refuse(f"it is larger than {_MAX_FILE // 1024} KiB (is it the right file?)")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise refuse("it is not UTF-8 text") from None
