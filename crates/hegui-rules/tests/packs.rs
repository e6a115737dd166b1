//! Every pack under the repository's `packs/` directory loads, lints clean and passes its
//! scenarios. Packs added by anyone are picked up here without a code change.

use std::path::{Path, PathBuf};

use hegui_rules::{Calendar, Pack, embedded_ids, lint};

fn repo_packs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.join("pack.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn check(dir: &Path) -> Result<usize, String> {
    let pack =
        Pack::load_dir(dir).map_err(|err| format!("{}: does not load:\n{err}", dir.display()))?;
    let calendar = Calendar::cn_mainland().map_err(|err| err.to_string())?;
    let problems = lint(&pack, &calendar);
    if problems.is_empty() {
        Ok(pack.scenarios.len())
    } else {
        Err(format!("{}: lint failed:\n{problems}", dir.display()))
    }
}

#[test]
fn every_repository_pack_lints_and_passes_its_scenarios() {
    let mut failures = Vec::new();
    for dir in repo_packs() {
        match check(&dir) {
            Ok(scenarios) => eprintln!("{}: clean, {scenarios} scenarios", dir.display()),
            Err(message) => failures.push(message),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_repository_pack_is_embedded() {
    let on_disk: Vec<String> = repo_packs()
        .iter()
        .filter_map(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let embedded: Vec<String> = embedded_ids().into_iter().map(String::from).collect();
    assert_eq!(on_disk, embedded);
}

#[test]
fn the_fixture_pack_is_clean_and_its_scenarios_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini");
    assert_eq!(check(&dir), Ok(2));
}
