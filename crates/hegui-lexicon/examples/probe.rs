//! Prints the hits for the text given as the first argument (debugging aid).
use hegui_lexicon::{Lexicon, Matcher};
fn main() {
    let text = std::env::args().nth(1).unwrap_or_default();
    let m = Matcher::build(&Lexicon::sample()).unwrap();
    println!("normalized: {}", m.options().normalize(&text));
    for h in m.find_all(&text) {
        println!(
            "{}..{} {:?} {} {} {}",
            h.start,
            h.end,
            h.display_text(&text),
            h.rule.pattern,
            h.rule.risk,
            h.rule.level
        );
    }
}
