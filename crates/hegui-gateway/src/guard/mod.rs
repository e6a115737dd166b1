//! The guard pipeline: every check a request and its answer go through, as three lists of
//! guards built in one place ([`Pipeline::new`]) from the config.
//!
//! - **Admission** ([`Admission`]): who is asking and may they ask now. Runs before the input is
//!   read for meaning; a refusal is an OpenAI-shaped error, and an audit record when the guard
//!   says so (throttled per end user, so a flood cannot fill the ledger).
//! - **Input** ([`InputGuard`]): the request's text → allow, refuse or flag for review. Later
//!   guards see what the earlier ones found (the classifier is not asked about a text the
//!   lexicon already refused).
//! - **Output** ([`OutputGuard`]): the answer, chunk by chunk. A streamed answer is fed as its
//!   chunks; a plain answer as one chunk per choice, so one implementation serves both. A guard
//!   may rewrite a chunk, hold it back, or stop the answer ([`Blocked`]).
//!
//! Every guard returns a typed [`StageVerdict`] that goes into the audit record in the order the
//! guards ran. Adding a guard is a new file in this folder implementing one trait, plus its line
//! in [`Pipeline::new`]; the routes do not change. Media answers (images, speech) are labeled by
//! [`label`], not scanned.
//!
//! The guards hold what they need (the store, the bounded per-user state, the matcher, their
//! own HTTP client) and never the [`crate::Gateway`], so this folder does not import the rest of
//! the gateway.

pub(crate) mod agreement;
pub(crate) mod classifier;
pub(crate) mod end_user;
pub(crate) mod fields;
pub(crate) mod identity;
pub(crate) mod label;
pub(crate) mod lexicon;
pub(crate) mod minors;
pub(crate) mod notice;
pub(crate) mod rate_limit;
pub(crate) mod reminders;
pub(crate) mod sanctions;
pub(crate) mod scan;

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::error::AppError;
use crate::state::{Tracked, UserKey};
use crate::wire::answer::{Chunk, ChunkShape};
use axum::http::HeaderMap;
use futures_util::future::BoxFuture;
use hegui_lexicon::{SharedMatcher, Verdict};
use hegui_store::Store;
use hegui_store::ledger::schema::{self, Stage, StageVerdict, Verdicts};
use hegui_store::users::UserState;

pub(crate) use scan::Blocked;

/// Who is asking: set up by the auth layer and the admission guards, carried to the record.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) tenant: String,
    /// The end user ([`end_user::ANONYMOUS`] when the request names none).
    pub(crate) user: String,
    /// Whether the request named its end user (only those can be sanctioned).
    pub(crate) named: bool,
    pub(crate) state: UserState,
    /// Whether the end user is a minor (minors mode: review-level input refused, time limits,
    /// the guidance notice); set by the identity guard.
    pub(crate) minor: bool,
    /// What the answer starts with for this caller (the minors guidance, reminders), in order.
    pub(crate) notices: Vec<notice::UserNotice>,
    pub(crate) client_addr: String,
    pub(crate) started: Instant,
    pub(crate) record_id: hegui_store::RecordId,
}

impl Caller {
    /// A caller of `tenant` whose end user is not known yet.
    pub(crate) fn new(tenant: String, started: Instant, client_addr: String) -> Caller {
        Caller {
            tenant,
            user: end_user::ANONYMOUS.to_owned(),
            named: false,
            state: UserState::Normal,
            minor: false,
            notices: Vec::new(),
            client_addr,
            started,
            record_id: hegui_store::RecordId::generate(),
        }
    }

    /// The key of this caller's per-user state: the end user's id, or the empty string (which
    /// no named user can have) for requests that name none.
    pub(crate) fn key(&self) -> UserKey {
        let user = if self.named { self.user.as_str() } else { "" };
        (Arc::from(self.tenant.as_str()), Arc::from(user))
    }
}

/// What an admission guard may look at: the request's kind (`chat`, `models`, …), its headers
/// and the end user its body names (`user`; none for `GET` routes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestMeta<'a> {
    pub(crate) kind: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) user: Option<&'a str>,
}

/// An admission guard's refusal.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// What the client gets.
    pub(crate) error: AppError,
    /// Whether the refusal is an audit record (a refused end user, not a malformed request).
    pub(crate) audited: bool,
}

impl Refusal {
    /// A refusal that is only an error (malformed input).
    pub(crate) fn plain(error: AppError) -> Refusal {
        Refusal {
            error,
            audited: false,
        }
    }

    /// A refusal that leaves an audit record.
    pub(crate) fn audited(error: AppError) -> Refusal {
        Refusal {
            error,
            audited: true,
        }
    }
}

