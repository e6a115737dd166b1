#!/usr/bin/env bash
# Gateway benchmark, open loop (not run in CI): constant-rate load with coordinated-omission
# correction from bench/loadgen (wrk2-style: request i is scheduled at i/RATE and its latency is
# measured from that intended time, so a stall is charged to every request it delays).
#
# Same stack as run.sh: the mock upstream on loopback; hegui with every guard on (auth, user
# state, rate-limit check, lexicon input guard, output guard, explicit + implicit label) and the
# durable SQLite audit ledger; LiteLLM proxy 1.102.4 (config only, no database) against the same
# mock; and the same hegui binary with `pass-through = true` (no guard, no label, no audit
# record: what this stack does on these cores without hegui's duties).
#
# Fixed rates: ROUNDS rounds, each round measuring every RATE against every target in turn
# (interleaved, so a slow spell of the machine hits all targets alike); medians over the rounds
# are reported. Added p99 = p99 through the proxy − p99 direct, same rate and same round, median
# over rounds. Then the maximum sustainable rate of each target: the highest rate whose achieved
# rate is within 2 % of the target and whose p99 < 50 ms, found by doubling then bisecting. The
# searches for hegui and pass-through run MAX_ROUNDS times, the two alternating (which goes first
# alternates too), and their ratio is the median of the per-round ratios: a search takes minutes,
# and the machine's speed drifts over that time. The direct mock and LiteLLM are searched once.
#
# Every round also measures the disk itself (`disk` row, bench/loadgen's hegui-diskprobe): at
# the same rate, a 16 KiB write per job on a ring file next to hegui's ledger and one `fsync`
# per commit, the jobs that fell due during a commit going into the next (group commit, as
# hegui's writer does). That is the floor of any durable ledger on this disk; "added p99 above
# the disk" (hegui's added p99 − the disk's p99, per round) is what hegui adds beyond it, and
# that minus pass-through's added p99 what it adds beyond proxying and the disk together (the
# guards, the record, the hand-offs). The disk's own stalls (tens of ms, now and then) show in
# that row first.
#
# TMPFS=1 adds a diagnostic target to the fixed rates: the same hegui config with its ledger on
# tmpfs (/dev/shm: a commit's fsync returns at once, so the ledger is NOT durable there). The
# difference between its added p99 and hegui's is what waiting for the disk costs.
#
# Usage: bench/gateway/openloop.sh
#   env: RATES="100 500 1000" DURATION=15 ROUNDS=3 CONNS=50 LOADGEN_THREADS=1
#        MAX_DURATION=10 MAX_ROUNDS=3 SKIP_MAX=1 SKIP_LITELLM=1 TMPFS=1
#        QUIET_LOAD=1.5 QUIET_WAIT=600 (wait up to QUIET_WAIT s for the 1-min load < QUIET_LOAD)
#        RESULTS=file.jsonl (raw results, one JSON line per measurement; default: a temp file)
# Output: Markdown tables on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
RATES="${RATES:-100 500 1000}"
DURATION="${DURATION:-15}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-50}"
LOADGEN_THREADS="${LOADGEN_THREADS:-1}"
MAX_DURATION="${MAX_DURATION:-10}"
MAX_ROUNDS="${MAX_ROUNDS:-3}"
QUIET_LOAD="${QUIET_LOAD:-1.5}"
QUIET_WAIT="${QUIET_WAIT:-600}"
MOCK_PORT=9311
HEGUI_PORT=9312
LITELLM_PORT=9313
PASS_PORT=9314
TMPFS_PORT=9315

log() { echo "[openloop] $(date -u +%H:%M:%S) $*" >&2; }
. bench/gateway/lib.sh

build_gateway
build_loadgen
stack_init
RESULTS="${RESULTS:-$WORK/results.jsonl}"
: > "$RESULTS"

start_mock "$MOCK_PORT" "$WORK/mock.log"

