//! Entry points for the fuzz targets (`fuzz/gateway`) and the property tests: the SSE parser,
//! the wire types' decoding and the output guard's state machine, each with the invariant it
//! must keep. Not an API.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::config::UnknownFields;
use crate::guard::fields::{self, HeldText};
use crate::guard::scan::OutputScan;
use crate::sse::SseParser;
use crate::wire::answer::{Chunk, ChunkShape};

/// Splits `bytes` into SSE events whole and cut at `cuts` (taken modulo the length): the two
/// must give the same events. Returns how many.
pub fn sse(bytes: &[u8], cuts: &[usize]) -> Result<usize, String> {
    let whole = SseParser::default().push(bytes);
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let mut parser = SseParser::default();
    let mut pieces = Vec::new();
    let mut last = 0;
    for cut in cuts {
        pieces.extend(parser.push(&bytes[last..cut]));
        last = cut;
    }
    if whole != pieces {
        return Err(format!("whole: {whole:?}\ncut: {pieces:?}"));
    }
    Ok(whole.len())
}

/// Decodes `text` as each request and answer type: never a panic; a body that decodes encodes
/// to JSON that decodes to the same value (nothing is lost or invented on the way through), and
/// a body that does not decode has an error with a path. Returns how many types decoded it.
pub fn wire(text: &str) -> Result<usize, String> {
    use crate::wire::Texts as _;
    use crate::wire::answer::{Chunk, Completion};
    use crate::wire::request::{ChatRequest, MediaRequest};

    fn check<T>(text: &str) -> Result<Option<T>, String>
    where
        T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
    {
        match crate::wire::decode::<T>(text) {
            Ok(value) => {
                let encoded = serde_json::to_string(&value).map_err(|e| e.to_string())?;
                let again: T = serde_json::from_str(&encoded)
                    .map_err(|e| format!("{encoded} does not decode again: {e}"))?;
                if again != value {
                    return Err(format!("{value:?} became {again:?}"));
                }
                Ok(Some(value))
            }
            Err(e) if e.path.is_empty() => Err(format!("an error without a path: {}", e.error)),
            Err(_) => Ok(None),
        }
    }
    let mut decoded = 0;
    if let Some(request) = check::<ChatRequest>(text)? {
        let _ = request.text();
        decoded += 1;
    }
    if let Some(request) = check::<MediaRequest>(text)? {
        let _ = request.text();
        decoded += 1;
    }
    decoded += usize::from(check::<Chunk>(text)?.is_some());
    decoded += usize::from(check::<Completion>(text)?.is_some());
    Ok(decoded)
}

fn sample_matcher() -> Arc<hegui_lexicon::Matcher> {
    static MATCHER: OnceLock<Arc<hegui_lexicon::Matcher>> = OnceLock::new();
    MATCHER
        .get_or_init(|| {
            let sample = hegui_lexicon::Lexicon::sample();
            // The bundled sample always compiles (a unit test of hegui-lexicon says so).
            #[allow(clippy::expect_used)]
            Arc::new(hegui_lexicon::Matcher::build(&sample).expect("the sample compiles"))
        })
        .clone()
}

