//! The provider's signing keys, shared by every part of hegui that signs something: the
//! integrity code in GB 45438 labels (`hegui-label`) and the audit ledger's checkpoints
//! (`hegui-store`). One implementation, so that one key pair and one file format serve both.
//!
//! Two algorithms are supported:
//!
//! - [`Algorithm::Sm2`] (the default): SM2 signatures over SM3 (GB/T 32918, GB/T 32905), with the
//!   distinguishing identifier `1234567812345678` from GM/T 0009. This is what regulators and
//!   auditors in mainland China expect (国密).
//! - [`Algorithm::Ed25519`]: for deployments that must interoperate with non-SM tooling.
//!
//! # Formats
//!
//! A key file is a small TOML document (`algorithm`, `key-id`, `public`, and for a secret key
//! `secret`), hex-encoded. The key id is the first 8 bytes of SM3 over the public key bytes, as 16
//! hex digits: it names the key in signatures without revealing anything.
//!
//! A [`Signature`] travels as the compact text `ALG:KEYID:HEX` (for example
//! `sm2:1f2e…:a0b1…`), so that a verifier can pick the right key from a [`KeyRing`].
//! SM2 signatures are the 64-byte `r‖s` form; Ed25519 signatures are the standard 64 bytes.
//!
//! Key files are written to a temporary file and renamed into place; an existing file is never
//! overwritten. On Unix the secret key is created with mode `0600`, the public key with the mode
//! the umask gives any new file (it is meant to be handed out).
//!
//! ```
//! use hegui_keys::{Algorithm, SigningKey};
//! let key = SigningKey::generate(Algorithm::Sm2);
//! let signature = key.sign(b"record");
//! let text = signature.to_string();
//! let parsed: hegui_keys::Signature = text.parse().unwrap();
//! assert!(key.verifying_key().verify(b"record", &parsed).is_ok());
//! assert!(key.verifying_key().verify(b"tampered", &parsed).is_err());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ed25519_dalek::Signer as _;
use ed25519_dalek::Verifier as _;
use serde::{Deserialize, Serialize};
use sm3::Digest as _;

/// The SM2 distinguishing identifier (GM/T 0009-2012 default user ID).
pub const SM2_DISTID: &str = "1234567812345678";

/// SM3 digest of `bytes` (GB/T 32905-2016).
pub fn sm3(bytes: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(bytes).into()
}

/// Errors from loading, parsing and verifying keys and signatures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("cannot {action} key file `{path}`: {source}")]
    Io {
        /// What was being done: `read`, `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file already exists; keys are never overwritten.
    #[error("key file `{0}` already exists; remove it first or choose another name")]
    Exists(PathBuf),
    /// A key file is not valid.
    #[error("invalid key file `{path}`: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A key or signature value could not be decoded.
    #[error("invalid {what}: {reason}")]
    Decode {
        /// `signature`, `public key`, `secret key`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The signature was made with another key than the one given.
    #[error("signature is by key `{found}`, not by key `{expected}`")]
    WrongKey {
        /// The key id of the verifying key.
        expected: String,
        /// The key id named in the signature.
        found: String,
    },
    /// No key in the key ring has this id.
    #[error("no known public key has id `{0}`")]
    UnknownKey(String),
    /// The signature does not match the message.
    #[error("signature does not match")]
    BadSignature,
}

/// A signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// SM2 with SM3 (国密), the default.
    #[default]
    Sm2,
    /// Ed25519 (RFC 8032).
    Ed25519,
}

impl Algorithm {
    /// The lowercase name used in files and signatures.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sm2 => "sm2",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s {
            "sm2" => Ok(Algorithm::Sm2),
            "ed25519" => Ok(Algorithm::Ed25519),
            other => Err(KeyError::Decode {
                what: "algorithm",
                reason: format!("`{other}` is not one of `sm2`, `ed25519`"),
            }),
        }
    }
}

/// A secret signing key.
#[derive(Clone)]
pub struct SigningKey {
    inner: SigningInner,
    verifying: VerifyingKey,
}