/// Who is asking and may they ask now; may fill in the [`Caller`] (end user, state).
pub(crate) trait Admission: Send + Sync {
    /// The name in metrics and audit records.
    fn name(&self) -> &'static str;

    /// Allows the request (possibly completing `caller`) or refuses it.
    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>>;
}

/// One input guard's finding.
#[derive(Debug, Clone)]
pub(crate) struct InputFinding {
    /// The lexicon-scale decision (for the overall verdict and the response headers).
    pub(crate) verdict: Verdict,
    /// The risk code of a refusal, if this guard refuses.
    pub(crate) blocked: Option<String>,
    /// What goes into the record.
    pub(crate) stage: StageVerdict,
}

/// The request's text → allow, refuse or flag.
pub(crate) trait InputGuard: Send + Sync {
    /// The name in metrics (`hegui_blocks{stage=…}`).
    fn name(&self) -> &'static str;

    /// Checks `text`; `None` when this guard does not run given what `so_far` found.
    fn check<'a>(
        &'a self,
        caller: &'a Caller,
        text: &'a str,
        so_far: &'a InputCheck,
    ) -> BoxFuture<'a, Option<InputFinding>>;
}

/// Every input guard's findings for one request.
#[derive(Debug, Clone)]
pub(crate) struct InputCheck {
    /// The strongest decision so far.
    pub(crate) verdict: Verdict,
    /// The risk code of the first refusal.
    pub(crate) blocked: Option<String>,
    /// The guard of the first refusal.
    pub(crate) blocked_by: Option<&'static str>,
    /// The stages in the order they ran.
    pub(crate) stages: Vec<StageVerdict>,
}

impl InputCheck {
    fn new() -> InputCheck {
        InputCheck {
            verdict: Verdict::Clean,
            blocked: None,
            blocked_by: None,
            stages: Vec::new(),
        }
    }

    /// The verdicts of an exchange: the input stages, then the output's.
    pub(crate) fn verdicts(&self, output: impl IntoIterator<Item = StageVerdict>) -> Verdicts {
        Verdicts::new(self.stages.iter().cloned().chain(output).collect())
    }

    /// The verdict the response headers show for a request that was not refused.
    pub(crate) fn passed_verdict(&self) -> Verdict {
        if self.verdict == Verdict::Block {
            Verdict::Clean
        } else {
            self.verdict
        }
    }
}

/// One answer's pass through an output guard.
pub(crate) trait OutputPass: Send {
    /// One chunk in; the chunk to forward (maybe rewritten) out, or `None` to hold it.
    fn on_chunk(&mut self, chunk: Chunk) -> Result<Option<Chunk>, Blocked>;

    /// The end of the answer: chunks still held or added, to forward before the final one
    /// (`shape` makes new chunks look like the upstream's).
    fn finish(&mut self, shape: &ChunkShape) -> Result<Vec<Chunk>, Blocked>;

    /// The record's verdict of this pass, if it decides anything.
    fn verdict(&self) -> Option<StageVerdict>;
}

/// What the model produced → forwarded, rewritten or stopped.
pub(crate) trait OutputGuard: Send + Sync {
    /// The name in metrics.
    fn name(&self) -> &'static str;

    /// A fresh pass for one answer of `caller`.
    fn open(&self, caller: &Caller) -> Box<dyn OutputPass>;
}

impl<T: Admission> Admission for Arc<T> {
    fn name(&self) -> &'static str {
        T::name(self)
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        T::admit(self, caller, request)
    }
}

/// The guards, in the order they run.
pub(crate) struct Pipeline {
    pub(crate) admission: Vec<Box<dyn Admission>>,
    pub(crate) input: Vec<Box<dyn InputGuard>>,
    pub(crate) output: Vec<Box<dyn OutputGuard>>,
    /// The implicit label of every output (media included).
    pub(crate) label: label::Labeler,
    /// The violation policy, applied after a refused input (also in `admission`).
    pub(crate) sanctions: Arc<sanctions::Sanctions>,
}

/// What the guards are built from.
pub(crate) struct Parts<'a> {
    pub(crate) config: &'a Config,
    pub(crate) store: &'a Store,
    pub(crate) tracked: &'a Arc<Tracked>,
    pub(crate) matcher: &'a Arc<SharedMatcher>,
    pub(crate) classifier_key: Option<String>,
    pub(crate) client: &'a reqwest::Client,
    /// The label signing key.
    pub(crate) key: Option<Arc<hegui_keys::SigningKey>>,
    /// The fleet's shared state, if any.
    pub(crate) fleet: Option<Arc<crate::fleet::Fleet>>,
    /// What time it is (minors mode, reminders, the identity header).
    pub(crate) clock: crate::Clock,
    /// Tenant → the secret of its signed identity header.
    pub(crate) identity_secrets: std::collections::HashMap<String, Vec<u8>>,
}

