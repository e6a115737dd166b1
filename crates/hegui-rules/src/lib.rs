//! Rule packs for hegui: load a pack of obligations written as data, check it, and assess a
//! service profile against it on a date.
//!
//! A pack (`packs/<id>/`, format in `packs/FORMAT.md`) is a directory of TOML files: instruments
//! and authorities, a typed facts schema, cited params, hegui controls, obligations with
//! conditions and deadlines, and golden scenarios. This crate:
//!
//! - loads a pack ([`Pack`]) with `deny_unknown_fields` and located diagnostics ([`Located`]:
//!   file, line, column, message) for every problem;
//! - compiles each obligation's condition in a small typed language ([`expr`]) checked against
//!   the facts schema, evaluated with Kleene three-valued logic and a trace of atoms;
//! - reads service profiles ([`Profile`]) with the same quality of errors;
//! - counts deadlines in working days, days and months on the mainland-China calendar
//!   ([`Calendar`]), failing closed when a year's schedule is not published;
//! - assesses ([`assess()`]) and renders reports as Markdown, JSON or HTML ([`report`]);
//! - lints packs ([`lint()`]): references, coverage of control points and binding articles,
//!   scenarios.
//!
//! Every pack directory under the repository's `packs/` is embedded at build time
//! ([`Pack::embedded`], [`embedded_ids`]).
//!
//! ```
//! use hegui_rules::{Calendar, Pack, Profile, SourceFile, assess};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini");
//! let pack = Pack::load_dir(&dir)?;
//! let profile = SourceFile::new("profile.toml", "[service]\naudience = \"domestic_public\"\n");
//! let profile = Profile::parse(&profile, &pack)?;
//! let calendar = Calendar::cn_mainland()?;
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).ok_or("date")?;
//! let report = assess(&pack, &profile, date, &calendar);
//! assert!(report.summary.applicable > 0);
//! # Ok(())
//! # }
//! ```
//!
//! This crate has no feature flags.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod assess;
pub mod calendar;
pub mod coverage;
pub mod deadline;
pub mod diagnostic;
pub mod expr;
pub mod lint;
pub mod model;
pub mod pack;
pub mod profile;
pub mod report;
pub mod value;

pub use assess::{Report, Status, assess};
pub use calendar::{Calendar, CalendarError};
/// Re-exported so that callers name dates with the same type.
pub use chrono;
pub use diagnostic::{Diagnostics, Located, SourceFile};
pub use lint::lint;
pub use pack::{LoadError, Pack, embedded_ids};
pub use profile::Profile;
pub use value::{Type, Value};
