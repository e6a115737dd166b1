//! `hegui filing PROFILE.toml [--corpus F] [--annotate F] [--eval F] [--lexicon-eval F]
//! [--lexicon-check F]`: the security self-assessment report and filing materials, written from
//! the service profile, its rules assessment and the JSON result files of the other commands
//! (`hegui_assess::filing`), as Markdown, a self-contained HTML page or an editable DOCX
//! (`--out-dir DIR` writes all three).
//!
//! Exit codes: 0 written, every included result meets its figures; 1 written, and a result
//! misses a figure; 2 usage or input errors (a profile or result file that does not load,
//! named with its line).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_assess::doc::docx::to_docx;
use hegui_assess::filing::{self, Inputs};
use hegui_assess::input::InputFile;
use hegui_rules::{Pack, Profile, SourceFile, assess};

/// Arguments of `hegui filing`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The service profile (the one `hegui assess` reads).
    profile: PathBuf,
    /// A bundled rule pack.
    #[arg(long, default_value = "cn-genai")]
    pack: String,
    /// Assessment date (YYYY-MM-DD); default: today in China (UTC+8).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// `hegui corpus audit --format json` result.
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,
    /// `hegui annotate qa --format json` result.
    #[arg(long, value_name = "FILE")]
    annotate: Option<PathBuf>,
    /// `hegui eval --format json` result.
    #[arg(long, value_name = "FILE")]
    eval: Option<PathBuf>,
    /// `hegui lexicon eval --format json` result.
    #[arg(long, value_name = "FILE")]
    lexicon_eval: Option<PathBuf>,
    /// `hegui lexicon check --format json` result.
    #[arg(long, value_name = "FILE")]
    lexicon_check: Option<PathBuf>,
    /// Document format.
    #[arg(long, default_value = "md", value_parser = ["md", "html", "docx"])]
    format: String,
    /// Write the document to FILE (a DOCX needs one).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "out_dir"
    )]
    output: Option<PathBuf>,
    /// Write `self-assessment.md`, `.html` and `.docx` into DIR.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

fn optional<T: serde::de::DeserializeOwned>(
    path: Option<&Path>,
) -> anyhow::Result<Option<filing::Evidence<T>>> {
    Ok(match path {
        Some(p) => Some(filing::load(p)?),
        None => None,
    })
}

/// Runs `hegui filing`.
#[expect(
    clippy::needless_pass_by_value,
    reason = "every subcommand takes its arguments by value"
)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let as_of = super::assess::as_of(args.as_of.as_deref())?;
    let pack = Pack::embedded(&args.pack)?;
    let name = args.profile.display().to_string();
    let text =
        std::fs::read_to_string(&args.profile).with_context(|| format!("cannot read `{name}`"))?;
    let profile = Profile::parse(&SourceFile::new(name.clone(), text), &pack).map_err(|found| {
        let first = found
            .iter()
            .next()
            .map(ToString::to_string)
            .unwrap_or_default();
        anyhow::anyhow!("profile `{name}` does not load: {first}")
    })?;
    let assessment = assess(&pack, &profile, as_of, &super::calendar::load()?);
    let inputs = Inputs {
        assessment,
        profile,
        profile_file: InputFile::of(&args.profile)?,
        corpus: optional(args.corpus.as_deref())?,
        annotate: optional(args.annotate.as_deref())?,
        eval: optional(args.eval.as_deref())?,
        lexicon_eval: optional(args.lexicon_eval.as_deref())?,
        lexicon_check: optional(args.lexicon_check.as_deref())?,
    };
    let doc = filing::dossier(&inputs);
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        super::write_atomically(&dir.join("self-assessment.md"), doc.markdown())?;
        super::write_atomically(&dir.join("self-assessment.html"), doc.html())?;
        super::write_atomically(&dir.join("self-assessment.docx"), to_docx(&doc)?)?;
        eprintln!(
            "filing: wrote self-assessment.md, .html and .docx in `{}`",
            dir.display()
        );
    } else {
        match args.format.as_str() {
            "docx" => {
                let Some(path) = &args.output else {
                    anyhow::bail!("a DOCX needs `-o FILE`");
                };
                super::write_atomically(path, to_docx(&doc)?)?;
            }
            "html" => super::scan::write_output(args.output.as_deref(), &doc.html())?,
            _ => super::scan::write_output(args.output.as_deref(), &doc.markdown())?,
        }
    }
    Ok(if filing::has_findings(&inputs) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
