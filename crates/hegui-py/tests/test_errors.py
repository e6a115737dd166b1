"""Errors are Python exceptions carrying the CLI's message: a missing lexicon, bad TOML with its
line, a bad TSV line, a file that is not a compiled lexicon; each compared with the `error:`
line of `hegui scan --lexicon` on the same input."""

from __future__ import annotations

import subprocess

import pytest

import hegui

GOOD_TSV = "pattern\trisk\tlevel\tnote\n赌博\tA.1.h\tblock\t\n"

# (case, files of the lexicon directory, or None for a path that does not exist, or a str for
# a single file's content, and a fragment the message must contain)
CASES = [
    ("missing path", None, "does-not-exist"),
    ("bad toml", {"lexicon.toml": 'name = "x"\nversion = \n', "a.tsv": GOOD_TSV}, "lexicon.toml:2"),
    ("no manifest", {"a.tsv": GOOD_TSV}, "lexicon.toml"),
    (
        "bad tsv line",
        {"lexicon.toml": 'name = "x"\nversion = "1"\n', "a.tsv": GOOD_TSV + "冰毒\tA.1.h\tnope\t\n"},
        "a.tsv:3",
    ),
    ("not a compiled file", "this is not a compiled lexicon", "cannot load the lexicon"),
]


@pytest.mark.parametrize("case, files, fragment", CASES, ids=[c[0] for c in CASES])
def test_lexicon_errors_carry_the_cli_message(case, files, fragment, tmp_path, hegui_bin):
    if files is None:
        path = tmp_path / "does-not-exist"
    elif isinstance(files, str):
        path = tmp_path / "lexicon.bin"
        path.write_text(files, encoding="utf-8")
    else:
        path = tmp_path / "lexicon"
        path.mkdir()
        for name, text in files.items():
            (path / name).write_text(text, encoding="utf-8")
    with pytest.raises(hegui.LexiconError) as raised:
        hegui.Lexicon.load(path)
    message = str(raised.value)
    assert fragment in message
    assert str(path) in message
    cli = subprocess.run(
        [str(hegui_bin), "scan", "--lexicon", str(path), "-"],
        input="x",
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"error: {message}"


def test_errors_share_one_base():
    assert issubclass(hegui.LexiconError, hegui.HeguiError)
    assert issubclass(hegui.LabelError, hegui.HeguiError)
    assert hegui.LexiconError.__module__ == "hegui"