impl Pipeline {
    /// THE list of guards. A new guard is one line here.
    pub(crate) fn new(parts: &Parts<'_>) -> Pipeline {
        let mut input: Vec<Box<dyn InputGuard>> =
            vec![Box::new(lexicon::LexiconInput::new(parts.matcher.clone()))];
        if let Some(config) = &parts.config.guard.classifier {
            input.push(Box::new(classifier::ClassifierGuard::new(
                config.clone(),
                parts.classifier_key.clone(),
                parts.client.clone(),
            )));
        }
        let mut output: Vec<Box<dyn OutputGuard>> = vec![Box::new(lexicon::LexiconOutput::new(
            parts.matcher.clone(),
            parts.config.guard.unknown_fields,
        ))];
        if let Some(notice) = notice::ExplicitNotice::new(&parts.config.label) {
            output.push(Box::new(notice));
        }
        output.push(Box::new(notice::UserNotices));
        let sanctions = Arc::new(sanctions::Sanctions::new(
            parts.store.clone(),
            parts.tracked.clone(),
            parts.config.policy.clone(),
            parts.fleet.clone(),
            parts.clock.clone(),
        ));
        Pipeline {
            admission: vec![
                Box::new(end_user::EndUser::new(
                    &parts.config.guard.user_header,
                    parts.config.guard.case_insensitive_users,
                )),
                Box::new(sanctions.clone()),
                Box::new(rate_limit::RateLimit::new(
                    parts.tracked.clone(),
                    parts.fleet.clone(),
                    &parts.config.guard,
                )),
                Box::new(agreement::AgreementGuard::new(
                    parts.config,
                    parts.store.clone(),
                    parts.clock.clone(),
                )),
                Box::new(identity::IdentityGuard::new(parts)),
                Box::new(minors::MinorsGuard::new(parts)),
                Box::new(reminders::ReminderGuard::new(parts)),
            ],
            input,
            output,
            label: label::Labeler::new(&parts.config.label, parts.key.clone()),
            sanctions,
        }
    }

    /// Runs the input guards over `text`.
    pub(crate) async fn check_input(&self, caller: &Caller, text: &str) -> InputCheck {
        let mut check = InputCheck::new();
        for guard in &self.input {
            let Some(finding) = guard.check(caller, text, &check).await else {
                continue;
            };
            check.verdict = check.verdict.max(finding.verdict);
            if check.blocked.is_none() && finding.blocked.is_some() {
                check.blocked = finding.blocked;
                check.blocked_by = Some(guard.name());
            }
            check.stages.push(finding.stage);
        }
        check
    }

    /// A fresh chain of output passes for one answer.
    pub(crate) fn open_output(&self, caller: &Caller) -> OutputChain {
        OutputChain {
            passes: self
                .output
                .iter()
                .map(|g| (g.name(), g.open(caller)))
                .collect(),
            shape: ChunkShape::default(),
        }
    }
}

/// One answer's output passes, chained: each chunk goes through every pass in order; at the end,
/// what a pass releases goes through the passes after it.
pub(crate) struct OutputChain {
    /// (guard name, its pass), in order.
    passes: Vec<(&'static str, Box<dyn OutputPass>)>,
    shape: ChunkShape,
}

impl OutputChain {
    /// One chunk in; the chunks to forward out (none while held).
    pub(crate) fn on_chunk(&mut self, chunk: Chunk) -> Result<Vec<Chunk>, Blocked> {
        self.shape.incoming(&chunk);
        let out = Self::through(&mut self.passes, vec![chunk])?;
        out.iter().for_each(|c| self.shape.outgoing(c));
        Ok(out)
    }

    /// The answer's shape: for the chunks the gateway makes (the stop chunk, the final one).
    pub(crate) fn shape(&self) -> &ChunkShape {
        &self.shape
    }

