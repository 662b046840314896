-- wrk script: Zonos `orderItemUpdate` removing 1 unit of a random item of a random loaded order.
-- args: <orders> <token> <seed> <query> (the mutation text, without quotes or backslashes); orders
-- B%09d with ids ord_b%025d (GraphQL order_b%025d), items <number>-a (SKU TS-BLUE-M) and <number>-b
-- (SKU MUG-01). GraphQL answers refusals with HTTP 200 and an `errors` list: those are counted as
-- status errors in the BENCH line.
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
  headers = {["credentialToken"] = args[2], ["Content-Type"] = "application/json"}
  math.randomseed(tonumber(args[3]) * 1000 + id)
  query = args[4]
  gqlerrors = 0
end

function request()
  local i = math.random(0, orders - 1)
  local number = string.format("B%09d", i)
  local a = math.random(0, 1) == 0
  local body = '{"query":"' .. query .. '","variables":{"orderId":"' .. string.format("order_b%025d", i)
    .. '","aon":"AO-' .. number .. '","itemId":"item_' .. number .. (a and "-a" or "-b")
    .. '","sku":"' .. (a and "TS-BLUE-M" or "MUG-01") .. '","quantity":1}}'
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"errors"', 1, true) then
    gqlerrors = gqlerrors + 1
  end
end

function done(summary, latency, requests)
  local gql = 0
  for _, t in ipairs(threads) do
    gql = gql + t:get("gqlerrors")
  end
  report(summary, latency, gql, string.format(" graphql_errors=%d", gql))
end
