-- wrk script: GET one of several paths in turn (the arguments), with an optional pause.
-- Arguments: <pause-ms> <path> [<path> ...]. Prints the p95 latency at the end (wrk's own
-- summary gives p50/p75/p90/p99 only).
local paths = {}
local pause = 0
local counter = 0

function init(args)
  pause = tonumber(args[1] or "0") or 0
  for i = 2, #args do
    table.insert(paths, args[i])
  end
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function delay()
  return pause
end

function done(summary, latency, requests)
  io.write(string.format("p95_us %d\n", latency:percentile(95)))
  io.write(string.format("p50_us %d\n", latency:percentile(50)))
end
