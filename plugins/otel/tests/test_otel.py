"""jackfield-otel: spans and metrics of chat calls, read back from the SDK's in-memory exporters.

Calls go to the scripted provider (no HTTP) and to the openai-compatible provider in front of
scripted servers on 127.0.0.1 (a pool with a failing endpoint, a retry, a failure).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.metrics import Meter
from opentelemetry.trace import SpanKind, StatusCode
from tests.support.scripted_server import Reply, ScriptedServer, serving, sse

import jackfield
import jackfield_openai
import jackfield_otel
from conftest import SRC, Telemetry
from jackfield import Completion, FinishReason, TextDelta, Usage
from jackfield.testing import ScriptedProvider
from jackfield.testing import plugin as scripted_plugin
from jackfield_otel import _spans

ADVISED_BUCKETS = (
    "explicit_bucket_boundaries_advisory" in inspect.signature(Meter.create_histogram).parameters
)
"""Whether the OpenTelemetry API takes the buckets the conventions advise (1.30 and later)."""

TIMEOUTS = {"connect": 5, "first_byte": 10, "idle": 10, "total": 20}

OK = Reply(
    body=sse(
        {"model": "m-0613", "choices": [{"index": 0, "delta": {"content": "hi"}}]},
        {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
        },
    )
)
DOWN = Reply(status=503, headers={"content-type": "application/json"}, body=[b'{"error":"down"}'])


def registry() -> jackfield.Registry:
    return jackfield.load_registry(
        autoload=False, plugins=[jackfield_otel, jackfield_openai, scripted_plugin]
    )


def scripted(*steps: Any) -> ScriptedProvider:
    """The scripted provider of :func:`registry`, playing ``steps``."""
    provider = registry().create("scripted")
    assert isinstance(provider, ScriptedProvider)
    provider.script = list(steps)
    return provider


def provider_key(semconv: str) -> str:
    return "gen_ai.provider.name" if semconv == "latest" else "gen_ai.system"


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


def trace_context(span: Any) -> str:
    """The ``traceparent`` a request sent within ``span`` carries (its flags aside)."""
    return f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with serving([OK]) as running:
        yield running


# --- the scripted provider: no HTTP, so no server address ---------------------------------------


def test_a_call_is_one_client_span_with_the_conventions_attributes(
    otel: Telemetry, semconv: str
) -> None:
    with registry().create("scripted", {"reply": "one two three"}) as provider:
        assert provider.complete("hello").text == "one two three"

    span = only(otel.spans())
    assert span.name == "chat scripted"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        provider_key(semconv): "scripted",
        "gen_ai.request.model": "scripted",
        "gen_ai.response.model": "scripted",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 1,
        "gen_ai.usage.output_tokens": 3,
        "jackfield.instance": "scripted",
    }
    assert span.events == ()
    assert span.parent is None


def test_a_call_records_its_duration_and_token_usage(otel: Telemetry, semconv: str) -> None:
    with registry().create("scripted", {"reply": "one two three", "model": "tiny"}) as provider:
        provider.complete("hello")

    common = {
        "gen_ai.operation.name": "chat",
        provider_key(semconv): "scripted",
        "gen_ai.request.model": "tiny",
        "gen_ai.response.model": "tiny",
    }
    duration = only(otel.points("gen_ai.client.operation.duration"))
    assert dict(duration.attributes) == common
    assert duration.count == 1
    assert duration.sum > 0
    if ADVISED_BUCKETS:  # the conventions' buckets, else the SDK's default ones
        assert tuple(duration.explicit_bounds) == _spans.DURATION_BUCKETS
    else:
        assert tuple(duration.explicit_bounds)[:3] == (0, 5, 10)
    tokens = {
        point.attributes["gen_ai.token.type"]: point
        for point in otel.points("gen_ai.client.token.usage")
    }
    assert sorted(tokens) == ["input", "output"]
    assert (tokens["input"].sum, tokens["output"].sum) == (1, 3)
    assert dict(tokens["output"].attributes) == {**common, "gen_ai.token.type": "output"}
    if ADVISED_BUCKETS:
        assert tuple(tokens["input"].explicit_bounds) == _spans.TOKEN_BUCKETS
    # Not streamed: no time to first chunk (the conventions say so).
    assert otel.points("gen_ai.client.operation.time_to_first_chunk") == []
    assert otel.metrics() == {
        "gen_ai.client.operation.duration": "s",
        "gen_ai.client.token.usage": "{token}",
    }


def test_a_streamed_call_records_the_time_to_its_first_chunk(otel: Telemetry, semconv: str) -> None:
    with registry().create("scripted", {"reply": "one two three", "chunk_size": 3}) as provider:
        text = "".join(fragment.text for fragment in provider.stream("hello"))
    assert text == "one two three"

    span = only(otel.spans())
    first = only(otel.points("gen_ai.client.operation.time_to_first_chunk"))
    duration = only(otel.points("gen_ai.client.operation.duration"))
    assert 0 < first.sum <= duration.sum
    assert first.attributes[provider_key(semconv)] == "scripted"
    if semconv == "latest":
        assert span.attributes["gen_ai.request.stream"] is True
        assert span.attributes["gen_ai.response.time_to_first_chunk"] == first.sum
    else:
        assert "gen_ai.request.stream" not in span.attributes
        assert "gen_ai.response.time_to_first_chunk" not in span.attributes


def test_the_latest_conventions_carry_cached_and_reasoning_tokens(
    otel: Telemetry, semconv: str
) -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=6, cached_tokens=4, reasoning_tokens=5)
    with scripted(TextDelta("x"), Completion(FinishReason.LENGTH, "length", usage, "r1")) as p:
        p.complete("hello")

    attributes = only(otel.spans()).attributes
    assert attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert attributes["gen_ai.response.model"] == "r1"
    assert attributes["gen_ai.usage.input_tokens"] == 10
    assert attributes["gen_ai.usage.output_tokens"] == 6
    if semconv == "latest":
        assert attributes["gen_ai.usage.cache_read.input_tokens"] == 4
        assert attributes["gen_ai.usage.reasoning.output_tokens"] == 5
    else:
        assert "gen_ai.usage.cache_read.input_tokens" not in attributes
        assert "gen_ai.usage.reasoning.output_tokens" not in attributes


def test_a_failing_call_ends_its_span_with_the_error(otel: Telemetry, semconv: str) -> None:
    with (
        scripted(TextDelta("par"), RuntimeError("the backend fell over")) as provider,
        pytest.raises(jackfield.ProviderError) as raised,
    ):
        provider.complete("hello")
    assert raised.value.partial is not None

    span = only(otel.spans())
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RuntimeError: the backend fell over"
    assert span.attributes["error.type"] == "RuntimeError"
    assert "gen_ai.response.finish_reasons" not in span.attributes
    exception = only([event for event in span.events if event.name == "exception"])
    assert exception.attributes["exception.type"] == "RuntimeError"
    duration = only(otel.points("gen_ai.client.operation.duration"))
    assert duration.attributes["error.type"] == "RuntimeError"
    assert otel.points("gen_ai.client.token.usage") == []


def test_a_stream_closed_early_ends_its_span_without_an_error(otel: Telemetry) -> None:
    with registry().create("scripted", {"reply": "a b c d e f", "chunk_size": 1}) as provider:
        stream = provider.stream("hello")
        assert next(iter(stream)).text == "a"
        assert otel.spans() == []  # still open
        stream.close()

    span = only(otel.spans())
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["jackfield.closed_early"] is True
    assert "error.type" not in span.attributes
    assert "gen_ai.response.finish_reasons" not in span.attributes
    duration = only(otel.points("gen_ai.client.operation.duration"))
    assert "error.type" not in duration.attributes
    assert only(otel.points("gen_ai.client.operation.time_to_first_chunk")).count == 1


def test_async_streams_are_traced_the_same_way(otel: Telemetry) -> None:
    async def main() -> tuple[str, str]:
        with registry().create("scripted", {"reply": "a b c", "chunk_size": 1}) as provider:
            whole = await provider.astream("hello").collect()
            stream = provider.astream("again")
            first = await stream.__anext__()
            await stream.aclose()
            return whole.text, first.text

    assert asyncio.run(asyncio.wait_for(main(), 20)) == ("a b c", "a")
    done, closed = otel.spans()
    assert done.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert "jackfield.closed_early" not in done.attributes
    assert closed.attributes["jackfield.closed_early"] is True
    # Two points: the closed stream's has no gen_ai.response.model (no answer said it).
    points = otel.points("gen_ai.client.operation.time_to_first_chunk")
    assert sorted(point.count for point in points) == [1, 1]
    assert sorted("gen_ai.response.model" in point.attributes for point in points) == [False, True]


def test_a_cancelled_stream_ends_its_span_without_an_error(otel: Telemetry) -> None:
    async def main() -> None:
        with scripted(TextDelta("a"), asyncio.CancelledError()) as provider:
            async for _ in provider.astream("hello"):
                pass

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(asyncio.wait_for(main(), 20))
    span = only(otel.spans())
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["jackfield.closed_early"] is True
    assert "error.type" not in only(otel.points("gen_ai.client.operation.duration")).attributes


def test_a_call_inside_a_span_of_the_host_is_its_child(otel: Telemetry) -> None:
    host = otel.tracer_provider.get_tracer("host")
    with (
        host.start_as_current_span("handle request") as parent,
        registry().create("scripted") as provider,
    ):
        provider.complete("hello")

    chat = next(span for span in otel.spans() if span.name.startswith("chat"))
    assert chat.parent is not None
    assert chat.parent.span_id == parent.get_span_context().span_id
    assert chat.context.trace_id == parent.get_span_context().trace_id


def test_provider_names_override_the_provider_attribute(otel: Telemetry, semconv: str) -> None:
    jackfield_otel.configure(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        semconv=semconv,
        provider_names={"scripted": "openai"},
    )
    with registry().create("scripted") as provider:
        provider.complete("hello")
    assert only(otel.spans()).attributes[provider_key(semconv)] == "openai"
    duration = only(otel.points("gen_ai.client.operation.duration"))
    assert duration.attributes[provider_key(semconv)] == "openai"


# --- the openai-compatible provider, over HTTP on 127.0.0.1 --------------------------------------


def test_an_http_call_names_its_server_and_sends_its_trace_context(
    otel: Telemetry, semconv: str, server: ScriptedServer
) -> None:
    options = {"base_url": server.url + "/v1", "model": "m", "timeouts": TIMEOUTS}
    with registry().create("openai-compatible", options, instance="local") as provider:
        assert "".join(f.text for f in provider.stream("hello")) == "hi"

    span = only(otel.spans())
    assert span.name == "chat m"
    received = only(server.requests)
    assert received.headers["traceparent"].startswith(trace_context(span))
    attributes = dict(span.attributes)
    assert attributes.pop("jackfield.request_id") == received.headers["x-request-id"]
    first_chunk = attributes.pop("gen_ai.response.time_to_first_chunk", None)
    expected = {
        "gen_ai.operation.name": "chat",
        provider_key(semconv): "openai-compatible",
        "gen_ai.request.model": "m",
        "gen_ai.response.model": "m-0613",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2,
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "jackfield.instance": "local",
        "jackfield.attempts": 1,
    }
    if semconv == "latest":
        expected["gen_ai.request.stream"] = True
    assert attributes == expected

    metric_attributes = {
        "gen_ai.operation.name": "chat",
        provider_key(semconv): "openai-compatible",
        "gen_ai.request.model": "m",
        "gen_ai.response.model": "m-0613",
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    assert dict(only(otel.points("gen_ai.client.operation.duration")).attributes) == (
        metric_attributes
    )
    ttfc = only(otel.points("gen_ai.client.operation.time_to_first_chunk"))
    assert dict(ttfc.attributes) == metric_attributes
    assert first_chunk == (ttfc.sum if semconv == "latest" else None)
    assert {point.sum for point in otel.points("gen_ai.client.token.usage")} == {7, 2}


def test_a_failover_is_an_event_and_the_span_names_the_endpoint_that_answered(
    otel: Telemetry,
) -> None:
    with serving([DOWN]) as down, serving([OK]) as up:
        options = {
            "endpoints": [down.url + "/v1", up.url + "/v1"],
            "balance": "round_robin",
            "retries": {"attempts": 0},
            "model": "m",
            "timeouts": TIMEOUTS,
        }
        with registry().create("openai-compatible", options) as provider:
            # Round robin sends one of the two calls to the endpoint that is down first.
            assert provider.complete("one").text == "hi"
            assert provider.complete("two").text == "hi"

        spans = otel.spans()
        assert len(spans) == 2
        failed_over = only([span for span in spans if span.events])
        event = only(list(failed_over.events))
        assert event.name == "jackfield.failover"
        assert dict(event.attributes) == {
            "error.type": "ServerError",
            "server.address": "127.0.0.1",
            "server.port": down.port,
        }
        assert failed_over.status.status_code is StatusCode.UNSET
        assert failed_over.attributes["jackfield.attempts"] == 2
        for span in spans:
            assert span.attributes["server.port"] == up.port
        # Both endpoints saw the same span's trace context: one span per call, not per attempt.
        sent = trace_context(failed_over)
        assert only(down.requests).headers["traceparent"].startswith(sent)
        assert sum(r.headers["traceparent"].startswith(sent) for r in up.requests) == 1
        assert {r.headers["traceparent"][:35] for r in up.requests} == {
            trace_context(span)[:35] for span in spans
        }


def test_a_retry_is_an_event_on_the_calls_span(otel: Telemetry) -> None:
    with serving([DOWN, OK]) as server:
        options = {
            "base_url": server.url + "/v1",
            "model": "m",
            "retries": {"attempts": 1, "backoff": 0.01},
            "timeouts": TIMEOUTS,
        }
        with registry().create("openai-compatible", options) as provider:
            assert provider.complete("hello").text == "hi"

        span = only(otel.spans())
        event = only(list(span.events))
        assert event.name == "jackfield.retry"
        assert event.attributes["error.type"] == "ServerError"
        assert 0 <= event.attributes["jackfield.retry.delay"] <= 0.01
        assert span.attributes["jackfield.attempts"] == 2
        first, second = server.requests
        assert first.headers["traceparent"] == second.headers["traceparent"]
        assert first.headers["traceparent"].startswith(trace_context(span))


def test_an_http_failure_sets_the_error_type_on_span_and_duration(otel: Telemetry) -> None:
    with serving([DOWN]) as server:
        options = {
            "base_url": server.url + "/v1",
            "model": "m",
            "retries": {"attempts": 0},
            "timeouts": TIMEOUTS,
        }
        with (
            registry().create("openai-compatible", options) as provider,
            pytest.raises(jackfield.ServerError),
        ):
            provider.complete("hello")

    span = only(otel.spans())
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ServerError"
    assert span.attributes["server.port"] == server.port
    duration = only(otel.points("gen_ai.client.operation.duration"))
    assert duration.attributes["error.type"] == "ServerError"
    assert duration.attributes["server.port"] == server.port


def test_without_configured_providers_nothing_is_recorded_or_sent(
    server: ScriptedServer,
) -> None:
    """No SDK configured (this process never sets the global providers): the plugin's hooks run
    on OpenTelemetry's no-op tracer and meter, and no trace context goes out."""
    jackfield_otel.configure(semconv="latest")
    try:
        options = {"base_url": server.url + "/v1", "model": "m", "timeouts": TIMEOUTS}
        with registry().create("openai-compatible", options) as provider:
            assert provider.complete("hello").text == "hi"
    finally:
        jackfield_otel.configure(semconv="1.36")
    headers = only(server.requests).headers
    assert "traceparent" not in headers
    assert "x-request-id" in headers


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opt_in", "version"),
    [
        (None, "1.36"),
        ("", "1.36"),
        ("http", "1.36"),
        ("gen_ai_latest_experimental", "latest"),
        ("http/dup, gen_ai_latest_experimental", "latest"),
        ("gen_ai_latest_experimental_not", "1.36"),
    ],
)
def test_the_opt_in_variable_selects_the_version(opt_in: str | None, version: str) -> None:
    assert _spans.semconv_from(opt_in) == version


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(jackfield.ConfigError, match=r"'1\.99'.*'1\.36', 'latest'"):
        jackfield_otel.configure(semconv="1.99")


