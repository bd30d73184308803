-- Sends pre-signed requests, each once, in order; signs nothing itself. Counts answers
-- without "success":true (and non-200 statuses) as bad.
local requests = {}
local f = assert(io.open(os.getenv("POOL_FILE"), "rb"))
for line in f:lines() do
  local sig, body = line:match("^([^\t]+)\t(.*)$")
  requests[#requests + 1] = wrk.format("POST", "/", {
    ["Content-Type"] = "application/json",
    ["X-Pillar-Signature"] = sig,
  }, body)
end
f:close()
-- A collection marking a table of a million strings each cycle would make wrk, not the
-- server, the bottleneck: collect once, then leave the collector off for the run.
collectgarbage("collect")
collectgarbage("stop")
local n, next_i = #requests, 0
wrapped = 0

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function request()
  next_i = next_i + 1
  if next_i > n then next_i = 1; wrapped = wrapped + 1 end
  return requests[next_i]
end
function response(status, headers, body)
  if status == 200 and body and body:find('"success":%s*true') then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local ok_n, bad_n = 0, 0
  for _, t in ipairs(threads) do ok_n = ok_n + t:get("ok"); bad_n = bad_n + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d ok=%d bad=%d sock=%d wrapped=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), ok_n, bad_n,
    e.connect + e.read + e.write + e.timeout, threads[1]:get("wrapped")))
end
