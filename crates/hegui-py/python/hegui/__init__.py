"""hegui: the feature library (特征库) of the hegui compliance toolkit, for Python pipelines.

The matcher is the one the hegui gateway enforces with (normalization, evasion handling, the
TC260-003 Appendix A risk taxonomy), compiled from Rust; offsets are Python string indices.

    >>> import hegui
    >>> lex = hegui.Lexicon.sample()
    >>> [(h.start, h.end, h.risk) for h in lex.scan("网上賭\u200b博")]
    [(2, 5, 'A.1.h')]

``scan_batch`` takes a list, a pyarrow string array or a pandas Series and returns a
pyarrow Table (record, start, end, risk, level, pattern), scanning with the GIL released on
all cores. ``hegui.labels`` reads, writes and verifies GB 45438 implicit labels;
``hegui.audit.verify`` checks the gateway's audit ledger.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from . import _hegui, audit, labels
from ._hegui import AuditError, HeguiError, Hit, LabelError, LexiconError, normalize

__all__ = [
    "AuditError",
    "HeguiError",
    "Hit",
    "LabelError",
    "Lexicon",
    "LexiconError",
    "audit",
    "labels",
    "normalize",
]
__version__ = _hegui.__version__


class Lexicon:
    """A compiled feature library. Build with :meth:`load` or :meth:`sample`; thread-safe."""

    __slots__ = ("_inner", "scan", "normalize")

    def __init__(self, inner: _hegui.Lexicon) -> None:
        self._inner = inner
        #: Every hit in a text, sorted by (start, end, rule): ``scan(text) -> list[Hit]``.
        self.scan = inner.scan
        #: ``normalize(text) -> (normalized, spans)`` with this lexicon's options; ``spans[i]``
        #: is the (start, end) in ``text`` of the original of normalized character ``i``.
        self.normalize = inner.normalize

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Lexicon":
        """Loads a lexicon directory (with ``lexicon.toml``) or a compiled file
        (``hegui lexicon build``). Raises :class:`LexiconError` with the CLI's message."""
        return cls(_hegui.Lexicon.load(os.fspath(path)))

    @classmethod
    def sample(cls) -> "Lexicon":
        """The bundled sample lexicon (``hegui scan`` without ``--lexicon``)."""
        return cls(_hegui.Lexicon.sample())

    @property
    def name_version(self) -> Tuple[str, str]:
        """(name, version) from ``lexicon.toml``."""
        return self._inner.name_version

    def __len__(self) -> int:
        return len(self._inner)

    def __repr__(self) -> str:
        return repr(self._inner)

    def scan_columns(
        self, texts: Any, threads: Optional[int] = None
    ) -> Tuple[bytes, bytes, bytes, bytes, List[Tuple[str, str, str]]]:
        """The raw batch result: little-endian u64 record, start, end and u32 rule columns, and
        the rules as (pattern, risk, level). :meth:`scan_batch` builds its table from these."""
        return self._inner._scan_columns(_texts(texts), _threads(threads))

    def scan_batch(self, texts: Any, threads: Optional[int] = None) -> Any:
        """Scans many texts at once, with the GIL released, over ``threads`` threads (default:
        all cores). ``texts``: a list of str (``None`` scans as empty), a pyarrow string array
        or chunked array, or a pandas Series. Returns a ``pyarrow.Table`` with one row per hit:
        record (index into ``texts``), start, end (string indices), risk, level, pattern
        (dictionary-encoded), in record order, then as :meth:`scan` orders them."""
        import pyarrow as pa

        record, start, end, rule, rules = self.scan_columns(texts, threads)
        n = len(record) // 8

        def column(data: bytes, kind: Any) -> Any:
            return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(data)])

        indices = column(rule, pa.uint32())

        def dictionary(values: Iterable[str]) -> Any:
            # Rules may share a risk, level or pattern: take, then encode with unique values.
            return pa.array(list(values), pa.string()).take(indices).dictionary_encode()

        return pa.table(
            {
                "record": column(record, pa.int64()),
                "start": column(start, pa.int64()),
                "end": column(end, pa.int64()),
                "risk": dictionary(r[1] for r in rules),
                "level": dictionary(r[2] for r in rules),
                "pattern": dictionary(r[0] for r in rules),
            }
        )


def _threads(threads: Optional[int]) -> int:
    if threads is None:
        return os.cpu_count() or 1
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return threads


def _texts(texts: Any) -> Sequence[Optional[str]]:
    """A list of str or None from a list, tuple, pyarrow (chunked) array or pandas Series."""
    if isinstance(texts, (list, tuple)):
        return texts
    if isinstance(texts, str):
        raise TypeError("scan_batch takes a collection of texts, not one str: use scan")
    module = type(texts).__module__ or ""
    if module.startswith("pyarrow"):
        return texts.to_pylist()
    if module.startswith("pandas"):
        # Missing values (None, NaN, pd.NA) scan as empty.
        return [t if isinstance(t, str) else None for t in texts.tolist()]
    return list(texts)
