//! The audit ledger from Python: `hegui.audit.verify(database_url)`, as `hegui audit verify
//! --database URL` checks it (hash chain, sequence numbers, checkpoints and, with public keys,
//! their signatures), opening the database read-only and never creating one.
//!
//! The report crosses into Python as a JSON document (`python/hegui/audit.py` decodes it).

use std::path::PathBuf;

use hegui_keys::{KeyRing, VerifyingKey};
use hegui_store::ledger::VerifyOptions;
use hegui_store::{Access, OpenOptions, Store};
use pyo3::prelude::*;

use crate::AuditError;

/// Verifies the ledger at `database_url`; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (database_url, public_keys=Vec::new(), start=None))]
pub fn audit_verify(
    py: Python<'_>,
    database_url: String,
    public_keys: Vec<PathBuf>,
    start: Option<i64>,
) -> PyResult<String> {
    py.detach(move || {
        let keys = if public_keys.is_empty() {
            None
        } else {
            let mut ring = KeyRing::new();
            for path in &public_keys {
                ring.insert(VerifyingKey::load(path).map_err(|e| {
                    AuditError::new_err(format!("cannot load public key `{}`: {e}", path.display()))
                })?);
            }
            Some(ring)
        };
        hegui_store::block_on(async move {
            let options = OpenOptions {
                retention_days: 180,
                access: Access::ReadOnly,
                ..OpenOptions::default()
            };
            let store = Store::open_with(&database_url, options)
                .await
                .map_err(|e| AuditError::new_err(format!("cannot open the audit database: {e}")))?;
            let report = store.verify(&VerifyOptions { from: start, keys }).await;
            store.close().await;
            let report =
                report.map_err(|e| AuditError::new_err(format!("cannot read the ledger: {e}")))?;
            let signatures = report.signatures.as_ref().map(|s| {
                serde_json::json!({
                    "keys": s.keys,
                    "verified_by": s.verified_by,
                    "verified": s.verified(),
                    "unused_keys": s.unused_keys().collect::<Vec<_>>(),
                })
            });
            Ok(serde_json::json!({
                "intact": report.broken.is_none(),
                "first_seq": report.first_seq,
                "last_seq": report.last_seq,
                "records": report.records,
                "checkpoints": report.checkpoints,
                "broken": report.broken.as_ref().map(|b| serde_json::json!({
                    "seq": b.seq,
                    "reason": b.reason,
                    "message": b.to_string(),
                })),
                "signatures": signatures,
            })
            .to_string())
        })
    })
}
