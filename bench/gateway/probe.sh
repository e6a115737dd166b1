#!/usr/bin/env bash
# The attacker's probe of issue 22 (not run in CI): starts the mock upstream and `hegui serve`
# with a config made for probing, then runs probe.py against it: one numbered check per item of
# the issue that can be observed from outside (text past the guards, bounded records, slow and
# idle connections, one concurrency limit, end-user ids, log injection, refusals on the record,
# kill -9 mid-stream, the small ones, the sample lexicon), each PASS or FAIL with what it saw.
#
# The config: header-read-secs 2 and body-read-secs 3 (so that the timeout checks take
# seconds), concurrency 8 with queue-ms 300 and upstream-timeout-secs 4 (so that eight slow
# requests fill the gateway), case-insensitive end-user ids, a suspension after two blocked
# inputs, 2 requests/s per end user (burst 4), and a second upstream that cannot be reached
# (for the 502 message). The last check kills the gateway with SIGKILL.
#
# Usage: bench/gateway/probe.sh   (env: ONLY=1,5 runs only those items; KEEP=1 keeps the work
#                                  directory with the gateway's log and the ledger)
# Output: Markdown on stdout; progress on stderr; exit 1 if any check FAILs.
set -euo pipefail
cd "$(dirname "$0")/../.."
MOCK_PORT=9341
HEGUI_PORT=9342
HEADER_READ_SECS=2
BODY_READ_SECS=3
CONCURRENCY=8

log() { echo "[probe] $(date -u +%H:%M:%S) $*" >&2; }
. bench/gateway/lib.sh

build_gateway
stack_init
if [ "${KEEP:-0}" = 1 ]; then trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; log "kept $WORK"' EXIT; fi
start_mock "$MOCK_PORT" "$WORK/mock.log"
BENCH_KEY="$(new_key)"
{
  MODELS='"mock-chat", "mock-embed", "mock-image", "mock-tts"' USER_RPS=2.0 \
    bench_config "$HEGUI_PORT" "sqlite:$WORK/probe.db" "$MOCK_PORT"
  cat <<TOML
user-burst = 4.0
case-insensitive-users = true

[limits]
header-read-secs = $HEADER_READ_SECS
body-read-secs = $BODY_READ_SECS
concurrency = $CONCURRENCY
queue-ms = 300
upstream-timeout-secs = 4

[[upstreams]]
name = "internal"
base-url = "http://127.0.0.1:9/internal-secret/v1"
models = ["down-model"]

[policy]
warn-after = 0
restrict-after = 0
suspend-after = 2
daily-suspend-after = 0
TOML
} > "$WORK/hegui.toml"
# info: the log-injection check reads what the gateway logs about each request.
start_hegui "$WORK/hegui.toml" "$WORK/hegui.log" RUST_LOG=info

log "gateway $HEGUI_PID on port $HEGUI_PORT; load $(load3)"
status=0
HEGUI_URL="http://127.0.0.1:$HEGUI_PORT" HEGUI_KEY="$BENCH_KEY" HEGUI_BIN="$BIN/hegui" \
  HEGUI_DB="sqlite:$WORK/probe.db" HEGUI_PID="$HEGUI_PID" HEGUI_LOG="$WORK/hegui.log" \
  HEADER_READ_SECS="$HEADER_READ_SECS" BODY_READ_SECS="$BODY_READ_SECS" CONCURRENCY="$CONCURRENCY" \
  BODY_BYTES=$((4 * 1024 * 1024)) python3 bench/gateway/probe.py || status=$?
echo
echo "Run: $(date -u '+%Y-%m-%d %H:%M:%S') UTC, $(git rev-parse --short HEAD); load average $(load3)."
exit "$status"
