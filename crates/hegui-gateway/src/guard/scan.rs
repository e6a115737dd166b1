//! The lexicon's output scan: a synchronous state machine that rewrites `chat.completion.chunk`s
//! so that only scanned text leaves the gateway. A plain answer goes through it as one chunk per
//! choice, so streamed and plain answers are guarded by the same code.
//!
//! Each choice's `content` and `reasoning_content` go through their own
//! [`hegui_lexicon::Scanner`]; a chunk is re-emitted with the text the scanner *released* (text
//! over which no pattern can still complete), never with the upstream's raw text. Tool-call
//! deltas are held until the end of the stream and scanned as a whole. On a `block` hit the
//! machine reports [`Blocked`] and forwards nothing more; the caller sends the final
//! `content_filter` chunk.
//!
//! The machine is pure (no I/O), so the property "no forbidden pattern reaches the client,
//! whatever the chunking" is tested on it directly.

use std::collections::BTreeMap;
use std::sync::Arc;

use hegui_lexicon::{Hit, Level, Matcher, Scanner, Verdict};
use hegui_store::ledger::schema::{self, Stage, StageVerdict};
use serde_json::{Map, Value};

use super::fields::{self, HeldText};
use super::{audit_hits, decision};
use crate::config::UnknownFields;
use crate::wire::answer::{Chunk, ChunkChoice, ChunkShape};
use crate::wire::message::{Content, Message};

/// The output was stopped by a `block` hit.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    /// The risk code of the hit.
    pub(crate) risk: String,
    /// The guard that stopped it (set by the output chain).
    pub(crate) guard: &'static str,
}

impl Blocked {
    /// The same stop, attributed to the guard named `guard`.
    pub(crate) fn by(mut self, guard: &'static str) -> Blocked {
        self.guard = guard;
        self
    }
}

#[derive(Debug)]
struct ChoiceState {
    content: Scanner,
    reasoning: Scanner,
    /// Everything pushed into each scanner, for the text of its hits.
    content_seen: String,
    reasoning_seen: String,
}

/// What one scan step found.
struct Found {
    audit: Vec<schema::Hit>,
    verdict: Verdict,
    block: Option<Blocked>,
}

impl Found {
    /// The hits of a step over `haystack` (the scanner's whole input so far).
    fn of(hits: &[Hit], haystack: &str) -> Found {
        let audit = audit_hits(hits, Some(haystack));
        let block = hits
            .iter()
            .find(|h| h.rule.level == Level::Block)
            .map(|h| Blocked {
                risk: h.rule.risk.clone(),
                guard: "",
            });
        Found {
            verdict: Verdict::of(hits),
            audit,
            block,
        }
    }
}

/// The lexicon's scan of one answer.
#[derive(Debug)]
pub(crate) struct OutputScan {
    matcher: Arc<Matcher>,
    choices: BTreeMap<u64, ChoiceState>,
    /// Every released `content` text.
    pub(crate) text: String,
    /// The first hits, with their text, for the record (at most [`super::HITS_KEPT`]).
    audit: Vec<schema::Hit>,
    /// Every hit so far.
    hit_total: u64,
    verdict: Verdict,
    /// Chunks held until the end (tool calls, a choice's other fields), in order.
    held: Vec<Chunk>,
    /// The text of what is held, per field.
    held_text: HeldText,
    /// The answer's own text fields as last scanned (they repeat in every chunk).
    top_seen: BTreeMap<String, String>,
    unknown: UnknownFields,
    blocked: bool,
}

impl OutputScan {
    pub(crate) fn new(matcher: Arc<Matcher>, unknown: UnknownFields) -> OutputScan {
        OutputScan {
            matcher,
            choices: BTreeMap::new(),
            text: String::new(),
            audit: Vec::new(),
            hit_total: 0,
            verdict: Verdict::Clean,
            held: Vec::new(),
            held_text: HeldText::default(),
            top_seen: BTreeMap::new(),
            unknown,
            blocked: false,
        }
    }

    /// Scans `text` whole (not streamed), and its `\uXXXX` escapes decoded; stops on a block.
    fn scan_whole(&mut self, text: &str) -> Result<(), Blocked> {
        if text.is_empty() {
            return Ok(());
        }
        let hits = self.matcher.find_all(text);
        let found = Found::of(&hits, text);
        self.absorb(found)?;
        if let Some(decoded) = fields::decode_escapes(text) {
            let hits = self.matcher.find_all(&decoded);
            let found = Found::of(&hits, &decoded);
            self.absorb(found)?;
        }
        Ok(())
    }

