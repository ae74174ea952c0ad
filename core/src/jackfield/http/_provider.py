"""The base every HTTP provider builds on: the plumbing written once.

:class:`HTTPProvider` owns what every HTTP provider needs and must not copy: where requests go
(base URL, host and port, checked), how they authenticate (the key, its header, read on first
use, never shown), the connection pools per target, the headers of every request, error
mapping with the key scrubbed from what servers echo, the deadlines, retries and caps of each
call (:class:`HTTPOptions`), JSON and flow helpers, and closing. A provider adds its wire
format: how a chat becomes a request, and how the answer's bytes become fragments.
"""

from __future__ import annotations

import abc
import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from jackfield._errors import ConfigError, MalformedStreamError, ProviderError
from jackfield._options import Resolved
from jackfield._secret import Scrubber
from jackfield._wire import error_for_response
from jackfield.http._clients import Clients
from jackfield.http._exchange import HTTPExchange
from jackfield.http._operation import HTTPOperation
from jackfield.http._options import HTTPOptions
from jackfield.http._policy import Timeouts
from jackfield.http._pool import Endpoint, EndpointPool, EndpointStatus, Route, at_endpoint
from jackfield.http._requests import (
    ErrorMapper,
    Flow,
    HTTPRequest,
    HTTPResult,
    ParserFactory,
    Reviser,
)
from jackfield.http._security import (
    check_base_url,
    check_headers,
    mask_headers,
    resolves_to_loopback,
    sendable_headers,
    warn_if_key_exposed,
)
from jackfield.http._target import Target
from jackfield.provider import ChatRequest, Provider

__all__ = ["CONTROL_BYTES", "HTTPOptions", "HTTPProvider"]

