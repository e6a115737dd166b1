//! PII detectors for risk `A.4.f` (侵害他人个人信息权益): mainland resident ID numbers (GB 11643
//! check digit and a plausible birth date), mobile numbers (`1[3-9]` + 9 digits, optional `86`
//! prefix), bank card numbers (16–19 digits starting 3–6, Luhn check) and e-mail addresses.
//!
//! The detectors run on the original text, token by token: a token is a maximal run of ASCII
//! letters and digits (full-width ones too) and `@ . _ % + -`, cut at [`TOKEN_CAP`] characters.
//! Because tokens are defined by position only, the streaming scanner finds exactly what a
//! one-shot scan finds; it holds back at most one open token. Matched values are masked in
//! reports ([`PiiMatch::masked`]); the raw value is only reachable through the hit's span.

use serde::Serialize;

/// Longest token the detectors look at, in characters.
pub const TOKEN_CAP: usize = 96;

/// What kind of personal information was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PiiKind {
    /// 居民身份证号码, 18 characters with a valid check digit.
    ResidentId,
    /// 手机号码.
    Mobile,
    /// 银行卡号, Luhn-valid.
    BankCard,
    /// E-mail address.
    Email,
}

impl PiiKind {
    /// All kinds, in rule order.
    pub const ALL: [PiiKind; 4] = [
        PiiKind::ResidentId,
        PiiKind::Mobile,
        PiiKind::BankCard,
        PiiKind::Email,
    ];

    /// Stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::ResidentId => "resident-id",
            PiiKind::Mobile => "mobile",
            PiiKind::BankCard => "bank-card",
            PiiKind::Email => "email",
        }
    }

    /// A one-line description for reports.
    pub fn description(self) -> &'static str {
        match self {
            PiiKind::ResidentId => "mainland resident ID number (check digit valid)",
            PiiKind::Mobile => "mainland mobile number",
            PiiKind::BankCard => "bank card number (Luhn valid)",
            PiiKind::Email => "e-mail address",
        }
    }
}

/// A PII finding attached to a [`crate::Hit`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PiiMatch {
    /// The kind.
    pub kind: PiiKind,
    /// The value with most characters replaced by `*`, safe to log.
    pub masked: String,
}

/// One finding: kind, byte span, masked value.
pub(crate) type Finding = (PiiKind, usize, usize, String);

/// Token-at-a-time PII scanning state.
#[derive(Debug, Clone, Default)]
pub(crate) struct PiiScan {
    token: Vec<(char, usize, usize)>,
}

impl PiiScan {
    /// Back to the start of a text (keeps the buffer).
    pub(crate) fn reset(&mut self) {
        self.token.clear();
    }

    /// Frees the buffer if it holds more than `max` entries.
    pub(crate) fn trim(&mut self, max: usize) {
        if self.token.capacity() > max {
            self.token = Vec::new();
        }
    }

    /// Start offset of the open token, which the streaming scanner must hold back.
    pub(crate) fn token_start(&self) -> Option<usize> {
        self.token.first().map(|t| t.1)
    }

    #[inline]
    pub(crate) fn step(&mut self, c: char, start: usize, end: usize, out: &mut Vec<Finding>) {
        match token_char(c) {
            Some(a) => {
                self.token.push((a, start, end));
                if self.token.len() == TOKEN_CAP {
                    self.close(out);
                }
            }
            None => {
                if !self.token.is_empty() {
                    self.close(out);
                }
            }
        }
    }

    pub(crate) fn close(&mut self, out: &mut Vec<Finding>) {
        analyze(&self.token, out);
        self.token.clear();
    }
}

#[inline]
fn token_char(c: char) -> Option<char> {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '@' | '.' | '_' | '%' | '+' | '-' => Some(c),
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            char::from_u32(u32::from(c) - 0xFEE0)
        }
        '＠' => Some('@'),
        '．' => Some('.'),
        '－' => Some('-'),
        _ => None,
    }
}

fn analyze(token: &[(char, usize, usize)], out: &mut Vec<Finding>) {
    if token.len() < 5 {
        return;
    }
    let ats = token.iter().filter(|t| t.0 == '@').count();
    if ats == 1 {
        email(token, out);
        return;
    }
    let mut i = 0;
    while i < token.len() {
        if !token[i].0.is_ascii_digit() {
            i += 1;
            continue;
        }
        // A digit run, with single `-` between digit groups and an optional final X.
        let begin = i;
        let mut digits = String::new();
        let mut last = i;
        let mut j = i;
        while j < token.len() {
            let c = token[j].0;
            if c.is_ascii_digit() {
                digits.push(c);
                last = j;
                j += 1;
            } else if c == '-' && j + 1 < token.len() && token[j + 1].0.is_ascii_digit() {
                j += 1;
            } else if (c == 'X' || c == 'x') && digits.len() == 17 {
                digits.push('X');
                last = j;
                break;
            } else {
                break;
            }
        }
        let letter_before = begin > 0 && token[begin - 1].0.is_ascii_alphabetic();
        let letter_after = last + 1 < token.len() && token[last + 1].0.is_ascii_alphanumeric();
        if !letter_before
            && !letter_after
            && let Some(kind) = classify(&digits)
        {
            out.push((kind, token[begin].1, token[last].2, mask(kind, &digits)));
        }
        i = last + 1;
    }
}

