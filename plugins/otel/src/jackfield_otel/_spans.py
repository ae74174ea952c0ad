"""The OpenTelemetry GenAI semantic conventions, on jackfield's observer hooks.

Each chat call gets one ``CLIENT`` span, ``{gen_ai.operation.name} {gen_ai.request.model}``
(``chat llama3``), started when the call is made (its trace context goes out as ``traceparent``)
and ended when the answer ends, fails, or the caller closes the stream. Retries and failovers
are events on it. At the end three histograms are recorded: the operation's duration, its token
usage, and (streamed calls only) the time to its first chunk.

Two versions of the conventions (see :data:`SEMCONV`): ``"1.36"``, semantic-conventions v1.36.0,
which names the provider ``gen_ai.system``; and ``"latest"``, the later experimental GenAI
conventions, which name it ``gen_ai.provider.name`` and add ``gen_ai.request.stream``,
``gen_ai.response.time_to_first_chunk`` and the cached and reasoning token counts. OpenTelemetry's
transition plan picks between them with ``OTEL_SEMCONV_STABILITY_OPT_IN``.

The state of a call (its span, and the settings it started with) lives in ``call.data[KEY]``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

__all__ = [
    "KEY",
    "OPT_IN",
    "SEMCONV",
    "attempt",
    "configure",
    "failed",
    "failed_over",
    "finished",
    "headers",
    "semconv_from",
    "started",
]

KEY = "jackfield_otel"
"""The key of this plugin's state in ``call.data``."""

SEMCONV = ("1.36", "latest")
"""The versions of the GenAI conventions :func:`configure` accepts."""

OPT_IN = "gen_ai_latest_experimental"
"""The value of ``OTEL_SEMCONV_STABILITY_OPT_IN`` that selects ``"latest"``."""

SCHEMA_URLS = {"1.36": "https://opentelemetry.io/schemas/1.36.0", "latest": None}
"""The schema each version's tracer and meter declare (the GenAI conventions after 1.36 moved
to a repository of their own, with no schema URL yet)."""

# The conventions' advice for the histograms' buckets.
DURATION_BUCKETS: tuple[float, ...] = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)
DURATION_BUCKETS += (5.12, 10.24, 20.48, 40.96, 81.92)  # seconds
TOKEN_BUCKETS: tuple[float, ...] = tuple(4**n for n in range(14))  # 1, 4, 16 ... 67108864

CLOSED_EARLY = (GeneratorExit, asyncio.CancelledError)
"""What a call fails with when its caller closed (or cancelled) the stream: not an error."""


def semconv_from(opt_in: str | None) -> str:
    """The version ``OTEL_SEMCONV_STABILITY_OPT_IN`` (a comma-separated list) selects."""
    values = {part.strip() for part in (opt_in or "").split(",")}
    return "latest" if OPT_IN in values else "1.36"


class Telemetry:
    """A tracer and the three histograms, made for one version of the conventions."""

    def __init__(
        self,
        semconv: str,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
        provider_names: Mapping[str, str],
    ) -> None:
        from jackfield_otel import __version__

        schema = SCHEMA_URLS[semconv]
        self.latest = semconv == "latest"
        self.provider_key = "gen_ai.provider.name" if self.latest else "gen_ai.system"
        self.provider_names = dict(provider_names)
        self.tracer = trace.get_tracer(
            "jackfield_otel", __version__, tracer_provider, schema_url=schema
        )
        meter = metrics.get_meter("jackfield_otel", __version__, meter_provider, schema_url=schema)
        self.duration = _histogram(
            meter,
            "gen_ai.client.operation.duration",
            "s",
            "GenAI operation duration.",
            DURATION_BUCKETS,
        )
        self.tokens = _histogram(
            meter,
            "gen_ai.client.token.usage",
            "{token}",
            "Number of input and output tokens used.",
            TOKEN_BUCKETS,
        )
        self.first_chunk = _histogram(
            meter,
            "gen_ai.client.operation.time_to_first_chunk",
            "s",
            "Time to receive the first chunk of a streamed answer.",
            DURATION_BUCKETS,
        )


