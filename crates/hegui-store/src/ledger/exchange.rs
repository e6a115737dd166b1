//! A guarded exchange as the ledger holds it: one record, or for a streamed answer two — the
//! `started` record written before the first byte left (its id is the `x-hegui-record-id` the
//! client got, and the label's `ProduceID`) and the record that completes it, whose id is
//! [`RecordId::completion`] of the first. Looking the completion up by its derived id keeps the
//! canonical encoding and the tables as they are: old ledgers read and verify unchanged.

use serde::Serialize;

use super::schema::Outcome;
use super::{Record, RecordId};
use crate::{Store, StoreError};

/// A record and, for a streamed exchange, its completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// The record the id names.
    pub record: Record,
    /// For a `started` record, the record that completes it, if there is one.
    pub completion: Option<Record>,
}

/// Where a streamed exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamState {
    /// Not a streamed exchange's start: the record is the whole exchange.
    Whole,
    /// Started and completed.
    Completed,
    /// Started and never completed: the gateway stopped mid-stream (or the stream is still
    /// running).
    Interrupted,
}

impl Exchange {
    /// Where the exchange stands.
    pub fn state(&self) -> StreamState {
        match (self.started(), &self.completion) {
            (false, _) => StreamState::Whole,
            (true, Some(_)) => StreamState::Completed,
            (true, None) => StreamState::Interrupted,
        }
    }

    fn started(&self) -> bool {
        started(&self.record)
    }
}

fn started(record: &Record) -> bool {
    record.outcome == Outcome::Started.as_str()
}

impl Store {
    /// The record with this id and, when it began a streamed exchange (outcome `started`), the
    /// record that completes it.
    pub async fn exchange(&self, id: &str) -> Result<Option<Exchange>, StoreError> {
        let Some(record) = self.record_by_id(id).await? else {
            return Ok(None);
        };
        let completion = if started(&record) {
            let id = RecordId::from_stored(id.to_owned()).completion();
            self.record_by_id(id.as_str()).await?
        } else {
            None
        };
        Ok(Some(Exchange { record, completion }))
    }
}
