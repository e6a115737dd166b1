#!/usr/bin/env bash
# Peak memory under a flood of hits (issue 22, item 4; not run in CI): one chat request whose
# content is one blocked word of the sample lexicon repeated to SIZE bytes, then six such
# requests at once. Measured: the peak resident memory of the hegui process (VmHWM in
# /proc/PID/status; a fresh process for each measurement, since VmHWM only grows), its resident
# memory when the requests are done, and, from the request's audit record
# (`hegui audit trace ID`, the id from the `x-hegui-record-id` header), the size of the stored
# verdicts and the hits kept against the hits counted. Before the fix one such request peaked at
# 1.66 GB and six at 4.0 GB, with 36 MB of verdicts in the record.
#
# Stack as run.sh (mock upstream, hegui with every guard and the SQLite ledger), with
# `limits.body-bytes` raised so that the request is read whole; the input guard blocks it, so
# the upstream is not called.
#
# Usage: bench/gateway/flood.sh
#   env: ROUNDS=3 SIZE=4194304 (bytes of content) WORD=冰毒 (repeated without a separator)
#        AT_ONCE="1 6" (requests at once, one measurement each per round)
# Output: Markdown on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${ROUNDS:-3}"
SIZE="${SIZE:-4194304}"
WORD="${WORD:-冰毒}"
AT_ONCE="${AT_ONCE:-1 6}"
MOCK_PORT=9331
HEGUI_PORT=9332
URL="http://127.0.0.1:$HEGUI_PORT/v1/chat/completions"

log() { echo "[flood] $(date -u +%H:%M:%S) $*" >&2; }
. bench/gateway/lib.sh

build_gateway
stack_init
start_mock "$MOCK_PORT" "$WORK/mock.log"
BENCH_KEY="$(new_key)"
DB="$WORK/flood.db"
{
  bench_config "$HEGUI_PORT" "sqlite:$DB" "$MOCK_PORT"
  printf '\n[limits]\n# The content plus its JSON envelope.\nbody-bytes = %d\n' $((SIZE * 2 + 65536))
} > "$WORK/hegui.toml"

python3 - "$WORD" "$SIZE" "$WORK/flood.json" <<'PY'
import json, sys
word, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = size // len(word.encode())
body = {"model": "mock-chat", "messages": [{"role": "user", "content": word * n}]}
open(out, "w").write(json.dumps(body, ensure_ascii=False))
print(f"{n} × {word!r} = {n * len(word.encode())} bytes of content", file=sys.stderr)
PY
REPEATS=$((SIZE / $(printf '%s' "$WORD" | wc -c)))

mib() { awk -v k="$1" '$1 == k":" { printf "%.1f", $2 / 1024 }' "/proc/$HEGUI_PID/status"; }

# measure N ROUND → one JSON line on stdout: a fresh gateway, N requests at once.
measure() {
  local n="$1" round="$2" idle t0 t1 peak after ids codes curls=()
  start_hegui "$WORK/hegui.toml" "$WORK/hegui-$n-$round.log"
  idle="$(mib VmHWM)"
  t0="$(date +%s.%N)"
  for i in $(seq 1 "$n"); do
    curl -s -o /dev/null -D "$WORK/headers-$i" -w '%{http_code}\n' --max-time 300 \
      -H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/json' \
      --data-binary "@$WORK/flood.json" "$URL" > "$WORK/code-$i" &
    curls+=($!)
  done
  wait "${curls[@]}" || true
  t1="$(date +%s.%N)"
  peak="$(mib VmHWM)"
  sleep 2
  after="$(mib VmRSS)"
  codes="$(cat "$WORK"/code-* | sort | uniq -c | awk '{ printf "%s%s×%s", sep, $1, $2; sep = " " }')"
  ids="$(sed -n 's/^x-hegui-record-id: *//Ip' "$WORK"/headers-* | tr -d '\r' | tr '\n' ' ')"
  rm -f "$WORK"/code-* "$WORK"/headers-*
  stop_pid "$HEGUI_PID"
  echo "{\"n\":$n,\"round\":$round,\"idle\":$idle,\"peak\":$peak,\"after\":$after,\"secs\":$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'),\"codes\":\"$codes\",\"ids\":\"$ids\",\"load\":\"$(load3)\"}"
}

START_UTC="$(date -u '+%Y-%m-%d %H:%M:%S')"
START_LOAD="$(load3)"
: > "$WORK/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  for n in $AT_ONCE; do
    log "round $round: $n request(s) at once"
    measure "$n" "$round" >> "$WORK/results.jsonl"
  done
done
END_LOAD="$(load3)"

# The record of the first single request: the verdicts as stored, the hits kept and counted.
ID="$(python3 -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(rows[0]["ids"].split()[0] if rows and rows[0]["ids"].split() else "")' "$WORK/results.jsonl")"
if [ -n "$ID" ]; then
  "$BIN/hegui" audit trace "$ID" --database "sqlite:$DB" > "$WORK/trace.json" 2>"$WORK/trace.err" || true
fi

echo "Run: $START_UTC UTC; $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1));"
echo "load average at start $START_LOAD, at end $END_LOAD. Content: \`$WORD\` × $REPEATS ($SIZE bytes);"
echo "a fresh hegui process per measurement, $ROUNDS rounds."
echo
python3 - "$WORK/results.jsonl" "$WORK/trace.json" "$REPEATS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = statistics.median
print("| requests at once | peak RSS MiB (VmHWM), median (rounds) | RSS at start MiB | RSS 2 s after MiB | answers | seconds | load (1, 5, 15 min) after |")
print("|---:|---|---:|---:|---|---:|---|")
by = {}
for r in rows:
    by.setdefault(r["n"], []).append(r)
for n in sorted(by):
    rs = by[n]
    each = " / ".join("%.1f" % r["peak"] for r in rs)
    codes = "; ".join(sorted({r["codes"] for r in rs}))
    print(f"| {n} | {med(r['peak'] for r in rs):.1f} ({each}) | {med(r['idle'] for r in rs):.1f} "
          f"| {med(r['after'] for r in rs):.1f} | {codes} | {med(r['secs'] for r in rs):.1f} "
          f"| {rs[-1]['load']} |")
print()
try:
    text = open(sys.argv[2]).read()
    record, _ = json.JSONDecoder().raw_decode(text)
except (OSError, ValueError):
    print("The request's audit record could not be read (see `hegui audit trace`).")
    sys.exit(0)
verdicts = json.loads(record["verdicts"])
kept = sum(len(s.get("hits", [])) for s in verdicts["stages"])
counted = sum(s.get("hit_count") or len(s.get("hits", [])) for s in verdicts["stages"])
print("| record | outcome | verdicts stored, bytes | hits kept | hits counted | word repeats sent |")
print("|---|---|---:|---:|---:|---:|")
print(f"| `{record['id']}` | {record['outcome']} | {len(record['verdicts'].encode())} | {kept} | {counted} | {sys.argv[3]} |")
PY
log "done"
