//! Minutes of use per end user and day, for the daily time limit of minors mode (Interim
//! Measures art. 10: prevent minors' over-reliance on the service).
//!
//! A minute of use is a minute (of the Beijing-time day the caller names) in which the end user
//! made a request: simple to count, and easy to check against the audit records. One row per
//! (tenant, end user, day) holds the count and the last minute counted. Counting is one
//! statement, so instances sharing one database never count a minute twice; a request whose
//! minute is older than the last one counted (a late arrival) adds nothing.

use crate::backend::with_pool;
use crate::{Store, StoreError};

/// The end user's use on one day, after counting a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteUse {
    /// Distinct minutes of use counted on the day.
    pub minutes: u32,
    /// Whether the request's minute is within the limit: counted now, or already counted.
    pub allowed: bool,
}

impl Store {
    /// Counts a request of the end user in `minute` (0..1439) of `day` (`YYYY-MM-DD`), unless
    /// that would make more than `limit` minutes on the day: then nothing is counted and the
    /// use is not allowed. A minute already counted is allowed again.
    pub async fn count_use_minute(
        &self,
        tenant_id: &str,
        user_id: &str,
        day: &str,
        minute: u32,
        limit: u32,
    ) -> Result<MinuteUse, StoreError> {
        let minute = i64::from(minute);
        let row: Option<(i64, i64)> = with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(StoreError::db("counting use"))?;
            // The update runs only for a later minute within the limit; either way the row is
            // read back in the same transaction.
            sqlx::query(
                "INSERT INTO usage_minutes (tenant_id, user_id, day, minutes, last_minute) \
                 SELECT $1, $2, $3, 1, $4 WHERE $5 > 0 \
                 ON CONFLICT (tenant_id, user_id, day) DO UPDATE SET \
                 minutes = usage_minutes.minutes + 1, last_minute = excluded.last_minute \
                 WHERE excluded.last_minute > usage_minutes.last_minute \
                 AND usage_minutes.minutes < $5",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(day)
            .bind(minute)
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("counting use"))?;
            let row = sqlx::query_as(
                "SELECT minutes, last_minute FROM usage_minutes \
                 WHERE tenant_id = $1 AND user_id = $2 AND day = $3",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(day)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::db("counting use"))?;
            tx.commit().await.map_err(StoreError::db("counting use"))?;
            row
        });
        Ok(match row {
            Some((minutes, last)) => MinuteUse {
                minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
                // A later minute counted means ours was within the limit too (a late arrival).
                allowed: last >= minute,
            },
            None => MinuteUse {
                minutes: 0,
                allowed: false,
            },
        })
    }

    /// The end user's minutes of use on `day` (`YYYY-MM-DD`).
    pub async fn minutes_used(
        &self,
        tenant_id: &str,
        user_id: &str,
        day: &str,
    ) -> Result<u32, StoreError> {
        let minutes: Option<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT minutes FROM usage_minutes WHERE tenant_id = $1 AND user_id = $2 AND day = $3",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(day)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading use"))
        })?;
        Ok(minutes.map_or(0, |m| u32::try_from(m).unwrap_or(u32::MAX)))
    }
}
