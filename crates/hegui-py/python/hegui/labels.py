"""GB 45438-2025 implicit labels (AIGC metadata) on files, as ``hegui label`` writes them.

``read`` and ``verify`` return the records of ``hegui label read|verify --format json`` as
dicts; ``add`` writes a labeled copy (or the file itself) and returns its ``ProduceID``.
Errors raise :class:`hegui.LabelError` with the CLI's message.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Sequence, Union

from . import _hegui

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["add", "read", "verify"]


def read(path: PathLike) -> Dict[str, Any]:
    """The label in a file: ``{"file", "format", "label", "label_format", "signature",
    "signature_checked"}``; ``label`` is None when the file has none. Signatures are not
    checked here (that needs keys: :func:`verify`)."""
    return json.loads(_hegui.label_read(os.fspath(path)))


def add(
    src: PathLike,
    dst: PathLike,
    producer: str,
    produce_id: Optional[str] = None,
    label: str = "1",
    key: Optional[PathLike] = None,
) -> str:
    """Writes ``src`` with its implicit label to ``dst`` (through a temporary file and a
    rename; ``dst`` may be ``src``). ``label``: "1" AI-generated, "2" possibly, "3"
    suspected. ``produce_id`` defaults to ``sm3-`` and 16 hex digits of the content digest;
    ``key`` (a ``hegui keys generate`` secret key) signs the integrity code. Returns the
    ``ProduceID``."""
    return _hegui.label_add(
        os.fspath(src),
        os.fspath(dst),
        producer,
        produce_id,
        label,
        None if key is None else os.fspath(key),
    )


def verify(path: PathLike, public_key: Union[PathLike, Sequence[PathLike]]) -> Dict[str, Any]:
    """Checks a file's label against trusted public keys (one path or several). Returns
    ``{"file", "result": {"verdict": "intact"|"tampered"|"unknown-key"|"unsigned"|"absent",
    ...}}``."""
    keys = [public_key] if isinstance(public_key, (str, os.PathLike)) else list(public_key)
    result = json.loads(_hegui.label_verify(os.fspath(path), [os.fspath(k) for k in keys]))
    return result
