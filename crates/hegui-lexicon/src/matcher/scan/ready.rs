//! The hits a scan has completed, held until [`Core::take_ready`](super::Core::take_ready)
//! hands them out sorted.
//!
//! Lexicon hits are recorded compactly, as [`Found`]: the rule as an index, so that recording
//! one touches neither the rule nor its reference count (at 100k rules, a cache miss per hit).
//! They become [`Hit`]s only when taken, in one allocation of the exact size. PII hits carry
//! their masked value and are kept as hits. The buffers stay with the core for the next text.

use crate::matcher::{Hit, Matcher, sort_hits};
use crate::pii::{Finding, PiiMatch};

/// A final hit before it becomes a [`Hit`]. Ordered like hits, by `(start, end, rule)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    start: usize,
    end: usize,
    rule: u32,
}

/// Completed hits of the current text.
#[derive(Debug, Clone, Default)]
pub(super) struct Ready {
    /// Lexicon hits, unsorted.
    found: Vec<Found>,
    /// PII hits, unsorted.
    pii: Vec<Hit>,
}

impl Ready {
    /// Records a lexicon hit of rule index `rule`.
    #[inline]
    pub(super) fn push(&mut self, rule: u32, start: usize, end: usize) {
        self.found.push(Found { start, end, rule });
    }

    /// Records the PII detectors' `findings`, leaving it empty.
    #[cold]
    pub(super) fn push_findings(&mut self, m: &Matcher, findings: &mut Vec<Finding>) {
        for (kind, start, end, masked) in findings.drain(..) {
            let rule = m.pii_rules[kind as usize].clone();
            self.pii.push(Hit {
                start,
                end,
                rule,
                pii: Some(PiiMatch { kind, masked }),
            });
        }
    }

    /// Forgets every hit (a new text).
    pub(super) fn clear(&mut self) {
        self.found.clear();
        self.pii.clear();
    }

    /// Frees buffers that grew beyond `max` entries.
    pub(super) fn trim(&mut self, max: usize) {
        if self.found.capacity() > max {
            self.found = Vec::new();
        }
        if self.pii.capacity() > max {
            self.pii = Vec::new();
        }
    }

    /// The hits recorded so far, sorted by `(start, end, rule id)`, in one allocation of the
    /// exact size (the buffers stay here).
    pub(super) fn take(&mut self, m: &Matcher) -> Vec<Hit> {
        if self.found.is_empty() && self.pii.is_empty() {
            return Vec::new();
        }
        // Equal entries are identical, so an unstable sort gives the stable order.
        self.found.sort_unstable();
        let mut hits = Vec::with_capacity(self.found.len() + self.pii.len());
        hits.extend(self.found.drain(..).filter_map(|f| {
            Some(Hit {
                start: f.start,
                end: f.end,
                rule: m.rules.get(f.rule as usize)?.clone(),
                pii: None,
            })
        }));
        if !self.pii.is_empty() {
            hits.append(&mut self.pii);
            sort_hits(&mut hits);
        }
        hits
    }
}