T = TypeVar("T")
CONTROL_BYTES = 8 * 1024 * 1024
"""The largest answer to a control request (models, status, credentials): 8 MiB."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


OptionsT = TypeVar("OptionsT", bound=HTTPOptions)


class HTTPProvider(Provider[OptionsT]):
    """The base of every HTTP provider (see the module documentation).

    A subclass sets ``options_class`` (a subclass of :class:`HTTPOptions`),
    ``default_url`` (where its server listens by default), ``user_agent`` and
    ``example_url`` (shown when a base URL is wrong); implements :meth:`chat_request` and
    :meth:`chat_parser` (its wire format), and ``models_operation`` and
    ``status_operation`` with :meth:`operation`; and may override :meth:`resolve_target`
    (presets, say) and ``target_fields``.
    ``transport`` and ``async_transport`` replace the network (tests, recorded transcripts).
    """

    default_url: ClassVar[str] = "http://127.0.0.1"
    example_url: ClassVar[str] = "http://127.0.0.1:8080"
    user_agent: ClassVar[str] = "jackfield"
    target_fields: ClassVar[tuple[str, ...]] = (
        "base_url",
        "host",
        "port",
        "api_key",
        "api_key_header",
        "endpoints",
    )
    """The options that decide :meth:`resolve_target`: a call that changes none of them reuses
    the instance's target."""

    def __init__(
        self,
        options: OptionsT,
        *,
        name: str | None = None,
        resolved: Resolved | None = None,
        transport: Any = None,
        async_transport: Any = None,
    ) -> None:
        super().__init__(options, name=name, resolved=resolved)
        self.target = self.resolve_target(options)
        warn_if_key_exposed(
            self.target.base_url,
            has_key=self.target.key is not None,
            enabled=options.warn_insecure_key,
        )
        self._transports = (transport, async_transport)
        self._pools: dict[tuple[Any, ...], Clients] = {}
        self._last_target: tuple[Any, Target] = (options, self.target)
        self._direct_hosts: dict[str, bool] = {}
        self._sent_headers: tuple[Any, dict[str, str]] = (None, {})
        self._endpoint_pools: dict[tuple[Any, ...], EndpointPool] = {}
        self._probers: list[Any] = []  # jackfield.http._probe.Prober, one per probed pool
        self._probe_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """Where this instance sends requests."""
        return self.target.base_url

    # --- where requests go ---------------------------------------------------------------------

    def resolve_target(self, options: OptionsT) -> Target:
        """Where a call with these options goes: :meth:`address` over ``default_url``, with
        the key as the options say. Providers with presets or required keys override it."""
        return Target(
            self.address(options, self.default_url),
            label=self.name,
            key=options.api_key,
            key_header=options.api_key_header or "authorization",
        )

    def address(self, options: OptionsT, default: str) -> str:
        """``base_url`` if set, else ``default`` with ``host`` and ``port`` put in; checked,
        so a malformed address is a :class:`~jackfield.ConfigError` naming the instance."""
        if options.base_url:
            return check_base_url(options.base_url, self.name, example=self.example_url)
        if options.endpoints:
            first = options.pool_endpoints[0].url
            return check_base_url(first, self.name, example=self.example_url)
        if not (options.host or options.port):
            return default
        parts = urlsplit(default)
        scheme = parts.scheme
        host = options.host or parts.hostname or "127.0.0.1"
        port = options.port or parts.port or _DEFAULT_PORTS[scheme]
        shown_host = f"[{host}]" if ":" in host else host
        shown_port = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
        url = f"{scheme}://{shown_host}{shown_port}{parts.path}"
        return check_base_url(url, self.name, example=self.example_url)

    def target_for(self, options: OptionsT) -> Target:
        """The target of a call: the instance's own unless the call changed what decides it.
        (Typed call options are shared between calls that repeat them, so the answer for the
        last options seen is kept.)"""
        last = self._last_target
        if last[0] is options:
            return last[1]
        mine = self.options
        if options is mine or all(
            getattr(options, f) == getattr(mine, f) for f in self.target_fields
        ):
            target = self.target
        else:
            target = self.resolve_target(options)
        self._last_target = (options, target)
        return target

    def pool(self, target: Target, options: OptionsT) -> Clients:
        """The connection pools for a target (one per scheme and TLS setting, whether proxies
        from the environment apply, and list of endpoints, made once)."""
        key = (target.https, options.verify, self.proxied(target), options.endpoints)
        clients = self._pools.get(key)
        if clients is None:
            urls = [e.url for e in options.pool_endpoints]  # each its own connections
            made = Clients(
                https=target.https or any(u.startswith("https:") for u in urls),
                verify=options.verify,
                trust_env=key[2],
                transport=self._transports[0],
                async_transport=self._transports[1],
                endpoints=urls,
            )
            # Threads racing here must share one pool: a lost one would leak its sockets.
            clients = self._pools.setdefault(key, made)
        return clients

    def proxied(self, target: Target) -> bool:
        """Whether requests to ``target`` may go through the proxies the environment names
        (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, minus ``NO_PROXY``): never for this
        machine, told by the address the host resolves to (once per host), not by its spelling,
        so no proxy ever sees a local server's requests or key."""
        if target.loopback:
            return False
        host = urlsplit(target.base_url).hostname or ""
        known = self._direct_hosts.get(host)
        if known is None:
            # No lookup when no proxy is set (nothing to decide), nor with a replaced transport
            # (tests, recorded transcripts: no network).
            import urllib.request

            real = self._transports == (None, None) and bool(urllib.request.getproxies())
            known = self._direct_hosts[host] = real and resolves_to_loopback(host)
        return not known

    # --- chats ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def chat_request(
        self, request: ChatRequest[OptionsT], target: Target, *, reveal: bool = True
    ) -> tuple[HTTPRequest, Any]:
        """The HTTP request of a chat call, and its body as data (what a dry run shows);
        ``reveal=False`` masks the key (build it with :meth:`http_request`)."""

    @abc.abstractmethod
    def chat_parser(self, request: ChatRequest[OptionsT]) -> ParserFactory:
        """Builds the parser that reads a chat call's answer from its status and headers."""

    def chat_reviser(
        self, request: ChatRequest[OptionsT], target: Target, body: Any
    ) -> Reviser | None:
        """What adapts this call's request when the server refuses it (``body``: what
        :meth:`chat_request` built); ``None``, the default: nothing does."""
        return None

    def chat_exchange(self, request: ChatRequest[OptionsT]) -> HTTPExchange:
        """The call's :meth:`chat_request`, sent with its deadlines and retries, its answer
        read by the :meth:`chat_parser` parser, a refusal adapted by :meth:`chat_reviser`."""
        target = self.target_for(request.options)
        http_request, body = self.chat_request(request, target)
        return self.exchange(
            http_request,
            self.chat_parser(request),
            options=request.options,
            target=target,
            reviser=self.chat_reviser(request, target, body),
        )

    def describe(self, request: ChatRequest[OptionsT]) -> dict[str, Any]:
        """The exact HTTP request a call would send: method, URL, headers (credentials
        masked) and body."""
        target = self.target_for(request.options)
        http_request, body = self.chat_request(request, target, reveal=False)
        return {
            "method": http_request.method,
            "url": http_request.url,
            "headers": mask_headers(http_request.headers),
            "body": body,
        }

    # --- requests --------------------------------------------------------------------------------

    def headers(
        self,
        target: Target,
        options: OptionsT,
        *,
        accept: str | None = "application/json",
        content_type: str | None = None,
        reveal: bool = True,
        auth: bool = True,
    ) -> dict[str, str]:
        """The headers of a request: user agent, ``Accept``, credentials (unless ``auth`` is
        false), ``Content-Type``, then the ``headers`` option. Checked, so a key with a line
        break is a :class:`~jackfield.ConfigError` that never shows the key."""
        headers = {"User-Agent": self.user_agent}
        if accept:
            headers["Accept"] = accept
        if auth and target.has_credentials:
            credentials = target.auth_headers(reveal=reveal)
            if reveal:
                check_headers(credentials, self.name)  # read now: a file may end in a newline
            headers.update(credentials)
        if content_type:
            headers["Content-Type"] = content_type
        if options.affinity is not None and options.affinity_header:
            headers[options.affinity_header] = options.affinity
        priority = getattr(options, "priority", None)
        if priority is not None and options.priority_header:
            headers[options.priority_header] = str(priority)
        extra = options.headers
        if extra:
            if not reveal:
                headers.update(mask_headers(extra))
            else:
                sent = self._sent_headers  # read and checked once per options
                if sent[0] is not extra:
                    sent = self._sent_headers = (extra, sendable_headers(extra, self.name))
                headers.update(sent[1])
        return headers

    def http_request(
        self,
        method: str,
        url: str,
        *,
        target: Target | None = None,
        options: OptionsT | None = None,
        body: bytes | None = None,
        accept: str | None = "application/json",
        reveal: bool = True,
        auth: bool = True,
    ) -> HTTPRequest:
        """One request to ``url`` with this instance's headers (``body``: JSON bytes;
        ``reveal=False`` masks the key, for dry runs; ``auth=False`` sends none)."""
        options = self.options if options is None else options
        target = self.target_for(options) if target is None else target
        content_type = "application/json" if body is not None else None
        headers = self.headers(
            target, options, accept=accept, content_type=content_type, reveal=reveal, auth=auth
        )
        return HTTPRequest(method, url, headers, body)

    def error_mapper(
        self, target: Target, url: str, options: OptionsT | None = None
    ) -> ErrorMapper:
        """Maps a failed response to the error taxonomy, the call's secrets (the key, the URL's
        password, credential-like ``headers``) scrubbed from it."""
        scrub = self._scrubber(target, self.options if options is None else options)
        label = self.name

        def mapper(status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
            return error_for_response(status, headers, body, label=label, url=url, secret=scrub)

        return mapper

    def exchange(
        self,
        request: HTTPRequest,
        parser: ParserFactory,
        *,
        options: OptionsT,
        target: Target,
        reviser: Reviser | None = None,
    ) -> HTTPExchange:
        """The exchange of a chat call: ``request`` sent with the call's deadlines and retries,
        its answer read by the parser ``parser`` builds."""
        route = None
        if options.endpoints:
            route = Route(
                self.endpoint_pool(options),
                target.base_url,
                affinity=options.affinity,
                label=self.name,
                key_header=target.key_header,
            )
        return HTTPExchange(
            self.pool(target, options),
            request,
            parser,
            self.error_mapper(target, request.url, options),
            timeouts=options.timeouts,
            retries=options.retries,
            label=self.name,
            reviser=reviser,
            max_answer=options.limits.answer_bytes,
            scrub=self._scrubber(target, options),
            route=route,
        )

    def _scrubber(self, target: Target, options: OptionsT) -> Scrubber:
        """What servers echo of the call's secrets: the target's, and each endpoint's own key
        (read only when something must be scrubbed)."""
        keys = [
            e.api_key for e in options.endpoints if not isinstance(e, str) and e.api_key is not None
        ]
        if not keys:
            return target.scrubber(options.headers)

        def secrets() -> list[str]:
            found = target.secrets(options.headers)
            for key in keys:
                with contextlib.suppress(ConfigError):
                    found.append(key.reveal())
            return found

        return Scrubber(secrets)

    def endpoint_pool(self, options: OptionsT) -> EndpointPool:
        """The pool of ``options.endpoints`` (one per instance and list of endpoints, shared by
        every call and thread, so what one call learns about an endpoint the next one knows);
        with ``probe_interval``, its probes start with it."""
        key = (options.endpoints, options.balance, options.probe_interval, options.probe_path)
        pool = self._endpoint_pools.get(key)
        if pool is None:
            made = EndpointPool(options.pool_endpoints, balance=options.balance)
            with self._probe_lock:
                pool = self._endpoint_pools.setdefault(key, made)
                if pool is made and options.probe_interval is not None:
                    self._start_probes(pool, options, options.probe_interval)
        return pool

    # --- health probes -------------------------------------------------------------------------

    def health_path(self, options: OptionsT) -> str:
        """What a probe of an endpoint asks for when ``probe_path`` is unset: a path from the
        server's root, or one relative to the endpoint's URL (see ``probe_path``). Providers
        name their server's health check; this default lists the models."""
        return "models"

    def probe_url(self, url: str, options: OptionsT) -> str:
        """Where the endpoint at ``url`` is probed: ``probe_path`` (else :meth:`health_path`)
        from the server's root (``url`` without ``url_path``) or under ``url``."""
        path = options.probe_path or self.health_path(options)
        if path.startswith("/"):
            root = url.removesuffix(options.url_path) if options.url_path else url
            return root.rstrip("/") + path
        return f"{url.rstrip('/')}/{path}"

    def probe_endpoint(self, endpoint: Endpoint, options: OptionsT) -> bool:
        """One health probe of ``endpoint``: whether :meth:`probe_url` answers 2xx within the
        probe interval (connect deadline: the options')."""
        target = self.target_for(options)
        url = self.probe_url(endpoint.url, options)
        request = self.http_request("GET", url, target=target, options=options, accept=None)
        url, headers = at_endpoint(
            endpoint,
            endpoint.url,
            url,
            dict(request.headers),
            label=self.name,
            key_header=target.key_header,
        )
        seconds = options.probe_interval or 10.0
        connect = options.timeouts.connect
        timeouts = Timeouts(
            connect=seconds if connect is None else min(seconds, connect),
            first_byte=seconds,
            idle=seconds,
            total=seconds,
        )

        def flow() -> Flow[HTTPResult]:
            return (yield HTTPRequest("GET", url, headers))

        operation = HTTPOperation(
            self.pool(target, options),
            flow,
            timeouts=timeouts,
            label=self.name,
            max_body=CONTROL_BYTES,
        )
        return operation.run().ok

    def _start_probes(self, pool: EndpointPool, options: OptionsT, interval: float) -> None:
        from jackfield.http._probe import Prober

        prober = Prober(pool, lambda e: self.probe_endpoint(e, options), interval, name=self.name)
        self._probers.append(prober)
        prober.start()

    def endpoints_status(self) -> list[EndpointStatus]:
        """What the instance's pool knows of each endpoint now (``[]`` without ``endpoints``)."""
        if not self.options.endpoints:
            return []
        return self.endpoint_pool(self.options).status()

    def operation(
        self,
        flow: Callable[[], Flow[T]],
        *,
        options: OptionsT | None = None,
        target: Target | None = None,
        control: bool = False,
    ) -> HTTPOperation[T]:
        """An operation running ``flow`` (a generator of requests) with these options.
        ``control``: it reads what a server says about itself (models, status, credentials),
        whose every answer is capped at :data:`CONTROL_BYTES` (a model list of tens of MB would
        cost gigabytes once parsed), else at ``limits.body_bytes``."""
        options = self.options if options is None else options
        target = self.target_for(options) if target is None else target
        cap = options.limits.body_bytes
        return HTTPOperation(
            self.pool(target, options),
            flow,
            timeouts=options.timeouts,
            label=self.name,
            max_body=min(cap, CONTROL_BYTES) if control else cap,
        )

    # --- results ---------------------------------------------------------------------------------

    def failure(self, result: HTTPResult, url: str, target: Target | None = None) -> ProviderError:
        """The error a flow raises for a result that is not 2xx (or did not arrive)."""
        if result.error is not None:
            return result.error
        mapper = self.error_mapper(self.target if target is None else target, url)
        return mapper(result.status, result.headers, result.body)

    def expect_json(self, result: HTTPResult, url: str, target: Target | None = None) -> Any:
        """The JSON body of a 2xx ``result`` of a request to ``url``; any other result raises
        the error it stands for (:meth:`failure`)."""
        if not result.ok:
            raise self.failure(result, url, target)
        return self.json(result, urlsplit(url).path or url)

    def json(self, result: HTTPResult, what: str) -> Any:
        """A result's body as JSON, or a :class:`~jackfield.MalformedStreamError` naming
        ``what`` was asked for."""
        try:
            return json.loads(result.body)
        except (ValueError, RecursionError):
            raise MalformedStreamError(f"{self.name}: the {what} response is not JSON") from None

    # --- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._stop_probes()
        for clients in list(self._pools.values()):
            clients.close()

    async def aclose(self) -> None:
        if self._probers:  # a probe under way may take a while to end: not in the loop
            import asyncio

            await asyncio.to_thread(self._stop_probes)
        for clients in list(self._pools.values()):
            await clients.aclose()

    def _stop_probes(self) -> None:
        """Stop every prober, waiting for a probe under way (before the pools close: a probe
        after would open them again)."""
        with self._probe_lock:
            probers, self._probers = self._probers, []
            for key in [k for k in self._endpoint_pools if k[2] is not None]:
                del self._endpoint_pools[key]  # used again: a new pool, probed again
        for prober in probers:
            prober.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.target.base_url}>"
