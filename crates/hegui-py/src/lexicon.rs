//! `hegui.Lexicon`: a compiled feature library, loaded from a lexicon directory or a compiled
//! file (as `hegui scan --lexicon` does) or the bundled sample, and its scans.
//!
//! `scan` returns `Hit`s with code-point offsets. The batch scan takes the texts as Rust
//! strings, then releases the GIL and spreads the records over threads in contiguous slices
//! (so the output stays in record order with no sort); it returns flat little-endian columns
//! and the table of the rules they refer to, which the Python side turns into an Arrow table
//! without a Python object per hit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use hegui_lexicon::{Lexicon as Source, Matcher, NormalizeOptions, PiiMatch, Rule};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PySlice, PyString};

use crate::LexiconError;
use crate::offsets::CodePoints;

/// One hit: a rule matched the text between `start` and `end` (Python string indices).
///
/// The rule's strings are shared with the matcher and the matched text stays a slice of the
/// scanned `str` (a reference, not a copy): each becomes a Python string only when read, so a
/// scan whose hits are counted or filtered by level allocates nothing per hit beyond the hit.
/// Freed hits are kept for the next scans (`freelist`): a scan's hits usually die before the
/// next scan makes as many.
#[pyclass(frozen, freelist = 256, module = "hegui")]
#[derive(Debug)]
pub struct Hit {
    start: usize,
    end: usize,
    rule: Arc<Rule>,
    /// The scanned text, which `text` slices.
    scanned: Py<PyString>,
    /// For PII hits, the kind and the masked value that `text` shows instead.
    pii: Option<PiiMatch>,
}

impl Hit {
    /// What `text` returns: the masked value for PII, `scanned[start:end]` otherwise (the
    /// matcher's `display_text`, as the offsets are the matched span's).
    fn shown<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        match &self.pii {
            Some(p) => Ok(PyString::new(py, &p.masked)),
            None => {
                let slice = PySlice::new(py, self.start as isize, self.end as isize, 1);
                Ok(self
                    .scanned
                    .bind(py)
                    .get_item(slice)?
                    .cast_into::<PyString>()?)
            }
        }
    }
}

#[pymethods]
impl Hit {
    /// Index of the first matched character.
    #[getter]
    fn start(&self) -> usize {
        self.start
    }

    /// Index just after the last matched character.
    #[getter]
    fn end(&self) -> usize {
        self.end
    }

    /// Appendix A risk code (or a custom one).
    #[getter]
    fn risk(&self) -> &str {
        &self.rule.risk
    }

    /// `block`, `review` or `flag`.
    #[getter]
    fn level(&self) -> &'static str {
        self.rule.level.as_str()
    }

    /// The pattern as written in the lexicon (`<mobile>` etc. for PII).
    #[getter]
    fn pattern(&self) -> &str {
        &self.rule.pattern
    }

    /// The note from the lexicon.
    #[getter]
    fn note(&self) -> &str {
        &self.rule.note
    }

    /// The matched text; for PII the masked value.
    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.shown(py)
    }

    /// The PII kind (`mobile`, `resident-id`, …) or `None`.
    #[getter]
    fn pii(&self) -> Option<&'static str> {
        self.pii.as_ref().map(|p| p.kind.as_str())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text = self.shown(py)?;
        Ok(format!(
            "Hit(start={}, end={}, risk={:?}, level={:?}, pattern={:?}, text={:?})",
            self.start,
            self.end,
            self.rule.risk,
            self.rule.level.as_str(),
            self.rule.pattern,
            text.to_cow()?
        ))
    }

    /// `(start, end, risk, level, pattern)`, for comparisons and DataFrames.
    fn as_tuple(&self) -> (usize, usize, &str, &'static str, &str) {
        (
            self.start,
            self.end,
            &self.rule.risk,
            self.rule.level.as_str(),
            &self.rule.pattern,
        )
    }
}

/// A compiled feature library; scans from many threads at once.
#[pyclass(frozen, module = "hegui")]
pub struct Lexicon {
    matcher: Arc<Matcher>,
}

/// The CLI's loader (`hegui scan --lexicon`): a directory with `lexicon.toml`, or a compiled
/// file; errors carry the CLI's message.
fn load(path: &std::path::Path) -> Result<Matcher, String> {
    let shown = path.display();
    if path.is_dir() {
        let lexicon = Source::from_dir(path)
            .map_err(|e| format!("cannot load the lexicon `{shown}`: {e}"))?;
        Matcher::build(&lexicon).map_err(|e| e.to_string())
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        Matcher::from_bytes(&bytes).map_err(|e| format!("cannot load the lexicon `{shown}`: {e}"))
    }
}