#[derive(Clone)]
enum SigningInner {
    Sm2(Box<sm2::dsa::SigningKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material.
        f.debug_struct("SigningKey")
            .field("algorithm", &self.verifying.algorithm)
            .field("key_id", &self.verifying.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key from the operating system's random source.
    pub fn generate(algorithm: Algorithm) -> SigningKey {
        let mut rng = rand_core::OsRng;
        match algorithm {
            Algorithm::Sm2 => loop {
                let secret = sm2::SecretKey::random(&mut rng);
                // INVARIANT: `SecretKey::random` yields a non-zero scalar; `new` fails only for
                // an invalid distid, and ours is a constant of valid length. Retry regardless.
                if let Ok(key) = sm2::dsa::SigningKey::new(SM2_DISTID, &secret) {
                    return Self::from_sm2(key);
                }
            },
            Algorithm::Ed25519 => Self::from_ed25519(ed25519_dalek::SigningKey::generate(&mut rng)),
        }
    }

    fn from_sm2(key: sm2::dsa::SigningKey) -> SigningKey {
        let public = key.verifying_key().to_sec1_bytes().to_vec();
        let verifying = VerifyingKey::from_parts(
            VerifyingInner::Sm2(Box::new(key.verifying_key().clone())),
            &public,
        );
        SigningKey {
            inner: SigningInner::Sm2(Box::new(key)),
            verifying,
        }
    }

    fn from_ed25519(key: ed25519_dalek::SigningKey) -> SigningKey {
        let public = key.verifying_key().to_bytes();
        let verifying =
            VerifyingKey::from_parts(VerifyingInner::Ed25519(key.verifying_key()), &public);
        SigningKey {
            inner: SigningInner::Ed25519(Box::new(key)),
            verifying,
        }
    }

    /// Rebuilds a key from its algorithm and secret bytes.
    pub fn from_secret_bytes(algorithm: Algorithm, secret: &[u8]) -> Result<SigningKey, KeyError> {
        let bad = |reason: String| KeyError::Decode {
            what: "secret key",
            reason,
        };
        match algorithm {
            Algorithm::Sm2 => sm2::dsa::SigningKey::from_slice(SM2_DISTID, secret)
                .map(Self::from_sm2)
                .map_err(|e| bad(e.to_string())),
            Algorithm::Ed25519 => {
                let bytes: [u8; 32] = secret
                    .try_into()
                    .map_err(|_| bad(format!("expected 32 bytes, found {}", secret.len())))?;
                Ok(Self::from_ed25519(ed25519_dalek::SigningKey::from_bytes(
                    &bytes,
                )))
            }
        }
    }

    /// The secret bytes (handle with care).
    pub fn secret_bytes(&self) -> Vec<u8> {
        match &self.inner {
            SigningInner::Sm2(key) => key.to_bytes().to_vec(),
            SigningInner::Ed25519(key) => key.to_bytes().to_vec(),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.verifying.algorithm
    }

    /// The key id (16 hex digits).
    pub fn key_id(&self) -> &str {
        &self.verifying.key_id
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// Signs `message` (SM2 hashes it with SM3 and the distid internally).
    pub fn sign(&self, message: &[u8]) -> Signature {
        let bytes = match &self.inner {
            SigningInner::Sm2(key) => {
                let signature: sm2::dsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
            SigningInner::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        };
        Signature {
            algorithm: self.verifying.algorithm,
            key_id: self.verifying.key_id.clone(),
            bytes,
        }
    }

    /// Reads a secret key file written by [`SigningKey::save`].
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let file = KeyFile::read(path)?;
        let secret = file.secret.as_deref().ok_or_else(|| KeyError::Format {
            path: path.to_path_buf(),
            reason: "no `secret` field: this is a public key file".into(),
        })?;
        let secret = hex::decode(secret).map_err(|e| KeyError::Format {
            path: path.to_path_buf(),
            reason: format!("`secret` is not hex: {e}"),
        })?;
        let key = SigningKey::from_secret_bytes(file.algorithm, &secret).map_err(|e| {
            KeyError::Format {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        if key.key_id() != file.key_id {
            return Err(KeyError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "`key-id` is `{}` but the secret key's id is `{}`",
                    file.key_id,
                    key.key_id()
                ),
            });
        }
        Ok(key)
    }

    /// Writes `<stem>.key` (secret, mode 0600) and `<stem>.pub` (public) next to each other.
    /// Neither file may exist yet. Returns the two paths.
    pub fn save(&self, stem: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
        let secret_path = stem.with_extension("key");
        let public_path = stem.with_extension("pub");
        for path in [&secret_path, &public_path] {
            if path.exists() {
                return Err(KeyError::Exists(path.clone()));
            }
        }
        let mut secret_file = KeyFile::public_of(&self.verifying);
        secret_file.secret = Some(hex::encode(self.secret_bytes()));
        write_new(&secret_path, &secret_file.render(true), true)?;
        write_new(
            &public_path,
            &KeyFile::public_of(&self.verifying).render(false),
            false,
        )?;
        Ok((secret_path, public_path))
    }
}

/// A public verifying key.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    algorithm: Algorithm,
    key_id: String,
    public: Vec<u8>,
    inner: VerifyingInner,
}

#[derive(Clone, Debug)]
enum VerifyingInner {
    Sm2(Box<sm2::dsa::VerifyingKey>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl VerifyingKey {
    fn from_parts(inner: VerifyingInner, public: &[u8]) -> VerifyingKey {
        let algorithm = match inner {
            VerifyingInner::Sm2(_) => Algorithm::Sm2,
            VerifyingInner::Ed25519(_) => Algorithm::Ed25519,
        };
        VerifyingKey {
            algorithm,
            key_id: key_id_of(public),
            public: public.to_vec(),
            inner,
        }
    }

    /// Rebuilds a public key from its algorithm and bytes (SEC1 for SM2, 32 bytes for Ed25519).
    pub fn from_public_bytes(
        algorithm: Algorithm,
        public: &[u8],
    ) -> Result<VerifyingKey, KeyError> {
        let bad = |reason: String| KeyError::Decode {
            what: "public key",
            reason,
        };
        let inner = match algorithm {
            Algorithm::Sm2 => VerifyingInner::Sm2(Box::new(
                sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public)
                    .map_err(|e| bad(e.to_string()))?,
            )),
            Algorithm::Ed25519 => {
                let bytes: [u8; 32] = public
                    .try_into()
                    .map_err(|_| bad(format!("expected 32 bytes, found {}", public.len())))?;
                VerifyingInner::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                        .map_err(|e| bad(e.to_string()))?,
                )
            }
        };
        Ok(VerifyingKey::from_parts(inner, public))
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id (16 hex digits).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key bytes.
    pub fn public_bytes(&self) -> &[u8] {
        &self.public
    }

    /// Checks `signature` over `message`; the signature must name this key.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        if signature.key_id != self.key_id || signature.algorithm != self.algorithm {
            return Err(KeyError::WrongKey {
                expected: self.key_id.clone(),
                found: signature.key_id.clone(),
            });
        }
        let ok = match &self.inner {
            VerifyingInner::Sm2(key) => sm2::dsa::Signature::from_slice(&signature.bytes)
                .ok()
                .is_some_and(|sig| {
                    sm2::dsa::signature::Verifier::verify(key.as_ref(), message, &sig).is_ok()
                }),
            VerifyingInner::Ed25519(key) => ed25519_dalek::Signature::from_slice(&signature.bytes)
                .ok()
                .is_some_and(|sig| key.verify(message, &sig).is_ok()),
        };
        if ok {
            Ok(())
        } else {
            Err(KeyError::BadSignature)
        }
    }

    /// Reads a public key file (or the public half of a secret key file).
    pub fn load(path: &Path) -> Result<VerifyingKey, KeyError> {
        let file = KeyFile::read(path)?;
        let public = hex::decode(&file.public).map_err(|e| KeyError::Format {
            path: path.to_path_buf(),
            reason: format!("`public` is not hex: {e}"),
        })?;
        let key = VerifyingKey::from_public_bytes(file.algorithm, &public).map_err(|e| {
            KeyError::Format {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        if key.key_id != file.key_id {
            return Err(KeyError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "`key-id` is `{}` but the public key's id is `{}`",
                    file.key_id, key.key_id
                ),
            });
        }
        Ok(key)
    }

    /// The public key file's text.
    pub fn to_file_text(&self) -> String {
        KeyFile::public_of(self).render(false)
    }
}

/// A set of trusted public keys, looked up by key id.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, VerifyingKey>,
}

impl KeyRing {
    /// An empty ring.
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Adds a key (replacing one with the same id).
    pub fn insert(&mut self, key: VerifyingKey) {
        self.keys.insert(key.key_id.clone(), key);
    }

    /// The key with this id.
    pub fn get(&self, key_id: &str) -> Option<&VerifyingKey> {
        self.keys.get(key_id)
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The ids of the keys in the ring, in order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Verifies with the key the signature names.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        self.get(&signature.key_id)
            .ok_or_else(|| KeyError::UnknownKey(signature.key_id.clone()))?
            .verify(message, signature)
    }
}

/// A signature with the algorithm and key id that made it; text form `ALG:KEYID:HEX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The id of the signing key.
    pub key_id: String,
    /// The raw signature bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.algorithm,
            self.key_id,
            hex::encode(&self.bytes)
        )
    }
}

