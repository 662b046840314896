"""OpenTelemetry traces: off unless configured, and then from the standard `OTEL_*` variables.

`OTEL_TRACES_EXPORTER=otlp` (or `console`) turns tracing on; the OTLP exporter reads
`OTEL_EXPORTER_OTLP_ENDPOINT` and kin, the SDK reads `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER` and `OTEL_BSP_*`. It needs the `otel` extra (docs/operations.md, "Traces").

The spans: one per HTTP request (`kalem.face`, `http.route`), a `transaction` child per unit of work,
a child per SQL statement; the webhook worker's `webhooks.claim`, `webhooks.send` and
`webhooks.record`, each send linked to the request whose transaction queued the delivery (its W3C
`traceparent` is stored with the outbox row). Off, every helper here is a no-op costing one check.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import Any

_tracer: Any = None  # an opentelemetry Tracer while tracing is on


class TracingUnavailable(RuntimeError):
    """OTEL_TRACES_EXPORTER asks for traces but the OpenTelemetry SDK is not installed."""


def configure_from_env() -> None:
    """Turn tracing on if the environment asks for it (once per process)."""
    names = [n.strip() for n in os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",") if n.strip()]
    if _tracer is not None or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true" or names in ([], ["none"]):
        return
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as exc:
        raise TracingUnavailable("OTEL_TRACES_EXPORTER is set but OpenTelemetry is not installed: "
                                 "pip install 'kalem[otel]'") from exc
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "kalem"}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif name != "none":
            raise TracingUnavailable(f"OTEL_TRACES_EXPORTER={name} is not supported (otlp, console, none)")
    # Not made the global provider: FastAPI traces itself through the global one, which would nest a
    # second request span and its dependency spans inside kalem's.
    use(provider)


def use(provider: Any) -> None:
    """Trace with `provider` (an SDK TracerProvider), or stop tracing with None."""
    global _tracer
    _tracer = provider.get_tracer("kalem") if provider is not None else None


def active() -> bool:
    return _tracer is not None


@contextlib.contextmanager
def span(name: str, *, attributes: dict[str, Any] | None = None, links: Iterable[str | None] = (),
         parent: Any = None) -> Iterator[Any]:
    """A span, current inside the block (children nest under it); None when tracing is off.
    `links` are W3C traceparents of related traces (None and malformed ones are skipped)."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(name, context=parent, attributes=attributes,
                                       links=_links(links)) as current:
        yield current


def start(name: str, attributes: dict[str, Any] | None = None) -> Any:
    """A span made current until `finish` (for a unit of work, whose start and end are two calls)."""
    if _tracer is None:
        return None
    from opentelemetry import context, trace
    current = _tracer.start_span(name, attributes=attributes)
    return current, context.attach(trace.set_span_in_context(current))


def finish(handle: Any, error: BaseException | None = None) -> None:
    if handle is None:
        return
    from opentelemetry import context
    current, token = handle
    if error is not None:
        current.record_exception(error)
        _set_error(current)
    current.end()
    context.detach(token)


def start_child(name: str, attributes: dict[str, Any]) -> Any:
    """A span under the current one that is not made current (an SQL statement)."""
    return _tracer.start_span(name, attributes=attributes) if _tracer is not None else None


def fail(current: Any) -> None:
    if current is not None:
        _set_error(current)


def traceparent() -> str | None:
    """The current span's W3C traceparent (stored with an outbox row), or None."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def extract(headers: Iterable[tuple[bytes, bytes]]) -> Any:
    """The remote parent a request carries (`traceparent`), for the request's span."""
    if _tracer is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers
               if name in (b"traceparent", b"tracestate")}
    return TraceContextTextMapPropagator().extract(carrier) if carrier else None


def _links(traceparents: Iterable[str | None]) -> list[Any]:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    links = []
    for value in traceparents:
        if value:
            context = trace.get_current_span(TraceContextTextMapPropagator().extract({"traceparent": value}))
            if context.get_span_context().is_valid:
                links.append(trace.Link(context.get_span_context()))
    return links


def _set_error(current: Any) -> None:
    from opentelemetry.trace import Status, StatusCode
    current.set_status(Status(StatusCode.ERROR))
