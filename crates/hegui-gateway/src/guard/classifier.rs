//! The optional classifier guard: asks a safety model served over an OpenAI-compatible chat API
//! (Qwen3Guard on vLLM, Llama Guard, …) whether an input is safe, and maps its categories to
//! Appendix A risk codes (TC260-003 / GB/T 45654-2025).
//!
//! Time-bounded by `guard.classifier.timeout-ms`; on failure or timeout the configured
//! `fail` policy decides (`open`: pass, `closed`: block with risk `classifier-unavailable`).
//! Runs only when the lexicon did not already block, so it costs nothing on blocked inputs.

use std::time::Duration;

use serde_json::{Value, json};

use futures_util::future::BoxFuture;
use hegui_lexicon::Verdict;
use hegui_store::ledger::schema::{Decision, Stage, StageVerdict};

use super::{Caller, InputCheck, InputFinding, InputGuard};
use crate::config::{Classifier, FailMode};

/// The classifier as an input guard, with its own HTTP client settings and key.
pub(crate) struct ClassifierGuard {
    config: Classifier,
    key: Option<String>,
    client: reqwest::Client,
}

impl InputGuard for ClassifierGuard {
    fn name(&self) -> &'static str {
        "classifier"
    }

    fn check<'a>(
        &'a self,
        _caller: &'a Caller,
        text: &'a str,
        so_far: &'a InputCheck,
    ) -> BoxFuture<'a, Option<InputFinding>> {
        Box::pin(async move {
            if so_far.blocked.is_some() {
                return None;
            }
            Some(self.classify(text).await)
        })
    }
}

/// Qwen3Guard and Llama Guard category names → Appendix A codes.
const CATEGORIES: &[(&str, &str)] = &[
    ("violent", "A.1.f"),
    ("sexual", "A.1.f"),
    ("non-violent illegal", "A.1.h"),
    ("illegal", "A.1.h"),
    ("politically sensitive", "A.1.b"),
    ("terror", "A.1.d"),
    ("extrem", "A.1.d"),
    ("hate", "A.1.e"),
    ("pii", "A.4.f"),
    ("privacy", "A.4.e"),
    ("suicide", "A.4.a"),
    ("self-harm", "A.4.a"),
    ("copyright", "A.3.a"),
    ("intellectual property", "A.3.a"),
    ("defamation", "A.4.c"),
    ("unethical", "A.4.g"),
    ("jailbreak", "A.1.h"),
    ("misinformation", "A.1.g"),
];

/// Maps one category name to an Appendix A code (`A.1.h` when unknown).
pub(crate) fn risk_of(category: &str) -> &'static str {
    let lower = category.to_lowercase();
    CATEGORIES
        .iter()
        .find(|(name, _)| lower.contains(name))
        .map_or("A.1.h", |(_, code)| code)
}

/// Parses a guard model's answer: `(unsafe, categories)`. `None` when it is not a verdict.
pub(crate) fn parse_answer(answer: &str) -> Option<(bool, Vec<String>)> {
    let lower = answer.to_lowercase();
    let mut categories = Vec::new();
    for line in answer.lines() {
        if let Some((key, value)) = line.split_once(':')
            && key.trim().eq_ignore_ascii_case("categories")
        {
            categories.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"))
                    .map(str::to_owned),
            );
        }
    }
    // Qwen3Guard: `Safety: Safe|Unsafe|Controversial`; Llama Guard: `safe` / `unsafe\nS1`.
    let first = lower.lines().next().unwrap_or("").trim().to_owned();
    let safety = lower
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("safety:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or(first);
    if safety.starts_with("unsafe") {
        if categories.is_empty()
            && let Some(second) = answer.lines().nth(1)
        {
            categories.extend(second.split(',').map(|c| c.trim().to_owned()));
        }
        Some((true, categories))
    } else if safety.starts_with("safe") || safety.starts_with("controversial") {
        Some((false, categories))
    } else {
        None
    }
}

impl ClassifierGuard {
    pub(crate) fn new(config: Classifier, key: Option<String>, client: reqwest::Client) -> Self {
        ClassifierGuard {
            config,
            key,
            client,
        }
    }

    async fn classify(&self, text: &str) -> InputFinding {
        let config = &self.config;
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let body = json!({
            "model": config.model,
            "messages": [{"role": "user", "content": text}],
            "temperature": 0,
            "max_tokens": 64,
            "stream": false,
        });
        let mut request = self.client.post(&url).json_body(&body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let call = async {
            let response = request.send().await.map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("classifier answered HTTP {}", response.status()));
            }
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let answer = value
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .ok_or("classifier answer has no message content")?
                .to_owned();
            parse_answer(&answer)
                .ok_or_else(|| format!("classifier answer `{answer}` is not a verdict"))
        };
        let result = tokio::time::timeout(Duration::from_millis(config.timeout_ms), call)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} ms", config.timeout_ms)));
        match result {
            Ok((true, categories)) => {
                let risk = categories
                    .first()
                    .map_or("A.1.h", |c| risk_of(c))
                    .to_owned();
                InputFinding {
                    verdict: Verdict::Block,
                    stage: StageVerdict {
                        risk: Some(risk.clone()),
                        categories,
                        ..StageVerdict::new(Stage::Classifier, Decision::Block, Vec::new())
                    },
                    blocked: Some(risk),
                }
            }
            Ok((false, categories)) => InputFinding {
                verdict: Verdict::Clean,
                blocked: None,
                stage: StageVerdict {
                    categories,
                    ..StageVerdict::new(Stage::Classifier, Decision::Clean, Vec::new())
                },
            },
            Err(error) => {
                tracing::warn!(%error, "classifier failed");
                let closed = config.fail == FailMode::Closed;
                let decision = if closed {
                    Decision::Block
                } else {
                    Decision::Error
                };
                InputFinding {
                    verdict: if closed {
                        Verdict::Block
                    } else {
                        Verdict::Clean
                    },
                    blocked: closed.then(|| "classifier-unavailable".to_owned()),
                    stage: StageVerdict {
                        error: Some(error),
                        fail: Some(if closed { "closed" } else { "open" }.to_owned()),
                        ..StageVerdict::new(Stage::Classifier, decision, Vec::new())
                    },
                }
            }
        }
    }
}

/// `RequestBuilder::json` needs reqwest's `json` feature; this sets the body and header by hand.
trait JsonBody {
    fn json_body(self, value: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, value: &Value) -> Self {
        self.header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_qwen3guard_and_llama_guard() {
        assert_eq!(
            parse_answer("Safety: Unsafe\nCategories: Violent\n"),
            Some((true, vec!["Violent".into()]))
        );
        assert_eq!(
            parse_answer("Safety: Controversial\nCategories: Politically Sensitive Topics"),
            Some((false, vec!["Politically Sensitive Topics".into()]))
        );
        assert_eq!(parse_answer("safe"), Some((false, vec![])));
        assert_eq!(parse_answer("unsafe\nS1"), Some((true, vec!["S1".into()])));
        assert_eq!(parse_answer("I cannot help"), None);
        assert_eq!(risk_of("Violent"), "A.1.f");
        assert_eq!(risk_of("Politically Sensitive Topics"), "A.1.b");
        assert_eq!(risk_of("PII"), "A.4.f");
    }
}
