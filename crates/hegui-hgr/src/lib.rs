//! Human genetic resources (人类遗传资源, HGR): the two questions a life-sciences team asks
//! besides "which approvals do we need" (that one is the `cn-hgr` rule pack, evaluated by
//! `hegui assess --pack cn-hgr`):
//!
//! - [`scope`]: is this material or data type HGR **material**, HGR **information**, or out of
//!   scope? The lists come from the 条例 (art. 2) and the July 2023 service guides, and ship with
//!   the pack as `packs/cn-hgr/scope.toml`. Names not in the lists are never guessed.
//! - [`change`]: is a change of an international-cooperation approval or trial filing major or
//!   not (the 10% cumulative rule, new types, decreases, filings)?
//!
//! [`report`] renders both in the four formats of `hegui assess` (table, Markdown, JSON, HTML).
//!
//! Every rule cites its source with the confidence recorded in `shared/reference/hgr.md`; most
//! rest on secondary sources (the official 细则 text was not read), and the reports say so.
//!
//! ```
//! use hegui_hgr::scope::{Class, Scope};
//! let scope = Scope::bundled().unwrap();
//! assert_eq!(scope.classify("whole blood").class, Class::Material);
//! assert_eq!(scope.classify("ctDNA").class, Class::Information);
//! assert_eq!(scope.classify("imaging data").class, Class::OutOfScope);
//! assert_eq!(scope.classify("something new").class, Class::NeedsReview);
//!
//! let text = r#"
//! [approval]
//! kind = "approval"
//! [[resource]]
//! type = "whole_blood"
//! quantity = 1000
//! [[change]]
//! [[change.item]]
//! type = "whole_blood"
//! delta = 101
//! "#;
//! let report = hegui_hgr::change::classify_file("APPROVAL.toml", text).unwrap();
//! assert_eq!(report.changes[0].class, hegui_hgr::change::ChangeClass::Major);
//! ```

pub mod change;
pub mod report;
pub mod scope;
