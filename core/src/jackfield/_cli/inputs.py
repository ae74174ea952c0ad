"""What ``jackfield chat`` sends besides the prompt: attached images and an answer schema.

Attachments (``-a``/``--attach``, repeatable) are images: a file, an ``http(s)`` URL (passed
on as given, the server fetches it), or ``-`` for the bytes on stdin. A file's type is sniffed
from its first bytes (PNG, JPEG, GIF, WebP, BMP, TIFF, AVIF, HEIC), never taken from its name,
and the image is sent inline as a ``data:`` URL (:class:`~jackfield.ImagePart`). Anything else
is a usage error: text belongs in the prompt (``"$(cat notes.txt)"``), where it is sent as
written, with no framing jackfield would have to invent.

``--schema`` is a JSON Schema (inline JSON, ``@file.json``, or a path to a ``.json`` file) or
a compact list of fields (:func:`compact_schema`). The chat asks for it and checks the answer
with the library's structured output (``jackfield._output``): the server is asked to follow
the schema the best way it supports, and keywords the checker does not know are left to it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jackfield._cli.args import UsageError

if TYPE_CHECKING:
    from jackfield._messages import ImagePart, UserMessage

__all__ = [
    "MAX_IMAGE_BYTES",
    "compact_schema",
    "image_type",
    "load_attachments",
    "load_schema",
    "user_message",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""The largest image attached (OpenAI's limit per image; a data URL is a third larger)."""


# --- attachments ------------------------------------------------------------------------------


def image_type(data: bytes) -> str | None:
    """The media type of an image, sniffed from its first bytes; ``None`` for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM") and len(data) > 14:
        return "image/bmp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "image/avif"
        if brand in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
            return "image/heic"
    return None


def load_attachments(items: Sequence[str], stdin: IO[bytes] | None = None) -> list[ImagePart]:
    """The images ``-a`` names, in order (``-`` reads ``stdin``); a :class:`UsageError` naming
    the attachment that cannot be sent, and why."""
    from jackfield._messages import ImagePart

    if list(items).count("-") > 1:
        raise UsageError("-a - (stdin) can be given once")
    images = []
    for item in items:
        if re.match(r"(?i)https?://", item):
            if not re.match(r"(?i)https?://[^/\s?#]+", item) or any(c.isspace() for c in item):
                raise UsageError(f"-a {item}: not a usable URL")
            images.append(ImagePart.from_url(item))
            continue
        if item == "-":
            if stdin is None:
                raise UsageError("-a -: there is no stdin to read the image from")
            data, where = stdin.read(MAX_IMAGE_BYTES + 1), "stdin"
        else:
            data, where = _read(Path(item).expanduser()), item
        if not data:
            raise UsageError(f"-a {where}: the attachment is empty")
        if len(data) > MAX_IMAGE_BYTES:
            raise UsageError(
                f"-a {where}: the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB: "
                "make it smaller, or pass a URL"
            )
        media_type = image_type(data)
        if media_type is None:
            raise UsageError(
                f"-a {where}: not an image (PNG, JPEG, GIF, WebP, BMP, TIFF, AVIF or HEIC): "
                'attachments are images; to send a text file, put it in the prompt: "$(cat FILE)"'
            )
        images.append(ImagePart.from_bytes(data, media_type))
    return images


def user_message(text: str, images: Sequence[ImagePart] = ()) -> UserMessage:
    """The user's message: ``text``, with ``images`` after it when there are any."""
    from jackfield._messages import TextPart, UserMessage

    if not images:
        return UserMessage(text)
    return UserMessage((TextPart(text), *images))


def _read(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise UsageError(f"-a {path}: is a directory, not an image")
        with path.open("rb") as file:
            return file.read(MAX_IMAGE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"-a {path}: no such file") from None
    except PermissionError:
        raise UsageError(f"-a {path}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"-a {path}: cannot read it: {exc.strerror or exc}") from None


# --- the schema of the answer -----------------------------------------------------------------

TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
"""The compact form's types, and the JSON Schema type each stands for."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def compact_schema(text: str) -> dict[str, Any]:
    """The JSON Schema of an object written compactly: ``name, age int, height float``.

    Grammar::

        schema  = field *( separator field )
        field   = name [ type ] [ ":" description ]
        name    = letter-or-underscore *( letter / digit / "_" )
        type    = "str" / "int" / "float" / "bool"          ; str when left out

    The separator is a newline when the text has one (descriptions may then hold commas),
    else a comma. Blank fields are skipped; every field is required, and no other property
    is allowed (what strict structured output asks for).
    """
    separator = "\n" if "\n" in text else ","
    properties: dict[str, Any] = {}
    for number, raw in enumerate(text.split(separator), start=1):
        head, colon, description = raw.partition(":")
        words = head.split()
        if not words:
            if colon or raw.strip():
                raise UsageError(f"--schema field {number} ({raw.strip()!r}): a name is missing")
            continue
        name, rest = words[0], words[1:]
        if not _NAME.match(name):
            raise UsageError(
                f"--schema field {number}: {name!r} is not a name (letters, digits and _, "
                "not starting with a digit)"
            )
        if len(rest) > 1:
            raise UsageError(
                f"--schema field {number} ({raw.strip()!r}): expected `name [type] [: "
                "description]`; a description goes after a colon"
            )
        kind = rest[0] if rest else "str"
        if kind not in TYPES:
            close = difflib.get_close_matches(kind, TYPES, n=1)
            close = close or [k for k, v in TYPES.items() if v == kind]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"--schema field {name!r}: unknown type {kind!r} (str, int, float or bool){hint}"
            )
        if name in properties:
            raise UsageError(f"--schema: field {name!r} is given twice")
        field: dict[str, Any] = {"type": TYPES[kind]}
        if description.strip():
            field["description"] = description.strip()
        properties[name] = field
    if not properties:
        raise UsageError("--schema: no field given (e.g. --schema 'name, age int')")
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def load_schema(given: str) -> dict[str, Any]:
    """The schema ``--schema`` gives: JSON (inline, ``@file``, or a ``.json`` path that
    exists), else the compact form."""
    text, where = given, "--schema"
    stripped = given.strip()
    if stripped.startswith("@") or (
        stripped.endswith(".json") and "\n" not in stripped and "," not in stripped
    ):
        path = Path(stripped.removeprefix("@")).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--schema {stripped}: no such file {str(path)!r}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--schema {stripped}: cannot read {str(path)!r}: {exc}") from None
        where = str(path)
    elif not stripped.startswith("{"):
        return compact_schema(given)
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise UsageError(f"{where}: a JSON Schema is an object, got {type(schema).__name__}")
    return schema