/// Runs the sample lexicon's output guard over `chunks` (an upstream's stream, any JSON at
/// all; the stream ends at the first that is not a chunk) as the gateway does, and checks what a client would receive: no `block` pattern of the
/// sample in any text, streamed texts joined per choice, the other fields of the choices
/// joined per field path, the answer's own fields one chunk at a time (JSON escapes decoded
/// too). Returns the chunks forwarded, or what got through.
pub fn output_guard(chunks: &[Value], drop_unknown: bool) -> Result<Vec<Value>, String> {
    let matcher = sample_matcher();
    let unknown = if drop_unknown {
        UnknownFields::Drop
    } else {
        UnknownFields::Scan
    };
    let mut scan = OutputScan::new(matcher.clone(), unknown);
    let mut shape = ChunkShape::default();
    let mut out = Vec::new();
    let mut blocked = false;
    for chunk in chunks {
        // A chunk that is not a chat answer chunk ends the stream, as in the gateway.
        let Ok(chunk) = serde_json::from_value::<Chunk>(chunk.clone()) else {
            break;
        };
        shape.incoming(&chunk);
        match scan.on_chunk(chunk) {
            Ok(Some(forwarded)) => {
                shape.outgoing(&forwarded);
                out.push(forwarded);
            }
            Ok(None) => {}
            Err(_) => {
                blocked = true;
                break;
            }
        }
    }
    if !blocked && let Ok(rest) = scan.finish(&shape) {
        out.extend(rest);
    }
    // What the client receives, read back as plain JSON.
    let out: Vec<Value> = out
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or_default())
        .collect();
    let (streamed, mut texts) = received_texts(&out);
    // Streamed text is shown as it is; other texts (tool-call arguments are JSON documents)
    // may be decoded once more by the client.
    texts.extend(
        texts
            .clone()
            .iter()
            .filter_map(|t| fields::decode_escapes(t)),
    );
    for text in streamed.into_iter().chain(texts) {
        let leaked: Vec<String> = matcher
            .find_all(&text)
            .into_iter()
            .filter(|h| h.rule.level == hegui_lexicon::Level::Block)
            .map(|h| h.rule.pattern.clone())
            .collect();
        if !leaked.is_empty() {
            return Err(format!("{leaked:?} reached the client in {text:?}"));
        }
    }
    Ok(out)
}

/// The texts a client reads in `chunks`, joined as [`output_guard`] checks them: the streamed
/// ones, and the others.
fn received_texts(chunks: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut streamed: BTreeMap<(u64, &str), String> = BTreeMap::new();
    let mut held = HeldText::default();
    let mut texts = Vec::new();
    for chunk in chunks {
        let Some(map) = chunk.as_object() else {
            texts.push(fields::text_of(chunk));
            continue;
        };
        for (key, value) in map {
            if key != "choices" {
                if fields::may_hold_text(key, value) {
                    texts.push(fields::text_of(value));
                }
                continue;
            }
            let mut value = value.clone();
            for choice in value.as_array_mut().into_iter().flatten() {
                let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
                let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) else {
                    continue;
                };
                for key in ["content", "reasoning_content"] {
                    if let Some(Value::String(text)) = delta.get(key) {
                        streamed.entry((index, key)).or_default().push_str(text);
                        delta.remove(key);
                    }
                }
            }
            held.add("choices", &value);
        }
    }
    texts.extend(held.texts().map(|(_, t)| t.to_owned()));
    (streamed.into_values().collect(), texts)
}

/// Checks a signed identity header (`x-hegui-identity`) made of arbitrary bytes: never a panic;
/// and, for a user id without `;`, the header signed with the secret verifies to that user
/// while one changed byte of its signature does not.
pub fn identity_header(bytes: &[u8]) -> Result<(), String> {
    use hmac::Mac as _;
    const SECRET: &[u8] = b"fuzzing-secret-0123456789";
    const NOW: i64 = 1_800_000_000;
    let _ = crate::guard::identity::verify(bytes, SECRET, NOW);
    let Ok(user) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    if user.is_empty() || user.contains(';') {
        return Ok(());
    }
    let signed = format!("{user};verified,minor;{NOW}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET).map_err(|e| e.to_string())?;
    mac.update(signed.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let header = format!("{signed};{signature}");
    let found = crate::guard::identity::verify(header.as_bytes(), SECRET, NOW)
        .map_err(|e| format!("{header:?} does not verify: {e}"))?;
    if found.user != user || !found.verified || !found.minor {
        return Err(format!("{header:?} verified as {found:?}"));
    }
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let forged = format!("{signed};{flipped}{}", &signature[1..]);
    if crate::guard::identity::verify(forged.as_bytes(), SECRET, NOW).is_ok() {
        return Err(format!("the forged {forged:?} verifies"));
    }
    Ok(())
}