impl FromStr for Signature {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bad = |reason: String| KeyError::Decode {
            what: "signature",
            reason,
        };
        let mut parts = s.splitn(3, ':');
        let (Some(algorithm), Some(key_id), Some(bytes)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(format!("`{s}` is not of the form `ALG:KEYID:HEX`")));
        };
        let algorithm = algorithm.parse()?;
        if key_id.len() != 16 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("key id `{key_id}` is not 16 hex digits")));
        }
        let bytes = hex::decode(bytes).map_err(|e| bad(format!("not hex: {e}")))?;
        if bytes.len() != 64 {
            return Err(bad(format!("expected 64 bytes, found {}", bytes.len())));
        }
        Ok(Signature {
            algorithm,
            key_id: key_id.to_ascii_lowercase(),
            bytes,
        })
    }
}

fn key_id_of(public: &[u8]) -> String {
    let digest = sm3(public);
    hex::encode(digest.get(..8).unwrap_or(&digest))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct KeyFile {
    algorithm: Algorithm,
    key_id: String,
    public: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl KeyFile {
    fn public_of(key: &VerifyingKey) -> KeyFile {
        KeyFile {
            algorithm: key.algorithm,
            key_id: key.key_id.clone(),
            public: hex::encode(&key.public),
            secret: None,
        }
    }

    fn read(path: &Path) -> Result<KeyFile, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| KeyError::Format {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    fn render(&self, secret: bool) -> String {
        let header = if secret {
            "# hegui provider signing key: SECRET. Keep it private; anyone holding it can sign.\n"
        } else {
            "# hegui provider public key: give it to anyone who verifies labels or audit exports.\n"
        };
        // INVARIANT: serializing this plain struct of strings cannot fail.
        let body = toml::to_string(self).unwrap_or_default();
        format!("{header}{body}")
    }
}

fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode is given to open(2), which applies the umask: the secret key is created 0600
        // (never readable by others, not even for a moment), the public key like any new file,
        // since it is meant to be handed out.
        let mode = if secret { 0o600 } else { 0o666 };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut temp = builder.tempfile_in(dir).map_err(io)?;
    temp.write_all(text.as_bytes()).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.to_path_buf())
        } else {
            io(e.error)
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sign_and_verify_both_algorithms() {
        for algorithm in [Algorithm::Sm2, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm);
            let signature = key.sign(b"hello");
            assert_eq!(signature.algorithm, algorithm);
            assert_eq!(signature.key_id, key.key_id());
            key.verifying_key().verify(b"hello", &signature).unwrap();
            assert!(matches!(
                key.verifying_key().verify(b"hellO", &signature),
                Err(KeyError::BadSignature)
            ));
            let other = SigningKey::generate(algorithm);
            assert!(matches!(
                other.verifying_key().verify(b"hello", &signature),
                Err(KeyError::WrongKey { .. })
            ));
        }
    }

    #[test]
    fn save_and_load_round_trip_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        for algorithm in [Algorithm::Sm2, Algorithm::Ed25519] {
            let stem = dir.path().join(algorithm.as_str());
            let key = SigningKey::generate(algorithm);
            let (secret_path, public_path) = key.save(&stem).unwrap();
            let loaded = SigningKey::load(&secret_path).unwrap();
            assert_eq!(loaded.secret_bytes(), key.secret_bytes());
            let public = VerifyingKey::load(&public_path).unwrap();
            assert_eq!(public.key_id(), key.key_id());
            public.verify(b"m", &loaded.sign(b"m")).unwrap();
            assert!(matches!(key.save(&stem), Err(KeyError::Exists(_))));
            assert!(matches!(
                SigningKey::load(&public_path),
                Err(KeyError::Format { .. })
            ));
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&secret_path)
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }

    /// The secret key is 0600 whatever the umask; the public key is meant to be handed out and
    /// gets the mode any new file gets under this process's umask (the reference file is made by
    /// `std::fs::write`, which creates with 0o666 less the umask).
    #[cfg(unix)]
    #[test]
    fn public_key_gets_the_umask_mode_secret_key_0600() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("reference");
        std::fs::write(&reference, b"x").unwrap();
        let (secret, public) = SigningKey::generate(Algorithm::Sm2)
            .save(&dir.path().join("p"))
            .unwrap();
        assert_eq!(
            (mode(&secret), mode(&public)),
            (0o600, mode(&reference) & 0o666)
        );
    }

    #[test]
    fn tampered_key_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(Algorithm::Sm2);
        let (_, public_path) = key.save(&dir.path().join("k")).unwrap();
        let text = std::fs::read_to_string(&public_path).unwrap();
        std::fs::write(&public_path, text.replace(key.key_id(), "0000000000000000")).unwrap();
        let err = VerifyingKey::load(&public_path).unwrap_err().to_string();
        assert!(err.contains("key-id"), "{err}");
    }

    #[test]
    fn key_ring_picks_the_named_key() {
        let a = SigningKey::generate(Algorithm::Sm2);
        let b = SigningKey::generate(Algorithm::Ed25519);
        let mut ring = KeyRing::new();
        ring.insert(a.verifying_key().clone());
        ring.insert(b.verifying_key().clone());
        ring.verify(b"x", &a.sign(b"x")).unwrap();
        ring.verify(b"x", &b.sign(b"x")).unwrap();
        let c = SigningKey::generate(Algorithm::Sm2);
        assert!(matches!(
            ring.verify(b"x", &c.sign(b"x")),
            Err(KeyError::UnknownKey(_))
        ));
    }

    #[test]
    fn signature_text_errors_say_what_is_wrong() {
        let cases = [
            ("", "not of the form"),
            ("rsa:0011223344556677:00", "not one of"),
            ("sm2:xyz:00", "16 hex digits"),
            ("sm2:0011223344556677:zz", "not hex"),
            ("sm2:0011223344556677:00", "expected 64 bytes"),
        ];
        for (text, expected) in cases {
            let err = text.parse::<Signature>().unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        // GB/T 32905-2016 Appendix A, example 1: "abc".
        assert_eq!(
            hex::encode(sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    proptest! {
        #[test]
        fn signature_text_round_trips(message in proptest::collection::vec(any::<u8>(), 0..64)) {
            let key = SigningKey::generate(Algorithm::Ed25519);
            let signature = key.sign(&message);
            let parsed: Signature = signature.to_string().parse().unwrap();
            prop_assert_eq!(&parsed, &signature);
            prop_assert!(key.verifying_key().verify(&message, &parsed).is_ok());
        }
    }
}
