//! `hegui keys generate`.

use crate::util::hegui;

#[test]
fn generate_writes_both_files_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("provider");
    for algorithm in ["sm2", "ed25519"] {
        let stem = stem.with_file_name(algorithm);
        let output = hegui()
            .args(["keys", "generate", "--algorithm", algorithm, "-o"])
            .arg(&stem)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert!(stem.with_extension("key").exists());
        assert!(stem.with_extension("pub").exists());
        let again = hegui()
            .args(["keys", "generate", "-o"])
            .arg(&stem)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    }
}

#[test]
fn unknown_algorithm_is_a_usage_error() {
    let output = hegui()
        .args(["keys", "generate", "--algorithm", "rsa"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rsa"));
}

/// Issue "Every answer can be trusted", item 6: the secret key is 0600 whatever the umask, the
/// public key gets the mode the umask gives any new file (it was 0600 too).
#[cfg(unix)]
#[test]
fn secret_key_is_0600_and_public_key_follows_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    for (umask, public_mode) in [("022", 0o644), ("002", 0o664), ("077", 0o600)] {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("provider");
        let output = crate::util::hegui_with_umask(umask)
            .args(["keys", "generate", "-o"])
            .arg(&stem)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(
            (
                mode(&stem.with_extension("key")),
                mode(&stem.with_extension("pub"))
            ),
            (0o600, public_mode),
            "umask {umask}"
        );
    }
}
