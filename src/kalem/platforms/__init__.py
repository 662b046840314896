"""One package per platform face. A face is a thin translator: wire → command → wire.

A face's package re-exports nothing: the API imports its `routes`, the webhook worker only its payload
renderers, which load no web framework."""
