"""Tools for tests and benchmarks, not for production."""
