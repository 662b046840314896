-- wrk script: reads of random orders among the loaded ones (GET /v1/orders/{n}).
-- args: <orders> <token> <seed>; order numbers are B%09d.
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
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
  report(summary, latency)
end
