//! Running a bank against an OpenAI-compatible chat endpoint: concurrent requests with retries,
//! a rate limit, and a results file that makes the run resumable.
//!
//! The results file is JSON Lines, one [`Transcript`] per answered question. Each transcript is
//! appended and flushed as soon as it is judged, so an interruption (Ctrl-C, a crash, a lost
//! connection) loses at most the requests in flight; a half-written last line is dropped on the
//! next start. A question whose request failed after its retries is not written, so the next run
//! asks it again. When a run ends, the file is rewritten (temporary file and rename) in bank
//! order: an interrupted-and-resumed run leaves the same bytes as an uninterrupted one, because
//! transcripts carry no timings or attempt counts.
//!
//! An endpoint that cannot be reached at all (connection refused, DNS) stops the run with an
//! error naming it, instead of writing a bank's worth of failures.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt as _;
use hegui_lexicon::Matcher;
use serde::{Deserialize, Serialize};

use super::judge::{self, Judgement, Outcome};
use super::{Bank, Kind, Question};
use crate::input::{self, InputError};

/// One judged question: what was asked, what came back, the judgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// Question id.
    pub id: String,
    /// Its kind.
    pub kind: Kind,
    /// Its risk code.
    pub risk: Option<String>,
    /// The prompt sent.
    pub prompt: String,
    /// The answer (none when the endpoint refused the request).
    pub answer: Option<String>,
    /// The finish reason.
    pub finish_reason: Option<String>,
    /// The endpoint's refusal message, when it refused the request.
    pub blocked: Option<String>,
    /// The judgement.
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// A judge model (OpenAI-compatible) asked about generated answers.
#[derive(Debug, Clone)]
pub struct JudgeModel {
    /// Base URL (`…/v1`).
    pub endpoint: String,
    /// Model name.
    pub model: String,
    /// Bearer token.
    pub api_key: Option<String>,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Base URL of the endpoint (`http://127.0.0.1:8080/v1`).
    pub endpoint: String,
    /// Model name.
    pub model: String,
    /// Bearer token.
    pub api_key: Option<String>,
    /// Optional judge model for generated answers.
    pub judge: Option<JudgeModel>,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Requests per second at most.
    pub rate: Option<f64>,
    /// Retries after a failed attempt (429, 5xx, timeout, cut connection).
    pub retries: u32,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Ask at most this many new questions (a trial run; the rest waits for the next run).
    pub limit: Option<usize>,
}

/// A run that could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A bank or results file problem.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The endpoint cannot be reached.
    #[error("cannot reach `{endpoint}`: {message}")]
    Unreachable {
        /// The URL.
        endpoint: String,
        /// The cause.
        message: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Transcripts found in the results file at the start.
    pub resumed: usize,
    /// Questions answered now.
    pub answered: usize,
    /// Questions whose requests failed (id, error); asked again by the next run.
    pub failed: Vec<(String, String)>,
    /// Questions of the bank without a transcript after the run.
    pub missing: usize,
}

/// Reads a results file, dropping a half-written last line. Other invalid lines are errors.
///
/// # Errors
///
/// An unreadable file or an invalid complete line.
pub fn read_results(path: &Path) -> Result<Vec<Transcript>, InputError> {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(InputError::io(&name, e)),
    };
    let complete = bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(&bytes[..0], |i| &bytes[..=i]);
    let mut out = Vec::new();
    input::for_each_line(complete, &name, |line, text| {
        let t = serde_json::from_slice(text)
            .map_err(|e| InputError::invalid(&name, line, format!("invalid transcript: {e}")))?;
        out.push(t);
        Ok(())
    })?;
    Ok(out)
}

/// Writes transcripts in bank order through a temporary file and a rename.
fn rewrite(path: &Path, bank: &Bank, done: &HashMap<String, Transcript>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    for q in &bank.questions {
        if let Some(t) = done.get(&q.id) {
            serde_json::to_writer(&mut tmp, t)?;
            tmp.write_all(b"\n")?;
        }
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [Message<'a>; 1],
    stream: bool,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
    code: Option<String>,
}

enum Failure {
    /// Worth another attempt.
    Retry(String),
    /// Not worth another attempt.
    Fatal(String),
    /// Nothing listens there.
    Unreachable(String),
}

/// A minimal rate limiter: the next free slot, shared by all requests.
struct Pace {
    interval: Option<Duration>,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pace {
    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

async fn ask(
    client: &reqwest::Client,
    endpoint: &str,
    model: &str,
    api_key: Option<&str>,
    prompt: &str,
) -> Result<Outcome, Failure> {
    let url = format!("{}/chat/completions", endpoint.trim_end_matches('/'));
    let body = ChatRequest {
        model,
        messages: [Message {
            role: "user",
            content: prompt,
        }],
        stream: false,
    };
    let body = serde_json::to_vec(&body).map_err(|e| Failure::Fatal(e.to_string()))?;
    let mut request = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_connect() {
            Failure::Unreachable(e.to_string())
        } else {
            Failure::Retry(e.to_string())
        }
    })?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Failure::Retry(format!("cut body: {e}")))?;
    if status.is_success() {
        let parsed: ChatResponse = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Retry(format!("malformed response: {e}")))?;
        let choice = parsed
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| Failure::Retry("a response without choices".to_string()))?;
        return Ok(Outcome::Answer {
            text: choice.message.content.unwrap_or_default(),
            finish_reason: choice.finish_reason,
        });
    }
    let error: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
    if let Some(e) = &error
        && e.error.code.as_deref() == Some("content_filter")
    {
        return Ok(Outcome::Blocked {
            message: e.error.message.clone(),
        });
    }
    let message = format!(
        "HTTP {status}: {}",
        error.map_or_else(
            || String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            |e| e.error.message
        )
    );
    if status.as_u16() == 429 || status.is_server_error() {
        Err(Failure::Retry(message))
    } else {
        Err(Failure::Fatal(message))
    }
}

