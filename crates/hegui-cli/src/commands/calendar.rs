//! `hegui calendar import | list`: State Council holiday schedules published after this release.
//!
//! The bundled schedules end in 2026. Each November the next year's notice appears; `import`
//! checks a holiday-cn year file (the format `data/holiday-cn/` vendors) and writes it into the
//! user data directory (`$HEGUI_DATA_DIR`, else `$XDG_DATA_HOME/hegui`, else
//! `~/.local/share/hegui`), where `hegui assess` and `hegui filing` read it. `list` shows the
//! years the calendar knows and where each comes from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_rules::Calendar;
use hegui_rules::calendar::user;

/// `hegui calendar` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Check a holiday-cn year file (e.g. `2027.json`) and add it to the user data directory.
    Import {
        /// The year file, in the holiday-cn JSON format.
        file: PathBuf,
        /// The user data directory (default: `$HEGUI_DATA_DIR`, `$XDG_DATA_HOME/hegui` or
        /// `~/.local/share/hegui`).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// List the years with a published schedule: bundled or imported.
    List {
        /// The user data directory (default as for `import`).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

/// The data directory from the flag, else the default; an error when there is none.
fn resolve(data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    data_dir.or_else(user::data_dir).with_context(|| {
        format!(
            "no user data directory: set `{}` or HOME, or pass `--data-dir`",
            user::DATA_DIR_ENV
        )
    })
}

/// The calendar `hegui assess` and `hegui filing` use: bundled plus imported years.
pub(crate) fn load() -> anyhow::Result<Calendar> {
    let dir = user::data_dir();
    Calendar::cn_mainland_with_user_data(dir.as_deref()).with_context(|| {
        format!(
            "cannot load the imported calendars under `{}`",
            dir.as_deref()
                .map_or_else(String::new, |d| user::calendar_dir(d).display().to_string())
        )
    })
}

/// Runs `hegui calendar`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import { file, data_dir } => import(&file, &resolve(data_dir)?),
        Command::List { data_dir } => list(&resolve(data_dir)?),
    }
}

fn import(file: &Path, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let done = user::import(data_dir, &file.display().to_string(), &text)?;
    let verb = if done.replaced {
        "replaced"
    } else {
        "imported"
    };
    println!(
        "{verb} {}: {} listed days, notice {}",
        done.year,
        done.days,
        done.papers.join(", ")
    );
    println!("written to {}", done.path.display());
    if done.bundled {
        println!(
            "note: {} is also bundled; the two agree on every date",
            done.year
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let bundled = Calendar::cn_mainland()?.published_years();
    let calendar = Calendar::cn_mainland_with_user_data(Some(data_dir))?;
    for year in calendar.published_years() {
        let source = if bundled.contains(&year) {
            "bundled".to_string()
        } else {
            format!("imported ({})", user::calendar_dir(data_dir).display())
        };
        println!("{year}  {source}  {}", calendar.notices(year).join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
