//! `hegui label add`: checks the values, then labels each file (implicit label, and with
//! `--explicit` the visible one first, so that the integrity code signs the final bytes) and
//! writes it through a temporary file and a rename.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use hegui_gateway::clock::beijing_rfc3339;
use hegui_keys::SigningKey;
use hegui_label::explicit::{self, Position};
use hegui_label::{Format, Label};
use hegui_store::Access;

use super::{AddArgs, Progress, collect, detect, is_text, load_key};
use crate::commands::audit::{self, Database};

pub(super) fn add(args: &AddArgs) -> anyhow::Result<ExitCode> {
    check_values(args)?;
    if let Some(id) = &args.produce_id {
        refuse_taken_down(&args.database, id)?;
    }
    let files = collect(&args.paths)?;
    let key = match &args.key {
        Some(path) => Some(load_key("signing key", path, SigningKey::load)?),
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
        let destination = match (&args.output, args.in_place) {
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

/// Refuses a ProduceID that a takedown in the ledger names, before any file is touched: content
/// found illegal is not transmitted again (Interim Measures art. 14), and a label would give it
/// a fresh, valid provenance. Without `--database` or `--config` there is nothing to consult.
fn refuse_taken_down(database: &Database, produce_id: &str) -> anyhow::Result<()> {
    if !database.is_given() {
        return Ok(());
    }
    let takedowns = hegui_store::block_on(async {
        let store = audit::open(database, Access::ReadOnly).await?;
        let found = store.takedowns_of_record(produce_id).await;
        store.close().await;
        found.context("cannot read the takedowns")
    })?;
    match takedowns.first() {
        None => Ok(()),
        Some(t) => bail!(
            "ProduceID `{produce_id}` was taken down on {} (takedown `{}`, tenant `{}`, by `{}`: {}); \
             content taken down is not labeled or served again",
            beijing_rfc3339(t.created_ms),
            t.id,
            t.tenant_id,
            t.actor,
            t.reason
        ),
    }
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
        crate::commands::write_atomically(
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
