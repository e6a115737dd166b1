"""Shared fixtures of the Python package's tests: the CLI binary to compare with, the evasion
table and lexicon read from the Rust suite (one source of truth), and loud skips.

A test that cannot run here (no CLI binary, no Java) skips with a line in $HEGUI_SKIP_LOG,
which scripts/test lists at the end and, under CI=true, turns into a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EVASION_RS = REPO / "crates/hegui-lexicon/tests/evasion.rs"
COLD = REPO / "data/corpus/cold/comments.txt"


def skip_missing(test: str, what: str) -> None:
    """Skips the current test loudly: a `missing` line for scripts/test's list."""
    log = os.environ.get("HEGUI_SKIP_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"missing\thegui-py::{test}\t{what}\n")
    pytest.skip(f"missing: {what}")


@pytest.fixture(scope="session")
def hegui_bin() -> Path:
    """The `hegui` CLI: $HEGUI_BIN, or the debug build in the cargo target directory."""
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    path = Path(os.environ.get("HEGUI_BIN", f"{target}/debug/hegui"))
    if not path.is_file():
        skip_missing("cli", f"the hegui binary {path} (cargo build -p hegui-cli, or set HEGUI_BIN)")
    return path


def _rust_str(literal: str) -> str:
    """A Rust string literal's contents (the escapes the evasion suite uses) as a str."""
    out = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), literal)
    return out.replace("\\t", "\t").replace("\\n", "\n").replace('\\"', '"')


def _rust_const(source: str, name: str) -> str:
    m = re.search(rf'const {name}: &str = "(.*?)";', source, re.S)
    assert m, f"{name} not found in {EVASION_RS}"
    return _rust_str(m.group(1))


@pytest.fixture(scope="session")
def evasion(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The evasion suite's lexicon written as a directory, and the texts of its evasion and
    false-positive tables, parsed from crates/hegui-lexicon/tests/evasion.rs."""
    source = EVASION_RS.read_text(encoding="utf-8")
    lexicon = tmp_path_factory.mktemp("evasion-lexicon")
    (lexicon / "lexicon.toml").write_text(
        'name = "evasion"\nversion = "1"\n[pii]\nenabled = false\n',
        encoding="utf-8",
    )
    (lexicon / "e.tsv").write_text(_rust_const(source, "TSV"), encoding="utf-8")
    (lexicon / "allow.tsv").write_text(_rust_const(source, "ALLOW"), encoding="utf-8")
    evasions = re.findall(r'\(\s*"[^"]*",\s*"((?:[^"\\]|\\.)*)",\s*"(?:[^"\\]|\\.)*",\s*\w+,?\s*\)', source)
    false_positives = re.findall(r'\(\s*"((?:[^"\\]|\\.)*)",\s*&\[', source)
    texts = [_rust_str(t) for t in evasions + false_positives]
    assert len(evasions) >= 20 and len(false_positives) >= 15, "the evasion table moved"
    return lexicon, texts


def cli_scan_jsonl(hegui_bin: Path, lexicon: Path | None, texts: list[str], tmp: Path) -> list[list[tuple]]:
    """`hegui scan --jsonl --format jsonl` over `texts` as records; per text its hits as
    (start, end, risk, level, pattern) with the CLI's byte offsets turned into string
    indices."""
    data = tmp / "records.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    args = [str(hegui_bin), "scan", str(data), "--jsonl", "--field", "text", "--format", "jsonl"]
    if lexicon is not None:
        args += ["--lexicon", str(lexicon)]
    run = subprocess.run(args, capture_output=True, text=True, encoding="utf-8")
    assert run.returncode in (0, 1), run.stderr
    out: list[list[tuple]] = [[] for _ in texts]
    for line in run.stdout.splitlines():
        row = json.loads(line)
        text = texts[row["line"] - 1]
        utf8 = text.encode("utf-8")
        out[row["line"] - 1] = [
            (
                len(utf8[: h["start"]].decode("utf-8")),
                len(utf8[: h["end"]].decode("utf-8")),
                h["risk"],
                h["level"],
                h["pattern"],
            )
            for h in row["hits"]
        ]
    return out
