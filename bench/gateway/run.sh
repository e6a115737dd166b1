#!/usr/bin/env bash
# Gateway benchmark (not run in CI): the mock upstream on loopback, then the same load
# directly to the mock, through hegui (every guard on: auth, user state, rate-limit check,
# lexicon input guard, output guard, explicit + implicit label, durable SQLite audit ledger),
# and through LiteLLM proxy 1.102.4 (config only, no database) against the same mock.
#
# Load: Debian's `wrk` with post.lua. wrk is closed-loop; for the fixed rates each connection
# waits CONNS/RATE seconds between requests (post.lua `delay`), which approximates RATE req/s
# (the achieved rate is printed). "max" runs without delay. Added latency is reported two ways:
# p99 through the proxy minus p99 direct, and (hegui only) the p99 bucket of hegui's own
# `hegui_added_latency_seconds` histogram from /metrics.
#
# Usage: bench/gateway/run.sh   (env: DURATION=20s RATES="100 500 1000" CONNS=50
#                                SKIP_LITELLM=1 to skip LiteLLM,
#                                STORAGE=postgres://…/DB for the ledger on PostgreSQL instead of
#                                SQLite: use a database of its own, the tables go in its default
#                                schema and are left there)
# Output: a Markdown table on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${DURATION:-20s}"
RATES="${RATES:-100 500 1000}"
CONNS="${CONNS:-50}"
THREADS="${THREADS:-2}"
MOCK_PORT=9301
HEGUI_PORT=9302
LITELLM_PORT=9303
STREAM_MOCK_PORT=9304
LUA="$PWD/bench/gateway/post.lua"

log() { echo "[bench] $*" >&2; }
. bench/gateway/lib.sh

command -v wrk >/dev/null || { log "wrk not found: install it first (Debian: apt-get install wrk)"; exit 2; }

build_gateway
stack_init

start_mock "$MOCK_PORT" "$WORK/mock.log"
# A second mock for the streaming measurement: 50 ms to the first token, 4 characters every 10 ms.
start_mock "$STREAM_MOCK_PORT" "$WORK/mock-stream.log" --ttft-ms 50 --chunk-chars 4 \
  --chunk-delay-ms 10 --reply "$(printf '这是一个用于测量流式延迟的模拟回答，内容没有任何问题。%.0s' 1 2 3 4)"

BENCH_KEY="$(new_key)"
{
  bench_config "$HEGUI_PORT" "${STORAGE:-sqlite:$WORK/bench.db}" "$MOCK_PORT"
  cat <<TOML
cache-ms = ${CACHE_MS:-1000}

[[upstreams]]
name = "mock-stream"
base-url = "http://127.0.0.1:$STREAM_MOCK_PORT/v1"
models = ["mock-stream"]
TOML
} > "$WORK/hegui.toml"
start_hegui "$WORK/hegui.toml" "$WORK/hegui.log"

LITELLM=""
if [ "${SKIP_LITELLM:-0}" != 1 ]; then
  VENV="$(litellm_venv)"
  cat > "$WORK/litellm.yaml" <<YAML
model_list:
  - model_name: mock-chat
    litellm_params:
      model: openai/mock-chat
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: mock
  - model_name: mock-stream
    litellm_params:
      model: openai/mock-stream
      api_base: http://127.0.0.1:$STREAM_MOCK_PORT/v1
      api_key: mock
YAML
  "$VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" \
    >"$WORK/litellm.log" 2>&1 &
  PIDS+=($!)
  wait_port "$LITELLM_PORT" && LITELLM="http://127.0.0.1:$LITELLM_PORT/v1/chat/completions"
fi

# The p99 bound of hegui's own added-latency histogram since the last call (ms).
added_p99() {
  curl -s "http://127.0.0.1:$HEGUI_PORT/metrics" | awk '
    /^hegui_added_latency_seconds_bucket/ {
      match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n[le] = $2; order[++k] = le }
    END { for (i = 1; i <= k; i++) printf "%s=%s ", order[i], n[order[i]] }'
}

