//! `hegui audit`: verify, export, trace and prune the audit ledger kept by `hegui-store`.
//!
//! Every subcommand opens the database given by `--database` or `HEGUI_DATABASE_URL`
//! (`sqlite:PATH` or `postgres://…`), or else the `storage` of the gateway config given by
//! `--config` or `HEGUI_CONFIG`; there is no default. None of them ever creates a database: a
//! mistyped path must be an error, not a new empty ledger reported as verified. `verify`,
//! `trace` and `export` (without a key to sign with) open it read-only.
//!
//! Exit codes: 0 ok; 1 a finding (a broken chain, an empty ledger, a key that signed none of the
//! checkpoints, an unknown record id); 2 usage and input errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_keys::{KeyRing, SigningKey, VerifyingKey};
use hegui_store::ledger::export::{self, ExportFilter};
use hegui_store::ledger::{self, VerifyOptions, VerifyReport};
use hegui_store::{Access, OpenOptions, Store};

/// Where the ledger is: `--database`, else the `storage` of a gateway config.
#[derive(Debug, clap::Args)]
pub(crate) struct Database {
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB`; it must exist.
    #[arg(long = "database", env = "HEGUI_DATABASE_URL", value_name = "URL")]
    url: Option<String>,
    /// The gateway config (`hegui serve --config`) whose `storage` names the database; used
    /// when `--database` is not given.
    #[arg(long = "config", env = "HEGUI_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

impl Database {
    /// Whether `--database` or `--config` was given (or set in the environment).
    pub(crate) fn is_given(&self) -> bool {
        self.url.is_some() || self.config.is_some()
    }

    /// The database URL: `--database`, else the config's `storage`.
    pub(crate) fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        if let Some(path) = &self.config {
            let config = hegui_gateway::Config::load(path)?;
            return Ok(config.storage);
        }
        anyhow::bail!(
            "no database given: pass `--database sqlite:PATH` (or `postgres://…`), or `--config FILE` \
             with the gateway config whose `storage` names it"
        )
    }
}

/// `hegui audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Check the hash chain, sequence numbers and checkpoints; report the first broken link.
    Verify {
        #[command(flatten)]
        database: Database,
        /// Start at this sequence number (trusting the record before it).
        #[arg(long = "from")]
        from: Option<i64>,
        /// Public key file(s) to check checkpoint signatures with (a secret key file works too);
        /// each must have signed at least one checkpoint.
        #[arg(long = "public-key", aliases = ["pub", "pubkey"], value_name = "FILE")]
        public: Vec<PathBuf>,
        /// Verify an export file (and its `.manifest.json`) instead of the database; needs `--pub`.
        #[arg(long = "export")]
        export: Option<PathBuf>,
    },
    /// Write records to a JSONL file with a signed manifest, for a regulator.
    Export {
        #[command(flatten)]
        database: Database,
        /// Records at or after this time (`YYYY-MM-DD` or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Records before this time.
        #[arg(long)]
        until: Option<String>,
        /// Only this end user's records.
        #[arg(long)]
        user: Option<String>,
        /// Output file; the manifest is written to `FILE.manifest.json`.
        #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
        out: PathBuf,
        /// Secret key to sign a checkpoint when none covers the exported records.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Show the record behind a record id (`ProduceID`) or a labeled file; for a streamed
    /// answer, also the record that completes it, or that there is none (interrupted).
    Trace {
        #[command(flatten)]
        database: Database,
        /// A record id, or a file whose AIGC label carries a `ProduceID`.
        target: String,
    },
    /// Delete records older than the retention period, leaving a signed checkpoint.
    Prune {
        #[command(flatten)]
        database: Database,
        /// Delete records before this time (`YYYY-MM-DD` or RFC 3339).
        #[arg(long)]
        before: String,
        /// Secret key to sign the boundary checkpoint.
        #[arg(long)]
        key: PathBuf,
        /// Retention period in days; a cut-off younger than this is refused.
        #[arg(long, default_value_t = 180)]
        retention_days: u32,
    },
    /// Sign a checkpoint at the current head.
    Checkpoint {
        #[command(flatten)]
        database: Database,
        /// Secret key to sign with.
        #[arg(long)]
        key: PathBuf,
    },
}