fn classify(d: &str) -> Option<PiiKind> {
    let b = d.as_bytes();
    if b.len() == 18 && resident_id_valid(b) {
        return Some(PiiKind::ResidentId);
    }
    if d.contains('X') {
        return None;
    }
    let mobile = |m: &[u8]| m.len() == 11 && m[0] == b'1' && (b'3'..=b'9').contains(&m[1]);
    if mobile(b) || (b.len() == 13 && b.starts_with(b"86") && mobile(&b[2..])) {
        return Some(PiiKind::Mobile);
    }
    if (16..=19).contains(&b.len()) && (b'3'..=b'6').contains(&b[0]) && luhn(b) {
        return Some(PiiKind::BankCard);
    }
    None
}

/// GB 11643-1999 check digit (ISO 7064 MOD 11-2) and a plausible birth date.
pub(crate) fn resident_id_valid(b: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'))
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

/// Luhn check over ASCII digits.
pub(crate) fn luhn(b: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &c) in b.iter().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn mask(kind: PiiKind, d: &str) -> String {
    let keep = |head: usize, tail: usize| {
        let n = d.chars().count();
        d.chars()
            .enumerate()
            .map(|(i, c)| if i < head || i + tail >= n { c } else { '*' })
            .collect::<String>()
    };
    match kind {
        PiiKind::ResidentId => keep(3, 4),
        PiiKind::Mobile => keep(d.len() - 8, 4),
        PiiKind::BankCard => keep(4, 4),
        PiiKind::Email => d.to_string(),
    }
}

fn email(token: &[(char, usize, usize)], out: &mut Vec<Finding>) {
    let Some(at) = token.iter().position(|t| t.0 == '@') else {
        return;
    };
    let mut lo = 0;
    while lo < at && matches!(token[lo].0, '.' | '-' | '+' | '%') {
        lo += 1;
    }
    let mut hi = token.len();
    while hi > at + 1 && matches!(token[hi - 1].0, '.' | '-' | '_' | '%' | '+') {
        hi -= 1;
    }
    if lo == at || hi <= at + 1 {
        return;
    }
    let domain: String = token[at + 1..hi].iter().map(|t| t.0).collect();
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if !ok {
        return;
    }
    let first = token[lo].0;
    let masked = format!("{first}***@{domain}");
    out.push((PiiKind::Email, token[lo].1, token[hi - 1].2, masked));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Vec<(PiiKind, &str, String)> {
        let mut scan = PiiScan::default();
        let mut out = Vec::new();
        for (i, c) in text.char_indices() {
            scan.step(c, i, i + c.len_utf8(), &mut out);
        }
        scan.close(&mut out);
        out.into_iter()
            .map(|(k, s, e, m)| (k, &text[s..e], m))
            .collect()
    }

    #[test]
    fn detectors() {
        // 11010519491231002X is the GB 11643 worked example.
        type Case<'a> = (&'a str, &'a [(PiiKind, &'a str, &'a str)]);
        let cases: &[Case<'_>] = &[
            (
                "身份证11010519491231002X。",
                &[(
                    PiiKind::ResidentId,
                    "11010519491231002X",
                    "110***********002X",
                )],
            ),
            ("身份证110105194912310021。", &[]),
            (
                "电话13812345678",
                &[(PiiKind::Mobile, "13812345678", "138****5678")],
            ),
            (
                "call +86-138-1234-5678 now",
                &[(PiiKind::Mobile, "86-138-1234-5678", "86138****5678")],
            ),
            ("编号12812345678", &[]),
            ("order abc13812345678", &[]),
            (
                "卡号6222021234567890128,",
                &[(
                    PiiKind::BankCard,
                    "6222021234567890128",
                    "6222***********0128",
                )],
            ),
            ("卡号6222021234567890127,", &[]),
            (
                "写信给 zhang.san@example.com.cn。",
                &[(
                    PiiKind::Email,
                    "zhang.san@example.com.cn",
                    "z***@example.com.cn",
                )],
            ),
            ("a@b", &[]),
            (
                "全角１３８１２３４５６７８",
                &[(PiiKind::Mobile, "１３８１２３４５６７８", "138****5678")],
            ),
        ];
        for (text, want) in cases {
            let got = find(text);
            let want: Vec<(PiiKind, &str, String)> = want
                .iter()
                .map(|(k, s, m)| (*k, *s, m.to_string()))
                .collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn luhn_and_checksum() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(resident_id_valid(b"11010519491231002X"));
        assert!(!resident_id_valid(b"11010519491331002X"));
    }
}
