//! Writing a file through a temporary file in the same directory, synced and renamed into place:
//! a reader, or a crash, sees the old file or the new one, never half of one. Every file the
//! `hegui` CLI writes goes through here (labeled media, reports, compiled lexicons, scan output).
//!
//! **Modes.** A temporary file is created 0600, and the rename would carry that over: a labeled
//! picture or a report would become unreadable to everyone else. So a new file is created with
//! 0o666 and `open(2)` applies the umask, as for any file a program creates (`>` in a shell,
//! `std::fs::write`); a file that is replaced (`label add --in-place`, `-o` onto an existing
//! file) keeps its mode, and its owner and group where the process may set them: rewriting a
//! file must not change who can read it.
//!
//! Not for files that must never replace an existing one: `hegui-keys` writes key pairs itself,
//! with a rename that refuses to overwrite, and its secret keys 0600.

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory, synced and renamed
/// into place: a crash leaves either the old file or the new one, never half of one. A new file
/// gets the umask's mode, a replaced one keeps its mode (and owner, where allowed).
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    write_file_atomically_with(path, |file| file.write_all(bytes))
}

/// [`write_file_atomically`] with the content written by `write` into the temporary file
/// (which `write` may seek in); an error from `write` removes the temporary file.
pub fn write_file_atomically_with<E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let replaced = std::fs::metadata(path).ok().filter(Metadata::is_file);
    let mut tmp = temporary_file_in(dir)?;
    if let Some(original) = &replaced {
        keep_owner_and_mode(tmp.as_file(), original)?;
    }
    write(tmp.as_file_mut())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file in `dir` created with mode 0o666 less the umask, the mode of any new file.
fn temporary_file_in(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // tempfile passes this mode to open(2), which applies the umask (checked by the tests
        // below and, under umasks 022 and 077, by the CLI's).
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Gives the temporary file the owner, group and mode of the file it is about to replace.
#[cfg(unix)]
fn keep_owner_and_mode(file: &File, original: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, fchown};
    // Another owner needs privileges, another group membership of it: keep what the process may
    // set and leave the rest as created. The owner goes first because chown clears set-id bits;
    // those are restored only on a file that kept its owner.
    let owner_kept = fchown(file, Some(original.uid()), Some(original.gid())).is_ok();
    if !owner_kept {
        let _ = fchown(file, None, Some(original.gid()));
    }
    let bits = if owner_kept { 0o7777 } else { 0o0777 };
    file.set_permissions(std::fs::Permissions::from_mode(original.mode() & bits))
}

/// Gives the temporary file the permissions (the read-only flag) of the file it replaces.
#[cfg(not(unix))]
fn keep_owner_and_mode(file: &File, original: &Metadata) -> io::Result<()> {
    file.set_permissions(original.permissions())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::path::Path;

    use super::write_file_atomically;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// A new file gets the mode any new file gets under this process's umask (the reference
    /// file is made by `std::fs::write`, which creates with 0o666 less the umask); a replaced file
    /// keeps its own mode, whatever the umask.
    #[test]
    fn new_files_get_the_umask_mode_and_replaced_files_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("reference");
        std::fs::write(&reference, b"x").unwrap();
        let umask_mode = mode(&reference);
        let cases: &[(&str, Option<u32>, u32)] = &[
            ("new", None, umask_mode),
            ("world-readable", Some(0o644), 0o644),
            ("group-readable", Some(0o640), 0o640),
            ("private", Some(0o600), 0o600),
            ("executable", Some(0o755), 0o755),
            ("read-only", Some(0o444), 0o444),
        ];
        for (name, before, expected) in cases {
            let path = dir.path().join(name);
            if let Some(before) = before {
                std::fs::write(&path, b"old").unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*before)).unwrap();
            }
            write_file_atomically(&path, b"new").unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"new", "{name}");
            assert_eq!(mode(&path), *expected, "{name}: mode {:o}", mode(&path));
        }
    }

    /// Run as root (as in CI containers), a replaced file also keeps its owner and group.
    #[test]
    fn replaced_files_keep_their_owner_when_the_process_may_set_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("owned");
        std::fs::write(&path, b"old").unwrap();
        if std::fs::metadata(&path).unwrap().uid() != 0 {
            eprintln!("SKIPPED: not root, cannot give a file another owner");
            return;
        }
        std::os::unix::fs::chown(&path, Some(4321), Some(4322)).unwrap();
        write_file_atomically(&path, b"new").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
    }
}
