"""Finding and reading the configuration file."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from jackfield._config.model import Config
from jackfield._config.parse import parse_config
from jackfield._errors import ConfigFileError, Issue

if TYPE_CHECKING:
    from jackfield._registry import Registry

__all__ = ["CONFIG_ENV", "HOME_ENV", "find_config", "load_config", "user_config_path", "user_dir"]

CONFIG_ENV = "JACKFIELD_CONFIG"
"""The environment variable naming the configuration file when ``--config`` is not given."""


def load_config(path: str | os.PathLike[str], *, registry: Registry | None = None) -> Config:
    """Read and validate a TOML configuration file (``registry`` enables the provider and
    option checks)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    source = os.fspath(path)

    def fail(message: str, line: int | None = None) -> ConfigFileError:
        return ConfigFileError(source, [Issue((), message, line=line)])

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail("the configuration file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read the file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise fail(f"not valid TOML: {exc}", int(line.group(1)) if line else None) from None
    except RecursionError:  # the TOML parser recurses into nested arrays and inline tables
        raise fail("not readable: arrays or tables are nested too deeply") from None
    return parse_config(data, source=source, text=text, registry=registry)


HOME_ENV = "JACKFIELD_HOME"
"""The environment variable naming jackfield's per-user directory (tests point it at a
temporary folder)."""


def user_dir() -> Path:
    """jackfield's per-user directory: ``$JACKFIELD_HOME``, else the platform's configuration
    folder (``~/.config/jackfield`` on Linux). The configuration file, keys, the default model,
    the conversation log and the chat history live there. Not created here."""
    explicit = os.environ.get(HOME_ENV)
    if explicit:
        return Path(explicit)
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "jackfield"


def user_config_path() -> Path:
    """Where the per-user configuration file lives: ``config.toml`` in :func:`user_dir`."""
    return user_dir() / "config.toml"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file to use: ``explicit``, else ``$JACKFIELD_CONFIG``, else the
    per-user file if it exists, else none (working without a file is normal)."""
    for given, origin in ((explicit, "--config"), (os.environ.get(CONFIG_ENV), CONFIG_ENV)):
        if given:
            path = Path(given)
            if not path.is_file():
                raise ConfigFileError(
                    os.fspath(path),
                    [Issue((), f"the configuration file (from {origin}) does not exist")],
                )
            return path
    user = user_config_path()
    return user if user.is_file() else None
