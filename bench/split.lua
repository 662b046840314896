-- wrk script: split-with-cancel of Picking packages, each loaded order exactly once (a package splits
-- once: it is Unpacked afterwards). Thread t of n takes orders base + t-1, base + t-1 + n, ...
-- args: <orders> <token> <base> <threads> <file>; done() writes the highest index requested to <file>
-- (the next run starts above it). Orders B%09d, one Picking package <number>-1 holding
-- line <number>-a (4 units) and <number>-b (2 units).
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
  base = tonumber(args[3])
  nthreads = tonumber(args[4])
  path = args[5]
  k = 0
  last = -1
end

function request()
  local index = base + k * nthreads + (id - 1)
  k = k + 1
  last = index
  local number = string.format("B%09d", index)
  -- 2 units of line a to a new package, 1 unit of line a cancelled (UnSupplied), the rest (1 a, 2 b)
  -- to the automatic remainder package.
  local body = '{"packages":[{"items":[{"line_id":"' .. number .. '-a","quantity":2}]}],'
    .. '"cancelled":[{"line_id":"' .. number .. '-a","quantity":1,"reason_id":136}]}'
  return wrk.format("POST", "/v1/orders/" .. number .. "/packages/" .. number .. "-1/split", headers, body)
end

function done(summary, latency, requests)
  local highest = -1
  for _, t in ipairs(threads) do
    local l = t:get("last")
    if l > highest then highest = l end
  end
  local f = assert(io.open(threads[1]:get("path"), "w"))
  f:write(tostring(highest))
  f:close()
  report(summary, latency, 0, string.format(" highest=%d", highest))
end
