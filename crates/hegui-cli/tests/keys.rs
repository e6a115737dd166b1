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
