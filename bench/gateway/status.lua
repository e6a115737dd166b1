-- wrk script for overload.sh: post.lua's request (KEY, BODY, RATE, CONNS), plus a count of the
-- answers by status, summed over wrk's threads at the end:
--   RESULT ok=N s503=N other=N errors=N duration_s=S p50_ms=X p99_ms=X
-- ok counts 200s only (goodput); other counts every other status; errors are socket errors and
-- timeouts (connect, read, write, timeout).
dofile("bench/gateway/post.lua")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

ok, s503, other = 0, 0, 0

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 503 then
    s503 = s503 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local n = { ok = 0, s503 = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for k in pairs(n) do
      n[k] = n[k] + thread:get(k)
    end
  end
  local e = summary.errors
  io.write(string.format("RESULT ok=%d s503=%d other=%d errors=%d duration_s=%.3f p50_ms=%.3f p99_ms=%.3f\n",
    n.ok, n.s503, n.other, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
