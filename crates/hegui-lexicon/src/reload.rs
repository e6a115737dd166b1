//! Hot reload: build the new matcher off the request path, then swap it in atomically. Readers
//! never wait and never see a half-built matcher; scans in flight keep the matcher they started
//! with (their [`Arc`]).

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::lexicon::{Lexicon, LoadError};
use crate::matcher::{BuildError, Matcher};

/// A shared, swappable matcher.
///
/// ```
/// use hegui_lexicon::{Lexicon, Matcher, SharedMatcher};
/// let shared = SharedMatcher::new(Matcher::build(&Lexicon::sample()).unwrap());
/// let before = shared.load();
/// shared.store(Matcher::build(&Lexicon::sample()).unwrap());
/// assert!(!std::sync::Arc::ptr_eq(&before, &shared.load()));
/// ```
#[derive(Debug)]
pub struct SharedMatcher {
    inner: ArcSwap<Matcher>,
}

/// Why a reload failed (the old matcher stays in place).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The lexicon could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The matcher could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The compiled form could not be read.
    #[error(transparent)]
    Compiled(#[from] crate::compiled::CompiledError),
}

impl SharedMatcher {
    /// Wraps a matcher.
    pub fn new(matcher: Matcher) -> SharedMatcher {
        SharedMatcher {
            inner: ArcSwap::from_pointee(matcher),
        }
    }

    /// The current matcher (cheap: one atomic load and a reference-count increment).
    pub fn load(&self) -> Arc<Matcher> {
        self.inner.load_full()
    }

    /// Replaces the matcher.
    pub fn store(&self, matcher: Matcher) {
        self.inner.store(Arc::new(matcher));
    }

    /// Loads and builds a lexicon directory, or a compiled file, then swaps it in. On error the
    /// current matcher stays. Call it from a blocking thread: building takes up to a second for
    /// 100k patterns.
    pub fn reload_from(&self, path: impl AsRef<Path>) -> Result<(), ReloadError> {
        let path = path.as_ref();
        let matcher = if path.is_dir() {
            Matcher::build(&Lexicon::from_dir(path)?)?
        } else {
            let bytes = std::fs::read(path).map_err(|cause| LoadError::Io {
                path: path.to_path_buf(),
                cause,
            })?;
            Matcher::from_bytes(&bytes)?
        };
        self.store(matcher);
        Ok(())
    }
}
