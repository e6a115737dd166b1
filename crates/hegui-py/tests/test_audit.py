"""hegui.audit.verify against `hegui audit verify` on the same SQLite ledger: intact, then
tampered (a record's outcome changed), and a missing database is an error with the CLI's
message, never a new empty ledger."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

import hegui
from conftest import skip_missing


@pytest.fixture
def ledger(tmp_path, hegui_bin) -> str:
    """A SQLite ledger of 40 records written by the store's load tool."""
    load = hegui_bin.with_name("hegui-ledger-load")
    if not load.is_file():
        skip_missing("test_audit", f"{load} (cargo test -p hegui-store builds it)")
    url = f"sqlite:{tmp_path / 'audit.db'}"
    subprocess.run([str(load), url, "2", "40"], check=True, capture_output=True, timeout=120)
    return url


def cli_verify(hegui_bin: Path, url: str) -> tuple[int, str]:
    run = subprocess.run([str(hegui_bin), "audit", "verify", "--database", url], capture_output=True, text=True)
    return run.returncode, run.stdout + run.stderr


# (case, SQL applied to the ledger, intact, first line of the CLI's output)
CASES = [
    ("intact", None, True, "ok: seq 1..=40"),
    ("outcome changed", "UPDATE audit_records SET outcome = 'blocked' WHERE seq = 5", False, "broken: seq 5"),
]


@pytest.mark.parametrize("case, sql, intact, cli_line", CASES, ids=[c[0] for c in CASES])
def test_verify_agrees_with_the_cli(case, sql, intact, cli_line, ledger, hegui_bin):
    if sql:
        with sqlite3.connect(ledger.removeprefix("sqlite:")) as db:
            db.execute(sql)
    report = hegui.audit.verify(ledger)
    code, output = cli_verify(hegui_bin, ledger)
    assert report["intact"] is intact
    assert code == (0 if intact else 1)
    assert output.startswith(cli_line)
    if intact:
        assert (report["first_seq"], report["last_seq"], report["records"]) == (1, 40, 40)
    else:
        assert output.splitlines()[0] == f"broken: {report['broken']['message']}"


def test_a_missing_database_is_an_error(tmp_path, hegui_bin):
    url = f"sqlite:{tmp_path / 'none.db'}"
    with pytest.raises(hegui.AuditError) as raised:
        hegui.audit.verify(url)
    code, output = cli_verify(hegui_bin, url)
    assert code == 2
    assert output.strip() == f"error: {raised.value}"
    assert not (tmp_path / "none.db").exists()
