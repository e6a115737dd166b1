//! State Council holiday schedules that the user imports after a release.
//!
//! hegui bundles the schedules it was built with (`data/holiday-cn/`, ending in 2026). Each
//! November the State Council publishes the next year's; rather than wait for a release, a user
//! imports the new year file, in the holiday-cn JSON format the project vendors
//! (`{year, papers: [notice URL], days: [{name, date, isOffDay}]}`), into a **user data
//! directory**: `$HEGUI_DATA_DIR`, else `$XDG_DATA_HOME/hegui`, else `~/.local/share/hegui`.
//! Files live in `calendars/cn-mainland/<year>.json` there.
//!
//! An import is checked before it is written: the file parses, names its notice in `papers` (a
//! schedule without a notice is not published and is refused), lists only days of its year (or
//! the previous December, which a notice may move), and agrees with the bundled data and the
//! other imported years on every shared date.

use std::path::{Path, PathBuf};

use chrono::Datelike as _;

use super::{Calendar, CalendarError, YearFile};

/// The environment variable that names the user data directory.
pub const DATA_DIR_ENV: &str = "HEGUI_DATA_DIR";

/// The user data directory: `$HEGUI_DATA_DIR`, else `$XDG_DATA_HOME/hegui`, else
/// `$HOME/.local/share/hegui`; `None` when none of these is set.
pub fn data_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(DATA_DIR_ENV) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_DATA_HOME") {
        return Some(PathBuf::from(dir).join("hegui"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".local/share/hegui"))
}

/// Where the imported `cn-mainland` year files live under a data directory.
pub fn calendar_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("calendars").join("cn-mainland")
}

fn io(path: &Path, err: &std::io::Error) -> CalendarError {
    CalendarError::Io {
        path: path.display().to_string(),
        message: err.to_string(),
    }
}

/// The imported year files under `data_dir`, as (file name, text), sorted by name. A missing
/// directory is no files.
///
/// # Errors
///
/// [`CalendarError::Io`] if the directory or a file cannot be read.
pub fn imported_files(data_dir: &Path) -> Result<Vec<(String, String)>, CalendarError> {
    let dir = calendar_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io(&dir, &err)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|err| io(&dir, &err))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).map_err(|err| io(&path, &err))?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    Ok(files)
}

impl Calendar {
    /// The bundled `cn-mainland` calendar plus the years imported under `data_dir` (if any).
    ///
    /// # Errors
    ///
    /// [`CalendarError::Io`] if the imported files cannot be read, [`CalendarError::Data`] if one
    /// is malformed or disagrees with the bundled data.
    pub fn cn_mainland_with_user_data(data_dir: Option<&Path>) -> Result<Calendar, CalendarError> {
        let imported = match data_dir {
            Some(dir) => imported_files(dir)?,
            None => Vec::new(),
        };
        let bundled = crate::pack::HOLIDAYS.iter().map(|(n, t)| (*n, *t));
        let user = imported.iter().map(|(n, t)| (n.as_str(), t.as_str()));
        Self::from_json_files(bundled.chain(user))
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The year of the schedule.
    pub year: i32,
    /// How many exceptional days it lists.
    pub days: usize,
    /// The notice URLs.
    pub papers: Vec<String>,
    /// Where it was written.
    pub path: PathBuf,
    /// Whether it replaced an imported file of the same year.
    pub replaced: bool,
    /// Whether the bundled data already has this year (the import then only confirms it).
    pub bundled: bool,
}

/// Checks a holiday-cn year file (`name` is for messages) and writes it into `data_dir`.
///
/// # Errors
///
/// [`CalendarError::Data`] if the file is malformed, has no notice, lists a day outside its year
/// (other than the previous December) or disagrees with the bundled or imported data;
/// [`CalendarError::Io`] if it cannot be written.
pub fn import(data_dir: &Path, name: &str, text: &str) -> Result<Imported, CalendarError> {
    let data = |message: String| CalendarError::Data {
        file: name.to_string(),
        message,
    };
    let parsed: YearFile = serde_json::from_str(text).map_err(|err| data(err.to_string()))?;
    if parsed.papers.is_empty() {
        return Err(data(format!(
            "no State Council notice in `papers`: the {} schedule is not published yet",
            parsed.year
        )));
    }
    for day in &parsed.days {
        let year = day.date.year();
        let previous_december = year == parsed.year - 1 && day.date.month() == 12;
        if year != parsed.year && !previous_december {
            return Err(data(format!(
                "{} is outside {} (only its own days and the previous December)",
                day.date, parsed.year
            )));
        }
    }
    let dir = calendar_dir(data_dir);
    let target = dir.join(format!("{}.json", parsed.year));
    // Consistency with the bundled years and every other imported year (the same year is being
    // replaced, so it is left out).
    let others: Vec<(String, String)> = imported_files(data_dir)?
        .into_iter()
        .filter(|(file, _)| Path::new(file) != target)
        .collect();
    let bundled = crate::pack::HOLIDAYS.iter().map(|(n, t)| (*n, *t));
    let checked = Calendar::from_json_files(
        bundled
            .chain(others.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .chain([(name, text)]),
    )?;
    let bundled_years = Calendar::cn_mainland()?.published_years();
    debug_assert!(checked.published_years().contains(&parsed.year));
    std::fs::create_dir_all(&dir).map_err(|err| io(&dir, &err))?;
    let replaced = target.is_file();
    let temporary = dir.join(format!(".{}.json.tmp", parsed.year));
    std::fs::write(&temporary, text).map_err(|err| io(&temporary, &err))?;
    std::fs::rename(&temporary, &target).map_err(|err| io(&target, &err))?;
    Ok(Imported {
        year: parsed.year,
        days: parsed.days.len(),
        papers: parsed.papers,
        path: target,
        replaced,
        bundled: bundled_years.contains(&parsed.year),
    })
}
