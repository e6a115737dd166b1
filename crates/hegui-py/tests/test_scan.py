"""hegui.Lexicon against the CLI and against itself: the same hits and offsets as `hegui scan`
on the evasion table and on COLD, string-index offsets past the BMP, scan_batch equal to a loop
of scan over every input kind, and normalize's offset map."""

from __future__ import annotations

from pathlib import Path

import pytest

import hegui
from conftest import COLD, cli_scan_jsonl


def tuples(hits: list[hegui.Hit]) -> list[tuple]:
    return [h.as_tuple() for h in hits]


def test_evasion_table_matches_the_cli(evasion, hegui_bin, tmp_path):
    lexicon, texts = evasion
    lex = hegui.Lexicon.load(lexicon)
    want = cli_scan_jsonl(hegui_bin, lexicon, texts, tmp_path)
    got = [tuples(lex.scan(t)) for t in texts]
    assert got == want
    # The table is mostly evasions: a comparison of empty lists would prove nothing.
    assert sum(1 for hits in got if hits) >= 25


def test_cold_matches_the_cli(hegui_bin, tmp_path):
    texts = [t for t in COLD.read_text(encoding="utf-8").splitlines() if t.strip()]
    lex = hegui.Lexicon.sample()
    want = cli_scan_jsonl(hegui_bin, None, texts, tmp_path)
    got = [tuples(lex.scan(t)) for t in texts]
    assert got == want
    assert sum(len(h) for h in got) > 100


def test_a_compiled_lexicon_scans_as_its_directory(hegui_bin, tmp_path):
    import subprocess

    compiled = tmp_path / "sample.hgl"
    data = Path(__file__).resolve().parents[3] / "data/lexicon"
    subprocess.run([str(hegui_bin), "lexicon", "build", str(data), "-o", str(compiled)], check=True,
                   capture_output=True)
    text = "网上賭\u200b博，出售冰毒，手机13812345678"
    assert tuples(hegui.Lexicon.load(compiled).scan(text)) == tuples(hegui.Lexicon.load(data).scan(text))


@pytest.mark.parametrize(
    "text, spans",
    [
        # (text, [(start, end, matched text)])
        ("赌博", [(0, 2, "赌博")]),
        ("😀赌博", [(1, 3, "赌博")]),
        ("𠀀𠀁赌博", [(2, 4, "赌博")]),
        ("赌😀博", [(0, 3, "赌😀博")]),
        ("👨‍👩‍👧 𪚥 賭\u200b博 🎲冰毒", [(8, 11, "賭\u200b博"), (13, 15, "冰毒")]),
        ("\U0001F1E8\U0001F1F3 手机13812345678", [(5, 16, "13812345678")]),
    ],
)
def test_offsets_are_string_indices_past_the_bmp(text, spans):
    hits = hegui.Lexicon.sample().scan(text)
    assert [(h.start, h.end, text[h.start:h.end]) for h in hits] == spans


BATCH = [
    "网上賭\u200b博",
    "",
    "今天天气很好",
    "😀𠀀 出售冰毒，赌博，手机13812345678",
    "ＳＥＸ",
] * 7


@pytest.mark.parametrize("threads", [1, 2, 3, 64])
@pytest.mark.parametrize("kind", ["list", "tuple", "pyarrow", "chunked", "pandas"])
def test_scan_batch_equals_a_loop_of_scan(kind, threads):
    import pandas as pd
    import pyarrow as pa

    lex = hegui.Lexicon.sample()
    texts = {
        "list": BATCH,
        "tuple": tuple(BATCH),
        "pyarrow": pa.array(BATCH),
        "chunked": pa.chunked_array([BATCH[:10], BATCH[10:]]),
        "pandas": pd.Series(BATCH),
    }[kind]
    table = lex.scan_batch(texts, threads=threads)
    assert table.column_names == ["record", "start", "end", "risk", "level", "pattern"]
    rows = list(zip(*(table.column(c).to_pylist() for c in table.column_names)))
    want = [(i, *h.as_tuple()) for i, t in enumerate(BATCH) for h in lex.scan(t)]
    assert rows == want
    assert len(want) > 20


def test_scan_batch_scans_missing_values_as_empty():
    import pandas as pd

    lex = hegui.Lexicon.sample()
    table = lex.scan_batch(pd.Series(["赌博", None, float("nan"), "赌博"]))
    assert table.column("record").to_pylist() == [0, 3]
    assert lex.scan_batch([]).num_rows == 0


@pytest.mark.parametrize("bad, error", [("赌博", TypeError), ([1, 2], TypeError)])
def test_scan_batch_rejects_what_is_not_texts(bad, error):
    with pytest.raises(error):
        hegui.Lexicon.sample().scan_batch(bad)
    with pytest.raises(ValueError):
        hegui.Lexicon.sample().scan_batch(["a"], threads=0)


@pytest.mark.parametrize(
    "text, normalized, spans",
    [
        ("ＡＢ", "ab", [(0, 1), (1, 2)]),
        ("賭\u200b博", "赌博", [(0, 1), (2, 3)]),
        ("𠀀①", "𠀀1", [(0, 1), (1, 2)]),
        ("😀赌 博", "赌博", [(1, 2), (3, 4)]),
    ],
)
def test_normalize_maps_each_character_to_its_original(text, normalized, spans):
    assert hegui.normalize(text) == (normalized, spans)
    assert hegui.Lexicon.sample().normalize(text) == (normalized, spans)
