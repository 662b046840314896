"""Loaded at interpreter start when this folder is on PYTHONPATH (bench/observability.py does that for
one variant): kalem's processes trace every request into the OpenTelemetry SDK's in-memory exporter
(through the batch processor, as in production), emptied every second so memory stays flat."""

import threading
import time

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kalem.observability import tracing

_exporter = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(BatchSpanProcessor(_exporter))
tracing.use(_provider)


def _empty() -> None:
    while True:
        time.sleep(1)
        _exporter.clear()


threading.Thread(target=_empty, daemon=True, name="bench-span-drain").start()
