#!/usr/bin/env bash
# Where a guarded request's time goes: `hegui serve` (every guard, the durable SQLite ledger)
# and the mock upstream on loopback, a constant-rate open-loop load from hegui-loadgen, and
# `perf record -g` on the gateway's process for the middle of the run. Prints the loadgen's
# summary and the top of `perf report` (self time, then children).
#
#   RATE=8000 DURATION=20 bench/gateway/profile.sh        # defaults: 8000 req/s for 20 s
#   STREAM=1 bench/gateway/profile.sh                      # streamed requests instead
#   PERF_OUT=/tmp/perf.data bench/gateway/profile.sh       # keep the recording
#
# Needs `perf` (Debian: linux-perf). The release profile keeps line tables, so frames resolve.
set -euo pipefail
cd "$(dirname "$0")/../.."
RATE="${RATE:-8000}"
DURATION="${DURATION:-20}"
CONNS="${CONNS:-50}"
MOCK_PORT=9331
HEGUI_PORT=9332
STREAM="${STREAM:-0}"

log() { echo "[profile] $(date -u +%H:%M:%S) $*" >&2; }
. bench/gateway/lib.sh
if [ "$STREAM" = 1 ]; then
  BODY='{"model":"mock-chat","stream":true,"messages":[{"role":"user","content":"你好，请介绍一下你自己"}]}'
else
  BODY="$CHAT_BODY"
fi
command -v perf >/dev/null || { log "perf is missing (apt-get install linux-perf)"; exit 1; }

build_gateway
build_loadgen
stack_init
start_mock "$MOCK_PORT" "$WORK/mock.log"
BENCH_KEY="$(new_key)"
bench_config "$HEGUI_PORT" "sqlite:$WORK/bench.db" "$MOCK_PORT" > "$WORK/hegui.toml"
start_hegui "$WORK/hegui.toml" "$WORK/hegui.log"
LOADGEN="$CARGO_TARGET_DIR/release/hegui-loadgen"
[ -x "$LOADGEN" ] || LOADGEN="bench/loadgen/target/release/hegui-loadgen"

log "load $(load3); $RATE req/s for ${DURATION}s, perf on pid $HEGUI_PID"
"$LOADGEN" --url "http://127.0.0.1:$HEGUI_PORT/v1/chat/completions" --rate "$RATE" \
  --duration "$DURATION" --connections "$CONNS" -H "Authorization: Bearer $BENCH_KEY" \
  -H 'Content-Type: application/json' --body "$BODY" > "$WORK/loadgen.json" &
LOAD_PID=$!
sleep $((DURATION / 4))
perf record -F 999 -g -p "$HEGUI_PID" -o "$WORK/perf.data" -- sleep $((DURATION / 2)) 2>/dev/null
wait "$LOAD_PID"
log "load $(load3)"
cat "$WORK/loadgen.json"
echo
perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -8
echo "--- self"
perf report -i "$WORK/perf.data" --no-children --sort symbol --percent-limit 0.7 --stdio 2>/dev/null \
  | grep -E "^ +[0-9]" | sed -E "s/ {2,}/ /g" | cut -c1-110 | head -40
echo "--- the gateway's own code, with children"
perf report -i "$WORK/perf.data" --children --dsos hegui --sort symbol --percent-limit 1.5 --stdio 2>/dev/null \
  | grep -E "^ +[0-9]" | sed -E "s/ {2,}/ /g" | cut -c1-150 | head -70
[ -n "${PERF_OUT:-}" ] && cp "$WORK/perf.data" "$PERF_OUT"
echo "--- with children"
perf report -i "$WORK/perf.data" --children --sort symbol --percent-limit 3 --stdio 2>/dev/null \
  | grep -E "^ +[0-9]" | sed -E "s/ {2,}/ /g" | cut -c1-110 | head -60