BENCH_KEY="$(new_key)"
bench_config "$HEGUI_PORT" "sqlite:$WORK/bench.db" "$MOCK_PORT" > "$WORK/hegui.toml"
start_hegui "$WORK/hegui.toml" "$WORK/hegui.log"
# The same binary and config with the guards, labels and ledger off, on a database of its own.
start_pass "$PASS_PORT"

TARGETS="direct hegui pass disk"
# The probe's ring file, made now: filling it slows the disk's syncs for a while.
"$BIN/hegui-diskprobe" --file "$WORK/disk.ring" --rate 1000 --duration 1 >/dev/null
if [ "${TMPFS:-0}" = 1 ]; then
  start_tmpfs "$TMPFS_PORT"
  TARGETS="$TARGETS tmpfs"
fi
if [ "${SKIP_LITELLM:-0}" != 1 ]; then
  VENV="$(litellm_venv)"
  cat > "$WORK/litellm.yaml" <<YAML
model_list:
  - model_name: mock-chat
    litellm_params:
      model: openai/mock-chat
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: mock
YAML
  "$VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" \
    >"$WORK/litellm.log" 2>&1 &
  PIDS+=($!)
  LITELLM_PID=$!
  wait_port "$LITELLM_PORT" && TARGETS="$TARGETS litellm"
fi

# After an overloaded run LiteLLM keeps working through its backlog for a while; wait (up to
# 60 s) until it uses < 5 % of a core, so that it does not slow the next measurement.
settle() {
  [ "$1" = litellm ] || return 0
  local hz t0 t1
  hz="$(getconf CLK_TCK)"
  for _ in $(seq 1 60); do
    t0="$(awk '{ print $14 + $15 }' "/proc/$LITELLM_PID/stat")"; sleep 1
    t1="$(awk '{ print $14 + $15 }' "/proc/$LITELLM_PID/stat")"
    [ $(((t1 - t0) * 100 / hz)) -lt 5 ] && return 0
  done
}

url_of() {
  case "$1" in
    direct) echo "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" ;;
    hegui) echo "http://127.0.0.1:$HEGUI_PORT/v1/chat/completions" ;;
    pass) echo "http://127.0.0.1:$PASS_PORT/v1/chat/completions" ;;
    tmpfs) echo "http://127.0.0.1:$TMPFS_PORT/v1/chat/completions" ;;
    litellm) echo "http://127.0.0.1:$LITELLM_PORT/v1/chat/completions" ;;
  esac
}
key_of() { case "$1" in hegui | pass | tmpfs) echo "$BENCH_KEY" ;; *) echo mock ;; esac; }

# measure KIND TARGET RATE ROUND DURATION → appends one JSON line to $RESULTS and echoes it
measure() {
  local kind="$1" target="$2" rate="$3" round="$4" dur="$5" before after out
  before="$(load1)"
  if [ "$target" = disk ]; then
    out="$("$BIN/hegui-diskprobe" --file "$WORK/disk.ring" --rate "$rate" --duration "$dur")"
  else
    out="$("$BIN/hegui-loadgen" --url "$(url_of "$target")" --rate "$rate" --duration "$dur" \
      --connections "$CONNS" --threads "$LOADGEN_THREADS" \
      -H "Authorization: Bearer $(key_of "$target")" -H 'Content-Type: application/json' \
      --body "$CHAT_BODY")"
  fi
  after="$(load1)"
  out="{\"kind\":\"$kind\",\"target\":\"$target\",\"rate\":$rate,\"round\":$round,\"load_before\":$before,\"load_after\":$after,\"at\":\"$(date -u +%H:%M:%S)\",\"r\":$out}"
  echo "$out" >> "$RESULTS"
  echo "$out"
}

wait_quiet
START_UTC="$(date -u '+%Y-%m-%d %H:%M:%S')"
START_LOAD="$(load3)"
log "start at load $START_LOAD; targets: $TARGETS"