def _histogram(
    meter: metrics.Meter, name: str, unit: str, description: str, buckets: tuple[float, ...]
) -> metrics.Histogram:
    """A histogram with the buckets the conventions advise (OpenTelemetry 1.30 and later take
    the advice; before, the SDK's default buckets apply)."""
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # opentelemetry-api < 1.30
        return meter.create_histogram(name, unit=unit, description=description)


class _Settings:
    """What :func:`configure` chose, and the :class:`Telemetry` made from it (on first use)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tracer_provider: trace.TracerProvider | None = None
        self.meter_provider: metrics.MeterProvider | None = None
        self.semconv: str | None = None
        self.provider_names: Mapping[str, str] = {}
        self.telemetry: Telemetry | None = None

    def current(self) -> Telemetry:
        telemetry = self.telemetry
        if telemetry is None:
            with self.lock:
                if self.telemetry is None:
                    semconv = self.semconv or semconv_from(
                        os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN")
                    )
                    self.telemetry = Telemetry(
                        semconv, self.tracer_provider, self.meter_provider, self.provider_names
                    )
                telemetry = self.telemetry
        return telemetry


_settings = _Settings()


def configure(
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    semconv: str | None = None,
    provider_names: Mapping[str, str] | None = None,
) -> None:
    """See :func:`jackfield_otel.configure`."""
    if semconv is not None and semconv not in SEMCONV:
        from jackfield import ConfigError

        raise ConfigError(
            f"jackfield-otel: unknown version of the GenAI conventions {semconv!r}; "
            f"use one of {', '.join(map(repr, SEMCONV))}, or leave it out to follow "
            f"OTEL_SEMCONV_STABILITY_OPT_IN"
        )
    with _settings.lock:
        _settings.tracer_provider = tracer_provider
        _settings.meter_provider = meter_provider
        _settings.semconv = semconv
        _settings.provider_names = dict(provider_names or {})
        _settings.telemetry = None


class _State:
    """One call's span and what its metrics need."""

    __slots__ = ("context", "server", "span", "telemetry")

    def __init__(self, telemetry: Telemetry, span: trace.Span, context: Any) -> None:
        self.telemetry = telemetry
        self.span = span
        self.context = context  # the span's context: its traceparent goes to the server
        self.server: tuple[str, int] | None = None


def _begin(call: Any) -> _State:
    """The call's state, starting its span on first use."""
    state: _State | None = call.data.get(KEY)
    if state is None:
        telemetry = _settings.current()
        name = f"{call.operation} {call.model}" if call.model else call.operation
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": call.operation,
            telemetry.provider_key: _provider(telemetry, call),
        }
        if call.model:
            attributes["gen_ai.request.model"] = call.model
        if call.stream and telemetry.latest:
            attributes["gen_ai.request.stream"] = True
        attributes["jackfield.instance"] = call.instance
        span = telemetry.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        state = _State(telemetry, span, trace.set_span_in_context(span, otel_context.get_current()))
        call.data[KEY] = state
    return state


def _provider(telemetry: Telemetry, call: Any) -> str:
    names = telemetry.provider_names
    return str(names.get(call.instance) or names.get(call.provider) or call.provider)


def _address(url: str | None) -> tuple[str, int] | None:
    """``server.address`` and ``server.port`` of a URL (the scheme's port if it names none)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme)
        if port is None:
            return None
    return parts.hostname, port


def _error_type(error: BaseException) -> str:
    return type(error).__qualname__


# --- the hooks ----------------------------------------------------------------------------------


def headers(call: Any) -> dict[str, str]:
    """Start the span; its trace context, as headers (``traceparent``, ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=_begin(call).context)
    return carrier


def started(call: Any) -> None:
    _begin(call)


def attempt(call: Any, url: str) -> None:
    state = _begin(call)
    server = _address(call.server or url)
    if server is not None and server != state.server:
        state.server = server
        if state.span.is_recording():
            state.span.set_attributes({"server.address": server[0], "server.port": server[1]})


