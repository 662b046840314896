"""What kalem is doing, for an operator: Prometheus metrics (`metrics`, `http`) and, when configured,
OpenTelemetry traces (`tracing`). Everything here sits at the edges — the HTTP middleware, the
database engine, the unit of work's commit and the webhook worker — never in a use case."""
