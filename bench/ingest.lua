-- wrk script: single-order intake, POST /v1/orders, every request a new order.
-- args: <token> <prefix>; thread t's k-th order is <prefix>-<t>-<k> (lines <number>-a, <number>-b).
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  headers = {["Authorization"] = "Bearer " .. args[1], ["Content-Type"] = "application/json"}
  prefix = args[2]
  k = 0
end

function request()
  k = k + 1
  local number = prefix .. "-" .. id .. "-" .. k
  local body = '{"order_number":"' .. number .. '","seller_id":"seller' .. (k % 100) .. '","create_seller":true,"currency":"TRY",'
    .. '"account_order_number":"AO-' .. number .. '","shipping_amount":"29.90","channel":"bench",'
    .. '"lines":[{"line_id":"' .. number .. '-a","sku":"TS-BLUE-M","name":"T-Shirt","quantity":2,'
    .. '"unit_price":"199.90","discount":"20.00","tax_rate":"20","product_id":"p-1"},'
    .. '{"line_id":"' .. number .. '-b","sku":"MUG-01","name":"Mug","quantity":1,"unit_price":"49.90",'
    .. '"tax_rate":"20","product_id":"p-2"}]}'
  return wrk.format("POST", "/v1/orders", headers, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
