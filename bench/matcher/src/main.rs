//! Side-by-side benchmark of keyword matchers on the same rules and the same text, in one run.
//!
//! Engines:
//! - `hegui`: `hegui_lexicon::Matcher::find_all` with full normalization (NFKC, case, T→S,
//!   digits, skip characters, repeats) and spans in the original text; PII detectors off.
//! - `daachorse`: charwise double-array Aho-Corasick, overlapping find, on text normalized
//!   beforehand by hegui's normalizer (outside the timing): the raw upper bound.
//! - `aho-corasick`: contiguous NFA, overlapping find, on the same pre-normalized text.
//! - `matcher_rs`: `SimpleMatcher::process` with `VariantNorm | Delete | Normalize` (the fair
//!   peer: it normalizes too, but returns no offsets).
//!
//! Text: the COLD comments (`data/corpus/cold/comments.txt`) repeated to ≥ `--mb` MB, scanned
//! line by line. Rules: the konsheng lexicon (MIT, `../shared/data/lexicon/konsheng`), sampled
//! to the rule count with a fixed seed, plus generated CJK strings above its size.
//!
//! Each engine runs in its own child process so that peak RSS is per engine; the parent prints
//! one table with throughput ratios. Usage:
//!
//! ```text
//! cargo +nightly run --release -- [--mb 50] [--rules 10000,100000] [--engines hegui,hegui-compiled,daachorse,aho-corasick,matcher_rs] [--konsheng DIR]
//!
//! `hegui-compiled` is hegui as a gateway runs it: the matcher is built and written in its compiled
//! form by another process (`hegui lexicon build`), then loaded; "build s" is the load time and the
//! memory figures carry no build-time allocations.
//!
//! cargo +nightly run --release -- --write-lexicon DIR --rules 100000
//!
//! writes the rules of one size as a lexicon directory (`lexicon.toml`, `bench.tsv`, every rule
//! `block`, PII detectors on) and exits: the corpus-audit benchmark (`bench/corpus/run.sh`)
//! scans with the same 100k rules as this one.
//!
//! cargo +nightly build --release
//! valgrind --tool=callgrind --toggle-collect='*scan_lines*' \
//!     target/release/hegui-bench-matcher --callgrind hegui --mb 2 --rules 100000
//!
//! builds one engine and scans the text once, in `scan_lines` (for `hegui`, `hegui-compiled`,
//! `daachorse` and `matcher_rs`): instruction counts under callgrind are repeatable on a loaded
//! machine, where wall-clock throughput is not. Prints the hit count.
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ENGINES: [&str; 5] = [
    "hegui",
    "hegui-compiled",
    "daachorse",
    "aho-corasick",
    "matcher_rs",
];

struct Options {
    mb: usize,
    rules: Vec<usize>,
    engines: Vec<String>,
    konsheng: PathBuf,
    corpus: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parse_args(args: &[String]) -> Options {
    let mut o = Options {
        mb: 50,
        rules: vec![10_000, 100_000],
        engines: ENGINES.iter().map(|s| s.to_string()).collect(),
        konsheng: repo_root().join("../shared/data/lexicon/konsheng"),
        corpus: repo_root().join("data/corpus/cold/comments.txt"),
    };
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--mb" => o.mb = value.parse().expect("--mb N"),
            "--rules" => {
                o.rules = value
                    .split(',')
                    .map(|s| s.parse().expect("--rules N,M"))
                    .collect()
            }
            "--engines" => o.engines = value.split(',').map(str::to_string).collect(),
            "--konsheng" => o.konsheng = PathBuf::from(value),
            "--corpus" => o.corpus = PathBuf::from(value),
            other => panic!("unknown argument `{other}`"),
        }
        i += 2;
    }
    o
}

/// xorshift64*, fixed seed: the same rules on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn konsheng_words(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut seen = HashSet::new();
    let mut words = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for line in text.lines() {
            let w = line.trim().trim_start_matches('\u{feff}');
            // `&`, `|`, `~` and `\` are operators in matcher_rs (and `&` in hegui).
            if w.is_empty() || w.starts_with('#') || w.contains(['\t', '&', '|', '~', '\\']) {
                continue;
            }
            if seen.insert(w.to_string()) {
                words.push(w.to_string());
            }
        }
    }
    words
}

