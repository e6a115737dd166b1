#!/usr/bin/env bash
# Goodput under overload (issue 22, item 6; not run in CI): successful answers per second when
# far more clients are connected than the gateway can serve at once, against the best goodput
# at a modest connection count. Target: goodput under overload ≥ 80 % of the best.
#
# Stack as run.sh: the mock upstream on loopback, here with a fixed delay (MOCK_MS) so that
# requests are in flight; hegui with every guard on and the durable SQLite ledger, limits at
# their defaults (one gateway-wide `limits.concurrency` = 4096, `queue-ms` = 1000,
# `connections` = 10000). Load: Debian's `wrk`, closed loop (each connection sends its next
# request when the previous one is answered), no delay; status.lua counts the answers by status.
# Goodput = 200s / duration. A 503 is `overloaded` (no slot within `queue-ms`).
#
# Rounds: ROUNDS rounds, each measuring every connection count in turn (interleaved, so that a
# slow spell of the machine hits every count alike); medians over rounds are reported. The best
# goodput is the highest median among BEST_CONNS; the ratio of each count is its median over
# the best, with the per-round ratios (count ÷ best count of the same round) beside it.
#
# Usage: bench/gateway/overload.sh
#   env: ROUNDS=3 DURATION=20 BEST_CONNS="64 256" OVER_CONNS="1000 5000 10000" THREADS=2
#        MOCK_MS=20 (the mock's delay) QUIET_LOAD=1.5 QUIET_WAIT=600 (wait for a quiet machine)
#        RESULTS=file.jsonl (raw results, one JSON line per run; default: a temp file)
#   The file-descriptor limit is raised to the hard limit; a count that does not fit (wrk and
#   hegui each need about one descriptor per connection, hegui one more per upstream
#   connection) is skipped with a note.
# Output: Markdown on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-20}"
BEST_CONNS="${BEST_CONNS:-64 256}"
OVER_CONNS="${OVER_CONNS:-1000 5000 10000}"
THREADS="${THREADS:-2}"
MOCK_MS="${MOCK_MS:-20}"
MOCK_PORT=9321
HEGUI_PORT=9322
URL="http://127.0.0.1:$HEGUI_PORT/v1/chat/completions"

log() { echo "[overload] $(date -u +%H:%M:%S) $*" >&2; }
. bench/gateway/lib.sh

command -v wrk >/dev/null || { log "wrk not found: install it first (Debian: apt-get install wrk)"; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
FDS="$(ulimit -n)"

build_gateway
stack_init
RESULTS="${RESULTS:-$WORK/results.jsonl}"
: > "$RESULTS"

start_mock "$MOCK_PORT" "$WORK/mock.log" --latency-ms "$MOCK_MS"
BENCH_KEY="$(new_key)"
bench_config "$HEGUI_PORT" "sqlite:$WORK/overload.db" "$MOCK_PORT" > "$WORK/hegui.toml"
start_hegui "$WORK/hegui.toml" "$WORK/hegui.log"

# Client connections open to the gateway (any state but listening and TIME-WAIT).
clients() { ss -Htn state connected "( sport = :$HEGUI_PORT )" | grep -vc TIME-WAIT || true; }

# After a run, wait (up to 60 s) until the gateway has closed the run's connections.
settle() {
  for _ in $(seq 1 120); do
    [ "$(clients)" -lt 10 ] && return 0
    sleep 0.5
  done
  log "$(clients) connections to hegui still open"
}

# measure CONNS ROUND → appends one JSON line to $RESULTS
measure() {
  local conns="$1" round="$2" before after out
  before="$(load1)"
  out="$(KEY="$BENCH_KEY" wrk -t "$THREADS" -c "$conns" -d "${DURATION}s" --timeout 10s \
    -s bench/gateway/status.lua "$URL" 2>&1 | grep '^RESULT' || true)"
  after="$(load1)"
  if [ -z "$out" ]; then
    log "wrk gave no result at $conns connections"
    out="RESULT ok=0 s503=0 other=0 errors=-1 duration_s=$DURATION p50_ms=0 p99_ms=0"
  fi
  python3 - "$conns" "$round" "$before" "$after" "$out" >> "$RESULTS" <<'PY'
import json, sys
conns, rnd, before, after, line = sys.argv[1:]
r = dict(kv.split("=") for kv in line.split()[1:])
r = {k: float(v) for k, v in r.items()}
r.update(conns=int(conns), round=int(rnd), load_before=float(before), load_after=float(after))
print(json.dumps(r))
PY
  settle
}

wait_quiet
START_UTC="$(date -u '+%Y-%m-%d %H:%M:%S')"
START_LOAD="$(load3)"
log "start at load $START_LOAD; descriptors: $FDS"

# Warm-up (connections, caches, the SQLite file): 5 s at the first best count, not recorded.
KEY="$BENCH_KEY" wrk -t "$THREADS" -c "${BEST_CONNS%% *}" -d 5s -s bench/gateway/status.lua "$URL" >/dev/null 2>&1

SKIPPED=""
for round in $(seq 1 "$ROUNDS"); do
  for conns in $BEST_CONNS $OVER_CONNS; do
    # wrk: one descriptor per connection; hegui: one per client connection (at most
    # limits.connections) and one per upstream connection (at most limits.concurrency).
    if [ $((conns + 4096 + 256)) -gt "$FDS" ]; then
      case " $SKIPPED " in *" $conns "*) ;; *) SKIPPED="$SKIPPED $conns" ;; esac
      continue
    fi
    log "round $round: $conns connections"
    measure "$conns" "$round"
  done
