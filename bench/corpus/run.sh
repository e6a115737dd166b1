#!/usr/bin/env bash
# Corpus-audit benchmark (not run in CI): `hegui corpus audit` (release) on generated JSONL of
# 1 GB and 5 GB with the 100k-pattern lexicon of the matcher benchmark, for throughput (MB/s,
# MB = 10^6 bytes, file size / wall time) and peak RSS (`/usr/bin/time -v`), which must stay
# flat as the input grows.
#
# Input: `bench/corpus/gen.py` writes `{"id", "source" (8 sources), "text"}` lines whose texts
# cycle through the COLD comments (`data/corpus/cold/comments.txt`); the files go to $WORK and
# are deleted at the end. Lexicon: `bench/matcher --write-lexicon` (konsheng + generated CJK
# strings, 100k `block` rules, the matcher benchmark's generator and seed; needs nightly for
# that harness's other engines), compiled with `hegui lexicon build`. Sizes are interleaved round after round, since the machine
# is noisy; medians are reported, with the load average (`uptime`) before each run.
#
# Modes: `sample` is the audit as run by default (every record parsed, counted and offered to
# its source's reservoir; the 4,000-item samples scanned); `scan-all` adds `--scan-all`, every
# record scanned with the 100k rules.
#
# Usage: bench/corpus/run.sh   (env: SIZES="1 5" in GB, ROUNDS=3, MODES="sample",
#                                THREADS=2, WORK=/tmp/hegui-corpus-bench, BIN=path/to/hegui)
# Output: a Markdown table on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hegui/target}"
SIZES="${SIZES:-1 5}"
ROUNDS="${ROUNDS:-3}"
MODES="${MODES:-sample}"
THREADS="${THREADS:-2}"
WORK="${WORK:-/tmp/hegui-corpus-bench}"

log() { echo "[bench] $*" >&2; }

if [ -z "${BIN:-}" ]; then
  log "building the release binary"
  cargo build --release -q -p hegui-cli >&2
  BIN="$CARGO_TARGET_DIR/release/hegui"
fi
mkdir -p "$WORK"
trap 'rm -f "$WORK"/corpus-*.jsonl' EXIT

LEXICON="$WORK/lexicon-100k"
COMPILED="$WORK/lexicon-100k.hgl"
if [ ! -f "$LEXICON/bench.tsv" ]; then
  log "writing the 100k-pattern lexicon"
  cargo +nightly run -q --release --manifest-path bench/matcher/Cargo.toml -- \
    --write-lexicon "$LEXICON" --rules 100000 >&2
fi
# Compiled, as a provider would run a large lexicon: loads in 0.1 s instead of 1 s from TSV.
"$BIN" lexicon build "$LEXICON" -o "$COMPILED" >&2

for gb in $SIZES; do
  f="$WORK/corpus-${gb}g.jsonl"
  log "generating $f"
  python3 bench/corpus/gen.py data/corpus/cold/comments.txt "$f" "$((gb * 1000000000))"
done

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
  for mode in $MODES; do
    for gb in $SIZES; do
      f="$WORK/corpus-${gb}g.jsonl"
      extra=()
      [ "$mode" = scan-all ] && extra=(--scan-all)
      load="$(uptime | sed 's/.*load average: //')"
      set +e
      /usr/bin/time -v "$BIN" corpus audit "$f" --lexicon "$COMPILED" --source-field source \
        --threads "$THREADS" --format json -o "$WORK/report.json" "${extra[@]}" \
        2>"$WORK/time.txt" >/dev/null
      code=$?
      set -e
      # Exit 1 is a finding (figures not met), which generated data may well have.
      if [ "$code" -gt 1 ]; then cat "$WORK/time.txt" >&2; exit "$code"; fi
      wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')"
      rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")"
      cpu="$(sed -n 's/.*Percent of CPU this job got: //p' "$WORK/time.txt")"
      bytes="$(stat -c %s "$f")"
      mbs="$(awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%.1f", b / 1e6 / w }')"
      records="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$WORK/report.json")"
      log "round $round $mode ${gb} GB: ${wall} s, ${mbs} MB/s, RSS ${rss} KiB, CPU ${cpu}, load $load"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$gb" "$round" "$bytes" "$wall" "$mbs" \
        "$rss" "$cpu" "$load" "$records" >>"$RESULTS"
    done
  done
done

echo "| mode | input | records | MB/s (median of $ROUNDS) | MB/s each round | wall s (median) | peak RSS MiB (max) | CPU | load average before each round |"
echo "|---|---:|---:|---:|---|---:|---:|---|---|"
for mode in $MODES; do
  for gb in $SIZES; do
    awk -F'\t' -v m="$mode" -v g="$gb" '
      $1 == m && $2 == g { n++; mbs[n] = $6; wall[n] = $5; if ($7 > rss) rss = $7; cpu = cpu (n > 1 ? " / " : "") $8;
                           load = load (n > 1 ? " · " : "") $9; bytes = $4; rec = $10 }
      function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                          return a[int((n + 1) / 2)] }
      END { each = ""; for (i = 1; i <= n; i++) each = each (i > 1 ? " / " : "") mbs[i];
            printf "| %s | %.2f GB | %s | %s | %s | %s | %.1f | %s | %s |\n", m, bytes / 1e9, rec, median(mbs, n), each, median(wall, n), rss / 1024, cpu, load }' "$RESULTS"
  done
done
