//! `hegui label add | read | verify`: GB 45438-2025 AIGC labels on files and directories.
//!
//! All format work is in `hegui-label`; this module walks paths, loads keys, writes results
//! through a temporary file and a rename (the original is never half-written), and reports.
//! A directory argument is walked recursively and only files with a known extension are taken;
//! a file named explicitly must be in a supported format. Progress goes to stderr when it is a
//! terminal; results go to stdout.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use hegui_keys::{KeyRing, SigningKey, VerifyingKey};
use hegui_label::explicit::{self, Position};
use hegui_label::{Format, Found, Label, SignaturePresence, Verdict};

/// `hegui label` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write the implicit label (and with `--explicit` a visible one) into files.
    Add(AddArgs),
    /// Show the labels found in files.
    Read {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check labels against trusted public keys; exit 1 when any file is not intact.
    Verify {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A trusted public key file (`hegui keys generate` writes `STEM.pub`); repeatable.
        #[arg(long = "pubkey", required = true)]
        pubkeys: Vec<PathBuf>,
        /// Print JSON after the summary line.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `hegui label add`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["out", "in_place"])))]
pub(crate) struct AddArgs {
    /// Files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The provider's code (`ContentProducer`), e.g. `001191440300708461136T1XGW3`.
    #[arg(long)]
    producer: String,
    /// The content number (`ProduceID`); default: `sm3-` and 16 hex digits of the content digest.
    #[arg(long)]
    produce_id: Option<String>,
    /// The generation attribute: 1 (AI-generated), 2 (possibly), 3 (suspected).
    #[arg(long, default_value = "1", value_parser = ["1", "2", "3"])]
    label: String,
    /// Sign the integrity code in `ReservedCode1` with this secret key (`STEM.key`).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Also add the explicit label: image caption, WAV rhythm cue, text notice.
    #[arg(long)]
    explicit: bool,
    /// Text of the notice or caption (must contain 人工智能/AI and 生成/合成).
    #[arg(long)]
    notice: Option<String>,
    /// Where a text notice or audio cue goes: start, end, both.
    #[arg(long, default_value = "start")]
    position: String,
    /// Image caption corner: top-left, top-right, bottom-left, bottom-right.
    #[arg(long, default_value = "bottom-right")]
    corner: String,
    /// Output file (one input) or directory (several inputs or a directory).
    #[arg(short = 'o', long = "out")]
    out: Option<PathBuf>,
    /// Replace the input files.
    #[arg(long)]
    in_place: bool,
}

/// Runs `hegui label`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add(args) => add(&args),
        Command::Read { paths, json } => read(&paths, json),
        Command::Verify {
            paths,
            pubkeys,
            json,
        } => verify(&paths, &pubkeys, json),
    }
}

/// Input files: (path, path relative to its argument for mirroring under `-o DIR`).
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let mut out = Vec::new();
    for root in paths {
        let meta =
            std::fs::metadata(root).with_context(|| format!("cannot read `{}`", root.display()))?;
        if meta.is_dir() {
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let mut entries: Vec<_> = std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot list `{}`", dir.display()))?
                    .collect::<Result<_, _>>()?;
                entries.sort_by_key(std::fs::DirEntry::path);
                for entry in entries {
                    let path = entry.path();
                    if entry.file_type()?.is_dir() {
                        stack.push(path);
                    } else if extension_format(&path).is_some() || is_text(&path) {
                        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                        out.push((path, relative));
                    }
                }
            }
        } else {
            let name = root
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| root.clone());
            out.push((root.clone(), name));
        }
    }
    Ok(out)
}

fn extension_format(path: &Path) -> Option<Format> {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
}

fn is_text(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}

fn detect(path: &Path, bytes: &[u8]) -> anyhow::Result<Format> {
    let extension = path.extension().and_then(|e| e.to_str());
    Format::detect(bytes, extension)
        .with_context(|| format!("`{}`: not a supported format (PNG, JPEG, WebP, WAV, MP3, FLAC, Ogg, MP4/MOV/M4A, PDF, DOCX/XLSX/PPTX, Markdown)", path.display()))
}

