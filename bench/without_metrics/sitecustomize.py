"""Loaded at interpreter start when this folder is on PYTHONPATH (bench/observability.py does that for
one variant): kalem's processes run with metrics switched off. Every metric family of
`kalem.observability.metrics` becomes a stand-in that records nothing, and the business counters
are not counted, so the same code runs with and without prometheus-client's work."""

from prometheus_client.metrics import MetricWrapperBase

from kalem.observability import metrics


class _Off:
    """Takes every call a metric family takes (labels, inc, dec, set, observe) and does nothing."""

    def labels(self, *_args: object, **_kwargs: object) -> "_Off":
        return self

    def inc(self, *_args: object) -> None:
        pass

    dec = set = observe = inc


for _name, _value in list(vars(metrics).items()):
    if isinstance(_value, MetricWrapperBase):
        setattr(metrics, _name, _Off())
metrics.count_events = lambda _events: None
