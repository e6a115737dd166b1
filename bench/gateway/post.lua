-- wrk script: POST a chat completion; with RATE and CONNS set, each connection waits so that the
-- whole run approximates RATE requests/s (wrk itself is closed-loop; see run.sh).
local key = os.getenv("KEY") or "none"
local body = os.getenv("BODY") or '{"model":"mock-chat","messages":[{"role":"user","content":"你好，请介绍一下你自己"}]}'
local rate = tonumber(os.getenv("RATE") or "0")
local conns = tonumber(os.getenv("CONNS") or "1")
local threads = tonumber(os.getenv("THREADS") or "1")

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function delay()
  if rate <= 0 then
    return 0
  end
  -- Each connection waits a random time with mean conns/rate seconds, so that the connections
  -- do not fire in lock-step bursts.
  return math.floor(math.random() * 2 * conns / rate * 1000)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
