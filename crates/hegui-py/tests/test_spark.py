"""The Spark example (examples/spark/corpus_scan.py) in local mode (local[2]) on a JSONL and a
Parquet source, checked against `hegui scan --jsonl` on the same records (the same offending
records with the same hits, the same per-source counts) and against `hegui corpus audit
--scan-all` (the same records per source with a block, a review-only and a PII hit). Skipped
loudly without Java."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import hegui
from conftest import COLD, REPO, cli_scan_jsonl, skip_missing

EXAMPLE = REPO / "examples/spark/corpus_scan.py"


def read_json_lines(directory: Path) -> list[dict]:
    rows = []
    for part in sorted(directory.glob("part-*.json")):
        rows += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line]
    return rows


def test_spark_job_equals_the_cli(tmp_path, hegui_bin, evasion):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        skip_missing("test_spark", "java (Java 17+ for pyspark; scripts/test-deps installs it)")
    import pyarrow as pa
    import pyarrow.parquet as pq

    cold = [t for t in COLD.read_text(encoding="utf-8").splitlines() if t.strip()]
    _, evasions = evasion
    sources = {"comments.jsonl": cold[:3000] + evasions, "more.parquet": cold[3000:]}
    for name, texts in sources.items():
        if name.endswith(".jsonl"):
            with (tmp_path / name).open("w", encoding="utf-8") as f:
                for i, t in enumerate(texts, 1):
                    f.write(json.dumps({"id": i, "text": t, "source": name}, ensure_ascii=False) + "\n")
        else:
            ids = list(range(1, len(texts) + 1))
            pq.write_table(pa.table({"id": ids, "text": texts, "source": [name] * len(texts)}), tmp_path / name)

    compiled = tmp_path / "sample.hgl"
    subprocess.run([str(hegui_bin), "lexicon", "build", str(REPO / "data/lexicon"), "-o", str(compiled)],
                   check=True, capture_output=True)
    out = tmp_path / "out"
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), "--master", "local[2]", "--lexicon", str(compiled),
         "--output", str(out), *(str(tmp_path / n) for n in sources)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]

    got = {(r["source"], r["id"]): r for r in read_json_lines(out / "offending")}
    counts = {c["source"]: c for c in read_json_lines(out / "counts")}
    for name, texts in sources.items():
        want = cli_scan_jsonl(hegui_bin, compiled, texts, tmp_path)
        want_records = {i: hits for i, hits in enumerate(want, 1) if hits}
        mine = {i: r for (source, i), r in got.items() if source == name}
        assert sorted(mine) == sorted(want_records), name
        for i, hits in want_records.items():
            assert [tuple(h[k] for k in ("start", "end", "risk", "level", "pattern")) for h in mine[i]["hits"]] == hits
            levels = {h[3] for h in hits}
            assert mine[i]["verdict"] == next(v for v in ("block", "review", "flag") if v in levels)
        by_risk: dict[str, int] = {}
        for hits in want:
            for h in hits:
                by_risk[h[2]] = by_risk.get(h[2], 0) + 1
        assert counts[name]["records"] == len(texts)
        assert counts[name]["records_with_hits"] == len(want_records)
        assert counts[name]["hits"] == sum(len(h) for h in want)
        assert counts[name]["by_risk"] == by_risk
    assert len(got) > 100

    # `hegui corpus audit` over every record: its per-source tallies from the Spark rows.
    audit = subprocess.run(
        [str(hegui_bin), "corpus", "audit", *(str(tmp_path / n) for n in sources), "--scan-all",
         "--source-field", "source", "--sample", "100000", "--lexicon", str(compiled), "--format", "json"],
        capture_output=True, text=True,
    )
    report = json.loads(audit.stdout)
    tallies = []
    for row in report["sources"]:
        mine = [r["hits"] for (source, _), r in got.items() if source == row["name"]]
        literal = [[h for h in hits if not h["pattern"].startswith("<")] for hits in mine]
        block = sum(1 for hits in literal if any(h["level"] == "block" for h in hits))
        review = sum(
            1 for hits in literal
            if not any(h["level"] == "block" for h in hits) and any(h["level"] == "review" for h in hits)
        )
        pii = sum(1 for hits in mine if any(h["pattern"].startswith("<") for h in hits))
        assert row["records"] == counts[row["name"]]["records"]
        assert (row["illegal"]["successes"], row["review"], row["personal_information"]["successes"]) == (
            block, review, pii), row["name"]
        tallies.append((block, review, pii))
    # Each tally is non-zero somewhere, so the comparison above could fail.
    assert all(sum(column) > 0 for column in zip(*tallies)), tallies
    assert sorted(r["name"] for r in report["sources"]) == sorted(sources)
