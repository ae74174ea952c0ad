"""Secrets that never show themselves: literal values, or references resolved on first use;
and the rules that keep other credentials out of sight: which header names are secret, URLs
shown without their password, and :class:`Scrubber`, which masks secrets a server echoes back.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

from jackfield._errors import ConfigError

__all__ = [
    "MASK",
    "Scrubber",
    "Secret",
    "is_known_secret",
    "is_secret_header",
    "known_secrets",
    "mask_url",
    "remember",
]

MASK = "********"
"""What a secret shows instead of itself."""
_MASK = MASK


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
        """A secret read from the environment variable ``name`` on first use (stripped of
        surrounding whitespace: a ``.env`` file with CRLF line ends, or a value pasted with its
        newline, still gives the key)."""
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

    def reveal(self, needed_for: str = "an API key") -> str:
        """The secret's value. Raises :class:`~jackfield.ConfigError` if a reference is unset,
        saying what it is ``needed_for``."""
        if self._value is not None:
            return self._value
        if self._env is not None:
            # Stripped like a file's content: a trailing newline (a CRLF .env, a pasted value)
            # would otherwise make the key unsendable. Never shown either way.
            value = os.environ.get(self._env, "").strip()
            if not value:
                raise ConfigError(
                    f"environment variable {self._env} is not set (needed for {needed_for})"
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


# --- other credentials: header names, URL passwords ----------------------------------------------

SECRET_HEADER_PARTS = (
    "auth",  # Authorization, Proxy-Authorization, X-Custom-Auth
    "key",  # api-key (Azure), x-api-key
    "token",
    "secret",
    "cookie",
    "passw",
    "credential",
    "session",
    "signature",
)
"""A header whose lowercased name contains one of these holds a credential: its value is
masked wherever headers are shown."""


def is_secret_header(name: str) -> bool:
    """Whether a header called ``name`` holds a credential (see :data:`SECRET_HEADER_PARTS`)."""
    lower = name.lower()
    return any(part in lower for part in SECRET_HEADER_PARTS)


_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it masked: ``http://user:pass@host`` shows
    as ``http://user:********@host``, and ``https://token@host`` as ``https://********@host``
    (a user name alone is often a token)."""
    if "@" not in text:
        return text

    def masked(match: re.Match[str]) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        shown = f"{user}:{MASK}" if colon else MASK
        return f"{match['scheme']}{shown}@"

    return _USERINFO.sub(masked, text)


# --- scrubbing what servers echo ----------------------------------------------------------------------

_HTML_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
_ESCAPED_UP_TO = 256  # longer secrets (never sent in a header) are matched literally only
_PREFIX_SHOWN = 4  # a secret cut short after this many characters still counts
_PREFIX_UP_TO = 64
# What may follow a secret cut short, masked with it: up to 8 more characters (the rest of a
# cut escape, or of another key sharing this one's start), then a truncation mark ("...") or
# the end of the text.
_CUT = r"[\\%&#;0-9A-Za-z]{0,8}(?=\.\.\.|\u2026|\Z)"
_BACKSLASHES, _BACKSLASHES_1 = r"\\{0,8}", r"\\{1,8}"  # escapes of escapes, a few deep


def _hex(number: int, width: int) -> str:
    digits = f"{number:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _char(c: str) -> str:
    """A pattern for one character of a secret, written as itself or escaped as JSON
    (``\\u0041``, ``\\/``), Python (``\\x41``, doubled backslashes), URLs (``%41``) or HTML
    (``&#65;``, ``&#x41;``, ``&amp;``) would write it."""
    code = ord(c)
    # Backslashes counted up to a bound: an unbounded run would make a body of backslashes
    # cost quadratic time (each start retries every shorter run).
    # Escaped forms first: tried before the character itself, an escape that begins with a
    # character of its own (``%25``, ``&amp;``) is masked whole, not up to its first character.
    forms = []
    if code < 0x10000:
        forms.append(_BACKSLASHES_1 + "u" + _hex(code, 4))
    if code < 0x100:
        forms.append(_BACKSLASHES_1 + "x" + _hex(code, 2))
    forms.append("".join("%" + _hex(byte, 2) for byte in c.encode("utf-8", "surrogatepass")))
    forms.append(f"&#0*{code};")
    forms.append(f"&#[xX]0*{_hex(code, 1)};")
    if c in _HTML_NAMED:
        forms.append(re.escape(_HTML_NAMED[c]))
    forms.append(_BACKSLASHES + re.escape(c))
    return "(?:" + "|".join(forms) + ")"


