//! The verdict on a text: the strongest level among its hits.

use serde::Serialize;

use crate::lexicon::Level;
use crate::matcher::Hit;

/// What to do with a text. Ordered: `Clean < Flag < Review < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No hit.
    Clean,
    /// Strongest hit is `flag`.
    Flag,
    /// Strongest hit is `review`.
    Review,
    /// At least one `block` hit.
    Block,
}

impl Verdict {
    /// The verdict for a set of hits.
    ///
    /// ```
    /// use hegui_lexicon::{Lexicon, Matcher, Verdict};
    /// let m = Matcher::build(&Lexicon::sample()).unwrap();
    /// assert_eq!(Verdict::of(&m.find_all("今天天气很好")), Verdict::Clean);
    /// assert_eq!(Verdict::of(&m.find_all("出售冰毒")), Verdict::Block);
    /// ```
    pub fn of(hits: &[Hit]) -> Verdict {
        hits.iter()
            .map(|h| Verdict::from(h.rule.level))
            .max()
            .unwrap_or(Verdict::Clean)
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Flag => "flag",
            Verdict::Review => "review",
            Verdict::Block => "block",
        }
    }
}

impl From<Level> for Verdict {
    fn from(level: Level) -> Verdict {
        match level {
            Level::Flag => Verdict::Flag,
            Level::Review => Verdict::Review,
            Level::Block => Verdict::Block,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
