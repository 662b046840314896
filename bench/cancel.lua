-- wrk script: direct partial cancels (quantity 1) of random orders among the loaded ones.
-- args: <orders> <token> <seed> [key]; with "key", every request has an Idempotency-Key of its own; order numbers are B%09d, lines <number>-a and <number>-b.
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  orders = tonumber(args[1])
  headers = {["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json"}
  math.randomseed(tonumber(args[3]) * 1000 + id)
  keyed = args[4] == "key"
  prefix = args[3] .. "-" .. id .. "-"
  sent = 0
end

function request()
  local number = string.format("B%09d", math.random(0, orders - 1))
  local line = (math.random(0, 1) == 0) and "a" or "b"
  local body = '{"lines":[{"line_id":"' .. number .. '-' .. line .. '","quantity":1,"reason_id":136}]}'
  if keyed then
    sent = sent + 1
    headers["Idempotency-Key"] = prefix .. sent
  end
  return wrk.format("POST", "/v1/orders/" .. number .. "/cancellations", headers, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