def retried(call: Any, error: BaseException, delay: float) -> None:
    span = _begin(call).span
    if span.is_recording():
        span.add_event(
            "jackfield.retry",
            {"error.type": _error_type(error), "jackfield.retry.delay": float(delay)},
        )


def failed_over(call: Any, error: BaseException, url: str) -> None:
    span = _begin(call).span
    if span.is_recording():
        event: dict[str, Any] = {"error.type": _error_type(error)}
        server = _address(url)
        if server is not None:
            event["server.address"], event["server.port"] = server
        span.add_event("jackfield.failover", event)


def finished(call: Any, response: Any) -> None:
    _end(call, response, None)


def failed(call: Any, error: BaseException, response: Any) -> None:
    _end(call, response, error)


def _end(call: Any, response: Any, error: BaseException | None) -> None:
    state = call.data.get(KEY) or _begin(call)
    del call.data[KEY]
    now = time.monotonic()
    telemetry, span = state.telemetry, state.span
    closed_early = isinstance(error, CLOSED_EARLY)
    failure = None if error is None or closed_early else _error_type(error)

    common: dict[str, Any] = {
        "gen_ai.operation.name": call.operation,
        telemetry.provider_key: _provider(telemetry, call),
    }
    if call.model:
        common["gen_ai.request.model"] = call.model
    completion = response.completion  # choice 0's end: the model that answered, the usage
    usage = completion.usage if completion is not None else None
    if completion is not None and completion.model:
        common["gen_ai.response.model"] = completion.model
    server = state.server or _address(call.server)
    if server is not None:
        common["server.address"], common["server.port"] = server

    if span.is_recording():
        # What the span has from its start is not set again.
        started = ("gen_ai.operation.name", telemetry.provider_key, "gen_ai.request.model")
        attributes = {key: value for key, value in common.items() if key not in started}
        reasons = _finish_reasons(response)
        if reasons:
            attributes["gen_ai.response.finish_reasons"] = reasons
        if usage is not None:
            _usage_attributes(attributes, usage, latest=telemetry.latest)
        if call.request_id:
            attributes["jackfield.request_id"] = call.request_id
        if call.attempts:
            attributes["jackfield.attempts"] = call.attempts
        if call.stream and call.first_chunk is not None and telemetry.latest:
            attributes["gen_ai.response.time_to_first_chunk"] = call.first_chunk - call.started
        if closed_early:
            attributes["jackfield.closed_early"] = True
        if failure is not None and error is not None:
            attributes["error.type"] = failure
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{failure}: {error}"))
        span.set_attributes(attributes)
    span.end()

    duration = dict(common)
    if failure is not None:
        duration["error.type"] = failure
    telemetry.duration.record(now - call.started, duration)
    if usage is not None:
        for kind, count in (("input", usage.prompt_tokens), ("output", usage.completion_tokens)):
            if count is not None:
                telemetry.tokens.record(count, {**common, "gen_ai.token.type": kind})
    if call.stream and call.first_chunk is not None:
        telemetry.first_chunk.record(call.first_chunk - call.started, common)


def _finish_reasons(response: Any) -> tuple[str, ...]:
    """Why each choice that ended did, in the order of the choices."""
    return tuple(
        str(getattr(choice.completion.finish_reason, "value", choice.completion.finish_reason))
        for choice in response.choices
        if choice.completion is not None
    )


def _usage_attributes(attributes: dict[str, Any], usage: Any, *, latest: bool) -> None:
    names = [
        ("gen_ai.usage.input_tokens", usage.prompt_tokens),
        ("gen_ai.usage.output_tokens", usage.completion_tokens),
    ]
    if latest:
        names += [
            ("gen_ai.usage.cache_read.input_tokens", usage.cached_tokens),
            ("gen_ai.usage.reasoning.output_tokens", usage.reasoning_tokens),
        ]
    attributes.update({name: value for name, value in names if value is not None})
