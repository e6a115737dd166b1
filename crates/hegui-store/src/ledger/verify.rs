//! Verifying the ledger in the database: sequence numbers without gaps, every record's chain
//! value recomputed from its canonical bytes, stored texts against their digests, the head row,
//! and checkpoints (their chain values always; their signatures when keys are given). The first
//! broken link is reported with its sequence number.

use std::collections::BTreeMap;

use sqlx::Row as _;

use crate::backend::with_pool;
use crate::ledger::{self, Checkpoint, record_from_row};
use crate::{Store, StoreError};

/// Options for [`Store::verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Start at this sequence number, trusting the stored chain value of the record before it.
    /// Default: the first record (or the prune boundary).
    pub from: Option<i64>,
    /// Public keys to check checkpoint signatures with; without them signatures are not
    /// checked (the report says so).
    pub keys: Option<hegui_keys::KeyRing>,
}

/// The first broken link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The sequence number where the chain breaks.
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {}: {}", self.seq, self.reason)
    }
}

/// The result of [`Store::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// First sequence number checked.
    pub first_seq: i64,
    /// Last sequence number checked (0 when there were none).
    pub last_seq: i64,
    /// Records checked.
    pub records: u64,
    /// Checkpoints whose chain value was checked.
    pub checkpoints: u64,
    /// Whether checkpoint signatures were checked.
    pub signatures_checked: bool,
    /// The first broken link, if any.
    pub broken: Option<Break>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn is_ok(&self) -> bool {
        self.broken.is_none()
    }
}

const PAGE: i64 = 20_000;

