//! Embeds every rule pack under the repository's `packs/` directory and the holiday calendar
//! under `data/holiday-cn/` into the library, so that `hegui assess` works from any directory.
//!
//! The walk is generic: a new `packs/<id>/` directory with a `pack.toml` is picked up without a
//! code change. Cargo re-runs this script when anything under either directory changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../..");
    let packs = root.join("packs");
    let holidays = root.join("data/holiday-cn");
    println!("cargo::rerun-if-changed={}", packs.display());
    println!("cargo::rerun-if-changed={}", holidays.display());

    let mut out = String::new();
    out.push_str("/// Every pack directory found under `packs/` at build time: (id, [(relative path, text)]).\n");
    out.push_str("pub(crate) static PACKS: &[(&str, &[(&str, &str)])] = &[\n");
    let mut dirs: Vec<PathBuf> = read_dir(&packs)
        .into_iter()
        .filter(|path| path.join("pack.toml").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(out, "    ({id:?}, &[");
        let mut files = Vec::new();
        collect_toml(&dir, &dir, &mut files);
        files.sort();
        for (relative, absolute) in files {
            let _ = writeln!(
                out,
                "        ({relative:?}, include_str!({:?})),",
                absolute.display().to_string()
            );
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");

    out.push_str("/// The holiday-cn year files found under `data/holiday-cn/` at build time: (file name, JSON).\n");
    out.push_str("pub(crate) static HOLIDAYS: &[(&str, &str)] = &[\n");
    let mut years: Vec<PathBuf> = read_dir(&holidays)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    years.sort();
    for path in years {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(err) = std::fs::write(out_dir.join("embedded.rs"), out) {
        println!("cargo::error=cannot write embedded.rs: {err}");
    }
}

fn read_dir(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn collect_toml(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for path in read_dir(dir) {
        if path.is_dir() {
            collect_toml(base, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            let absolute = path.canonicalize().unwrap_or_else(|_| path.clone());
            let relative = path
                .strip_prefix(base)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push((relative, absolute));
        }
    }
}
