-- wrk script: cancel-with-refund of one unit of a random line of a random loaded order.
-- args: <orders> <token> <seed>; order numbers are B%09d, lines <number>-a and <number>-b.
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  orders = tonumber(args[1])
  headers = {["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json"}
  math.randomseed(tonumber(args[3]) * 1000 + id)
end

function request()
  local number = string.format("B%09d", math.random(0, orders - 1))
  local line = (math.random(0, 1) == 0) and "a" or "b"
  local body = '{"lines":[{"line_id":"' .. number .. '-' .. line .. '","quantity":1,"reason_id":136}]}'
  return wrk.format("POST", "/v1/orders/" .. number .. "/cancellations-with-refund", headers, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