impl Store {
    /// Verifies the ledger; see the module docs. Database errors are errors; a broken chain is
    /// a report with [`VerifyReport::broken`] set.
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport, StoreError> {
        let head = self.head().await?;
        let start = options
            .from
            .unwrap_or(head.base_seq + 1)
            .max(head.base_seq + 1);
        let mut report = VerifyReport {
            first_seq: start,
            last_seq: 0,
            records: 0,
            checkpoints: 0,
            signatures_checked: options.keys.is_some(),
            broken: None,
        };
        let checkpoints: BTreeMap<i64, Checkpoint> = self
            .checkpoints_from(start - 1)
            .await?
            .into_iter()
            .map(|c| (c.seq, c))
            .collect();
        let check_checkpoint = |cp: &Checkpoint, hash: &[u8; 32]| -> Option<String> {
            if cp.hash != *hash {
                return Some(format!(
                    "checkpoint signed at this record says the chain value is `{}` but it is `{}`",
                    hex::encode(cp.hash),
                    hex::encode(hash)
                ));
            }
            if let Some(keys) = &options.keys
                && let Err(e) = cp.verify(keys)
            {
                return Some(format!("checkpoint signature: {e}"));
            }
            None
        };

        // The trusted starting value.
        let mut prev = if start == head.base_seq + 1 {
            if head.base_seq > 0 {
                match checkpoints.get(&head.base_seq) {
                    None if options.keys.is_some() => {
                        report.broken = Some(Break {
                            seq: head.base_seq,
                            reason: "the prune boundary has no signed checkpoint".into(),
                        });
                        return Ok(report);
                    }
                    None => {}
                    Some(cp) => {
                        report.checkpoints += 1;
                        if let Some(reason) = check_checkpoint(cp, &head.base_hash) {
                            report.broken = Some(Break {
                                seq: head.base_seq,
                                reason,
                            });
                            return Ok(report);
                        }
                    }
                }
            }
            head.base_hash
        } else {
            match self.stored_hash(start - 1).await? {
                Some(hash) => hash,
                None => {
                    report.broken = Some(Break {
                        seq: start - 1,
                        reason: "record is missing (needed as the starting point)".into(),
                    });
                    return Ok(report);
                }
            }
        };

        // Pages are read ahead: while this task hashes one page, the next is fetched (SQLite
        // decodes on its connection's own thread, PostgreSQL streams over the socket), so reading
        // and hashing overlap on two cores.
        let fetch = |from: i64| {
            let store = self.clone();
            tokio::spawn(async move { store.records_page(from, PAGE).await })
        };
        let mut expected = start;
        let mut next = Some(fetch(expected));
        while let Some(pending) = next.take() {
            let page = pending.await.map_err(|e| StoreError::Invalid {
                what: "verification task",
                reason: e.to_string(),
            })??;
            let done = (page.len() as i64) < PAGE;
            if !done {
                next = Some(fetch(expected + page.len() as i64));
            }
            // Leaves and body digests do not depend on each other: compute them for the whole
            // page first (on a blocking thread when the page is large), then walk the chain.
            let page = hash_page(page).await?;
            for (record, stored, leaf, bodies) in page {
                if record.seq != expected {
                    report.broken = Some(Break {
                        seq: expected,
                        reason: format!(
                            "record is missing (the next record present is seq {})",
                            record.seq
                        ),
                    });
                    return Ok(report);
                }
                let hash = ledger::link(&prev, &leaf);
                if stored.as_slice() != hash {
                    report.broken = Some(Break {
                        seq: record.seq,
                        reason: format!(
                            "record `{}` does not match its chain value (edited, moved, or its predecessor changed)",
                            record.id
                        ),
                    });
                    return Ok(report);
                }
                if let Err(body) = bodies {
                    report.broken = Some(Break {
                        seq: record.seq,
                        reason: format!("the stored {body} text does not match its digest"),
                    });
                    return Ok(report);
                }
                if let Some(cp) = checkpoints.get(&record.seq) {
                    report.checkpoints += 1;
                    if let Some(reason) = check_checkpoint(cp, &hash) {
                        report.broken = Some(Break {
                            seq: record.seq,
                            reason,
                        });
                        return Ok(report);
                    }
                }
                prev = hash;
                report.records += 1;
                report.last_seq = record.seq;
                expected += 1;
            }
        }
        // Truncation: the head row and any later checkpoint must agree with where we stopped.
        if let Some((seq, _)) = checkpoints.range(expected..).next() {
            report.broken = Some(Break {
                seq: expected,
                reason: format!("record is missing (a checkpoint covers up to seq {seq})"),
            });
        } else if head.last_seq != expected - 1
            || (head.last_seq >= start && head.last_hash != prev)
        {
            report.broken = Some(Break {
                seq: expected,
                reason: format!(
                    "the ledger head says the last record is seq {}, but the chain ends at seq {}",
                    head.last_seq,
                    expected - 1
                ),
            });
        }
        Ok(report)
    }

