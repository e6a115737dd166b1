#!/usr/bin/env python3
"""Writes JSON Lines of at least SIZE bytes for the corpus-audit benchmark.

Each line is `{"id": N, "source": "src-K", "text": "…"}` with the text a COLD comment (Chinese
social-media comments, `data/corpus/cold/comments.txt`), cycling through the comments, ids
unique, eight sources. UTF-8 without escaping, as real corpora are written.

Usage: gen.py COMMENTS OUT SIZE_BYTES
"""
import json
import sys


def main() -> None:
    comments_path, out_path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(comments_path, encoding="utf-8") as f:
        texts = [json.dumps(line.strip(), ensure_ascii=False) for line in f if line.strip()]
    written, n = 0, 0
    with open(out_path, "w", encoding="utf-8", buffering=1 << 22) as out:
        while written < size:
            # One pass over the comments per chunk: ~0.7 MB of lines per join.
            chunk = "".join(
                f'{{"id": {n + i}, "source": "src-{(n + i) % 8}", "text": {t}}}\n'
                for i, t in enumerate(texts)
            )
            n += len(texts)
            out.write(chunk)
            written += len(chunk.encode("utf-8"))
    print(f"{out_path}: {written} bytes, {n} records", file=sys.stderr)


if __name__ == "__main__":
    main()