    fn through(
        passes: &mut [(&'static str, Box<dyn OutputPass>)],
        chunks: Vec<Chunk>,
    ) -> Result<Vec<Chunk>, Blocked> {
        let mut current = chunks;
        for (name, pass) in passes {
            let mut next = Vec::with_capacity(current.len());
            for chunk in current {
                next.extend(pass.on_chunk(chunk).map_err(|b| b.by(name))?);
            }
            current = next;
        }
        Ok(current)
    }

    /// The end of the answer: everything still held, in order, through the passes after the
    /// one that held it.
    pub(crate) fn finish(&mut self) -> Result<Vec<Chunk>, Blocked> {
        let mut carried = Vec::new();
        for i in 0..self.passes.len() {
            let (pass, later) = self.passes[i..].split_at_mut(1);
            let (name, pass) = &mut pass[0];
            let released = pass.finish(&self.shape).map_err(|b| b.by(name))?;
            carried.extend(Self::through(later, released)?);
        }
        carried.iter().for_each(|c| self.shape.outgoing(c));
        Ok(carried)
    }

    /// The record's verdicts of the passes that decide something.
    pub(crate) fn verdicts(&self) -> Vec<StageVerdict> {
        self.passes
            .iter()
            .filter_map(|(_, p)| p.verdict())
            .collect()
    }
}

/// At most this many hits of one stage go into a record; the count stays exact
/// ([`StageVerdict::hit_count`]), so that a request of one blocked word repeated a million
/// times neither swells its record nor the gateway's memory.
pub(crate) const HITS_KEPT: usize = 32;

/// Texts longer than this are scanned in pieces of this size by the streaming scanner, so that
/// their hits are never all in memory at once.
const SCAN_PIECE: usize = 64 * 1024;

/// The lexicon's findings over one whole text, with the hits bounded.
#[derive(Debug, Clone)]
pub(crate) struct TextScan {
    pub(crate) verdict: Verdict,
    /// The first [`HITS_KEPT`] hits, in order.
    pub(crate) kept: Vec<hegui_lexicon::Hit>,
    /// All the hits.
    pub(crate) total: u64,
    /// The risk of the first `block` hit, and of the first `review` hit.
    pub(crate) first_block: Option<String>,
    pub(crate) first_review: Option<String>,
}

impl TextScan {
    /// The record's verdict of `stage` over `text` (the scanned text, for the hits' own text).
    pub(crate) fn stage(&self, stage: Stage, verdict: Verdict, text: &str) -> StageVerdict {
        let mut out = StageVerdict::new(stage, decision(verdict), Vec::new());
        out.add_hits(audit_hits(&self.kept, Some(text)), self.total, HITS_KEPT);
        out
    }
}

/// Scans `text` whole, keeping at most [`HITS_KEPT`] hits.
pub(crate) fn scan_text(matcher: &Arc<hegui_lexicon::Matcher>, text: &str) -> TextScan {
    let mut scan = TextScan {
        verdict: Verdict::Clean,
        kept: Vec::new(),
        total: 0,
        first_block: None,
        first_review: None,
    };
    let mut take = |hits: Vec<hegui_lexicon::Hit>| {
        for hit in hits {
            let level = hit.rule.level;
            scan.verdict = scan.verdict.max(Verdict::from(level));
            scan.total += 1;
            let first = match level {
                hegui_lexicon::Level::Block => Some(&mut scan.first_block),
                hegui_lexicon::Level::Review => Some(&mut scan.first_review),
                _ => None,
            };
            if let Some(first) = first
                && first.is_none()
            {
                *first = Some(hit.rule.risk.clone());
            }
            if scan.kept.len() < HITS_KEPT {
                scan.kept.push(hit);
            }
        }
    };
    if text.len() <= SCAN_PIECE {
        take(matcher.find_all(text));
    } else {
        let mut scanner = hegui_lexicon::Scanner::new(matcher.clone());
        let mut rest = text;
        while !rest.is_empty() {
            let mut end = SCAN_PIECE.min(rest.len());
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            take(scanner.push(&rest[..end]).hits);
            rest = &rest[end..];
        }
        take(scanner.finish().hits);
    }
    scan
}

/// The audit form of lexicon hits in `text` (with the text each matched, when known).
pub(crate) fn audit_hits(hits: &[hegui_lexicon::Hit], text: Option<&str>) -> Vec<schema::Hit> {
    hits.iter()
        .map(|h| schema::Hit {
            pattern: h.rule.pattern.clone(),
            risk: h.rule.risk.clone(),
            level: h.rule.level.as_str().to_owned(),
            text: text.map(|t| h.display_text(t)),
        })
        .collect()
}

/// The audit form of a lexicon verdict.
pub(crate) fn decision(verdict: Verdict) -> schema::Decision {
    match verdict {
        Verdict::Clean => schema::Decision::Clean,
        Verdict::Flag => schema::Decision::Flag,
        Verdict::Review => schema::Decision::Review,
        Verdict::Block => schema::Decision::Block,
    }
}

/// The admission stage's verdict of a refusal by `guard`, with the error code the client got.
pub(crate) fn refusal_verdict(guard: &str, code: &str) -> StageVerdict {
    StageVerdict {
        notes: vec![code.to_owned()],
        ..StageVerdict::new(Stage::Admission, schema::Decision::Block, Vec::new()).by(guard)
    }
}