/// `ask` with retries and exponential backoff (100 ms, 200 ms, … up to 5 s).
async fn ask_retrying(
    client: &reqwest::Client,
    pace: &Pace,
    retries: u32,
    endpoint: &str,
    model: &str,
    api_key: Option<&str>,
    prompt: &str,
) -> Result<Outcome, Failure> {
    let mut attempt = 0u32;
    loop {
        pace.wait().await;
        match ask(client, endpoint, model, api_key, prompt).await {
            Err(Failure::Retry(_) | Failure::Unreachable(_)) if attempt < retries => {
                let backoff = Duration::from_millis(100u64 << attempt.min(6));
                tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn one(
    client: &reqwest::Client,
    pace: &Pace,
    options: &RunOptions,
    matcher: &Matcher,
    question: &Question,
) -> Result<Transcript, Failure> {
    let outcome = ask_retrying(
        client,
        pace,
        options.retries,
        &options.endpoint,
        &options.model,
        options.api_key.as_deref(),
        &question.prompt,
    )
    .await?;
    let judge_safe = match (&options.judge, &outcome, question.kind) {
        (Some(j), Outcome::Answer { text, .. }, Kind::Generate) => {
            let prompt = judge::judge_prompt(&question.prompt, text);
            let reply = ask_retrying(
                client,
                pace,
                options.retries,
                &j.endpoint,
                &j.model,
                j.api_key.as_deref(),
                &prompt,
            )
            .await?;
            match reply {
                Outcome::Answer { text, .. } => judge::parse_judge_reply(&text),
                Outcome::Blocked { .. } => None,
            }
        }
        _ => None,
    };
    let judgement = judge::judge(question.kind, &outcome, matcher, judge_safe);
    let (answer, finish_reason, blocked) = match outcome {
        Outcome::Answer {
            text,
            finish_reason,
        } => (Some(text), finish_reason, None),
        Outcome::Blocked { message } => (None, None, Some(message)),
    };
    Ok(Transcript {
        id: question.id.clone(),
        kind: question.kind,
        risk: question.risk.clone(),
        prompt: question.prompt.clone(),
        answer,
        finish_reason,
        blocked,
        judgement,
    })
}

/// Runs the questions of `bank` that have no transcript in `results` yet, appending each
/// transcript as it is judged, then rewrites `results` in bank order. `on_done` is called once
/// per finished question (answered or failed).
///
/// # Errors
///
/// An invalid results file, an unwritable results file, or an unreachable endpoint.
pub async fn run(
    bank: &Bank,
    results: &Path,
    matcher: &Matcher,
    options: &RunOptions,
    on_done: &(dyn Fn() + Sync),
) -> Result<RunSummary, RunError> {
    let name = results.display().to_string();
    let io = |e: std::io::Error| RunError::Input(InputError::io(&name, e));
    let mut done: HashMap<String, Transcript> = read_results(results)?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    // Drop a half-written last line before appending after it.
    rewrite(results, bank, &done).map_err(io)?;
    let mut summary = RunSummary {
        resumed: done.len(),
        ..RunSummary::default()
    };
    let todo: Vec<&Question> = bank
        .questions
        .iter()
        .filter(|q| !done.contains_key(&q.id))
        .take(options.limit.unwrap_or(usize::MAX))
        .collect();
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .build()
        .map_err(|e| RunError::Unreachable {
            endpoint: options.endpoint.clone(),
            message: e.to_string(),
        })?;
    let pace = Pace {
        interval: options
            .rate
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r)),
        next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(results)
        .map_err(io)?;
    let mut stream = futures_util::stream::iter(todo)
        .map(|q| {
            let (client, pace) = (&client, &pace);
            async move { (q, one(client, pace, options, matcher, q).await) }
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((question, result)) = stream.next().await {
        on_done();
        match result {
            Ok(transcript) => {
                let mut line =
                    serde_json::to_vec(&transcript).map_err(|e| io(std::io::Error::other(e)))?;
                line.push(b'\n');
                file.write_all(&line).map_err(io)?;
                file.flush().map_err(io)?;
                done.insert(transcript.id.clone(), transcript);
                summary.answered += 1;
            }
            Err(Failure::Unreachable(message)) => {
                return Err(RunError::Unreachable {
                    endpoint: options.endpoint.clone(),
                    message,
                });
            }
            Err(Failure::Retry(message) | Failure::Fatal(message)) => {
                summary.failed.push((question.id.clone(), message));
            }
        }
    }
    drop(file);
    rewrite(results, bank, &done).map_err(io)?;
    summary.missing = bank
        .questions
        .iter()
        .filter(|q| !done.contains_key(&q.id))
        .count();
    Ok(summary)
}
