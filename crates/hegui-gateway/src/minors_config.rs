//! The `[guard.minors]` and `[guard.reminders]` tables of `hegui.toml` (see `guard::minors`
//! and `guard::reminders`), apart from `config.rs` to keep that file short.

use serde::Deserialize;

use crate::config::{ConfigError, invalid};

/// Minors mode (Interim Measures art. 10: prevent minors' over-reliance and addiction), for end
/// users flagged minor in the store or by the signed identity header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Minors {
    /// Minutes of use per Beijing-time day (a minute of use: a minute in which the user made a
    /// request); over it, 403 `minor_time_limit`. 0 = no limit. Default 40.
    pub daily_minutes: u32,
    /// Hours without service, Beijing time, `HH:MM-HH:MM` (may wrap past midnight); 403
    /// `minor_quiet_hours`. Empty = none. Default `22:00-06:00`.
    pub quiet_hours: String,
    /// The guidance notice before every answer to a minor; empty = none.
    pub guidance: String,
}

impl Default for Minors {
    fn default() -> Self {
        Minors {
            daily_minutes: 40,
            quiet_hours: "22:00-06:00".into(),
            guidance: "【未成年人模式】请合理安排使用时间，注意休息；人工智能生成的内容可能有误，\
                       遇到问题请向家长或老师求助。"
                .into(),
        }
    }
}

impl Minors {
    /// The quiet hours as (start, end) minutes of the day, or `None` when there are none.
    pub fn quiet(&self) -> Result<Option<(u32, u32)>, ConfigError> {
        let text = self.quiet_hours.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let wrong = || {
            invalid(
                "guard.minors.quiet-hours",
                format!("`{text}` is not `HH:MM-HH:MM`"),
            )
        };
        let minute = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        let (start, end) = text.split_once('-').ok_or_else(wrong)?;
        let (start, end) = (
            minute(start).ok_or_else(wrong)?,
            minute(end).ok_or_else(wrong)?,
        );
        if start == end {
            return Err(invalid(
                "guard.minors.quiet-hours",
                format!("`{text}` starts and ends at the same time"),
            ));
        }
        Ok(Some((start, end)))
    }
}

/// Reminders that the user is talking to an AI (the anthropomorphic-interaction measures of
/// 2026: a reminder at first use and after long continuous use). A session is a run of one end
/// user's requests with gaps shorter than `session-gap-minutes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Reminders {
    /// Remind at the first request of every session (the user's first use, and every return
    /// after a gap). Default true.
    pub first_use: bool,
    /// Remind again after this many minutes of continuous use (and every as many after); 0 =
    /// never. Default 120.
    pub every_minutes: u64,
    /// A gap of this many minutes or more ends a session. Default 30.
    pub session_gap_minutes: u64,
    /// The first-use reminder.
    pub text: String,
    /// The continuous-use reminder.
    pub continuous_text: String,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            first_use: true,
            every_minutes: 120,
            session_gap_minutes: 30,
            text: "【提示】您正在与人工智能对话，对方不是真人，其回答由人工智能生成，仅供参考。"
                .into(),
            continuous_text: "【提示】您已连续使用较长时间，请注意休息。您正在与人工智能对话，\
                              对方不是真人。"
                .into(),
        }
    }
}