p99_from() { # before after → p99 upper bound in ms of the difference
  python3 - "$1" "$2" <<'PY'
import sys
def parse(s):
    return [(k, int(v)) for k, v in (p.split("=") for p in s.split())]
b, a = dict(parse(sys.argv[1])), parse(sys.argv[2])
diff = [(k, v - b.get(k, 0)) for k, v in a]
total = dict(diff).get("+Inf", 0)
for k, v in diff:
    if total and v >= 0.99 * total:
        print("≤ %s" % ("inf" if k == "+Inf" else "%g" % (float(k) * 1000))); break
else:
    print("-")
PY
}

run() { # url key rate → "rps p50 p99 errors"
  local url="$1" key="$2" rate="$3"
  local out
  out="$(KEY="$key" RATE="$rate" CONNS="$CONNS" THREADS="$THREADS" \
    wrk -t "$THREADS" -c "$CONNS" -d "$DURATION" --timeout 10s -s "$LUA" "$url" 2>&1 | grep '^RESULT' || true)"
  echo "$out" | sed -E 's/RESULT rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) errors=([0-9]+) non2xx=([0-9]+)/\1 \2 \3 \4+\5/'
}

echo "| target | load | achieved req/s | p50 ms | p99 ms | added p99 ms (vs direct) | hegui's own added p99 | errors |"
echo "|---|---|---|---|---|---|---|---|"
for rate in $RATES max; do
  r="$rate"; [ "$rate" = max ] && r=0
  log "direct @ $rate"
  read -r d_rps d_p50 d_p99 d_err <<<"$(run "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" none "$r")"
  echo "| mock direct | $rate | $d_rps | $d_p50 | $d_p99 | – | – | $d_err |"
  log "hegui @ $rate"
  before="$(added_p99)"
  read -r h_rps h_p50 h_p99 h_err <<<"$(run "http://127.0.0.1:$HEGUI_PORT/v1/chat/completions" "$BENCH_KEY" "$r")"
  own="$(p99_from "$before" "$(added_p99)")"
  added="$(python3 -c "print('%.3f' % ($h_p99 - $d_p99))")"
  echo "| hegui (all guards, durable ledger) | $rate | $h_rps | $h_p50 | $h_p99 | $added | $own | $h_err |"
  if [ -n "$LITELLM" ]; then
    log "litellm @ $rate"
    read -r l_rps l_p50 l_p99 l_err <<<"$(run "$LITELLM" mock "$r")"
    added="$(python3 -c "print('%.3f' % ($l_p99 - $d_p99))")"
    echo "| LiteLLM proxy 1.102.4 | $rate | $l_rps | $l_p50 | $l_p99 | $added | – | $l_err |"
  fi
done
echo
echo "Streaming (sequential requests; mock: 50 ms to the first token, then 4 characters every 10 ms):"
echo
echo "| target | TTFT p50 ms | TTFT p99 ms | mean gap between content chunks ms |"
echo "|---|---|---|---|"
read -r a b c <<<"$(python3 bench/gateway/stream_ttft.py "http://127.0.0.1:$STREAM_MOCK_PORT/v1/chat/completions" none mock-stream 50)"
echo "| mock direct | $a | $b | $c |"
read -r a b c <<<"$(python3 bench/gateway/stream_ttft.py "http://127.0.0.1:$HEGUI_PORT/v1/chat/completions" "$BENCH_KEY" mock-stream 50)"
echo "| hegui (output guard with hold-back) | $a | $b | $c |"
if [ -n "$LITELLM" ]; then
  read -r a b c <<<"$(python3 bench/gateway/stream_ttft.py "$LITELLM" mock mock-stream 50)"
  echo "| LiteLLM proxy 1.102.4 | $a | $b | $c |"
fi
curl -s "http://127.0.0.1:$HEGUI_PORT/metrics" | grep -E '^hegui_audit_commit_seconds_(bucket|count)' >&2 || true
log "done; machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
