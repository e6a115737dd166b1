//! The store's clock, injectable so that a gateway under test and its store agree on the time:
//! every row the store stamps (creation times, deadlines, sanctions, audit records and
//! checkpoints without a time of their own) reads it through a [`Clock`] instead of calling
//! `Utc::now()`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// What time it is. [`system`] in service; tests pass a closure over a time they move.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system() -> Clock {
    Arc::new(Utc::now)
}

/// `clock`'s time in milliseconds since the Unix epoch.
pub(crate) fn ms(clock: &Clock) -> i64 {
    clock().timestamp_millis()
}