/// Runs `hegui audit`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    hegui_store::block_on(run_async(command))
}

/// Opens an existing ledger; never creates one. Its retention is the store's default (only
/// `prune` acts on it: [`open_retaining`]).
pub(crate) async fn open(database: &Database, access: Access) -> anyhow::Result<Store> {
    open_retaining(database, access, OpenOptions::default().retention_days).await
}

/// [`open`], with the retention period that `prune` enforces.
async fn open_retaining(
    database: &Database,
    access: Access,
    retention_days: u32,
) -> anyhow::Result<Store> {
    let url = database.url()?;
    Store::open_with(
        &url,
        OpenOptions {
            retention_days,
            access,
            ..OpenOptions::default()
        },
    )
    .await
    .context("cannot open the audit database")
}

fn load_key(path: &Path) -> anyhow::Result<SigningKey> {
    SigningKey::load(path).with_context(|| format!("cannot load signing key `{}`", path.display()))
}

fn key_ring(paths: &[PathBuf]) -> anyhow::Result<Option<KeyRing>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut ring = KeyRing::new();
    for path in paths {
        ring.insert(
            VerifyingKey::load(path)
                .with_context(|| format!("cannot load public key `{}`", path.display()))?,
        );
    }
    Ok(Some(ring))
}

fn time(text: Option<&str>, flag: &str) -> anyhow::Result<Option<i64>> {
    text.map(|t| ledger::parse_time(t).with_context(|| format!("`--{flag}`")))
        .transpose()
}

