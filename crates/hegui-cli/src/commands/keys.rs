//! `hegui keys generate`: creates the provider's signing key pair, used for the integrity code in
//! labels and for the audit ledger's checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_keys::{Algorithm, SigningKey};

/// `hegui keys` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Create a new key pair: `STEM.key` (secret, mode 0600) and `STEM.pub` (public).
    Generate {
        /// Signature algorithm: `sm2` (SM2 with SM3, 国密) or `ed25519`.
        #[arg(long, default_value = "sm2", value_parser = parse_algorithm)]
        algorithm: Algorithm,
        /// Path of the key files without extension.
        #[arg(
            short = 'o',
            long = "output",
            value_name = "STEM",
            default_value = "hegui-provider",
            alias = "out"
        )]
        stem: PathBuf,
    },
}

fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    text.parse()
        .map_err(|e: hegui_keys::KeyError| e.to_string())
}

/// Runs `hegui keys`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Generate { algorithm, stem } => {
            let key = SigningKey::generate(algorithm);
            let (secret, public) = key.save(&stem).context("cannot save the key pair")?;
            println!("algorithm: {algorithm}");
            println!("key id:    {}", key.key_id());
            println!("secret:    {}", secret.display());
            println!("public:    {}", public.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