struct Progress {
    total: usize,
    enabled: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            enabled: total > 1 && std::io::stderr().is_terminal(),
        }
    }
    fn tick(&self, index: usize, path: &Path) {
        if self.enabled {
            eprint!("\r\x1b[K[{}/{}] {}", index + 1, self.total, path.display());
        }
    }
    fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[K");
        }
    }
}

fn add(args: &AddArgs) -> anyhow::Result<ExitCode> {
    check_values(args)?;
    let files = collect(&args.paths)?;
    let key = match &args.key {
        Some(path) => Some(
            SigningKey::load(path)
                .with_context(|| format!("cannot load the signing key `{}`", path.display()))?,
        ),
        None => None,
    };
    let position: Position = args.position.parse()?;
    let several = files.len() > 1 || args.paths.iter().any(|p| p.is_dir());
    if several && args.produce_id.is_some() {
        bail!(
            "`--produce-id` names one content item; with several files each gets its own digest-based id"
        );
    }
    let progress = Progress::new(files.len());
    let (mut done, mut failed) = (0, 0);
    for (index, (path, relative)) in files.iter().enumerate() {
        progress.tick(index, path);
        let destination = match (&args.out, args.in_place) {
            (_, true) => path.clone(),
            (Some(out), false) if several => out.join(relative),
            (Some(out), false) => out.clone(),
            (None, false) => unreachable_target()?,
        };
        match add_one(args, key.as_ref(), position, path, &destination) {
            Ok(line) => {
                done += 1;
                println!("{line}");
            }
            Err(err) if several => {
                failed += 1;
                progress.done();
                eprintln!("error: {err:#}");
            }
            Err(err) => return Err(err),
        }
    }
    progress.done();
    eprintln!("labeled {done} file(s), {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Checks the values `label add` will write (`hegui_label::check`) before any file is touched:
/// prints the warnings (a name is fine, a malformed code is worth a word) and refuses, once, a
/// value the writer would refuse for every file.
fn check_values(args: &AddArgs) -> anyhow::Result<()> {
    use hegui_label::check;
    let mut warnings: Vec<(&str, check::Warning)> = check::value("ContentProducer", &args.producer)
        .into_iter()
        .map(|w| ("--producer", w))
        .collect();
    if let Some(id) = &args.produce_id {
        warnings.extend(
            check::value("ProduceID", id)
                .into_iter()
                .map(|w| ("--produce-id", w)),
        );
    }
    match (&args.notice, args.explicit) {
        (Some(notice), true) => {
            warnings.extend(check::notice(notice).into_iter().map(|w| ("--notice", w)));
        }
        (Some(_), false) => eprintln!("warning: `--notice` has no effect without `--explicit`"),
        (None, _) => {}
    }
    let mut refused = Vec::new();
    for (flag, warning) in &warnings {
        if warning.rule.is_enforced() {
            refused.push(format!("`{flag}`: {warning}"));
        } else {
            eprintln!("warning: `{flag}`: {warning}");
        }
    }
    if !refused.is_empty() {
        bail!("nothing written: {}", refused.join("; "));
    }
    Ok(())
}

fn unreachable_target() -> anyhow::Result<PathBuf> {
    bail!("pass `-o OUT` or `--in-place`")
}

fn add_one(
    args: &AddArgs,
    key: Option<&SigningKey>,
    position: Position,
    path: &Path,
    destination: &Path,
) -> anyhow::Result<String> {
    let mut bytes =
        std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let notice = args.notice.as_deref().unwrap_or(explicit::DEFAULT_NOTICE);
    if is_text(path) && Format::sniff(&bytes).is_none() {
        // Plain text has no metadata carrier: only the explicit notice is possible.
        if !args.explicit {
            bail!(
                "`{}`: plain text has no implicit-label carrier; add `--explicit` for a visible notice",
                path.display()
            );
        }
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("`{}` is not UTF-8", path.display()))?;
        super::write_atomically(
            destination,
            explicit::label_text(text, notice, position)?.as_bytes(),
        )?;
        return Ok(format!(
            "{}\ttext\texplicit notice only",
            destination.display()
        ));
    }
    let format = detect(path, &bytes)?;
    let mut explicit_done = "";
    if args.explicit {
        (bytes, explicit_done) = add_explicit(args, format, position, notice, bytes, path)?;
    }
    // The content digest names the item (digest-based `ProduceID`) and is what a key signs:
    // hash the file once for both.
    let (produce_id, digest) = match &args.produce_id {
        Some(id) => (id.clone(), None),
        None => {
            let digest = hegui_label::content_digest(&bytes, format)
                .with_context(|| format!("`{}`", path.display()))?;
            (format!("sm3-{}", &hex_string(&digest)[..16]), Some(digest))
        }
    };
    let mut label = Label::new(args.producer.clone(), produce_id);
    label.label.clone_from(&args.label);
    // The media bytes are written straight from the input buffer (a splice plan), never copied
    // into a second whole-file buffer, through a temporary file and a rename.
    let written = match &digest {
        Some(digest) => hegui_label::splice_label_with_digest(&bytes, format, &label, key, digest)
            .and_then(|plan| Ok(plan.write_file_atomically(destination)?)),
        None => hegui_label::write_label_file(&bytes, format, &label, key, destination),
    };
    written.map_err(|err| match err {
        hegui_label::LabelError::Io(io) => {
            anyhow::Error::new(io).context(format!("cannot write `{}`", destination.display()))
        }
        err => anyhow::Error::new(err).context(format!("`{}`", path.display())),
    })?;
    let signed = if key.is_some() { "signed" } else { "unsigned" };
    Ok(format!(
        "{}\t{format}\t{}\t{signed}{explicit_done}",
        destination.display(),
        label.produce_id
    ))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn add_explicit(
    args: &AddArgs,
    format: Format,
    position: Position,
    notice: &str,
    bytes: Vec<u8>,
    path: &Path,
) -> anyhow::Result<(Vec<u8>, &'static str)> {
    Ok(match format {
        Format::Png | Format::Jpeg | Format::Webp => {
            let caption = explicit::Caption {
                text: args
                    .notice
                    .clone()
                    .unwrap_or_else(|| explicit::DEFAULT_CAPTION.into()),
                corner: args.corner.parse()?,
                ..explicit::Caption::default()
            };
            let captioned = explicit::caption_image(&bytes, &caption)
                .with_context(|| format!("`{}`", path.display()))?;
            (captioned.image, "\t+caption")
        }
        Format::Wav => {
            let cue = explicit::Cue {
                position,
                ..explicit::Cue::default()
            };
            (
                explicit::add_morse_cue(&bytes, &cue)
                    .with_context(|| format!("`{}`", path.display()))?,
                "\t+morse-cue",
            )
        }
        Format::Markdown => {
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("`{}` is not UTF-8", path.display()))?;
            (
                explicit::label_markdown(text, notice, position)?.into_bytes(),
                "\t+notice",
            )
        }
        other => {
            eprintln!(
                "warning: `{}`: no explicit label for {other} files; implicit label only",
                path.display()
            );
            (bytes, "")
        }
    })
}

fn read_found(path: &Path) -> anyhow::Result<(Format, Option<Found>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let format = detect(path, &bytes)?;
    let found = hegui_label::read_label_as(&bytes, format)
        .with_context(|| format!("`{}`", path.display()))?;
    Ok((format, found))
}

fn read(paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let files = collect(paths)?;
    let progress = Progress::new(files.len());
    let mut records = Vec::new();
    let mut errors = 0;
    for (index, (path, _)) in files.iter().enumerate() {
        progress.tick(index, path);
        match read_found(path) {
            Ok((format, found)) => records.push((path.clone(), format, found)),
            Err(err) => {
                errors += 1;
                progress.done();
                eprintln!("error: {err:#}");
            }
        }
    }
    progress.done();
    let labeled = records.iter().filter(|r| r.2.is_some()).count();
    if json {
        let out: Vec<_> = records
            .iter()
            .map(|(path, format, found)| read_record(path, *format, found.as_ref()))
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (path, format, found) in &records {
            match found {
                None => println!("{}\t{format}\tno label", path.display()),
                Some(f) => {
                    println!("{}\t{format}\t{}", path.display(), read_line(f));
                    for warning in &f.warnings {
                        eprintln!("warning: `{}`: {warning}", path.display());
                    }
                }
            }
        }
    }
    eprintln!(
        "{} file(s): {labeled} labeled, {} without a label, {errors} unreadable",
        records.len() + errors,
        records.len() - labeled
    );
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// One `label read` table row after the path and format: the carriers, the producer fields, the
/// Annex E format verdict and whether a signature is there. The signature is not checked here
/// (that needs the keys and the content: `label verify`), so the row never calls it good.
fn read_line(found: &Found) -> String {
    let mut carriers = found.carrier.name().to_string();
    for other in &found.other_carriers {
        carriers.push('+');
        carriers.push_str(other.name());
    }
    let format = if found.format_is_valid() {
        "valid".to_string()
    } else {
        format!("invalid ({})", found.problems.join("; "))
    };
    let signature = match found.signature() {
        SignaturePresence::Present => "present, not checked (run `hegui label verify`)",
        SignaturePresence::Absent => "absent",
        SignaturePresence::Other => "other, not checked (`ReservedCode1` is not a hegui code)",
    };
    format!(
        "{carriers}\tLabel={} ContentProducer={} ProduceID={}\tformat: {format}\tsignature: {signature}",
        found.label.label, found.label.content_producer, found.label.produce_id
    )
}

/// One `label read --format json` record: the label as found, the Annex E format verdict and
/// the signature's presence, marked unchecked.
fn read_record(path: &Path, format: Format, found: Option<&Found>) -> serde_json::Value {
    serde_json::json!({
        "file": path,
        "format": format,
        "label": found,
        "label_format": found.map(|f| if f.format_is_valid() { "valid" } else { "invalid" }),
        "signature": found.map(Found::signature),
        "signature_checked": false,
    })
}

fn verify(paths: &[PathBuf], pubkeys: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let mut ring = KeyRing::new();
    for path in pubkeys {
        ring.insert(
            VerifyingKey::load(path)
                .with_context(|| format!("cannot load the public key `{}`", path.display()))?,
        );
    }
    let files = collect(paths)?;
    let progress = Progress::new(files.len());
    let mut results: Vec<(PathBuf, Result<Verdict, String>)> = Vec::new();
    for (index, (path, _)) in files.iter().enumerate() {
        progress.tick(index, path);
        let verdict = std::fs::read(path)
            .with_context(|| format!("cannot read `{}`", path.display()))
            .and_then(|bytes| {
                let format = detect(path, &bytes)?;
                Ok(hegui_label::verify_as(&bytes, format, &ring)?)
            })
            .map_err(|e| format!("{e:#}"));
        results.push((path.clone(), verdict));
    }
    progress.done();
    let intact = results
        .iter()
        .filter(|(_, v)| v.as_ref().is_ok_and(Verdict::is_intact))
        .count();
    let summary = format!("{intact} of {} file(s) intact", results.len());
    if json {
        println!("{summary}");
        let out: Vec<_> = results
            .iter()
            .map(|(path, v)| match v {
                Ok(verdict) => serde_json::json!({"file": path, "result": verdict}),
                Err(e) => serde_json::json!({"file": path, "error": e}),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (path, v) in &results {
            match v {
                Ok(Verdict::Intact { key_id }) => {
                    println!("intact\t{}\tkey {key_id}", path.display());
                }
                Ok(Verdict::UnknownKey { key_id }) => println!(
                    "unknown-key\t{}\tkey {key_id} is not trusted",
                    path.display()
                ),
                Ok(Verdict::Absent) => {
                    println!("absent\t{}\tno label (possibly stripped)", path.display());
                }
                Ok(other) => println!("{}\t{}", other.word(), path.display()),
                Err(e) => println!("error\t{}\t{e}", path.display()),
            }
        }
        println!("{summary}");
    }
    Ok(if intact == results.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
