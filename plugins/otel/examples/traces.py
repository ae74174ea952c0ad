"""Traces of jackfield's chat calls: configure OpenTelemetry, and every call is a span."""

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import jackfield
from jackfield.testing import plugin as scripted  # a provider that needs no server


def one_line(span: ReadableSpan) -> str:
    return f"{span.name}: {dict(span.attributes or {})}\n"


# What the host does once, at start-up: configure OpenTelemetry. Here each span is printed;
# a real host exports them (OTLP to a collector, say).
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
trace.set_tracer_provider(provider)

# With jackfield-otel installed, every provider a registry (or a Host) creates is traced.
registry = jackfield.load_registry(plugins=[scripted])
with registry.create("scripted", {"reply": "Hello there"}) as model:
    print(model.complete("Say hello").text)
