"""Entry points of one group, found without importing :mod:`importlib.metadata`.

Listing providers happens on every CLI call and every host start, and ``importlib.metadata``
(with the ``email``, ``zipfile`` and ``pathlib`` machinery it pulls in) costs more than the rest
of the registry together. In the ordinary case — installed distributions are ``*.dist-info`` or
``*.egg-info`` folders in the directories of ``sys.path``, found by the standard path finder —
this reads their ``entry_points.txt`` directly, with the same results as
``importlib.metadata.entry_points(group=...)``: the first distribution of a name on
``sys.path`` wins, names and values are kept as written, and ``dist.name`` / ``dist.version``
come from the distribution's own metadata. Anything else (a zip file on ``sys.path``, a
custom finder that provides distributions) falls back to ``importlib.metadata``.
"""

from __future__ import annotations

import importlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["EntryPoint", "entry_points"]

_SUFFIXES = (".dist-info", ".egg-info")


class Distribution:
    """The name and version of an installed distribution, read from its metadata on demand."""

    __slots__ = ("_fields", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._fields: dict[str, str] | None = None

    def _field(self, name: str) -> str | None:
        if self._fields is None:
            self._fields = _metadata_head(self.path)
        return self._fields.get(name)

    @property
    def name(self) -> str:
        found = self._field("name")
        return found if found is not None else _folder_name(self.path)

    @property
    def version(self) -> str:
        found = self._field("version")
        return found if found is not None else ""


class EntryPoint:
    """One entry point: ``name = value`` from the ``[group]`` section of a distribution."""

    __slots__ = ("dist", "group", "name", "value")

    def __init__(self, name: str, value: str, group: str, dist: Distribution | None) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = dist

    def load(self) -> Any:
        """Import the module and return the object the value names (``module:attr.attr``)."""
        reference = self.value.split("[", 1)[0].strip()  # extras do not matter here
        module_name, _, attribute = reference.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            target = getattr(target, part)
        return target

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point of ``group`` in the installed distributions (see the module doc)."""
    if not _ordinary():
        return _from_importlib_metadata(group)
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except (NotADirectoryError, FileNotFoundError, PermissionError):
            if folder and os.path.isfile(folder):  # a zip on sys.path: leave it to the stdlib
                return _from_importlib_metadata(group)
            continue
        except OSError:
            continue
        for entry in sorted(names):
            if not entry.endswith(_SUFFIXES):
                continue
            key = _normalise(_folder_name(entry))
            if key in seen:
                continue
            seen.add(key)
            path = os.path.join(folder or ".", entry)
            text = _read(os.path.join(path, "entry_points.txt"))
            if text is None or group not in text:
                continue
            dist = Distribution(path)
            found += [EntryPoint(n, v, group, dist) for n, v in _section(text, group)]
    return found


def _ordinary() -> bool:
    """Whether only the standard path finder provides distributions."""
    from importlib.machinery import PathFinder

    # The importlib_metadata backport deletes PathFinder.find_distributions when imported
    # (opentelemetry-api 1.27 imports it) and provides distributions itself.
    standard = getattr(PathFinder, "find_distributions", None)
    if standard is None:
        return False
    standard = getattr(standard, "__func__", standard)
    for finder in sys.meta_path:
        provides = getattr(finder, "find_distributions", None)
        if provides is None:
            continue
        if getattr(provides, "__func__", provides) is not standard:
            return False
    return True


def _from_importlib_metadata(group: str) -> list[Any]:
    from importlib import metadata

    return list(metadata.entry_points(group=group))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` pairs of ``[group]``, read as importlib.metadata reads them: lines
    stripped, ``#`` comments and blank lines skipped, a ``[...]`` line opens a section named
    exactly what is between the brackets."""
    pairs = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if line[0] == "[" and line[-1] == "]":
            inside = line.strip("[]") == group
            continue
        if inside:
            name, equals, value = line.partition("=")
            if equals:
                pairs.append((name.strip(), value.strip()))
    return pairs


def _folder_name(path: str) -> str:
    """The distribution name a metadata folder is named after (``name-version.dist-info``)."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    return stem.split("-", 1)[0]


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _metadata_head(path: str) -> dict[str, str]:
    """``Name`` and ``Version`` from the metadata headers (``METADATA`` or ``PKG-INFO``)."""
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(path, filename), encoding="utf-8") as file:
                fields: dict[str, str] = {}
                for line in file:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, colon, value = line.partition(":")
                    key = key.strip().lower()
                    if colon and key in ("name", "version") and key not in fields:
                        fields[key] = value.strip()
                    if len(fields) == 2:
                        break
                return fields
        except (OSError, UnicodeDecodeError):
            continue
    return {}
