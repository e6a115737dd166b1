"""GB 45438 implicit labels across the language boundary: a file labeled (and signed) in Python
is read and verified by the CLI, one labeled by the CLI is read and verified in Python, and
errors carry the CLI's message."""

from __future__ import annotations

import json
import subprocess
import zlib
import struct
from pathlib import Path

import pytest

import hegui


def png() -> bytes:
    """A valid 1x1 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# (name, content)
MEDIA = [("image.png", png()), ("note.md", "# 标题\n\n正文。\n".encode("utf-8"))]


@pytest.fixture
def keys(tmp_path, hegui_bin) -> tuple[Path, Path]:
    stem = tmp_path / "provider"
    subprocess.run([str(hegui_bin), "keys", "generate", "-o", str(stem)], check=True, capture_output=True)
    return stem.with_suffix(".key"), stem.with_suffix(".pub")


@pytest.fixture(params=MEDIA, ids=[m[0] for m in MEDIA])
def media(request, tmp_path) -> tuple[Path, Path]:
    """A file of each format, and where its labeled copy goes."""
    name, content = request.param
    src = tmp_path / name
    src.write_bytes(content)
    return src, tmp_path / f"labeled-{name}"


def cli_json(hegui_bin: Path, *args: str) -> list:
    run = subprocess.run([str(hegui_bin), "label", *args, "--format", "json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_python_labels_are_read_and_verified_by_the_cli(media, hegui_bin, keys):
    secret, public = keys
    src, dst = media
    produce_id = hegui.labels.add(src, dst, producer="hegui-test", key=secret)
    assert produce_id.startswith("sm3-") and len(produce_id) == 20
    [read] = cli_json(hegui_bin, "read", str(dst))
    assert read["label"]["label"]["ContentProducer"] == "hegui-test"
    assert read["label"]["label"]["ProduceID"] == produce_id
    assert read == hegui.labels.read(dst) | {"file": str(dst)}
    [verified] = cli_json(hegui_bin, "verify", str(dst), "--public-key", str(public))
    assert verified["result"]["verdict"] == "intact"
    assert hegui.labels.verify(dst, public)["result"] == verified["result"]


def test_cli_labels_are_read_and_verified_in_python(media, hegui_bin, keys):
    secret, public = keys
    src, dst = media
    subprocess.run(
        [str(hegui_bin), "label", "add", str(src), "--producer", "cli", "--produce-id", "id-1",
         "--key", str(secret), "-o", str(dst)],
        check=True, capture_output=True,
    )
    found = hegui.labels.read(dst)
    assert found["label"]["label"]["ProduceID"] == "id-1"
    assert hegui.labels.verify(dst, [public])["result"]["verdict"] == "intact"
    # Tampering is seen: the same label on other content.
    assert hegui.labels.read(src)["label"] is None
    assert hegui.labels.verify(src, public)["result"]["verdict"] == "absent"


def test_label_errors_carry_the_cli_message(tmp_path, hegui_bin):
    missing = tmp_path / "missing.png"
    with pytest.raises(hegui.LabelError) as raised:
        hegui.labels.read(missing)
    cli = subprocess.run([str(hegui_bin), "label", "read", str(missing)], capture_output=True, text=True)
    assert cli.stderr.strip() == f"error: {raised.value}"
    with pytest.raises(hegui.LabelError, match="not a supported format"):
        (tmp_path / "x.bin").write_bytes(b"\x00\x01")
        hegui.labels.read(tmp_path / "x.bin")
    with pytest.raises(hegui.LabelError, match="possible values"):
        hegui.labels.add(missing, missing, producer="p", label="4")