#[pymethods]
impl Lexicon {
    /// Loads a lexicon directory (with `lexicon.toml`) or a compiled file
    /// (`hegui lexicon build`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Lexicon> {
        let matcher = py.detach(|| load(&path)).map_err(LexiconError::new_err)?;
        Ok(Lexicon {
            matcher: Arc::new(matcher),
        })
    }

    /// The bundled sample lexicon (what `hegui scan` uses without `--lexicon`).
    #[staticmethod]
    fn sample() -> PyResult<Lexicon> {
        let matcher =
            Matcher::build(&Source::sample()).map_err(|e| LexiconError::new_err(e.to_string()))?;
        Ok(Lexicon {
            matcher: Arc::new(matcher),
        })
    }

    /// `(name, version)` from `lexicon.toml`.
    #[getter]
    fn name_version(&self) -> (String, String) {
        let (name, version) = self.matcher.name_version();
        (name.to_string(), version.to_string())
    }

    /// Number of rules (lexicon entries).
    fn __len__(&self) -> usize {
        self.matcher.rules().len()
    }

    fn __repr__(&self) -> String {
        let (name, version) = self.matcher.name_version();
        format!(
            "Lexicon({name:?}, {version:?}, {} rules)",
            self.matcher.rules().len()
        )
    }

    /// Every hit in `text`, sorted by `(start, end, rule)`, offsets in string indices.
    fn scan<'py>(&self, text: Bound<'py, PyString>) -> PyResult<Bound<'py, PyList>> {
        let py = text.py();
        let utf8 = text.to_cow()?;
        let hits = self.matcher.find_all(&utf8);
        let mut cp = CodePoints::with_len(&utf8, text.code_point_len()?);
        // Hits slice `scanned` with `str`'s own indexing, not a subclass's `__getitem__`.
        let scanned = if text.is_exact_instance_of::<PyString>() {
            text.clone()
        } else {
            PyString::new(py, &utf8)
        };
        PyList::new(
            py,
            hits.into_iter().map(|h| {
                let start = cp.at(h.start);
                Hit {
                    start,
                    end: cp.from(h.start, start, h.end),
                    rule: h.rule,
                    scanned: scanned.clone().unbind(),
                    pii: h.pii,
                }
            }),
        )
    }

    /// The batch scan behind `hegui.Lexicon.scan_batch`: `texts` (`None` scans as empty) over
    /// `threads` threads with the GIL released. Returns the columns record, start and
    /// end (u64, string indices) and rule (u32, an index into the returned rules) as
    /// little-endian bytes, and the rules as `(pattern, risk, level)`.
    #[expect(
        clippy::type_complexity,
        reason = "the tuple is the Python return value"
    )]
    fn _scan_columns<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<Option<String>>,
        threads: usize,
    ) -> PyResult<(
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
        Vec<(String, String, &'static str)>,
    )> {
        let matcher = &*self.matcher;
        let columns = py.detach(|| scan_parallel(matcher, &texts, threads));
        let rules = columns
            .rules
            .iter()
            .map(|r| (r.pattern.clone(), r.risk.clone(), r.level.as_str()))
            .collect();
        Ok((
            PyBytes::new(py, &columns.record),
            PyBytes::new(py, &columns.start),
            PyBytes::new(py, &columns.end),
            PyBytes::new(py, &columns.rule),
            rules,
        ))
    }

    /// `text` normalized as this lexicon's patterns are, and for each of its characters the
    /// `(start, end)` of the original character in `text` (string indices).
    fn normalize(&self, text: String) -> (String, Vec<(usize, usize)>) {
        normalize_with(self.matcher.options(), &text)
    }
}

/// `text` normalized with the default options (those of the sample lexicon), and for each of
/// its characters the `(start, end)` of the original character in `text` (string indices).
#[pyfunction]
pub fn normalize(text: String) -> (String, Vec<(usize, usize)>) {
    normalize_with(&NormalizeOptions::default(), &text)
}

fn normalize_with(opts: &NormalizeOptions, text: &str) -> (String, Vec<(usize, usize)>) {
    let normalized = opts.normalize_with_spans(text);
    let mut cp = CodePoints::new(text);
    let spans = normalized
        .spans
        .iter()
        .map(|&(start, end)| {
            let s = cp.at(start);
            (s, cp.from(start, s, end))
        })
        .collect();
    (normalized.text, spans)
}

/// The flat output of a batch scan, columns as little-endian bytes.
#[derive(Default)]
struct Columns {
    record: Vec<u8>,
    start: Vec<u8>,
    end: Vec<u8>,
    rule: Vec<u8>,
    rules: Vec<Arc<Rule>>,
}

/// One hit of a batch: record, start, end (string indices), rule.
type Found = (u64, u64, u64, Arc<Rule>);

/// Scans `texts` in `threads` contiguous slices and concatenates the hits in record order.
fn scan_parallel(matcher: &Matcher, texts: &[Option<String>], threads: usize) -> Columns {
    let threads = threads.clamp(1, texts.len().max(1));
    let per = texts.len().div_ceil(threads).max(1);
    let parts: Vec<Vec<Found>> = if threads == 1 {
        vec![scan_slice(matcher, texts, 0)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(per)
                .enumerate()
                .map(|(i, chunk)| scope.spawn(move || scan_slice(matcher, chunk, i * per)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut out = Columns {
        record: Vec::with_capacity(total * 8),
        start: Vec::with_capacity(total * 8),
        end: Vec::with_capacity(total * 8),
        rule: Vec::with_capacity(total * 4),
        rules: Vec::new(),
    };
    // Dense rule indices in order of first appearance, keyed by the rule's address (rules are
    // shared `Arc`s, PII rules have ids outside the entry range).
    let mut dense: HashMap<*const Rule, u32> = HashMap::new();
    for (record, start, end, rule) in parts.into_iter().flatten() {
        let next = out.rules.len() as u32;
        let index = *dense.entry(Arc::as_ptr(&rule)).or_insert_with(|| {
            out.rules.push(rule.clone());
            next
        });
        out.record.extend_from_slice(&record.to_le_bytes());
        out.start.extend_from_slice(&start.to_le_bytes());
        out.end.extend_from_slice(&end.to_le_bytes());
        out.rule.extend_from_slice(&index.to_le_bytes());
    }
    out
}

fn scan_slice(matcher: &Matcher, texts: &[Option<String>], first: usize) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let Some(text) = text else { continue };
        let record = (first + i) as u64;
        let mut cp = CodePoints::new(text);
        for h in matcher.find_all(text) {
            let start = cp.at(h.start);
            let end = cp.from(h.start, start, h.end);
            out.push((record, start as u64, end as u64, h.rule));
        }
    }
    out
}
