#!/usr/bin/env python3
"""Scans a training corpus with the hegui feature library on Spark (TC260-003 §5 corpus audit).

A corpus that outgrows one machine is scanned by Spark, with the same matcher the hegui gateway
enforces with: each input (Parquet, or JSON Lines) is read with its file name as the source, the
text column goes through an Arrow-batched ``mapInArrow`` function that loads the compiled
lexicon once per Python worker process (Spark reuses workers, so once per executor core) and
scans each Arrow batch with ``Lexicon.scan_batch``; the job writes

- ``OUT/offending/``: one JSON line per record with hits: source, id, verdict, and the hits
  (start, end in string indices, risk, level, pattern), as ``hegui scan --jsonl`` reports them;
- ``OUT/counts/``: one JSON line per source: records, records with hits, hits, hits by risk.

    pip install pyspark hegui   # the wheel from scripts/build-wheel
    hegui lexicon build my-lexicon/ -o lexicon.hgl
    python examples/spark/corpus_scan.py --lexicon lexicon.hgl --output out/ \\
        data/part-0.parquet data/extra.jsonl

On a cluster pass ``--master`` (or use spark-submit); the lexicon file is shipped to every
executor with ``SparkContext.addFile``. Records need an id column (``--id-column``, default
``id``) so that findings can be traced back; the text column is ``--text-column`` (``text``).
"""

from __future__ import annotations

import argparse
import os
from typing import Dict, Iterator, Optional

import pyarrow as pa

# Per Python worker process: the lexicon by path, loaded on first use.
_LEXICONS: Dict[Optional[str], object] = {}

HIT = pa.struct(
    [
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("risk", pa.string()),
        ("level", pa.string()),
        ("pattern", pa.string()),
    ]
)
OUT = pa.schema(
    [("source", pa.string()), ("id", pa.int64()), ("verdict", pa.string()), ("hits", pa.list_(HIT))]
)
SEVERITY = {"flag": 1, "review": 2, "block": 3}


def lexicon(name: Optional[str]):
    """The lexicon shipped as ``name`` (SparkFiles), or the bundled sample; loaded once."""
    lex = _LEXICONS.get(name)
    if lex is None:
        import hegui

        if name is None:
            lex = hegui.Lexicon.sample()
        else:
            from pyspark import SparkFiles

            lex = hegui.Lexicon.load(SparkFiles.get(name))
        _LEXICONS[name] = lex
    return lex


def scan_batches(name: Optional[str], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: (source, id, text) batches in, one row per record with hits out."""
    lex = lexicon(name)
    for batch in batches:
        # One thread per task: Spark already runs a task per executor core.
        table = lex.scan_batch(batch.column("text"), threads=1)
        hits: Dict[int, list] = {}
        columns = [table.column(c).to_pylist() for c in ("record", "start", "end", "risk", "level", "pattern")]
        for record, start, end, risk, level, pattern in zip(*columns):
            hits.setdefault(record, []).append(
                {"start": start, "end": end, "risk": risk, "level": level, "pattern": pattern}
            )
        records = sorted(hits)
        sources = batch.column("source").take(pa.array(records, pa.int64())) if records else []
        ids = batch.column("id").take(pa.array(records, pa.int64())) if records else []
        verdicts = [
            max((h["level"] for h in hits[r]), key=SEVERITY.__getitem__) for r in records
        ]
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(sources, pa.string()),
                pa.array(ids, pa.int64()),
                pa.array(verdicts, pa.string()),
                pa.array([hits[r] for r in records], pa.list_(HIT)),
            ],
            schema=OUT,
        )


def read(spark, path: str, text_column: str, id_column: str):
    """One input as (source, id, text): Parquet, or JSON Lines (.jsonl, .json, .ndjson)."""
    from pyspark.sql import functions as F

    jsonl = path.rstrip("/").endswith((".jsonl", ".json", ".ndjson"))
    frame = spark.read.json(path) if jsonl else spark.read.parquet(path)
    return frame.select(
        F.lit(os.path.basename(path.rstrip("/"))).alias("source"),
        F.col(id_column).cast("long").alias("id"),
        F.col(text_column).cast("string").alias("text"),
    )


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", help="Parquet files/directories or JSON Lines files")
    parser.add_argument("--lexicon", help="compiled lexicon file (hegui lexicon build); default: the sample")
    parser.add_argument("--output", required=True, help="output directory (offending/, counts/)")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--id-column", default="id")
    parser.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    builder = SparkSession.builder.appName("hegui-corpus-scan").config("spark.ui.enabled", "false")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    name = None
    if args.lexicon:
        spark.sparkContext.addFile(os.path.abspath(args.lexicon))
        name = os.path.basename(args.lexicon)

    corpus = None
    for path in args.inputs:
        frame = read(spark, path, args.text_column, args.id_column)
        corpus = frame if corpus is None else corpus.unionByName(frame)
    offending = corpus.mapInArrow(lambda batches: scan_batches(name, batches), _spark_schema())
    offending = offending.cache()
    offending.orderBy("source", "id").write.mode("overwrite").json(os.path.join(args.output, "offending"))

    totals = corpus.groupBy("source").agg(F.count(F.lit(1)).alias("records"))
    flagged = offending.groupBy("source").agg(
        F.count(F.lit(1)).alias("records_with_hits"), F.sum(F.size("hits")).alias("hits")
    )
    by_risk = (
        offending.select("source", F.explode("hits.risk").alias("risk"))
        .groupBy("source", "risk")
        .count()
        .groupBy("source")
        .agg(F.map_from_entries(F.collect_list(F.struct("risk", "count"))).alias("by_risk"))
    )
    counts = (
        totals.join(flagged, "source", "left")
        .join(by_risk, "source", "left")
        .fillna(0, ["records_with_hits", "hits"])
        .orderBy("source")
    )
    counts.coalesce(1).write.mode("overwrite").json(os.path.join(args.output, "counts"))
    spark.stop()


def _spark_schema() -> str:
    """OUT as a Spark DDL schema for mapInArrow."""
    return (
        "source string, id long, verdict string, "
        "hits array<struct<start:long,end:long,risk:string,level:string,pattern:string>>"
    )


if __name__ == "__main__":
    main()