    /// The answer's own fields (all but `choices`; `id`, `object`, `created` and `model` are
    /// not text): scanned now, each when it changes.
    fn scan_top_level(&mut self, chunk: &Chunk) -> Result<(), Blocked> {
        for (key, value) in &chunk.rest {
            if !fields::may_hold_text(key, value) {
                continue;
            }
            let text = fields::text_of(value);
            if self.top_seen.get(key) == Some(&text) {
                continue;
            }
            self.scan_whole(&text)?;
            self.top_seen.insert(key.clone(), text);
        }
        Ok(())
    }

    /// Takes the fields of a choice other than its index, delta and finish reason (`logprobs`,
    /// a legacy `text`, …) out of `chunk` into held chunks of their own; whether the chunk itself
    /// must be held (a delta field other than the streamed texts: tool calls, `refusal`,
    /// `content` as parts).
    fn hold_other_fields(&mut self, chunk: &mut Chunk) -> bool {
        let mut hold_chunk = false;
        let mut trailers = Vec::new();
        for choice in &mut chunk.choices {
            let index = choice.index;
            let others: Map<String, Value> = std::mem::take(&mut choice.rest)
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .collect();
            if !others.is_empty() {
                for (key, value) in &others {
                    self.held_text.add(&format!("{index}.{key}"), value);
                }
                trailers.push(ChunkChoice {
                    index,
                    delta: Some(Message::default()),
                    finish_reason: None,
                    rest: others,
                });
            }
            if let Some(delta) = &choice.delta {
                hold_chunk |= self.held_text.add_delta(index, delta);
            }
        }
        for trailer in trailers {
            self.held.push(Chunk {
                choices: vec![trailer],
                ..chunk.clone()
            });
        }
        hold_chunk
    }

    fn choice(&mut self, index: u64) -> &mut ChoiceState {
        let matcher = &self.matcher;
        self.choices.entry(index).or_insert_with(|| ChoiceState {
            content: Scanner::new(matcher.clone()),
            reasoning: Scanner::new(matcher.clone()),
            content_seen: String::new(),
            reasoning_seen: String::new(),
        })
    }

    /// Pushes `incoming` into one scanner of choice `index` (finishing it if `finished`): the
    /// released text and what was found.
    fn step(
        &mut self,
        index: u64,
        is_reasoning: bool,
        incoming: &str,
        finished: bool,
    ) -> (String, Found) {
        let state = self.choice(index);
        let (scanner, seen) = if is_reasoning {
            (&mut state.reasoning, &mut state.reasoning_seen)
        } else {
            (&mut state.content, &mut state.content_seen)
        };
        seen.push_str(incoming);
        let mut step = scanner.push(incoming);
        if finished {
            let last = scanner.finish();
            step.released.push_str(&last.released);
            step.hits.extend(last.hits);
        }
        let found = Found::of(&step.hits, seen);
        (step.released, found)
    }

    fn absorb(&mut self, found: Found) -> Result<(), Blocked> {
        self.hit_total += found.audit.len() as u64;
        let room = super::HITS_KEPT.saturating_sub(self.audit.len());
        self.audit.extend(found.audit.into_iter().take(room));
        if let Some(block) = found.block {
            self.blocked = true;
            self.verdict = Verdict::Block;
            return Err(block);
        }
        self.verdict = self.verdict.max(found.verdict);
        Ok(())
    }

    /// The record's verdict: every hit so far, blocking or not, with its text.
    pub(crate) fn stage_verdict(&self) -> StageVerdict {
        let mut verdict = StageVerdict::new(Stage::Output, decision(self.verdict), Vec::new());
        verdict.add_hits(self.audit.clone(), self.hit_total, super::HITS_KEPT);
        verdict
    }

    /// One upstream chunk in; the chunk to forward (if any) out.
    ///
    /// INVARIANT: every string in the returned chunk's `delta.content` /
    /// `delta.reasoning_content` was released by a scanner with no `block` hit so far.
    pub(crate) fn on_chunk(&mut self, mut chunk: Chunk) -> Result<Option<Chunk>, Blocked> {
        if self.blocked {
            return Ok(None);
        }
        if self.unknown == UnknownFields::Drop {
            chunk.drop_unknown();
        }
        self.scan_top_level(&chunk)?;
        let has_tools = self.hold_other_fields(&mut chunk);
        if chunk.choices.is_empty() {
            // No choices (the usage chunk of `stream_options.include_usage`): nothing to scan.
            return Ok(Some(chunk));
        }
        let mut interesting = false;
        let mut steps: Vec<(u64, bool, String, bool)> = Vec::new();
        for choice in &mut chunk.choices {
            let finished = choice.finish_reason.is_some();
            interesting |= finished;
            let Some(delta) = &mut choice.delta else {
                continue;
            };
            let content = match &mut delta.content {
                Some(Content::Text(text)) => Some(std::mem::take(text)),
                _ => None,
            };
            let reasoning = delta.reasoning_content.as_mut().map(std::mem::take);
            interesting |= delta.role.is_some() || !delta.rest.is_empty();
            steps.push((choice.index, false, content.unwrap_or_default(), finished));
            steps.push((choice.index, true, reasoning.unwrap_or_default(), finished));
        }
        for (index, is_reasoning, incoming, finished) in steps {
            let (text, found) = self.step(index, is_reasoning, &incoming, finished);
            self.absorb(found)?;
            if text.is_empty() {
                continue;
            }
            interesting = true;
            if !is_reasoning {
                self.text.push_str(&text);
            }
            for choice in chunk.choices.iter_mut().filter(|c| c.index == index) {
                let delta = choice.delta.get_or_insert_with(Message::default);
                if is_reasoning {
                    delta.reasoning_content = Some(text.clone());
                } else {
                    delta.content = Some(Content::Text(text.clone()));
                }
            }
        }
        if has_tools {
            self.held.push(chunk);
            return Ok(None);
        }
        Ok(interesting.then_some(chunk))
    }

