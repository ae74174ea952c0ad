"""What every HTTP provider's options hold (a provider's options class subclasses it)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from jackfield._secret import Secret
from jackfield._wire import Limits
from jackfield.http._policy import Retries, Timeouts
from jackfield.http._pool import Balance, Endpoint
from jackfield.http._security import address_problem, shown_headers, shown_url
from jackfield.http._target import KeyHeader

__all__ = ["HTTPOptions"]


@attrs.frozen(slots=False)  # a base of options classes that combine several
class HTTPOptions:
    """What every HTTP provider's options hold: where to connect, how to authenticate, and the
    deadlines, retries and caps of each call. A provider's options class subclasses it."""

    base_url: str | None = attrs.field(default=None, repr=shown_url)
    """The server's address as a full URL, such as ``http://127.0.0.1:8080/v1``; wins over
    ``host`` and ``port``. Unset: the provider's (or the preset's) default address."""
    host: str | None = None
    """Host name or IP address replacing the default address's (``127.0.0.1``); ignored when
    ``base_url`` is set."""
    port: int | None = None
    """Port replacing the default address's; ignored when ``base_url`` is set."""
    api_key: Secret | None = None
    """The API key: a string, ``{ env = "VAR" }`` or ``{ file = "path" }``, read when first used;
    unset: none, or the preset's environment variable when it has one."""
    api_key_header: KeyHeader | None = None
    """How the key is sent: ``"authorization"`` (``Bearer``), ``"x-api-key"`` or ``"both"``; unset:
    the preset's, else ``"authorization"``."""
    headers: dict[str, str | Secret] = attrs.field(factory=dict, repr=shown_headers)
    """Extra HTTP headers sent with every request (chats, model lists, status probes). A value
    is a string, or a secret read when first used: ``{ env = "VAR" }`` or ``{ file = "path" }``.
    Secret values, and headers named like a credential, are masked wherever they are shown."""
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    """Deadlines in seconds: ``connect``, ``first_byte``, ``idle`` and ``total``, plus
    ``keep_alive_is_progress``; see :class:`~jackfield.http.Timeouts`."""
    retries: Retries = attrs.field(factory=Retries)
    """How a failed chat request is retried before its answer starts; see
    :class:`~jackfield.http.Retries`."""
    limits: Limits = attrs.field(factory=Limits)
    """Caps on what one answer may hold (event and body size, choices, tool calls, argument length);
    see :class:`~jackfield.provider.Limits`."""
    verify: bool | str = True
    """TLS certificate verification for https: ``true`` (the system's CAs), ``false`` (none), or the
    path of a CA bundle to trust instead."""
    warn_insecure_key: bool = True
    """Warn (``SecurityWarning``) when the API key would be sent over plain http to another
    machine."""
    endpoints: tuple[str | Endpoint, ...] = ()
    """Several servers of the same models: each a base URL, or a table with ``url``, ``weight``
    and ``api_key``. Each request goes to one of them (``balance``); one that fails before its
    answer starts rests for a while, and the request goes to another at once. Unset: the one
    address of ``base_url`` (see "Beyond one server")."""
    balance: Balance = "p2c"
    """How a request without ``affinity`` chooses among ``endpoints``: ``"p2c"`` (two drawn by
    weight, the one with fewer requests in flight), ``"round_robin"`` or ``"weighted"``."""
    affinity: str | None = None
    """A session or conversation key: requests with the same key go to the same endpoint of
    ``endpoints`` (rendezvous hashing), so its prefix cache stays warm; sent in
    ``affinity_header`` when that is set. Usually given per call; unset, a tool-loop run's steps
    and a ``jackfield chat`` session's turns get a key of their own."""
    priority_header: str | None = None
    """A header to send the call's ``priority`` in (when the options have one and it is set),
    for routers that schedule by a header; unset: not sent."""
    affinity_header: str | None = None
    """The header ``affinity`` is sent in, for routers that route by one (``x-session-id``,
    say); unset: not sent."""
    probe_interval: float | None = None
    """Seconds between health probes of each of ``endpoints``, in the background: one that
    fails (no connection, not 2xx, as a loading llama.cpp's 503) rests before a request meets
    it, and one that passes is used again at once. Unset: no probes; endpoints are judged by
    how they answer requests."""
    probe_path: str | None = None
    """What a probe asks for: a path from the server's root (``/health``), or one relative to
    the endpoint's URL (``models``). Unset: the server's own health check (``/health`` for
    llama.cpp and vLLM, ``/health_generate`` for SGLang, ``/api/version`` for Ollama), else
    ``models``."""

    url_path: ClassVar[str] = ""
    """The path an address without one is suggested with (``/v1`` for OpenAI-compatible APIs)."""

    def __attrs_post_init__(self) -> None:
        # Checked when options are validated (a configuration file with a registry, a call's
        # options), not when the first request is built, so a file's issue has its line.
        problem = address_problem(self.base_url, self.port, self.url_path)
        if problem is not None:
            raise ValueError(problem)
        for endpoint in self.endpoints:
            url = endpoint if isinstance(endpoint, str) else endpoint.url
            problem = address_problem(url, None, self.url_path)
            if problem is not None:
                raise ValueError(f"endpoints: {problem}")
            if not isinstance(endpoint, str) and not endpoint.weight > 0:
                raise ValueError(f"endpoints: {url}: weight must be greater than 0")
        if self.probe_interval is not None and not self.probe_interval > 0:
            raise ValueError("probe_interval must be greater than 0 (seconds between probes)")
        if self.probe_path is not None and (
            not self.probe_path.strip("/")
            or "://" in self.probe_path
            or any(c.isspace() for c in self.probe_path)
        ):
            raise ValueError(
                f"probe_path must be a path, not {self.probe_path!r}: write one such as "
                "'/health' (from the server's root) or 'models' (under each endpoint's URL)"
            )

    @property
    def pool_endpoints(self) -> tuple[Endpoint, ...]:
        """``endpoints``, each an :class:`~jackfield.http.Endpoint`."""
        return tuple(Endpoint(e) if isinstance(e, str) else e for e in self.endpoints)
