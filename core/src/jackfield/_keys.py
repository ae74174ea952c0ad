"""The keys file: API keys stored by name (``jackfield keys set openai``), never shown.

One JSON object, ``{"<name>": "<key>"}``, in ``keys.json`` of the per-user directory
(:func:`~jackfield._config.user_dir`). It is written the way ssh keeps a private key: the
directory is made ``0700``, the file ``0600``, each change written to a temporary file in the
same directory and renamed over the old one (a reader sees the old keys or the new, never half
of them), under a lock so that two processes setting keys at once keep both. A file that other
users could read or write, or that belongs to someone else, is refused (the message says which
``chmod`` fixes it): the key it holds may already be known, and one planted there would be
sent.

A :class:`~jackfield.Host` uses a stored key for an instance whose configuration sets no
``api_key`` and whose preset's variable (``OPENAI_API_KEY``) is not set: the entry named after
the instance, else the one named after the preset it builds on. Nothing here ever puts a key
in a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from jackfield._config.files import user_dir
from jackfield._errors import ConfigError

if TYPE_CHECKING:
    from jackfield._options import Resolved
    from jackfield._registry import Registry

__all__ = [
    "ENV",
    "KEYS",
    "KEYS_FILE",
    "check_key",
    "check_name",
    "keys_path",
    "load_keys",
    "outside",
    "remove_key",
    "set_key",
]

ENV = "env"
"""The layer kind of a value read from an environment variable (``env:OPENAI_BASE_URL``)."""
KEYS = "keys"
"""The layer kind of a key from the keys file (``keys:openai``)."""

KEYS_FILE = "keys.json"
"""The keys file's name in the per-user directory."""

_MAX_BYTES = 256 * 1024
_MAX_KEY = 16 * 1024
_NAME = re.compile(r"[a-z][a-z0-9._-]{0,63}\Z")
_KEY = re.compile(r"[\x21-\x7e]+\Z")  # visible ASCII: what an HTTP header can carry as is


def keys_path() -> Path:
    """Where the keys file is (it may not exist yet)."""
    return user_dir() / KEYS_FILE


def check_name(name: str) -> str:
    """``name`` if it can name a key (as instance names are written), else a
    :class:`~jackfield.ConfigError` saying how to write one."""
    if not _NAME.match(name):
        raise ConfigError(
            f"cannot store a key named {name!r}: name it after its instance, in lowercase "
            "letters, digits, '.', '_' and '-', starting with a letter (e.g. openai)"
        )
    return name


def check_key(value: str) -> str:
    """``value`` stripped of surrounding whitespace, if it can be sent as an API key; else a
    :class:`~jackfield.ConfigError` that never shows it."""
    value = value.strip()
    if not value:
        raise ConfigError("the key is empty")
    if len(value) > _MAX_KEY:
        raise ConfigError(f"the key is longer than {_MAX_KEY // 1024} KiB: is it the right text?")
    if not _KEY.match(value):
        raise ConfigError(
            "the key holds a space, a line break or a character outside ASCII, so it cannot "
            "be sent in a header (paste the key alone)"
        )
    return value


def _unsafe(info: os.stat_result, path: Path, what: str) -> str | None:
    """Why a file or directory with these attributes must not be trusted, or ``None``."""
    if os.name != "posix":
        return None
    if info.st_uid != os.getuid():
        return f"the {what} {path} belongs to another user (uid {info.st_uid})"
    mode = stat.S_IMODE(info.st_mode)
    if what == "file" and mode & 0o077:
        return f"other users can read or write it (mode {mode:o}); run: chmod 600 {path}"
    if what == "directory" and mode & 0o022:
        return f"other users can write to {path} (mode {mode:o}); run: chmod 700 {path}"
    return None


def load_keys(path: Path | None = None) -> dict[str, str]:
    """The stored keys by name (``{}`` when there is no file); a
    :class:`~jackfield.ConfigError` when the file cannot be trusted or read."""
    path = keys_path() if path is None else path
    try:
        # O_NONBLOCK: opening a FIFO put there must not hang; it is refused just below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the keys file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refused(path, "it is not a regular file")
        problem = _unsafe(info, path, "file") or _directory_problem(path)
        if problem:
            raise _refused(path, problem)
        data = b""
        while len(data) <= _MAX_BYTES:
            chunk = os.read(fd, _MAX_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) > _MAX_BYTES:
        raise _refused(path, f"it is larger than {_MAX_BYTES // 1024} KiB")
    return _parse(data, path)


