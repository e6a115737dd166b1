//! The one error type of this crate. Codec errors name the format and the byte offset where the
//! input stopped making sense, so that a user can tell a truncated download from a wrong format.

/// Errors from reading, writing or verifying labels.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The bytes are not a format this crate knows.
    #[error("unrecognized file format (first bytes `{0}`)")]
    UnknownFormat(String),
    /// The file claims to be `format` but its structure is broken.
    #[error("corrupt {format} at byte {offset}: {reason}")]
    Corrupt {
        /// Format name.
        format: &'static str,
        /// Byte offset where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file is valid but uses a feature this crate does not handle.
    #[error("unsupported {format}: {reason}")]
    Unsupported {
        /// Format name.
        format: &'static str,
        /// What is not supported.
        reason: String,
    },
    /// A label value is wrapped in an encoding that does not decode (base64 in XMP).
    #[error("label value cannot be decoded: {0}")]
    Encoding(String),
    /// A label value is not valid JSON of the Annex E shape.
    #[error("label value is not Annex E JSON: {0}")]
    Json(String),
    /// A label breaks the Annex E rules.
    #[error("invalid label: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// An explicit label could not be added.
    #[error("explicit label: {0}")]
    Explicit(String),
    /// Writing a labeled file failed.
    #[error("cannot write the labeled file: {0}")]
    Io(#[from] std::io::Error),
}

impl LabelError {
    pub(crate) fn corrupt(format: &'static str, offset: usize, reason: impl Into<String>) -> Self {
        LabelError::Corrupt {
            format,
            offset,
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(format: &'static str, reason: impl Into<String>) -> Self {
        LabelError::Unsupported {
            format,
            reason: reason.into(),
        }
    }
}
