#!/usr/bin/env python3
"""Python keyword-scanning benchmark: the hegui wheel against pyahocorasick and flashtext.

Same rules, same text, one process, interleaved rounds, medians:

- rules: the konsheng lexicon (MIT, ``../shared/data/lexicon/konsheng``), deduplicated and
  sampled to ``--rules`` with a fixed seed, written as a hegui lexicon (every rule ``block``,
  PII detectors off so that all three engines look for the same strings);
- text: the COLD comments (``data/corpus/cold/comments.txt``) repeated to ``--mb`` MB, one
  record per line;
- engines: ``hegui scan`` (a loop of ``Lexicon.scan``, with hegui's normalization, evasion
  handling, word boundaries, allow-list and string-index offsets), ``hegui scan_batch`` on 1
  and on all threads (GIL released, one Arrow table out), ``pyahocorasick`` (``Automaton.iter``:
  every overlapping occurrence, raw text, no normalization) and ``flashtext``
  (``extract_keywords`` with spans: longest non-overlapping, raw text).

Throughput is MB of UTF-8 text per second; ratios are taken per round and their median kept.

    python bench/python/bench.py [--rules 10000] [--mb 4] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def konsheng_rules(directory: Path, count: int) -> list[str]:
    words = set()
    for path in sorted(directory.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            word = line.strip()
            # Plain terms only: combined entries (`a|b`, `a,b`) are not literals.
            if 2 <= len(word) <= 20 and not any(c in word for c in "|,&\t "):
                words.add(word)
    words = sorted(words)
    random.Random(20).shuffle(words)
    if len(words) < count:
        raise SystemExit(f"konsheng has {len(words)} plain terms, fewer than --rules {count}")
    return words[:count]


def write_lexicon(directory: Path, rules: list[str]) -> None:
    (directory / "lexicon.toml").write_text(
        'name = "bench-python"\nversion = "1"\n[pii]\nenabled = false\n', encoding="utf-8"
    )
    with (directory / "bench.tsv").open("w", encoding="utf-8") as f:
        f.write("pattern\trisk\tlevel\tnote\n")
        for word in rules:
            f.write(f"{word}\tA.1.h\tblock\t\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--mb", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--konsheng", type=Path, default=REPO / "../shared/data/lexicon/konsheng")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    import ahocorasick
    import flashtext

    import hegui

    rules = konsheng_rules(args.konsheng, args.rules)
    corpus = [t for t in (REPO / "data/corpus/cold/comments.txt").read_text(encoding="utf-8").splitlines() if t]
    lines: list[str] = []
    size = 0
    while size < args.mb * 1e6:
        for t in corpus:
            lines.append(t)
            size += len(t.encode("utf-8"))
    mb = size / 1e6

    with tempfile.TemporaryDirectory() as tmp:
        write_lexicon(Path(tmp), rules)
        started = time.perf_counter()
        lex = hegui.Lexicon.load(tmp)
        build = {"hegui": time.perf_counter() - started}

    started = time.perf_counter()
    automaton = ahocorasick.Automaton()
    for i, word in enumerate(rules):
        automaton.add_word(word, (i, word))
    automaton.make_automaton()
    build["pyahocorasick"] = time.perf_counter() - started

    started = time.perf_counter()
    keywords = flashtext.KeywordProcessor()
    for word in rules:
        keywords.add_keyword(word)
    build["flashtext"] = time.perf_counter() - started

    def hegui_scan() -> int:
        scan = lex.scan
        return sum(len(scan(t)) for t in lines)

    def hegui_batch(threads: int):
        return lambda: lex.scan_batch(lines, threads=threads).num_rows

    def pyahocorasick() -> int:
        it = automaton.iter
        return sum(1 for t in lines for _ in it(t))

    def flashtext_run() -> int:
        extract = keywords.extract_keywords
        return sum(len(extract(t, span_info=True)) for t in lines)

    engines = {
        "hegui scan": hegui_scan,
        "hegui scan_batch, 1 thread": hegui_batch(1),
        f"hegui scan_batch, {args.threads} threads": hegui_batch(args.threads),
        "pyahocorasick": pyahocorasick,
        "flashtext": flashtext_run,
    }
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    hits: dict[str, int] = {}
    for run in engines.values():
        run()  # warm-up, untimed: imports (pyarrow), first-touch allocations
    for _ in range(args.rounds):
        for name, run in engines.items():
            started = time.perf_counter()
            hits[name] = run()
            seconds[name].append(time.perf_counter() - started)

    load = os.getloadavg()
    print(f"rules {len(rules)}, text {mb:.1f} MB ({len(lines)} records), {args.rounds} interleaved rounds,"
          f" load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    print(f"build s: hegui {build['hegui']:.2f}, pyahocorasick {build['pyahocorasick']:.2f},"
          f" flashtext {build['flashtext']:.2f}")
    print()
    print("| engine | MB/s (median) | s per round (median) | hits | × pyahocorasick | × flashtext |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in engines:
        ratio_aho = statistics.median(a / s for s, a in zip(seconds[name], seconds["pyahocorasick"]))
        ratio_flash = statistics.median(f / s for s, f in zip(seconds[name], seconds["flashtext"]))
        median = statistics.median(seconds[name])
        print(f"| {name} | {mb / median:.1f} | {median:.3f} | {hits[name]} | {ratio_aho:.2f} | {ratio_flash:.2f} |")


if __name__ == "__main__":
    main()
