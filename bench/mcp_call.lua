-- One MCP `tools/call` of `lookup_customer`, the same for every request: MCP has no call
-- id, so nothing is answered from a record. MCP_BODY is the JSON-RPC body, MCP_VERSION the
-- MCP-Protocol-Version header, MCP_SESSION the Mcp-Session-Id (empty: none). An answer
-- that is not 200 with the tool's `structuredContent` counts as bad.
local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json, text/event-stream",
  ["MCP-Protocol-Version"] = os.getenv("MCP_VERSION"),
  -- The standard headers protocol 2026-07-28 requires (SEP-2243).
  ["Mcp-Method"] = "tools/call",
  ["Mcp-Name"] = "lookup_customer",
}
local session = os.getenv("MCP_SESSION")
if session and session ~= "" then headers["Mcp-Session-Id"] = session end
local req

local threads = {}
function setup(thread) table.insert(threads, thread) end
-- Built here, not at load time: a headers table given to wrk.format replaces wrk's own,
-- Host included, which wrk sets only once the thread starts (rmcp answers a request
-- without Host 400).
function init(args)
  ok = 0; bad = 0
  headers["Host"] = wrk.headers["Host"]
  req = wrk.format("POST", "/mcp", headers, os.getenv("MCP_BODY"))
end

function request() return req end
function response(status, headers, body)
  if status == 200 and body and body:find('"structuredContent"', 1, true) and not body:find('"isError":true', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local ok_n, bad_n = 0, 0
  for _, t in ipairs(threads) do ok_n = ok_n + t:get("ok"); bad_n = bad_n + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d ok=%d bad=%d sock=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), ok_n, bad_n,
    e.connect + e.read + e.write + e.timeout))
end
