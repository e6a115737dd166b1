//! Persistence for hegui: SQLite by default (one file, WAL mode), PostgreSQL when several
//! gateway instances share state, and the tamper-evident **audit ledger** that the law asks for.
//!
//! # What is here
//!
//! - [`Store`]: one handle over either backend ([`Store::open`] takes `sqlite:…` or
//!   `postgres://…`). Migrations for the backend run on open. Repositories are plain methods:
//!   tenants and API keys ([`tenants`]), admin tokens ([`admins`]), end users with their
//!   state and identity status ([`users`]), minutes of use for minors mode ([`usage`]),
//!   [`sanctions`], [`complaints`] and their handling, [`takedowns`], refutations and reports
//!   to the authorities ([`reports`]), personal-information requests ([`pi`]), the operator console's users and sessions
//!   ([`console`]).
//! - [`ledger`]: the audit records, their canonical encoding, the SM3 hash chain, signed
//!   checkpoints, verification, export for a regulator and pruning after the retention period.
//! - [`AuditWriter`]: the group-commit writer. `append(record).await` resolves only once the
//!   record's transaction has committed, so a record is durable before the caller answers the
//!   end user; concurrent appends share one transaction and one `fsync`.
//!
//! When *not* to use it: this crate does not decide what to log; the gateway does. It also does
//! not keep secrets: API keys are stored as SM3 digests only (see [`tenants`]).
//!
//! The design (one serialized chain for several writers, canonical encoding, group commit,
//! retention) is explained in `DESIGN.md` next to this file.
//!
//! ```
//! # hegui_store::block_on(async {
//! use hegui_store::{Store, AuditWriter, ledger::NewRecord};
//! let dir = tempfile::tempdir().unwrap();
//! let url = format!("sqlite:{}", dir.path().join("hegui.db").display());
//! let store = Store::open(&url).await.unwrap();
//! let writer = AuditWriter::start(store.clone(), Default::default());
//! let receipt = writer.append(NewRecord::new("chat").request("你好").response("您好")).await.unwrap();
//! assert_eq!(receipt.seq, 1);
//! let report = store.verify(&Default::default()).await.unwrap();
//! assert!(report.is_ok());
//! # });
//! ```
//!
//! No feature flags.

pub mod admins;
pub mod agreements;
mod backend;
pub mod clock;
pub mod complaints;
pub mod console;
mod error;
pub mod ledger;
pub mod pi;
pub mod reports;
pub mod sanctions;
pub mod takedowns;
pub mod tenants;
mod text_enum;
pub mod usage;
pub mod users;
mod writer;

/// Entry points for the fuzz targets under `fuzz/store`; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    /// Parses, hashes and checks a binary COPY stream of audit records (PostgreSQL's side of
    /// verification), cut into chunks at `cuts`; never panics.
    pub fn pg_copy_stream(bytes: &[u8], cuts: &[usize]) -> Result<usize, String> {
        crate::ledger::verify_fuzz_stream(bytes, cuts)
    }
}

pub use backend::{Access, Backend, OpenOptions, Store};
pub use error::StoreError;
pub use ledger::{BodyMode, RecordId};
pub use writer::{AuditWriter, WriterOptions};

/// Runs a future to completion on a fresh multi-threaded Tokio runtime. For the CLI and tests,
/// which are synchronous; the gateway has its own runtime and awaits directly.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    // A runtime that cannot be built means the process cannot create threads: nothing sensible
    // can continue, and callers (the CLI) are at top level.
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    runtime.block_on(future)
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Random bytes for identifiers (record ids, tickets), served from a per-thread buffer filled
/// 4 KiB at a time from the operating system: one system call per 400 record ids instead of one
/// each, which the audit writer felt. Not for secrets (those take [`random_bytes`] directly); a
/// process that forks without exec would share the buffer's rest with its child.
pub(crate) fn id_random_bytes<const N: usize>() -> [u8; N] {
    use rand_core::RngCore as _;
    use std::cell::RefCell;
    const POOL: usize = 4096;
    thread_local! {
        static BUFFER: RefCell<(Box<[u8; POOL]>, usize)> = RefCell::new((Box::new([0; POOL]), POOL));
    }
    let mut out = [0u8; N];
    BUFFER.with_borrow_mut(|(buffer, used)| {
        if N > POOL {
            rand_core::OsRng.fill_bytes(&mut out);
            return;
        }
        if *used + N > POOL {
            rand_core::OsRng.fill_bytes(&mut buffer[..]);
            *used = 0;
        }
        out.copy_from_slice(&buffer[*used..*used + N]);
        // Bytes handed out are wiped from the buffer.
        buffer[*used..*used + N].fill(0);
        *used += N;
    });
    out
}
