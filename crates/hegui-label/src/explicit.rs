//! Explicit labels (显式标识), GB 45438-2025 ch. 5 and Labeling Measures art. 4 ✅:
//!
//! - **text**: a notice at the start, the end or both; the template must contain an AI element
//!   ("人工智能" or "AI") and a generation element ("生成" or "合成") (§5.1 ◐);
//! - **image** (feature `caption`): a caption in a chosen corner, text height at least 5 % of the
//!   shortest side, measured on the rendered glyph bounding box (§5.2 ◐);
//! - **audio**: the rhythm cue 短长 短短, Morse "AI" (`·− ··`), before or after WAV audio (§5.3 ◐).

use crate::LabelError;

#[cfg(feature = "caption")]
mod caption;
mod morse;

#[cfg(feature = "caption")]
pub use caption::{Caption, Captioned, Corner, DEFAULT_CAPTION, caption_image, caption_rgba};
pub use morse::{Cue, add_morse_cue};

/// The default text notice.
pub const DEFAULT_NOTICE: &str = "【本内容由人工智能（AI）生成】";

/// Where a notice goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Position {
    /// Before the content.
    #[default]
    Start,
    /// After the content.
    End,
    /// Both before and after.
    Both,
}

impl std::str::FromStr for Position {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, LabelError> {
        match s {
            "start" => Ok(Position::Start),
            "end" => Ok(Position::End),
            "both" => Ok(Position::Both),
            other => Err(LabelError::Explicit(format!(
                "position `{other}` is not `start`, `end` or `both`"
            ))),
        }
    }
}

/// Whether a notice has both required elements (§5.1 ◐).
pub fn has_required_elements(notice: &str) -> bool {
    let ai = notice.contains("人工智能") || notice.contains("AI");
    let generated = notice.contains("生成") || notice.contains("合成");
    ai && generated
}

/// Adds a text notice to `text`. Adding it again is a no-op: the notice is not duplicated where it
/// is already present.
pub fn label_text(text: &str, notice: &str, position: Position) -> Result<String, LabelError> {
    if !has_required_elements(notice) {
        return Err(LabelError::Explicit(format!(
            "notice `{notice}` needs \"人工智能\" or \"AI\" and \"生成\" or \"合成\""
        )));
    }
    let mut out = String::with_capacity(text.len() + 2 * notice.len() + 2);
    let start = matches!(position, Position::Start | Position::Both) && !text.starts_with(notice);
    let end =
        matches!(position, Position::End | Position::Both) && !text.trim_end().ends_with(notice);
    if start {
        out.push_str(notice);
        out.push('\n');
    }
    out.push_str(text);
    if end {
        if !text.is_empty() && !text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(notice);
    }
    Ok(out)
}

/// Adds a text notice to a Markdown document, keeping any front matter first.
pub fn label_markdown(text: &str, notice: &str, position: Position) -> Result<String, LabelError> {
    let head = crate::codec::markdown::front_matter_len(text);
    Ok(format!(
        "{}{}",
        &text[..head],
        label_text(&text[head..], notice, position)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_notice_table() {
        let cases = [
            (
                "你好",
                Position::Start,
                "【本内容由人工智能（AI）生成】\n你好",
            ),
            (
                "你好",
                Position::End,
                "你好\n【本内容由人工智能（AI）生成】",
            ),
            (
                "你好\n",
                Position::Both,
                "【本内容由人工智能（AI）生成】\n你好\n【本内容由人工智能（AI）生成】",
            ),
        ];
        for (text, position, expected) in cases {
            let once = label_text(text, DEFAULT_NOTICE, position).unwrap();
            assert_eq!(once, expected);
            assert_eq!(
                label_text(&once, DEFAULT_NOTICE, position).unwrap(),
                once,
                "idempotent"
            );
        }
        assert!(label_text("x", "由机器写的", Position::Start).is_err());
        assert!(has_required_elements("AI合成"));
        assert_eq!(
            label_markdown("---\na: 1\n---\n正文\n", "AI生成", Position::Start).unwrap(),
            "---\na: 1\n---\nAI生成\n正文\n"
        );
    }
}
