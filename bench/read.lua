-- wrk script: reads of random orders among the loaded ones (GET /v1/orders/{n}).
-- args: <orders> <token> <seed>; order numbers are B%09d.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  orders = tonumber(args[1])
  headers = {["Authorization"] = "Bearer " .. args[2]}
  math.randomseed(tonumber(args[3]) * 1000 + id)
end

function request()
  return wrk.format("GET", string.format("/v1/orders/B%09d", math.random(0, orders - 1)), headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d status=%d connect=%d read=%d write=%d timeout=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