fn rules(o: &Options, n: usize, text: &str) -> Vec<String> {
    let mut words = konsheng_words(&o.konsheng);
    let mut rng = Rng(42);
    // Fisher-Yates with the fixed seed, then take n.
    for i in (1..words.len()).rev() {
        let j = rng.below(i + 1);
        words.swap(i, j);
    }
    if n <= words.len() {
        words.truncate(n);
        return words;
    }
    // Generated entries: 3–6 characters drawn from the CJK characters of the corpus.
    let pool: Vec<char> = {
        let set: HashSet<char> = text
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .collect();
        let mut v: Vec<char> = set.into_iter().collect();
        v.sort_unstable();
        v
    };
    let mut seen: HashSet<String> = words.iter().cloned().collect();
    while words.len() < n {
        let len = 3 + rng.below(4);
        let w: String = (0..len).map(|_| pool[rng.below(pool.len())]).collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn current_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The patterns as a lexicon TSV file.
fn bench_tsv(patterns: &[String]) -> String {
    let mut tsv = String::from("pattern\trisk\tlevel\tnote\n");
    for p in patterns {
        tsv.push_str(p);
        tsv.push_str("\tA.1.h\tblock\t\n");
    }
    tsv
}

/// Loads the TSV as a hegui lexicon (PII detectors off) and builds its matcher.
fn bench_matcher(tsv: &str) -> hegui_lexicon::Matcher {
    let lex = hegui_lexicon::Lexicon::from_sources(
        "name = \"bench\"\nversion = \"1\"\n[pii]\nenabled = false\n",
        &[("bench.tsv", tsv)],
        None,
    )
    .expect("lexicon");
    hegui_lexicon::Matcher::build(&lex).expect("matcher")
}

/// Runs one engine and prints one result line: `engine rules build_s scan_s mb hits rss base`.
fn child(engine: &str, n: usize, o: &Options, raw: &[String]) {
    let corpus = std::fs::read_to_string(&o.corpus)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", o.corpus.display()));
    let base_lines: Vec<&str> = corpus.lines().filter(|l| !l.is_empty()).collect();
    let patterns = rules(o, n, &corpus);
    let compiled_path = std::env::temp_dir().join(format!("hegui-bench-{n}-{}.hgl", o.mb));
    if engine == "hegui-write" {
        let m = bench_matcher(&bench_tsv(&patterns));
        std::fs::write(&compiled_path, m.to_bytes()).expect("write compiled lexicon");
        return;
    }
    let opts = hegui_lexicon::NormalizeOptions::default();
    // Pre-normalized text for the raw engines (not timed).
    let normalized: Vec<String> = if engine == "daachorse" || engine == "aho-corasick" {
        base_lines.iter().map(|l| opts.normalize(l)).collect()
    } else {
        Vec::new()
    };
    let target = o.mb * 1_000_000;
    let mut order: Vec<usize> = Vec::new();
    let mut bytes = 0;
    while bytes < target {
        for (i, l) in base_lines.iter().enumerate() {
            order.push(i);
            bytes += l.len() + 1;
        }
    }
    let base_rss = current_rss_mb();
    let mut hits = 0usize;
    let (build, scan);
    let mut heap = 0usize;
    let after_build;
    if engine == "hegui-compiled" {
        // Written by a separate process, so that the build's allocations are not ours.
        let status = Command::new(std::env::current_exe().expect("current exe"))
            .arg("--child")
            .arg("hegui-write")
            .arg(n.to_string())
            .args(raw)
            .status()
            .expect("compile child");
        assert!(status.success(), "hegui-write failed");
    }
    match engine {
        "hegui" | "hegui-compiled" => {
            let tsv = (engine == "hegui").then(|| bench_tsv(&patterns));
            let t = Instant::now();
            let m = match &tsv {
                Some(tsv) => bench_matcher(tsv),
                None => {
                    let bytes = std::fs::read(&compiled_path).expect("compiled lexicon");
                    hegui_lexicon::Matcher::from_bytes(&bytes).expect("load compiled lexicon")
                }
            };
            build = t.elapsed().as_secs_f64();
            drop(tsv);
            heap = m.heap_bytes();
            after_build = current_rss_mb();
            let t = Instant::now();
            for &i in &order {
                hits += m.find_all(base_lines[i]).len();
            }
            scan = t.elapsed().as_secs_f64();
        }
        "daachorse" => {
            let t = Instant::now();
            let set = normalized_set(&patterns, &opts);
            let pma = daachorse::CharwiseDoubleArrayAhoCorasick::<u32>::new(set.iter())
                .expect("daachorse");
            drop(set);
            build = t.elapsed().as_secs_f64();
            heap = pma.heap_bytes();
            after_build = current_rss_mb();
            let t = Instant::now();
            for &i in &order {
                hits += pma.find_overlapping_iter(&normalized[i]).count();
            }
            scan = t.elapsed().as_secs_f64();
        }
        "aho-corasick" => {
            let t = Instant::now();
            let set = normalized_set(&patterns, &opts);
            let ac = aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(set.iter())
                .expect("aho-corasick");
            drop(set);
            build = t.elapsed().as_secs_f64();
            heap = ac.memory_usage();
            after_build = current_rss_mb();
            let t = Instant::now();
            for &i in &order {
                hits += ac.find_overlapping_iter(normalized[i].as_str()).count();
            }
            scan = t.elapsed().as_secs_f64();
        }
        "matcher_rs" => {
            let t = Instant::now();
            let m = build_matcher_rs(&patterns);
            build = t.elapsed().as_secs_f64();
            after_build = current_rss_mb();
            let t = Instant::now();
            for &i in &order {
                hits += m.process(base_lines[i]).len();
            }
            scan = t.elapsed().as_secs_f64();
        }
        other => panic!("unknown engine `{other}`"),
    }
    println!(
        "RESULT {engine} {n} {build:.4} {scan:.4} {} {hits} {:.1} {base_rss:.1} {:.1} {:.1}",
        bytes,
        peak_rss_mb(),
        after_build - base_rss,
        heap as f64 / (1024.0 * 1024.0)
    );
}

struct Row {
    engine: String,
    rules: usize,
    round: usize,
    build: f64,
    scan: f64,
    bytes: usize,
    hits: usize,
    rss: f64,
    steady: f64,
    heap: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// The text of `--mb` MB as lines, and the rules of one size.
fn text_and_rules(o: &Options, n: usize) -> (Vec<String>, Vec<String>) {
    let corpus = std::fs::read_to_string(&o.corpus)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", o.corpus.display()));
    let patterns = rules(o, n, &corpus);
    let base: Vec<&str> = corpus.lines().filter(|l| !l.is_empty()).collect();
    let mut lines = Vec::new();
    let mut bytes = 0;
    'fill: loop {
        for l in &base {
            if bytes >= o.mb * 1_000_000 {
                break 'fill;
            }
            lines.push(l.to_string());
            bytes += l.len() + 1;
        }
    }
    (lines, patterns)
}

/// One pass over `lines` with `scan`: the only function callgrind collects in `--callgrind`.
#[inline(never)]
fn scan_lines(lines: &[String], scan: &dyn Fn(&str) -> usize) -> usize {
    lines.iter().map(|l| scan(l)).sum()
}

/// The patterns as the raw engines take them: normalized beforehand, deduplicated, none empty.
fn normalized_set(patterns: &[String], opts: &hegui_lexicon::NormalizeOptions) -> HashSet<String> {
    patterns
        .iter()
        .map(|p| opts.normalize(p))
        .filter(|p| !p.is_empty())
        .collect()
}

/// matcher_rs with its three transforms (variants, deletions, normalization).
fn build_matcher_rs(patterns: &[String]) -> matcher_rs::SimpleMatcher {
    use matcher_rs::{ProcessType, SimpleMatcherBuilder};
    let mut b = SimpleMatcherBuilder::new();
    for (id, p) in patterns.iter().enumerate() {
        b = b.add_word(
            ProcessType::VariantNormDeleteNormalize,
            id as u32,
            p.as_str(),
        );
    }
    b.build().expect("matcher_rs")
}

/// `--callgrind ENGINE`: build one engine, scan the text once, print the hit count.
fn callgrind(engine: &str, o: &Options) {
    let n = *o.rules.last().expect("--rules N");
    let (lines, patterns) = text_and_rules(o, n);
    let opts = hegui_lexicon::NormalizeOptions::default();
    let hits = match engine {
        "hegui" | "hegui-compiled" => {
            let mut m = bench_matcher(&bench_tsv(&patterns));
            if engine == "hegui-compiled" {
                m = hegui_lexicon::Matcher::from_bytes(&m.to_bytes()).expect("compiled form");
            }
            scan_lines(&lines, &|l| m.find_all(l).len())
        }
        "daachorse" => {
            let set = normalized_set(&patterns, &opts);
            let pma = daachorse::CharwiseDoubleArrayAhoCorasick::<u32>::new(set.iter())
                .expect("daachorse");
            let normalized: Vec<String> = lines.iter().map(|l| opts.normalize(l)).collect();
            scan_lines(&normalized, &|l| pma.find_overlapping_iter(l).count())
        }
        "matcher_rs" => {
            let m = build_matcher_rs(&patterns);
            scan_lines(&lines, &|l| m.process(l).len())
        }
        other => panic!("unknown engine `{other}`"),
    };
    println!("{engine} {n} rules, {} lines: {hits} hits", lines.len());
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--callgrind") {
        let engine = args.get(1).cloned().expect("--callgrind ENGINE");
        callgrind(&engine, &parse_args(&args[2..]));
        return;
    }
    if args.first().map(String::as_str) == Some("--child") {
        let engine = args[1].clone();
        let n: usize = args[2].parse().expect("rules");
        let o = parse_args(&args[3..]);
        child(&engine, n, &o, &args[3..]);
        return;
    }
    let mut rounds = 3;
    if let Some(i) = args.iter().position(|a| a == "--rounds") {
        rounds = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--rounds N");
        args.drain(i..i + 2);
    }
    if let Some(i) = args.iter().position(|a| a == "--write-lexicon") {
        let dir = PathBuf::from(args.get(i + 1).expect("--write-lexicon DIR"));
        args.drain(i..i + 2);
        let o = parse_args(&args);
        let corpus = std::fs::read_to_string(&o.corpus)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", o.corpus.display()));
        let n = *o.rules.last().expect("--rules N");
        std::fs::create_dir_all(&dir).expect("lexicon dir");
        std::fs::write(
            dir.join("lexicon.toml"),
            format!("name = \"bench-{n}\"\nversion = \"1\"\n"),
        )
        .expect("lexicon.toml");
        std::fs::write(dir.join("bench.tsv"), bench_tsv(&rules(&o, n, &corpus))).expect("tsv");
        eprintln!("wrote {n} rules to {}", dir.display());
        return;
    }
    let o = parse_args(&args);
    let exe = std::env::current_exe().expect("current exe");
    let mut rows = Vec::new();
    for &n in &o.rules {
        // Engines interleaved, round after round, so that a burst of load from other processes
        // hits every engine alike; figures are medians over the rounds.
        for round in 0..rounds {
            for engine in &o.engines {
                let out = Command::new(&exe)
                    .arg("--child")
                    .arg(engine)
                    .arg(n.to_string())
                    .args(&args)
                    .output()
                    .expect("child");
                let stdout = String::from_utf8_lossy(&out.stdout);
                let Some(line) = stdout.lines().find(|l| l.starts_with("RESULT ")) else {
                    eprintln!(
                        "{engine} at {n} rules failed:\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    continue;
                };
                let f: Vec<&str> = line.split_whitespace().collect();
                let row = Row {
                    engine: f[1].to_string(),
                    rules: f[2].parse().unwrap_or(0),
                    round,
                    build: f[3].parse().unwrap_or(0.0),
                    scan: f[4].parse().unwrap_or(0.0),
                    bytes: f[5].parse().unwrap_or(0),
                    hits: f[6].parse().unwrap_or(0),
                    rss: f[7].parse().unwrap_or(0.0),
                    steady: f[9].parse().unwrap_or(0.0),
                    heap: f[10].parse().unwrap_or(0.0),
                };
                eprintln!(
                    "round {round}: {:<13} {:>7} rules: {:>7.1} MB/s",
                    row.engine,
                    row.rules,
                    row.bytes as f64 / 1e6 / row.scan
                );
                rows.push(row);
            }
        }
    }
    println!(
        "| engine | rules | text MB | find-all MB/s (median of {rounds}) | build s | peak RSS MiB | RSS after build, above text MiB | structure heap MiB | hits |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mbps = |r: &Row| r.bytes as f64 / 1e6 / r.scan;
    for &n in &o.rules {
        for engine in &o.engines {
            let mine: Vec<&Row> = rows
                .iter()
                .filter(|r| &r.engine == engine && r.rules == n)
                .collect();
            let Some(first) = mine.first() else { continue };
            let heap = median(mine.iter().map(|r| r.heap).collect());
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.3} | {:.1} | {:.1} | {} | {} |",
                engine,
                n,
                first.bytes as f64 / 1e6,
                median(mine.iter().map(|r| mbps(r)).collect()),
                median(mine.iter().map(|r| r.build).collect()),
                median(mine.iter().map(|r| r.rss).collect()),
                median(mine.iter().map(|r| r.steady).collect()),
                if heap > 0.0 {
                    format!("{heap:.1}")
                } else {
                    "-".to_string()
                },
                first.hits
            );
        }
    }
    println!();
    for &n in &o.rules {
        // Ratio per round (same load conditions), then the median.
        let ratio = |a: &str, b: &str| {
            let v: Vec<f64> = (0..rounds)
                .filter_map(|round| {
                    let x = rows
                        .iter()
                        .find(|r| r.engine == a && r.rules == n && r.round == round)?;
                    let y = rows
                        .iter()
                        .find(|r| r.engine == b && r.rules == n && r.round == round)?;
                    Some(mbps(x) / mbps(y))
                })
                .collect();
            (!v.is_empty()).then(|| median(v))
        };
        for (a, b) in [
            ("hegui", "matcher_rs"),
            ("hegui-compiled", "matcher_rs"),
            ("hegui", "daachorse"),
            ("hegui", "aho-corasick"),
            ("daachorse", "aho-corasick"),
        ] {
            if let Some(r) = ratio(a, b) {
                println!("{n} rules: {a} / {b} throughput = {r:.2} (median of per-round ratios)");
            }
        }
    }
}
