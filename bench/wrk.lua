-- wrk driver for bench/run.mjs.
-- args: <token> <request file> <unique prefix>
-- The request file has one request per line: METHOD<TAB>PATH[<TAB>BODY].
-- Requests are sent round-robin; "{n}" in a path or body becomes
-- <prefix><counter>, unique for every request of the run. done() prints one
-- line "WRK_JSON {...}" with the counts and latency percentiles (µs).
local reqs = {}
local token, prefix
local counter = 0

function init(args)
  token = args[1]
  prefix = args[3] or ""
  for line in io.lines(args[2]) do
    local method, path, body = line:match("^(%u+)\t([^\t]*)\t?(.*)$")
    if method then
      reqs[#reqs + 1] = { method, path, body }
    end
  end
end

function request()
  counter = counter + 1
  local r = reqs[(counter - 1) % #reqs + 1]
  local n = prefix .. counter
  local path = r[2]:gsub("{n}", n)
  local headers = { ["Authorization"] = "Bearer " .. token }
  local body = nil
  if r[3] ~= "" then
    body = r[3]:gsub("{n}", n)
    headers["Content-Type"] = "application/scim+json"
  end
  return wrk.format(r[1], path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f,' ..
    '"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