    /// The ledger head: last record and prune boundary.
    pub async fn head(&self) -> Result<Head, StoreError> {
        let e = StoreError::db("reading the ledger head");
        with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT last_seq, last_hash, base_seq, base_hash, checkpoint_seq FROM ledger_head WHERE id = 1",
            )
            .fetch_one(pool)
            .await
            .map_err(e)?;
            let g = |source| StoreError::Database {
                action: "reading the ledger head",
                source,
            };
            let last_hash: Vec<u8> = row.try_get(1).map_err(g)?;
            let base_hash: Vec<u8> = row.try_get(3).map_err(g)?;
            Ok(Head {
                last_seq: row.try_get(0).map_err(g)?,
                last_hash: ledger::to_hash(&last_hash, "ledger head hash")?,
                base_seq: row.try_get(2).map_err(g)?,
                base_hash: ledger::to_hash(&base_hash, "ledger base hash")?,
                checkpoint_seq: row.try_get(4).map_err(g)?,
            })
        })
    }

    /// Up to `limit` records with `seq >= from`, in order, with their stored chain values.
    pub async fn records_page(
        &self,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(ledger::Record, Vec<u8>)>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit_records WHERE seq >= $1 ORDER BY seq LIMIT $2",
            ledger::RECORD_COLUMNS
        );
        with_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(from)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading audit records"))?;
            rows.iter().map(|row| record_from_row!(row)).collect()
        })
    }

    /// The record with this id (a `ProduceID`).
    pub async fn record_by_id(&self, id: &str) -> Result<Option<ledger::Record>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit_records WHERE id = $1",
            ledger::RECORD_COLUMNS
        );
        with_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading audit records"))?;
            row.map(|row| record_from_row!(row).map(|(r, _)| r))
                .transpose()
        })
    }

    /// Checkpoints with `seq >= from`, in order.
    pub async fn checkpoints_from(&self, from: i64) -> Result<Vec<Checkpoint>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT seq, hash, time_ms, reason, signature FROM audit_checkpoints WHERE seq >= $1 ORDER BY seq",
            )
            .bind(from)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading checkpoints"))?;
            rows.iter()
                .map(|row| {
                    let g = |source| StoreError::Database {
                        action: "reading checkpoints",
                        source,
                    };
                    let hash: Vec<u8> = row.try_get(1).map_err(g)?;
                    Ok(Checkpoint {
                        seq: row.try_get(0).map_err(g)?,
                        hash: ledger::to_hash(&hash, "checkpoint hash")?,
                        time_ms: row.try_get(2).map_err(g)?,
                        reason: row.try_get(3).map_err(g)?,
                        signature: row.try_get(4).map_err(g)?,
                    })
                })
                .collect()
        })
    }

    async fn stored_hash(&self, seq: i64) -> Result<Option<[u8; 32]>, StoreError> {
        with_pool!(self, |pool| {
            let row = sqlx::query("SELECT hash FROM audit_records WHERE seq = $1")
                .bind(seq)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading audit records"))?;
            match row {
                None => Ok(None),
                Some(row) => {
                    let hash: Vec<u8> = row
                        .try_get(0)
                        .map_err(StoreError::db("reading audit records"))?;
                    Ok(Some(ledger::to_hash(&hash, "record hash")?))
                }
            }
        })
    }
}

/// The ledger's head row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last record's sequence number (0 when empty).
    pub last_seq: i64,
    /// The chain value after it.
    pub last_hash: [u8; 32],
    /// The last pruned sequence number (0 when nothing was pruned).
    pub base_seq: i64,
    /// The chain value after the last pruned record.
    pub base_hash: [u8; 32],
    /// The last checkpointed sequence number.
    pub checkpoint_seq: i64,
}

/// A record with its stored chain value, its leaf hash and the result of its body check.
type Hashed = (ledger::Record, Vec<u8>, [u8; 32], Result<(), &'static str>);

/// Computes every record's leaf and body check off the async runtime (which keeps fetching the
/// next page meanwhile), split over the available cores: leaves are independent of each other,
/// only the chain walk that follows is sequential.
async fn hash_page(page: Vec<(ledger::Record, Vec<u8>)>) -> Result<Vec<Hashed>, StoreError> {
    fn hash_all(part: Vec<(ledger::Record, Vec<u8>)>) -> Vec<Hashed> {
        let mut buffer = Vec::with_capacity(1024);
        part.into_iter()
            .map(|(record, stored)| {
                let leaf = record.leaf_at(record.seq, &mut buffer);
                let bodies = record.check_bodies();
                (record, stored, leaf, bodies)
            })
            .collect()
    }
    let work = move || {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        if threads < 2 || page.len() < 2048 {
            return Some(hash_all(page));
        }
        let per = page.len().div_ceil(threads);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = page;
        while rest.len() > per {
            let tail = rest.split_off(per);
            parts.push(rest);
            rest = tail;
        }
        parts.push(rest);
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| scope.spawn(move || hash_all(part)))
                .collect();
            let mut all = Vec::new();
            for handle in handles {
                // A hashing thread that panicked leaves no result: report it, never a gap.
                all.extend(handle.join().ok()?);
            }
            Some(all)
        })
    };
    tokio::task::spawn_blocking(work)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| StoreError::Invalid {
            what: "verification task",
            reason: "a hashing thread failed".into(),
        })
}
