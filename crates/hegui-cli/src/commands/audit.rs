//! `hegui audit`: verify, export, trace and prune the audit ledger kept by `hegui-store`.
//!
//! Every subcommand opens the database given by `--database` or `HEGUI_DATABASE_URL`
//! (`sqlite:PATH` or `postgres://…`; default `sqlite:hegui.db`). A failed verification exits 1
//! and names the first broken sequence number; usage and input errors exit 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_keys::{KeyRing, SigningKey, VerifyingKey};
use hegui_store::ledger::export::{self, ExportFilter};
use hegui_store::ledger::{self, VerifyOptions};
use hegui_store::{OpenOptions, Store};

/// Where the ledger is.
#[derive(Debug, clap::Args)]
pub(crate) struct Database {
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB`.
    #[arg(
        long = "database",
        env = "HEGUI_DATABASE_URL",
        default_value = "sqlite:hegui.db"
    )]
    url: String,
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
        /// Public key file(s) to check checkpoint signatures with (a secret key file works too).
        #[arg(long = "pub")]
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
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// Secret key to sign a checkpoint when none covers the exported records.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Show the record behind a record id (`ProduceID`) or a labeled file.
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

async fn open(database: &Database, retention_days: u32) -> anyhow::Result<Store> {
    Store::open_with(
        &database.url,
        OpenOptions {
            retention_days,
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
                anyhow::bail!("`--export` needs the public key: pass `--pub FILE`");
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
            let store = open(&database, 180).await?;
            let report = store
                .verify(&VerifyOptions { from, keys })
                .await
                .context("cannot read the ledger")?;
            store.close().await;
            let signatures = if report.signatures_checked {
                "signatures checked"
            } else {
                "signatures NOT checked (pass --pub)"
            };
            match &report.broken {
                None => {
                    println!(
                        "ok: seq {}..={} ({} records, {} checkpoints, {signatures})",
                        report.first_seq, report.last_seq, report.records, report.checkpoints
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(broken) => {
                    println!("broken: {broken}");
                    if broken.seq > report.first_seq {
                        println!(
                            "records seq {}..={} verified before the break",
                            report.first_seq,
                            broken.seq - 1
                        );
                    }
                    Ok(ExitCode::from(1))
                }
            }
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
            };
            let key = key.as_deref().map(load_key).transpose()?;
            let store = open(&database, 180).await?;
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
            let store = open(&database, 180).await?;
            let record = store
                .record_by_id(&id)
                .await
                .context("cannot read the ledger")?;
            store.close().await;
            match record {
                Some(record) => {
                    println!("{}", serde_json::to_string_pretty(&record)?);
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
            let store = open(&database, retention_days).await?;
            let report = store.prune(before_ms, &key).await.context("cannot prune")?;
            store.close().await;
            if report.removed == 0 {
                println!("nothing to prune before {before}");
            } else {
                println!(
                    "pruned {} records up to seq {}; signed checkpoint left at the boundary",
                    report.removed, report.boundary_seq
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Checkpoint { database, key } => {
            let key = load_key(&key)?;
            let store = open(&database, 180).await?;
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
