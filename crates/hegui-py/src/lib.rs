//! `hegui-py`: the Python extension module `hegui._hegui`, wrapped by the pure-Python package
//! `hegui` (`python/hegui`), so that data teams scan corpora with the same matcher the gateway
//! enforces with, instead of a bare Aho-Corasick without normalization or risk taxonomy.
//!
//! - [`lexicon`]: `Lexicon` (load, sample, scan, the batch scan without the GIL), `normalize`.
//! - [`labels`]: GB 45438 implicit labels: read, add, verify (JSON documents the Python side
//!   decodes).
//! - [`audit`]: the audit ledger's verification (`hegui audit verify`).
//! - [`offsets`]: UTF-8 byte offsets → Python string indices (code points).
//!
//! Errors are raised as `hegui.HeguiError` subclasses whose message is the CLI's `error:` line.
//! The behaviour is tested from Python (`tests/`, run by `scripts/test`).
//!
//! Not for: Rust callers (use `hegui-lexicon`, `hegui-label` and `hegui-store` directly), or
//! streamed model output (the streaming scanner stays in the gateway).
//!
//! Cargo feature `extension-module` (off by default): do not link libpython, the interpreter
//! that imports the module provides it; maturin turns it on (`pyproject.toml`,
//! `scripts/build-wheel`), plain cargo builds leave it off.

#![expect(
    clippy::needless_pass_by_value,
    reason = "Python arguments arrive as owned values (pyo3 extracts `String`, `PathBuf` and \
              `Vec`; borrowing `&str` needs the non-abi3 API below CPython 3.10)"
)]

use pyo3::prelude::*;

pub mod audit;
pub mod labels;
pub mod lexicon;
pub mod offsets;

pyo3::create_exception!(
    hegui,
    HeguiError,
    pyo3::exceptions::PyException,
    "Base of every error hegui raises; the message is the CLI's."
);
pyo3::create_exception!(
    hegui,
    LexiconError,
    HeguiError,
    "A lexicon could not be loaded or built (the path and, for TOML and TSV, the line)."
);
pyo3::create_exception!(
    hegui,
    LabelError,
    HeguiError,
    "A file could not be labeled, read or verified, or a key not loaded."
);
pyo3::create_exception!(
    hegui,
    AuditError,
    HeguiError,
    "The audit database could not be opened or read, or a key not loaded."
);

/// The extension module.
#[pymodule]
fn _hegui(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HeguiError", py.get_type::<HeguiError>())?;
    m.add("LexiconError", py.get_type::<LexiconError>())?;
    m.add("LabelError", py.get_type::<LabelError>())?;
    m.add("AuditError", py.get_type::<AuditError>())?;
    m.add_class::<lexicon::Lexicon>()?;
    m.add_class::<lexicon::Hit>()?;
    m.add_function(wrap_pyfunction!(lexicon::normalize, m)?)?;
    m.add_function(wrap_pyfunction!(labels::label_read, m)?)?;
    m.add_function(wrap_pyfunction!(labels::label_add, m)?)?;
    m.add_function(wrap_pyfunction!(labels::label_verify, m)?)?;
    m.add_function(wrap_pyfunction!(audit::audit_verify, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