    /// The end of the upstream stream (after `[DONE]`, or when it broke): flushes every scanner
    /// and the held tool calls. Returns chunks to forward before the final one, made in the
    /// answer's `shape`.
    pub(crate) fn finish(&mut self, shape: &ChunkShape) -> Result<Vec<Chunk>, Blocked> {
        if self.blocked {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let indices: Vec<u64> = self.choices.keys().copied().collect();
        for index in indices {
            for is_reasoning in [false, true] {
                let (released, found) = self.step(index, is_reasoning, "", true);
                self.absorb(found)?;
                if released.is_empty() {
                    continue;
                }
                if !is_reasoning {
                    self.text.push_str(&released);
                }
                let delta = if is_reasoning {
                    Message {
                        reasoning_content: Some(released),
                        ..Message::default()
                    }
                } else {
                    Message::text(released)
                };
                out.push(shape.make_chunk(index, delta, None));
            }
        }
        let held: Vec<String> = self.held_text.texts().map(|(_, t)| t.to_owned()).collect();
        for text in held {
            self.scan_whole(&text)?;
        }
        out.append(&mut self.held);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hegui_lexicon::Lexicon;
    use proptest::prelude::*;
    use serde_json::json;

    fn matcher() -> Arc<Matcher> {
        Arc::new(Matcher::build(&Lexicon::sample()).unwrap())
    }

    fn typed(value: Value) -> Chunk {
        serde_json::from_value(value).unwrap()
    }

    fn chunk(text: &str) -> Chunk {
        typed(
            json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
        )
    }

    fn finish_chunk() -> Chunk {
        typed(
            json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        )
    }

    fn choice_chunk(index: u64, text: &str, finish: &Value) -> Chunk {
        typed(
            json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": index, "delta": {"content": text}, "finish_reason": finish}]}),
        )
    }

    fn stopped_indices(shape: &ChunkShape) -> Vec<u64> {
        let stop = shape.stop_chunk("【已停止】");
        stop.choices
            .iter()
            .map(|c| {
                assert_eq!(c.finish_reason.as_deref(), Some("content_filter"));
                assert_eq!(c.delta.as_ref().unwrap().content_str(), Some("【已停止】"));
                c.index
            })
            .collect()
    }

    /// Feeds one chunk as the output chain does; `false` when it blocks.
    fn feed(guard: &mut OutputScan, shape: &mut ChunkShape, chunk: Chunk) -> bool {
        shape.incoming(&chunk);
        match guard.on_chunk(chunk) {
            Ok(Some(out)) => {
                shape.outgoing(&out);
                true
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    #[test]
    fn the_stop_chunk_ends_every_open_choice() {
        // n = 3: choice 0 finished normally, choice 1 still open, choice 2 carries the block.
        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        let mut shape = ChunkShape::default();
        assert!(feed(
            &mut guard,
            &mut shape,
            choice_chunk(0, "你好。", &Value::Null)
        ));
        assert!(feed(
            &mut guard,
            &mut shape,
            choice_chunk(1, "从前", &Value::Null)
        ));
        assert!(feed(
            &mut guard,
            &mut shape,
            choice_chunk(0, "", &json!("stop"))
        ));
        assert!(!feed(
            &mut guard,
            &mut shape,
            choice_chunk(2, "买冰毒", &Value::Null)
        ));
        assert_eq!(stopped_indices(&shape), [1, 2]);
        // No choice seen at all: choice 0.
        assert_eq!(stopped_indices(&ChunkShape::default()), [0]);
    }

    #[test]
    fn hits_keep_the_text_they_matched_across_chunks() {
        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        assert!(guard.on_chunk(chunk("正在出售冰")).is_ok());
        let blocked = guard.on_chunk(chunk("毒的人")).unwrap_err();
        let verdict = guard.stage_verdict();
        assert_eq!(verdict.verdict, Some(schema::Decision::Block));
        assert_eq!(verdict.hits.len(), 1);
        assert_eq!(verdict.hits[0].risk, blocked.risk);
        assert_eq!(verdict.hits[0].text.as_deref(), Some("冰毒"));
    }

    /// Runs `pieces` through the guard; returns what the client would read and whether the
    /// stream was blocked.
    fn run(pieces: &[String]) -> (String, bool) {
        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        let mut out = String::new();
        let mut take = |c: &Chunk| {
            for choice in &c.choices {
                if let Some(s) = choice.delta.as_ref().and_then(Message::content_str) {
                    out.push_str(s);
                }
            }
        };
        for piece in pieces {
            match guard.on_chunk(chunk(piece)) {
                Ok(Some(c)) => take(&c),
                Ok(None) => {}
                Err(_) => return (out, true),
            }
        }
        match guard.on_chunk(finish_chunk()) {
            Ok(Some(c)) => take(&c),
            Ok(None) => {}
            Err(_) => return (out, true),
        }
        match guard.finish(&ChunkShape::default()) {
            Ok(chunks) => chunks.iter().for_each(&mut take),
            Err(_) => return (out, true),
        }
        (out, false)
    }

    #[test]
    fn clean_text_passes_whole() {
        let pieces: Vec<String> = ["今天", "天气", "很好"].map(String::from).to_vec();
        assert_eq!(run(&pieces), ("今天天气很好".into(), false));
    }

    #[test]
    fn split_forbidden_word_is_stopped_before_it_leaks() {
        let pieces: Vec<String> = ["正在出售冰", "毒的人"].map(String::from).to_vec();
        let (out, blocked) = run(&pieces);
        assert!(blocked);
        assert!(!out.contains('冰'), "{out}");
    }

    #[test]
    fn the_usage_chunk_passes() {
        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        let usage = typed(json!({"id": "c", "choices": [], "usage": {"total_tokens": 3}}));
        assert_eq!(guard.on_chunk(usage.clone()).unwrap(), Some(usage));
    }

    #[test]
    fn tool_calls_are_held_and_scanned_whole() {
        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        let call = |args: &str| {
            typed(
                json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": args}}]}, "finish_reason": null}]}),
            )
        };
        assert!(guard.on_chunk(call("{\"q\": \"冰")).unwrap().is_none());
        assert!(guard.on_chunk(call("毒\"}")).unwrap().is_none());
        assert!(guard.finish(&ChunkShape::default()).is_err());

        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        assert!(
            guard
                .on_chunk(call("{\"city\": \"北京\"}"))
                .unwrap()
                .is_none()
        );
        let held = guard.finish(&ChunkShape::default()).unwrap();
        assert_eq!(held.len(), 1);
    }

    #[test]
    fn reasoning_content_is_scanned_too() {
        let mut guard = OutputScan::new(matcher(), UnknownFields::Scan);
        let think = |t: &str| {
            typed(json!({"id": "c", "choices": [{"index": 0,
                "delta": {"reasoning_content": t}, "finish_reason": null}]}))
        };
        let first = guard.on_chunk(think("用户想买冰")).unwrap();
        let leaked = first
            .as_ref()
            .and_then(|c| c.choices[0].delta.as_ref()?.reasoning_content.as_deref())
            .unwrap_or("");
        assert!(!leaked.contains('冰'), "{leaked}");
        assert!(guard.on_chunk(think("毒")).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever the chunking and whatever text surrounds it, a blocked word never reaches
        /// the client, and a stream without one arrives whole.
        #[test]
        fn no_forbidden_pattern_reaches_the_client(
            prefix in "[今天的模型回答了问题你好世界ab ，。]{0,30}",
            word in prop::sample::select(vec!["冰毒", "赌博", "網上賭\u{200b}博", "", "出售枪支"]),
            suffix in "[今天的模型回答了问题你好世界ab ，。]{0,30}",
            cuts in prop::collection::vec(0usize..80, 0..12),
        ) {
            let text = format!("{prefix}{word}{suffix}");
            let chars: Vec<char> = text.chars().collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(chars.len())).collect();
            cuts.push(chars.len());
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut last = 0;
            for c in cuts {
                pieces.push(chars[last..c].iter().collect::<String>());
                last = c;
            }
            let m = matcher();
            let verdict = hegui_lexicon::Verdict::of(&m.find_all(&text));
            let (out, blocked) = run(&pieces);
            prop_assert_eq!(blocked, verdict == hegui_lexicon::Verdict::Block);
            prop_assert!(!m.find_all(&out).iter().any(|h| h.rule.level == Level::Block),
                "client received a blocked pattern: {:?}", out);
            if !blocked {
                prop_assert_eq!(out, text);
            }
        }
    }
}
