"""Type stubs of the extension module ``hegui._hegui`` (built from crates/hegui-py/src)."""

from typing import List, Optional, Sequence, Tuple

__version__: str

class HeguiError(Exception):
    """Base of every error hegui raises; the message is the CLI's."""

class LexiconError(HeguiError):
    """A lexicon could not be loaded or built (the path and, for TOML and TSV, the line)."""

class LabelError(HeguiError):
    """A file could not be labeled, read or verified, or a key not loaded."""

class AuditError(HeguiError):
    """The audit database could not be opened or read, or a key not loaded."""

class Hit:
    """One hit; ``start``/``end`` are Python string indices."""

    start: int
    end: int
    risk: str
    level: str
    pattern: str
    note: str
    text: str
    pii: Optional[str]
    def as_tuple(self) -> Tuple[int, int, str, str, str]: ...

class Lexicon:
    @staticmethod
    def load(path: str) -> "Lexicon": ...
    @staticmethod
    def sample() -> "Lexicon": ...
    @property
    def name_version(self) -> Tuple[str, str]: ...
    def __len__(self) -> int: ...
    def scan(self, text: str) -> List[Hit]: ...
    def normalize(self, text: str) -> Tuple[str, List[Tuple[int, int]]]: ...
    def _scan_columns(
        self, texts: Sequence[Optional[str]], threads: int
    ) -> Tuple[bytes, bytes, bytes, bytes, List[Tuple[str, str, str]]]: ...

def normalize(text: str) -> Tuple[str, List[Tuple[int, int]]]: ...
def label_read(path: str) -> str: ...
def label_add(
    src: str,
    dst: str,
    producer: str,
    produce_id: Optional[str] = None,
    label: str = "1",
    key: Optional[str] = None,
) -> str: ...
def label_verify(path: str, public_keys: List[str]) -> str: ...
def audit_verify(
    database_url: str, public_keys: List[str] = ..., start: Optional[int] = None
) -> str: ...