async fn run_async(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Verify {
            database,
            from,
            public,
            export: Some(file),
        } => {
            // The export is self-contained: the database and `--from` are not used.
            let _ = (database, from);
            let Some(ring) = key_ring(&public)? else {
                anyhow::bail!("`--export` needs the public key: pass `--public-key FILE`");
            };
            let report = export::verify_export(&file, &ring)
                .with_context(|| format!("cannot verify export `{}`", file.display()))?;
            match report.broken {
                None => {
                    println!(
                        "ok: export `{}`: seq {}..={} ({} lines, {} records), checkpoints signed by `{}`",
                        file.display(),
                        report.manifest.start.seq + 1,
                        report.manifest.end.seq,
                        report.lines,
                        report.records,
                        signer(&report.manifest.end.signature),
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(broken) => {
                    println!("broken: export `{}`: {broken}", file.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Verify {
            database,
            from,
            public,
            export: None,
        } => {
            let keys = key_ring(&public)?;
            let store = open(&database, Access::ReadOnly).await?;
            let report = store
                .verify(&VerifyOptions { from, keys })
                .await
                .context("cannot read the ledger")?;
            store.close().await;
            Ok(print_verify(&report))
        }
        Command::Export {
            database,
            since,
            until,
            user,
            out,
            key,
        } => {
            let filter = ExportFilter {
                since_ms: time(since.as_deref(), "since")?,
                until_ms: time(until.as_deref(), "until")?,
                user,
                tenant: None,
            };
            let key = key.as_deref().map(load_key).transpose()?;
            // Only a key to sign a missing checkpoint with makes the export write.
            let access = if key.is_some() {
                Access::Existing
            } else {
                Access::ReadOnly
            };
            let store = open(&database, access).await?;
            let manifest = store
                .export(&filter, key.as_ref(), &out)
                .await
                .with_context(|| format!("cannot export to `{}`", out.display()))?;
            store.close().await;
            println!(
                "exported {} records (chain seq {}..={}) to `{}`",
                manifest.records,
                manifest.start.seq + 1,
                manifest.end.seq,
                out.display()
            );
            println!("manifest: `{}`", export::manifest_path(&out).display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Trace { database, target } => {
            let path = Path::new(&target);
            let id = if path.is_file() {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
                match ledger::find_produce_id(&bytes) {
                    Some(id) => {
                        eprintln!("ProduceID in `{}`: {id}", path.display());
                        id
                    }
                    None => anyhow::bail!(
                        "`{}` carries no readable AIGC label with a `ProduceID`",
                        path.display()
                    ),
                }
            } else {
                target.clone()
            };
            let store = open(&database, Access::ReadOnly).await?;
            let exchange = store
                .exchange(&id)
                .await
                .context("cannot read the ledger")?;
            store.close().await;
            match exchange {
                Some(exchange) => {
                    println!("{}", serde_json::to_string_pretty(&exchange.record)?);
                    if let Some(completion) = &exchange.completion {
                        eprintln!(
                            "a streamed answer; completed by record `{}`:",
                            completion.id
                        );
                        println!("{}", serde_json::to_string_pretty(completion)?);
                    } else if exchange.state() == ledger::StreamState::Interrupted {
                        eprintln!(
                            "a streamed answer that was interrupted: no record completes it \
                             (the gateway stopped mid-stream, or it is still streaming)"
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    println!("no audit record has id `{id}`");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Prune {
            database,
            before,
            key,
            retention_days,
        } => {
            let before_ms = ledger::parse_time(&before).context("`--before`")?;
            let key = load_key(&key)?;
            let store = open_retaining(&database, Access::Existing, retention_days).await?;
            let report = store.prune(before_ms, &key).await.context("cannot prune")?;
            // Deletion requests that waited for these records' retention period end now.
            let deletions = store
                .finish_due_deletions()
                .await
                .context("cannot complete the deletion requests due after the prune");
            store.close().await;
            if report.removed == 0 {
                println!("nothing to prune before {before}");
            } else {
                println!(
                    "pruned {} records up to seq {}; signed checkpoint left at the boundary",
                    report.removed, report.boundary_seq
                );
            }
            for request in deletions? {
                println!(
                    "personal-information request {} done: deleted end user `{}` of tenant `{}`",
                    request.id, request.end_user, request.tenant_id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Checkpoint { database, key } => {
            let key = load_key(&key)?;
            let store = open(&database, Access::Existing).await?;
            let checkpoint = store
                .checkpoint(&key, "manual")
                .await
                .context("cannot sign a checkpoint")?;
            store.close().await;
            match checkpoint {
                Some(cp) => println!(
                    "checkpoint at seq {}: {}",
                    cp.seq,
                    cp.hash
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                ),
                None => println!("the ledger is empty: nothing to sign"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The key id in a signature text `ALG:KEYID:HEX`.
fn signer(signature: &str) -> &str {
    signature.split(':').nth(1).unwrap_or("?")
}

/// Prints a verification report; returns the exit code. Success needs records that verify,
/// and every given key to have verified at least one checkpoint signature.
fn print_verify(report: &VerifyReport) -> ExitCode {
    if let Some(broken) = &report.broken {
        println!("broken: {broken}");
        if broken.seq > report.first_seq {
            println!(
                "records seq {}..={} verified before the break",
                report.first_seq,
                broken.seq - 1
            );
        }
        return ExitCode::from(1);
    }
    if report.records == 0 {
        let from = if report.first_seq > 1 {
            format!(" from seq {} on", report.first_seq)
        } else {
            String::new()
        };
        println!("empty: the ledger has no records{from}; nothing was verified");
        return ExitCode::from(1);
    }
    println!(
        "ok: seq {}..={} ({} records, chain values of {} checkpoints)",
        report.first_seq, report.last_seq, report.records, report.checkpoints
    );
    let Some(signatures) = &report.signatures else {
        println!("signatures: not checked (pass --public-key FILE)");
        return ExitCode::SUCCESS;
    };
    let by: Vec<String> = signatures
        .verified_by
        .iter()
        .map(|(id, n)| format!("{n} by key `{id}`"))
        .collect();
    if by.is_empty() {
        println!("signatures: none checked");
    } else {
        println!(
            "signatures: {} of {} checkpoints verified ({})",
            signatures.verified(),
            report.checkpoints,
            by.join(", ")
        );
    }
    let unused: Vec<&str> = signatures.unused_keys().collect();
    if unused.is_empty() {
        return ExitCode::SUCCESS;
    }
    for id in &unused {
        println!(
            "unmatched key: `{id}` signed none of the {} checkpoints checked",
            report.checkpoints
        );
    }
    ExitCode::from(1)
}