def _directory_problem(path: Path) -> str | None:
    directory = Path(os.path.realpath(path)).parent
    try:
        info = os.stat(directory)
    except OSError:
        return None
    return _unsafe(info, directory, "directory")


def _refused(path: Path, why: str) -> ConfigError:
    return ConfigError(f"refusing to read the keys file {path}: {why}")


def _parse(data: bytes, path: Path) -> dict[str, str]:
    # The messages name what is wrong and where, never a value: a key may be in it.
    try:
        keys = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ConfigError(
            f"the keys file {path} is not valid JSON: fix it, or remove it and set the keys "
            "again (jackfield keys set NAME)"
        ) from None
    if not isinstance(keys, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in keys.items()
    ):
        raise ConfigError(
            f'the keys file {path} must hold one JSON object of names and keys, {{"openai": '
            '"..."}: fix it, or remove it and set the keys again (jackfield keys set NAME)'
        )
    return keys


def outside(registry: Registry, instance: str, provider: str, layers: Resolved) -> Resolved:
    """``layers`` (an instance's preset and own options) with what they leave unset found
    outside the configuration, each as a layer of its own that ``explain`` names:

    - the environment, as the provider's options class reads it (a classmethod
      ``environment(options) -> [(variable, options)]``, such as ``OPENAI_BASE_URL`` for the
      ``openai`` preset): the layer ``env:<variable>``;
    - then, when no layer sets ``api_key``, the stored key named after the instance, else
      after the preset its options name: the layer ``keys:<name>``.

    These layers lie over the instance's, but only hold what no layer below sets, so the
    configuration always wins. A keys file that cannot be trusted is ignored with a
    :class:`~jackfield.SecurityWarning` saying why (the call then lacks its key)."""
    import attrs

    from jackfield._errors import JackfieldError
    from jackfield._options import layer_name
    from jackfield._secret import Secret

    try:
        options_class = registry.options_class(provider)
    except JackfieldError:
        return layers  # making the provider says what is wrong
    environment = getattr(options_class, "environment", None)
    if callable(environment):
        for variable, values in environment(layers.value):
            layers = layers.with_layer(layer_name(ENV, variable), values)
    fields = (
        {field.name for field in attrs.fields(options_class)} if attrs.has(options_class) else ()
    )
    if "api_key" not in fields or layers.value.get("api_key") is not None:
        return layers
    preset = layers.value.get("preset")
    names = [instance, *([preset] if isinstance(preset, str) and preset != instance else [])]
    try:
        keys = load_keys()
    except ConfigError as exc:
        import warnings

        from jackfield._errors import SecurityWarning

        warnings.warn(f"{exc}; no stored key is used", SecurityWarning, stacklevel=2)
        return layers
    for name in names:
        if name in keys:
            return layers.with_layer(layer_name(KEYS, name), {"api_key": Secret(keys[name])})
    return layers


def set_key(name: str, value: str, path: Path | None = None) -> Path:
    """Store ``value`` as the key ``name`` (replacing one of that name); returns the file."""
    check_name(name)
    value = check_key(value)
    path = keys_path() if path is None else path
    with _locked(path) as target:
        keys = load_keys(path)
        keys[name] = value
        _write(target, keys)
    return path


def remove_key(name: str, path: Path | None = None) -> bool:
    """Forget the key ``name``; whether there was one."""
    path = keys_path() if path is None else path
    with _locked(path) as target:
        keys = load_keys(path)
        if name not in keys:
            return False
        del keys[name]
        _write(target, keys)
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[Path]:
    """The real file behind ``path`` (a link to it is kept: the link's target is replaced),
    its directory made (``0700``) and locked against other writers while the block runs."""
    target = Path(os.path.realpath(path))
    directory = target.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    problem = _unsafe(os.stat(directory), directory, "directory")
    if problem:
        raise ConfigError(f"refusing to write the keys file {path}: {problem}")
    if os.name != "posix":  # pragma: no cover - the rename still keeps readers whole
        yield target
        return
    import fcntl

    fd = os.open(directory / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield target
    finally:
        os.close(fd)  # closing releases the lock


def _write(target: Path, keys: dict[str, str]) -> None:
    import tempfile

    text = json.dumps(dict(sorted(keys.items())), indent=2) + "\n"
    # mkstemp makes the file 0600, in the same directory: the rename cannot cross devices.
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
