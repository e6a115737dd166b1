//! A tenant's public pages in `hegui.toml` (`[tenants.public]`): what the service is, for whom,
//! its limits, its filings, the agreement versions and the complaint time limit.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::config::ConfigError;

/// The public pages of one tenant's service (Interim Measures arts. 9, 10, 15; Labeling
/// Measures art. 8; the generative-AI filing display, regulation.md §e.7).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PublicPages {
    /// The service's name, as users know it. Required.
    pub service: String,
    /// The provider (the legal entity). Required.
    pub provider: String,
    /// Who may use it, on which occasions and for what (适用人群、场合、用途). Required.
    pub scope: String,
    /// What it cannot do and what users should not rely on it for (服务的局限). Required.
    pub limits: String,
    /// The algorithm filing number (算法备案号), when the service has one.
    #[serde(default)]
    pub algorithm_filing: String,
    /// Where complaints can also be sent (an e-mail address or a telephone number).
    #[serde(default)]
    pub contact: String,
    /// The published time limit for an answer to a complaint or report. Default 15.
    #[serde(default = "default_complaint_days")]
    pub complaint_days: u32,
    /// Count `complaint-days` in working days on the mainland-China calendar (default), or in
    /// calendar days.
    #[serde(default = "default_true")]
    pub complaint_working_days: bool,
    /// Where answers to complaints are sent: each answer is POSTed there as JSON (ticket,
    /// status, answer, contact, time), and the delivery goes into the ticket's history. Empty:
    /// none.
    #[serde(default)]
    pub complaint_webhook: String,
    /// The time limit for handling a personal-information request (Interim Measures art. 11
    /// asks for timely handling and gives no number), counted like `complaint-days`.
    /// Default 15.
    #[serde(default = "default_complaint_days")]
    pub pi_request_days: u32,
    /// Refuse (403 `agreement_not_accepted`) an end user who has not accepted the version in
    /// force (`POST /v1/hegui/agreements/accept`). Default false.
    #[serde(default)]
    pub require_agreement: bool,
    /// Refuse (403 `identity_not_verified`) an end user whose real identity is not verified
    /// (Deep Synthesis Provisions art. 9), and every request that names no end user. Default
    /// false.
    #[serde(default)]
    pub require_identity: bool,
    /// Environment variable holding the secret of the signed identity header
    /// (`x-hegui-identity`, HMAC-SHA256) that the provider's identity system sends; none
    /// refuses such headers (400).
    #[serde(default)]
    pub identity_secret_env: Option<String>,
    /// Every version of the service agreement and rules, kept once published.
    #[serde(default)]
    pub agreements: Vec<Agreement>,
}

/// One version of the service agreement and rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Agreement {
    /// The version (letters, digits, `.`, `-`, `_`), unique per tenant. Required.
    pub version: String,
    /// The first day it applies: a TOML date (`2026-01-01`) or a string (`"2026-01-01"`).
    /// Required.
    #[serde(deserialize_with = "date")]
    pub effective: NaiveDate,
    /// The title. Default 用户服务协议.
    #[serde(default = "default_title")]
    pub title: String,
    /// The text (plain text; paragraphs separated by blank lines). Required.
    pub text: String,
}

/// A date written as a TOML date or as a `YYYY-MM-DD` string.
fn date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    use serde::de::Error as _;
    let datetime = toml::value::Datetime::deserialize(deserializer)?;
    let (Some(day), None) = (datetime.date, datetime.time) else {
        return Err(D::Error::custom(format!(
            "`{datetime}` is not a date (YYYY-MM-DD)"
        )));
    };
    NaiveDate::from_ymd_opt(
        i32::from(day.year),
        u32::from(day.month),
        u32::from(day.day),
    )
    .ok_or_else(|| D::Error::custom(format!("`{datetime}` is not a date")))
}

fn default_complaint_days() -> u32 {
    15
}

fn default_true() -> bool {
    true
}

fn default_title() -> String {
    "用户服务协议".into()
}

impl PublicPages {
    /// Checks the fields that have rules; `at` names the table (`tenants[0].public`).
    pub(crate) fn validate(&self, at: &str) -> Result<(), ConfigError> {
        let invalid = |field: &str, reason: String| ConfigError::Invalid {
            field: format!("{at}.{field}"),
            reason,
        };
        for (field, value) in [
            ("service", &self.service),
            ("provider", &self.provider),
            ("scope", &self.scope),
            ("limits", &self.limits),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(field, "is required".into()));
            }
        }
        for (field, days) in [
            ("complaint-days", self.complaint_days),
            ("pi-request-days", self.pi_request_days),
        ] {
            if !(1..=365).contains(&days) {
                return Err(invalid(field, format!("{days} is not between 1 and 365")));
            }
        }
        let hook = &self.complaint_webhook;
        if !hook.is_empty()
            && reqwest::Url::parse(hook).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
        {
            return Err(invalid(
                "complaint-webhook",
                format!("`{hook}` is not an http or https URL"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, agreement) in self.agreements.iter().enumerate() {
            let version = &agreement.version;
            if version.is_empty()
                || !version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                return Err(invalid(
                    &format!("agreements[{i}].version"),
                    format!("`{version}` is not letters, digits, `.`, `-` and `_`"),
                ));
            }
            if !seen.insert(version) {
                return Err(invalid(
                    &format!("agreements[{i}].version"),
                    format!("`{version}` is listed twice"),
                ));
            }
            if agreement.text.trim().is_empty() {
                return Err(invalid(
                    &format!("agreements[{i}].text"),
                    "is required".into(),
                ));
            }
        }
        Ok(())
    }

    /// The agreement in force on `day`: the latest effective on or before it.
    pub(crate) fn current_agreement(&self, day: NaiveDate) -> Option<&Agreement> {
        self.agreements
            .iter()
            .filter(|a| a.effective <= day)
            .max_by_key(|a| a.effective)
    }
}
