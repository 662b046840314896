"""One package per platform face. A face is a thin translator: wire → command → wire."""
