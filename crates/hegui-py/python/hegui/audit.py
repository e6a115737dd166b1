"""The hash-chained audit ledger kept by the hegui gateway: ``verify`` checks it as
``hegui audit verify --database URL`` does (read-only; a missing database is an error, never a
new empty ledger). Errors raise :class:`hegui.AuditError` with the CLI's message.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Sequence, Union

from . import _hegui

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["verify"]


def verify(
    database_url: str,
    public_keys: Union[PathLike, Sequence[PathLike], None] = None,
    start: Optional[int] = None,
) -> Dict[str, Any]:
    """Verifies the ledger at ``database_url`` (``sqlite:PATH`` or ``postgres://…``): the
    hash chain, sequence numbers, checkpoints and, given public keys, their signatures; from
    sequence number ``start`` on (trusting the record before it) when given. Returns
    ``{"intact", "first_seq", "last_seq", "records", "checkpoints", "broken", "signatures"}``;
    ``broken`` is None or ``{"seq", "reason", "message"}``."""
    if public_keys is None:
        keys = []
    elif isinstance(public_keys, (str, os.PathLike)):
        keys = [public_keys]
    else:
        keys = list(public_keys)
    return json.loads(_hegui.audit_verify(database_url, [os.fspath(k) for k in keys], start))
