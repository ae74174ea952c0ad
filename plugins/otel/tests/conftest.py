"""Fixtures of jackfield-otel's tests: OpenTelemetry SDK providers with in-memory exporters.

The tests need neither the distribution installed (its ``src`` is put on ``sys.path`` when it
is not) nor global OpenTelemetry providers: each test hands its own to
:func:`jackfield_otel.configure`, and puts the defaults back after.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
ROOT = HERE.parents[2]  # the workspace: tests.support.scripted_server lives there

for path in (SRC, ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

import jackfield_otel  # noqa: E402


class Telemetry:
    """A tracer provider and a meter provider that keep what they are given, for asserts."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[Any]:
        """The spans ended so far, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        """The data points of the metric ``name`` (none if it was never recorded)."""
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def metrics(self) -> dict[str, str | None]:
        """Every metric recorded so far: its name and unit."""
        data = self.reader.get_metrics_data()
        return {
            metric.name: metric.unit
            for resource in (data.resource_metrics if data is not None else ())
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


@pytest.fixture(params=["1.36", "latest"])
def semconv(request: pytest.FixtureRequest) -> str:
    """Each version of the GenAI conventions the plugin emits."""
    return str(request.param)


@pytest.fixture
def otel(semconv: str) -> Iterator[Telemetry]:
    """Providers with in-memory exporters, configured for the plugin in ``semconv``."""
    telemetry = Telemetry()
    jackfield_otel.configure(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        semconv=semconv,
    )
    try:
        yield telemetry
    finally:
        jackfield_otel.configure(semconv="1.36")
        telemetry.shutdown()