# Warm-up (connections, caches, SQLite file): 3 s at 200 req/s each, not recorded.
for t in ${TARGETS/disk/}; do
  "$BIN/hegui-loadgen" --url "$(url_of "$t")" --rate 200 --duration 3 --connections "$CONNS" \
    -H "Authorization: Bearer $(key_of "$t")" -H 'Content-Type: application/json' --body "$CHAT_BODY" >/dev/null
done

for round in $(seq 1 "$ROUNDS"); do
  for rate in $RATES; do
    for t in $TARGETS; do
      log "round $round: $t @ $rate req/s"
      measure fixed "$t" "$rate" "$round" "$DURATION" >/dev/null
      settle "$t"
    done
  done
done

# Maximum sustainable rate: double from START until a step fails, then bisect BISECT times.
passes() { # json line → exit 0 if achieved within 2 % of target and p99 < 50 ms
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); r=d["r"]
sys.exit(0 if r["achieved_rps"] >= 0.98*d["rate"] and r["p99_ms"] < 50 and r["socket_errors"]+r["timeouts"]+r["non2xx"] == 0 else 1)' "$1"
}
find_max() { # target start round
  local t="$1" lo=0 hi=0 rate="$2" round="$3" line
  while :; do
    log "max, round $round: $t @ $rate req/s"
    line="$(measure max "$t" "$rate" "$round" "$MAX_DURATION")"
    settle "$t"
    if passes "$line"; then lo=$rate; rate=$((rate * 2)); else hi=$rate; break; fi
    [ "$rate" -gt 256000 ] && return 0
  done
  for _ in 1 2 3; do
    if [ "$lo" -eq 0 ]; then rate=$((hi / 2)); else rate=$(((lo + hi) / 2)); fi
    [ "$rate" -le 0 ] && return 0
    log "max, round $round: $t @ $rate req/s"
    line="$(measure max "$t" "$rate" "$round" "$MAX_DURATION")"
    settle "$t"
    if passes "$line"; then lo=$rate; else hi=$rate; fi
  done
}
if [ "${SKIP_MAX:-0}" != 1 ]; then
  for t in $TARGETS; do
    case "$t" in litellm) find_max "$t" 25 1 ;; direct) find_max "$t" 1000 1 ;; esac
  done
  for round in $(seq 1 "$MAX_ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then pair="hegui pass"; else pair="pass hegui"; fi
    for t in $pair; do find_max "$t" 1000 "$round"; done
  done
fi
END_LOAD="$(load3)"

echo "Run: $START_UTC UTC, $(nproc) cores; load average at start $START_LOAD, at end $END_LOAD;"
echo "$ROUNDS rounds × ${DURATION} s per rate and target, $CONNS connections, loadgen $LOADGEN_THREADS thread(s)."
echo
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
name = {"direct": "mock direct", "hegui": "hegui (all guards, durable ledger)",
        "pass": "hegui pass-through (no guard, no ledger)", "litellm": "LiteLLM proxy 1.102.4",
        "tmpfs": "hegui, ledger on tmpfs (diagnostic, not durable)",
        "disk": "the disk alone: 16 KiB write + fsync per job, group-committed (the floor of a durable ledger)"}
med = statistics.median
fixed = [r for r in rows if r["kind"] == "fixed"]
by = {}
for r in fixed:
    by.setdefault((r["target"], r["rate"]), []).append(r)
direct = {(r["rate"], r["round"]): r["r"]["p99_ms"] for r in fixed if r["target"] == "direct"}
print("| target | rate req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | added p99 ms vs direct | errors | load before→after |")
print("|---|---|---|---|---|---|---|---|---|")
rates = sorted({r["rate"] for r in fixed})
for rate in rates:
    for t in ("direct", "hegui", "pass", "tmpfs", "litellm", "disk"):
        rs = by.get((t, rate))
        if not rs:
            continue
        m = lambda k: med(x["r"][k] for x in rs)
        errs = sum(x["r"]["non2xx"] + x["r"]["socket_errors"] + x["r"]["timeouts"] for x in rs)
        dropped = sum(x["r"]["dropped"] for x in rs)
        added = "–" if t in ("direct", "disk") else "%.3f" % med(x["r"]["p99_ms"] - direct[(rate, x["round"])] for x in rs)
        each = " / ".join("%.3f" % x["r"]["p99_ms"] for x in rs)
        loads = ", ".join("%s→%s" % (x["load_before"], x["load_after"]) for x in rs)
        err = str(errs) + (" (+%d unsent at the end)" % dropped if dropped else "")
        print(f"| {name[t]} | {rate} | {m('achieved_rps'):.1f} | {m('p50_ms'):.3f} | {m('p99_ms'):.3f} (rounds: {each}) | {m('p999_ms'):.3f} | {added} | {err} | {loads} |")
print()
disk = {(r["rate"], r["round"]): r["r"]["p99_ms"] for r in fixed if r["target"] == "disk"}
for rate in rates:
    rs = [x for x in by.get(("hegui", rate), []) if (rate, x["round"]) in disk]
    if rs:
        above = [x["r"]["p99_ms"] - direct[(rate, x["round"])] - disk[(rate, x["round"])] for x in rs]
        print("hegui at %d req/s, added p99 above the disk's own p99 (per round): %s; median **%.3f ms**"
              % (rate, " / ".join("%.3f" % a for a in above), med(above)))
        # What hegui adds beyond proxying (pass-through) and the disk's floor, per round.
        passed = {x["round"]: x["r"]["p99_ms"] for x in by.get(("pass", rate), [])}
        beyond = [a - (passed[x["round"]] - direct[(rate, x["round"])])
                  for a, x in zip(above, rs) if x["round"] in passed]
        if beyond:
            print("hegui at %d req/s, added p99 − (pass-through's added p99 + the disk's p99), per round: %s; median **%.3f ms**"
                  % (rate, " / ".join("%.3f" % b for b in beyond), med(beyond)))
print()
mx = [r for r in rows if r["kind"] == "max"]
if mx:
    print("Maximum sustainable rate (achieved ≥ 98 %% of the target, p99 < 50 ms, no errors; each step %s s):" % mx[0]["r"]["duration_s"])
    print()
    print("| target | round | steps (rate: achieved, p99 ms) | maximum req/s |")
    print("|---|---|---|---|")
    ok = lambda r: (r["r"]["achieved_rps"] >= 0.98 * r["rate"] and r["r"]["p99_ms"] < 50
                    and r["r"]["non2xx"] + r["r"]["socket_errors"] + r["r"]["timeouts"] == 0)
    best = {}  # target → {round: maximum}
    for t in ("direct", "hegui", "pass", "litellm"):
        for rnd in sorted({r["round"] for r in mx if r["target"] == t}):
            rs = [r for r in mx if r["target"] == t and r["round"] == rnd]
            good = [r["rate"] for r in rs if ok(r)]
            best.setdefault(t, {})[rnd] = max(good) if good else 0
            steps = "; ".join("%d: %.0f, %.1f" % (r["rate"], r["r"]["achieved_rps"], r["r"]["p99_ms"]) for r in rs)
            shown = best[t][rnd] if good else "< %d" % min(r["rate"] for r in rs)
            print(f"| {name[t]} | {rnd} | {steps} | {shown} |")
    top = {t: med(v.values()) for t, v in best.items()}
    print()
    if top.get("hegui") and top.get("litellm"):
        print("hegui (median maximum) / LiteLLM maximum: %.1f×" % (top["hegui"] / top["litellm"]))
    rounds = sorted(set(best.get("hegui", {})) & set(best.get("pass", {})))
    ratios = [best["hegui"][r] / best["pass"][r] for r in rounds if best["pass"][r]]
    if ratios:
        print("hegui / the same binary in pass-through, maximum, per round: %s; median **%.0f %%**"
              % (", ".join("%.0f %%" % (100 * x) for x in ratios), 100 * med(ratios)))
    if top.get("hegui") and top.get("direct"):
        print("hegui (median maximum) / mock direct maximum: %.0f %%" % (100 * top["hegui"] / top["direct"]))
PY
log "done"
