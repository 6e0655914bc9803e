-- wrk script: POST a JSON body to the path given as the first argument, with an Authorization header.
-- Arguments: <path> <authorization> <body> [unique|-] [pause-ms]; <authorization> is the header's
-- whole value ("Api-Key plt_…" or "Bearer eyJ…"). With "unique", "{key}" in the
-- body is replaced by an idempotency key unique per request (thread id + counter + run id).
-- With a pause, each connection waits that long after a response before its next request,
-- which holds the offered load near connections / pause (the latency runs at low load).
local path, authorization, body, unique
local pause = 0
local counter = 0
thread_id = 0  -- global: setup() sets it per thread

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path, authorization, body, unique = args[1], args[2], args[3], args[4] == "unique"
  pause = tonumber(args[5] or "0") or 0
  run_id = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end

function request()
  counter = counter + 1
  local payload = body
  if unique then
    payload = string.gsub(body, "{key}", string.format("%s-%d-%d", run_id, thread_id, counter))
  end
  return wrk.format("POST", path, {["Authorization"] = authorization, ["Content-Type"] = "application/json"}, payload)
end

function delay()
  return pause
end