# --- in a fresh interpreter: import cost, and the global providers ------------------------------


def run_python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(SRC), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_plugin_imports_no_opentelemetry() -> None:
    code = (
        "import sys, jackfield, jackfield_otel\n"
        "registry = jackfield.load_registry(autoload=False, plugins=[jackfield_otel])\n"
        "assert registry.observing and not registry.problems, registry.problems\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'jackfield_otel'))))"
    )
    assert run_python(code, {}).strip() == "['jackfield_otel']"


GLOBAL_SDK = """
import json, jackfield, jackfield_otel
from jackfield.testing import plugin
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

# What a host does: configure the SDK once. It never calls jackfield_otel.configure.
exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

registry = jackfield.load_registry(autoload=False, plugins=[jackfield_otel, plugin])
with registry.create("scripted") as scripted:
    scripted.complete("hello")
(span,) = exporter.get_finished_spans()
names = sorted(m.name for r in reader.get_metrics_data().resource_metrics
               for s in r.scope_metrics for m in s.metrics)
print(json.dumps({"name": span.name, "attributes": sorted(span.attributes), "metrics": names}))
"""


@pytest.mark.parametrize(
    ("opt_in", "provider_attribute"),
    [("", "gen_ai.system"), ("gen_ai_latest_experimental", "gen_ai.provider.name")],
)
def test_a_host_that_configured_the_sdk_gets_spans_and_metrics(
    opt_in: str, provider_attribute: str
) -> None:
    out = json.loads(run_python(GLOBAL_SDK, {"OTEL_SEMCONV_STABILITY_OPT_IN": opt_in}))
    assert out["name"] == "chat scripted"
    assert provider_attribute in out["attributes"]
    assert {"gen_ai.system", "gen_ai.provider.name"} & set(out["attributes"]) == {
        provider_attribute
    }
    assert out["metrics"] == ["gen_ai.client.operation.duration", "gen_ai.client.token.usage"]


EXAMPLE_OUTPUT = (
    "chat scripted: {'gen_ai.operation.name': 'chat', 'gen_ai.system': 'scripted', "
    "'gen_ai.request.model': 'scripted', 'jackfield.instance': 'scripted', "
    "'gen_ai.response.model': 'scripted', 'gen_ai.response.finish_reasons': ('stop',), "
    "'gen_ai.usage.input_tokens': 1, 'gen_ai.usage.output_tokens': 2}\n"
    "Hello there\n"
)


def test_the_example_prints_the_span_of_its_call(tmp_path: Path) -> None:
    """examples/traces.py (the docs show it) finds the plugin by its entry point, as a host
    would: when the distribution is not installed, a dist-info made here declares it."""
    path = [str(SRC)]
    try:
        importlib.metadata.distribution("jackfield-otel")
    except importlib.metadata.PackageNotFoundError:
        info = tmp_path / "jackfield_otel-0.2.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: jackfield-otel\nVersion: 0.2.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            "[jackfield]\notel = jackfield_otel\n", encoding="utf-8"
        )
        path.insert(0, str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(SRC.parent / "examples" / "traces.py")],
        env={"PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXAMPLE_OUTPUT
