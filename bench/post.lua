-- wrk script: POST one invoice per request, each with its own Idempotency-Key.
-- Keys are unique across wrk runs (BENCH_RUN is new for every run), so no
-- request is ever answered by replaying an earlier one.
local counter = 0
local threads = {}
thread_tag = "t"
replayed = 0

function setup(thread)
  counter = counter + 1
  table.insert(threads, thread)
  thread:set("thread_tag", os.getenv("BENCH_RUN") .. "-t" .. counter)
end

function init(args)
  body = os.getenv("BENCH_BODY")
  n = 0
end

function request()
  n = n + 1
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
  wrk.headers["Idempotency-Key"] = "bench-" .. thread_tag .. "-" .. n
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  if headers["Idempotent-Replayed"] then replayed = replayed + 1 end
  if status ~= 201 then
    errors_seen = (errors_seen or 0) + 1
    if errors_seen <= 3 then io.stderr:write("status " .. status .. ": " .. string.sub(body, 1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local replays = 0
  for _, thread in ipairs(threads) do replays = replays + thread:get("replayed") end
  io.write(string.format("BENCH %d %.1f %.1f %.1f %d %d %d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, replays))
  -- The latency distribution at these percentiles (ms), so that runs taken in turns can be combined.
  local points = {}
  for _, p in ipairs({0, 10, 25, 50, 75, 90, 95, 97, 98, 98.5, 99, 99.25, 99.5, 99.75, 99.9}) do
    table.insert(points, string.format("%s:%.2f", p, latency:percentile(p) / 1000))
  end
  table.insert(points, string.format("100:%.2f", latency.max / 1000))  -- percentile(100) reads 0
  io.write("LATENCY " .. table.concat(points, " ") .. "\n")
end
