#!/usr/bin/env bash
# CPU time per request (not run in CI): what each request costs the gateway's process, its
# ledger writer thread, the mock upstream and the whole machine, at a constant rate below the
# limit. The maximum rate of a target on these two cores is set by this cost (with the load
# generator's and the mock's), so this shows where hegui's maximum goes against pass-through
# without the noise of a maximum search.
#
# Targets, each its own `hegui serve` (the same binary and config as openloop.sh):
#   hegui   every guard, the durable SQLite ledger
#   tmpfs   the same with its ledger on /dev/shm (fsync returns at once: the disk's share)
#   pass    `pass-through = true` (no guard, no label, no record)
# ROUNDS rounds, each measuring every target in turn (interleaved); medians over rounds.
# CPU is user + system time from /proc/PID/stat (the writer: /proc/PID/task/TID/stat of the
# threads named hegui-audit*), and the machine's from /proc/stat (user, nice, system, irq,
# softirq), divided by the requests completed.
#
# Usage: bench/gateway/cpu.sh
#   env: RATE=4000 DURATION=10 ROUNDS=3 CONNS=50 SKIP_BUILD=1
# Output: a Markdown table on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
RATE="${RATE:-4000}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-50}"
MOCK_PORT=9341
HEGUI_PORT=9342
PASS_PORT=9344
TMPFS_PORT=9345

log() { echo "[cpu] $(date -u +%H:%M:%S) $*" >&2; }
. bench/gateway/lib.sh

build_gateway
build_loadgen
stack_init
start_mock "$MOCK_PORT" "$WORK/mock.log"
MOCK_PID="${PIDS[-1]}"
BENCH_KEY="$(new_key)"
bench_config "$HEGUI_PORT" "sqlite:$WORK/bench.db" "$MOCK_PORT" > "$WORK/hegui.toml"
start_hegui "$WORK/hegui.toml" "$WORK/hegui.log"
declare -A PID_OF PORT_OF=([hegui]=$HEGUI_PORT [pass]=$PASS_PORT [tmpfs]=$TMPFS_PORT)
PID_OF[hegui]=$HEGUI_PID
start_tmpfs "$TMPFS_PORT"
PID_OF[tmpfs]=$HEGUI_PID
start_pass "$PASS_PORT"
PID_OF[pass]=$HEGUI_PID

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The ledger writer's threads (0 when there is none: pass-through). The comm field has no
# spaces here, so the field numbers hold.
writer_ticks() {
  local sum=0 task
  for task in /proc/"$1"/task/*; do
    if grep -q '^hegui-audit' "$task/comm" 2>/dev/null; then
      sum=$((sum + $(ticks "$1/task/${task##*/}")))
    fi
  done
  echo "$sum"
}
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
log "load $(load3); $RATE req/s, ${DURATION}s per target, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  for target in hegui tmpfs pass; do
    pid="${PID_OF[$target]}"
    g0=$(ticks "$pid"); w0=$(writer_ticks "$pid"); m0=$(ticks "$MOCK_PID"); s0=$(machine_ticks)
    out="$("$BIN/hegui-loadgen" --url "http://127.0.0.1:${PORT_OF[$target]}/v1/chat/completions" \
      --rate "$RATE" --duration "$DURATION" --connections "$CONNS" --threads 1 \
      -H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/json' --body "$CHAT_BODY")"
    g1=$(ticks "$pid"); w1=$(writer_ticks "$pid"); m1=$(ticks "$MOCK_PID"); s1=$(machine_ticks)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" $((g1 - g0)) $((w1 - w0)) \
      $((m1 - m0)) $((s1 - s0)) "$out" >> "$RESULTS"
    log "round $round: $target done"
  done
done
log "load $(load3)"

python3 - "$RESULTS" "$(getconf CLK_TCK)" "$RATE" "$DURATION" "$ROUNDS" <<'PY'
import json, statistics, sys
path, hz, rate, duration, rounds = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
rows = {}
for line in open(path):
    round_, target, gateway, writer, mock, machine, out = line.rstrip("\n").split("\t")
    result = json.loads(out)
    n = max(result["completed"], 1)
    per = lambda ticks: int(ticks) * 1e6 / hz / n
    rows.setdefault(target, []).append(
        (per(gateway), per(writer), per(mock), per(machine), result["achieved_rps"], result["p99_ms"]))
names = {"hegui": "hegui (all guards, durable ledger)",
         "tmpfs": "hegui, ledger on tmpfs (not durable)",
         "pass": "hegui pass-through (no guard, no ledger)"}
print(f"{rounds} rounds × {duration} s at {rate} req/s, interleaved; µs of CPU per request "
      "(user + system), median (rounds).\n")
print("| target | gateway process | of which the ledger writer | mock | whole machine | achieved req/s | p99 ms |")
print("|---|---|---|---|---|---|---|")
for target in ("hegui", "tmpfs", "pass"):
    cols = list(zip(*rows[target]))
    cell = lambda values, fmt="{:.0f}": fmt.format(statistics.median(values)) + " (" + \
        " / ".join(fmt.format(v) for v in values) + ")"
    print(f"| {names[target]} | {cell(cols[0])} | {cell(cols[1])} | {cell(cols[2])} | "
          f"{cell(cols[3])} | {statistics.median(cols[4]):.0f} | {cell(cols[5], '{:.2f}')} |")
PY
