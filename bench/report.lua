-- The line every wrk script prints when it is done (bench/common.py reads it). Loaded with
-- dofile by each script; `extra_errors` are failures wrk cannot see, `tail` more fields.
function report(summary, latency, extra_errors, tail)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d status=%d connect=%d read=%d write=%d timeout=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d%s\n",
    summary.requests, summary.duration, e.status + (extra_errors or 0), e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, tail or ""))
end