def _secret_patterns(secret: str) -> tuple[str, str | None]:
    """The pattern of ``secret`` whole, and of it cut short (``None`` when too short to cut)."""
    if len(secret) > _ESCAPED_UP_TO:
        return re.escape(secret), None
    chars = [_char(c) for c in secret]
    whole = "".join(chars)
    if len(secret) < 2 * _PREFIX_SHOWN:
        return whole, None
    # The secret cut short (a quoted snippet of a body ends "..."): its first characters.
    head, tail = chars[:_PREFIX_SHOWN], chars[_PREFIX_SHOWN : min(len(chars) - 1, _PREFIX_UP_TO)]
    rest = ""
    for char in reversed(tail):
        rest = f"(?:{char}{rest})?"
    return whole, f"{''.join(head)}{rest}{_CUT}"


@lru_cache(maxsize=32)
def _compiled(secrets: tuple[str, ...]) -> re.Pattern[str]:
    # Every whole secret before any cut one: two keys sharing a start would otherwise leave
    # the end of the second shown, the first's cut form matching only their common part.
    wholes, cuts = zip(*(_secret_patterns(s) for s in secrets), strict=True)
    return re.compile("|".join([*wholes, *(cut for cut in cuts if cut is not None)]))


_MAX_DEPTH = 100
T = TypeVar("T", bound=BaseException)


class Scrubber:
    """Masks the secrets of a call in anything a server sent back, before it is kept or shown.

    A secret is found written as itself or escaped the ways bodies and messages escape text
    (JSON ``\\u`` escapes, backslashes, ``%XX``, HTML entities), and also cut short at the end of
    a quoted snippet. ``secrets`` may be a function, called on first use: building a scrubber
    reads no secret, so calls that never fail never pay for it.
    """

    __slots__ = ("_pattern", "_source")

    def __init__(
        self, secrets: Iterable[str | None] | Callable[[], Iterable[str | None]] = ()
    ) -> None:
        self._source = secrets
        self._pattern: re.Pattern[str] | bool | None = False  # False: not built yet

    def _built(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is False:
            source = self._source
            found = source() if callable(source) else source
            # The longest first, so that a secret containing another is masked whole.
            secrets = tuple(sorted({s for s in found if s}, key=lambda s: (-len(s), s)))
            pattern = self._pattern = _compiled(secrets) if secrets else None
        return pattern  # type: ignore[return-value]

    def text(self, text: str) -> str:
        """``text`` with every secret masked."""
        pattern = self._built()
        return text if pattern is None else pattern.sub(MASK, text)

    def value(self, value: Any, depth: int = 0) -> Any:
        """``value`` (a parsed body: strings, mappings, lists) with every secret masked in its
        strings, keys included; a copy when anything changed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value).decode("utf-8", "replace")
            scrubbed = self.text(text)
            return value if scrubbed == text else scrubbed.encode("utf-8")
        if not isinstance(value, (Mapping, list, tuple)):
            return value
        if depth >= _MAX_DEPTH:
            return MASK  # nested this deep, only a hostile server writes it
        if isinstance(value, Mapping):
            return {self.value(k, depth + 1): self.value(v, depth + 1) for k, v in value.items()}
        items = [self.value(v, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)

    def error(self, error: T) -> T:
        """``error`` with every secret masked in its message, arguments and attributes (its
        body, request id ...; not the partial answer, which is the model's), and in the
        exceptions it was raised from. Changed in place; returned for ``raise``."""
        if self._built() is None:
            return error
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen and len(seen) < 8:
            seen.add(id(current))
            current.args = tuple(self.value(a) for a in current.args)
            for name, item in list(vars(current).items()):
                if name != "partial" and isinstance(item, (str, bytes, Mapping, list, tuple)):
                    setattr(current, name, self.value(item))
            if current.__suppress_context__:
                current.__context__ = None  # never shown, but still reachable: drop it
            current = current.__cause__ or current.__context__
        return error

    def __bool__(self) -> bool:
        return self._built() is not None

    def __repr__(self) -> str:
        return "<Scrubber>"


NO_SCRUB = Scrubber()
"""A scrubber with no secrets: changes nothing."""

# Secrets this process has sent, for log records emitted by libraries below jackfield (httpx,
# httpcore), which cannot be told a call's secrets. Bounded: the most recent are kept.
_KNOWN: dict[str, None] = {}
_KNOWN_LIMIT = 64
_known_lock = threading.Lock()
_known: tuple[str, ...] = ()


def remember(*secrets: str | None) -> None:
    """Note secrets about to be sent, so that :func:`known_secrets` masks them in logs."""
    global _known
    for secret in secrets:
        # Three characters or fewer guard nothing, and masking them would garble every record.
        if not secret or len(secret) < 4 or secret in _KNOWN:
            continue
        with _known_lock:
            _KNOWN[secret] = None
            while len(_KNOWN) > _KNOWN_LIMIT:
                del _KNOWN[next(iter(_KNOWN))]
            _known = tuple(_KNOWN)


def is_known_secret(value: str) -> bool:
    """Whether ``value`` is a secret this process has recently sent (see :func:`remember`)."""
    return value in _KNOWN


def known_secrets() -> Scrubber:
    """A scrubber for every secret this process has recently sent (see :func:`remember`)."""
    return Scrubber(_known)