done
END_LOAD="$(load3)"
PEAK="$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$HEGUI_PID/status")"

echo "Run: $START_UTC UTC; $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1));"
echo "load average at start $START_LOAD, at end $END_LOAD. $ROUNDS rounds × ${DURATION} s per count,"
echo "wrk $THREADS threads, closed loop; mock delay $MOCK_MS ms; limits at their defaults."
[ -n "$SKIPPED" ] && echo "Skipped (file-descriptor limit $FDS):$SKIPPED connections."
echo
python3 - "$RESULTS" "$BEST_CONNS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best_counts = [int(c) for c in sys.argv[2].split()]
med = statistics.median
by = {}
for r in rows:
    r["goodput"] = r["ok"] / r["duration_s"] if r["duration_s"] else 0.0
    by.setdefault(r["conns"], []).append(r)
if not by:
    sys.exit("no results")
medians = {c: med(r["goodput"] for r in rs) for c, rs in by.items()}
best_conns = max((c for c in best_counts if c in by), key=lambda c: medians[c])
best = medians[best_conns]
best_round = {r["round"]: r["goodput"] for r in by[best_conns]}
print("| connections | goodput req/s, median (rounds) | 503s (share of answers) | other statuses | socket errors + timeouts | p50 / p99 ms (median) | goodput ÷ best, median (per round) | load before→after |")
print("|---:|---|---|---:|---:|---|---|---|")
verdicts = []
for c in sorted(by):
    rs = sorted(by[c], key=lambda r: r["round"])
    answers = sum(r["ok"] + r["s503"] + r["other"] for r in rs)
    s503 = sum(r["s503"] for r in rs)
    share = 100 * s503 / answers if answers else 0
    ratio = medians[c] / best if best else 0
    per = " / ".join("%.0f %%" % (100 * r["goodput"] / best_round[r["round"]])
                     for r in rs if best_round.get(r["round"]))
    each = " / ".join("%.0f" % r["goodput"] for r in rs)
    loads = ", ".join("%.2f→%.2f" % (r["load_before"], r["load_after"]) for r in rs)
    print(f"| {c} | {medians[c]:.0f} ({each}) | {s503:.0f} ({share:.1f} %) | {sum(r['other'] for r in rs):.0f} "
          f"| {sum(r['errors'] for r in rs):.0f} | {med(r['p50_ms'] for r in rs):.0f} / {med(r['p99_ms'] for r in rs):.0f} "
          f"| {100 * ratio:.0f} % ({per}) | {loads} |")
    if c not in best_counts:
        verdicts.append((c, ratio))
print()
print(f"Best goodput: {best:.0f} req/s at {best_conns} connections (median of {len(by[best_conns])} rounds).")
met = [f"{c} ({100 * r:.0f} %)" for c, r in verdicts if r >= 0.8]
missed = [f"{c} ({100 * r:.0f} %)" for c, r in verdicts if r < 0.8]
print("Target (goodput under overload ≥ 80 % of the best): "
      + ("met at " + ", ".join(met) + " connections" if met else "met at no count")
      + ("; NOT met at " + ", ".join(missed) + " connections." if missed else "."))
PY
echo
echo "hegui peak resident memory over the whole run (VmHWM): $PEAK MiB."
log "done"
