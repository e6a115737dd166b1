//! GB 45438-2025 implicit labels from Python: `hegui.labels.read`, `add`, `verify`.
//!
//! The same steps and messages as `hegui label read | add | verify` on one file: the format is
//! sniffed (or taken from the extension), the default `ProduceID` is `sm3-` and 16 hex digits
//! of the content digest, a key signs the integrity code, and files are written through a
//! temporary file and a rename. Results cross into Python as JSON documents (the CLI's
//! `--format json` records), which `python/hegui/labels.py` decodes.

use std::path::{Path, PathBuf};

use hegui_keys::{KeyRing, SigningKey, VerifyingKey};
use hegui_label::{Format, Label};
use pyo3::prelude::*;

use crate::LabelError;

fn err(message: String) -> PyErr {
    LabelError::new_err(message)
}

fn read_file(path: &Path) -> PyResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| err(format!("cannot read `{}`: {e}", path.display())))
}

fn detect(path: &Path, bytes: &[u8]) -> PyResult<Format> {
    let extension = path.extension().and_then(|e| e.to_str());
    Format::detect(bytes, extension).ok_or_else(|| {
        err(format!(
            "`{}`: not a supported format (PNG, JPEG, WebP, WAV, MP3, FLAC, Ogg, MP4/MOV/M4A, PDF, DOCX/XLSX/PPTX, Markdown)",
            path.display()
        ))
    })
}

/// The label in a file as the JSON record of `hegui label read --format json` (`label` is
/// `null` when the file has none).
#[pyfunction]
pub fn label_read(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(|| {
        let bytes = read_file(&path)?;
        let format = detect(&path, &bytes)?;
        let found = hegui_label::read_label_as(&bytes, format)
            .map_err(|e| err(format!("`{}`: {e}", path.display())))?;
        let record = serde_json::json!({
            "file": path,
            "format": format,
            "label": found,
            "label_format": found.as_ref().map(|f| if f.format_is_valid() { "valid" } else { "invalid" }),
            "signature": found.as_ref().map(hegui_label::Found::signature),
            "signature_checked": false,
        });
        Ok(record.to_string())
    })
}

/// Writes the implicit label into a copy of `src` at `dst` (they may be the same path);
/// returns the `ProduceID` written.
#[pyfunction]
#[pyo3(signature = (src, dst, producer, produce_id=None, label="1", key=None))]
pub fn label_add(
    py: Python<'_>,
    src: PathBuf,
    dst: PathBuf,
    producer: String,
    produce_id: Option<String>,
    label: &str,
    key: Option<PathBuf>,
) -> PyResult<String> {
    if !matches!(label, "1" | "2" | "3") {
        return Err(err(format!(
            "invalid value '{label}' for '--label <LABEL>': [possible values: 1, 2, 3]"
        )));
    }
    let label = label.to_string();
    py.detach(move || {
        let key = match &key {
            Some(path) => Some(SigningKey::load(path).map_err(|e| {
                err(format!(
                    "cannot load the signing key `{}`: {e}",
                    path.display()
                ))
            })?),
            None => None,
        };
        let bytes = read_file(&src)?;
        let format = detect(&src, &bytes)?;
        let at = |e: hegui_label::LabelError| err(format!("`{}`: {e}", src.display()));
        let (produce_id, digest) = match produce_id {
            Some(id) => (id, None),
            None => {
                let digest = hegui_label::content_digest(&bytes, format).map_err(at)?;
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                (format!("sm3-{}", &hex[..16]), Some(digest))
            }
        };
        let mut value = Label::new(producer, produce_id);
        value.label = label;
        let written = match &digest {
            Some(digest) => {
                hegui_label::splice_label_with_digest(&bytes, format, &value, key.as_ref(), digest)
                    .and_then(|plan| Ok(plan.write_file_atomically(&dst)?))
            }
            None => hegui_label::write_label_file(&bytes, format, &value, key.as_ref(), &dst),
        };
        written.map_err(|e| match e {
            hegui_label::LabelError::Io(io) => {
                err(format!("cannot write `{}`: {io}", dst.display()))
            }
            e => at(e),
        })?;
        Ok(value.produce_id)
    })
}

/// The `hegui label verify --format json` result of one file against trusted public keys.
#[pyfunction]
pub fn label_verify(py: Python<'_>, path: PathBuf, public_keys: Vec<PathBuf>) -> PyResult<String> {
    py.detach(|| {
        let mut ring = KeyRing::new();
        for key in &public_keys {
            ring.insert(VerifyingKey::load(key).map_err(|e| {
                err(format!(
                    "cannot load the public key `{}`: {e}",
                    key.display()
                ))
            })?);
        }
        let bytes = read_file(&path)?;
        let format = detect(&path, &bytes)?;
        let verdict = hegui_label::verify_as(&bytes, format, &ring)
            .map_err(|e| err(format!("`{}`: {e}", path.display())))?;
        Ok(serde_json::json!({ "file": path, "result": verdict }).to_string())
    })
}
