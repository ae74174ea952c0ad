"""OpenTelemetry for jackfield: a span and metrics for every chat call of every provider.

This is the plugin module, found through the ``jackfield`` entry point. It is imported whenever
providers are listed, so it imports nothing but :mod:`jackfield.hookspecs` (which imports
nothing itself): each hook imports the implementation (:mod:`jackfield_otel._spans`, and
OpenTelemetry with it) when a chat call first reaches it.

Spans and metrics go through the providers OpenTelemetry is configured with
(``trace.set_tracer_provider``, ``metrics.set_meter_provider``, or the ``opentelemetry-instrument``
command). A host that configured none gets OpenTelemetry's no-op ones: nothing is recorded.
:func:`configure` chooses other providers (for tests) and the version of the conventions.
"""

from __future__ import annotations

from jackfield.hookspecs import hookimpl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "call_failed",
    "call_failed_over",
    "call_finished",
    "call_headers",
    "call_retried",
    "call_started",
    "configure",
]


def configure(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    semconv: str | None = None,
    provider_names: Mapping[str, str] | None = None,
) -> None:
    """Choose where spans and metrics go and which conventions they follow.

    Every argument left out goes back to its default, so ``configure()`` undoes earlier calls.
    Calls that started before take their settings with them.

    :param tracer_provider: the provider spans are made with; by default the global one.
    :param meter_provider: the provider metrics are recorded with; by default the global one.
    :param semconv: ``"1.36"`` (``gen_ai.system``) or ``"latest"`` (``gen_ai.provider.name``
        and the newer attributes). By default ``"latest"`` when the environment variable
        ``OTEL_SEMCONV_STABILITY_OPT_IN`` lists ``gen_ai_latest_experimental``, else ``"1.36"``.
    :param provider_names: the value of ``gen_ai.provider.name`` (or ``gen_ai.system``) for
        an instance or a provider, by its name (``{"openai": "openai"}``); the instance's name
        is looked up first. By default the jackfield provider's name (``openai-compatible``).
    :raises jackfield.ConfigError: ``semconv`` is not one of the two versions.
    """
    from jackfield_otel import _spans

    _spans.configure(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        semconv=semconv,
        provider_names=provider_names,
    )


# The observer hooks (jackfield.hookspecs). The first call imports OpenTelemetry; later ones
# find the module in sys.modules.


@hookimpl
def call_headers(call: Any) -> Any:
    """The W3C trace context (``traceparent``) of the call's span, for the server to see."""
    from jackfield_otel import _spans

    return _spans.headers(call)


@hookimpl
def call_started(call: Any) -> None:
    """Start the call's span (if ``call_headers`` did not already)."""
    from jackfield_otel import _spans

    _spans.started(call)


@hookimpl
def call_attempt(call: Any, url: str) -> None:
    """Note the server the request went to (``server.address``, ``server.port``)."""
    from jackfield_otel import _spans

    _spans.attempt(call, url)


@hookimpl
def call_retried(call: Any, error: Any, delay: float) -> None:
    """Add a ``jackfield.retry`` event to the call's span."""
    from jackfield_otel import _spans

    _spans.retried(call, error, delay)


@hookimpl
def call_failed_over(call: Any, error: Any, url: str) -> None:
    """Add a ``jackfield.failover`` event to the call's span."""
    from jackfield_otel import _spans

    _spans.failed_over(call, error, url)


@hookimpl
def call_finished(call: Any, response: Any) -> None:
    """End the call's span with what the answer said, and record the metrics."""
    from jackfield_otel import _spans

    _spans.finished(call, response)


@hookimpl
def call_failed(call: Any, error: Any, response: Any) -> None:
    """End the call's span with its error (or as closed early), and record the metrics."""
    from jackfield_otel import _spans

    _spans.failed(call, error, response)
