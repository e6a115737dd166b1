//! `hegui admin token create|list|revoke`: the tokens of the gateway's admin API
//! (`/admin/v1`, see the README's "Governance"); and `hegui console add-user`: the people of
//! the operator console (`/console`), with a password read from standard input.
//!
//! A token belongs to one tenant and has one role: `operator` (reads and acts) or `auditor`
//! (reads). Its holder's name is the actor in every record of what they do, so give each
//! person their own. The token is printed once, on stdout, and stored only as a digest.
//! The database is found as for `hegui audit` (`--database` or `--config`) and must exist.

use std::process::ExitCode;

use anyhow::Context as _;
use hegui_store::admins::Role;
use hegui_store::{Access, OpenOptions, Store};

use super::audit::Database;

/// `hegui admin` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Admin tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `hegui admin token` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it (once).
    Create {
        #[command(flatten)]
        database: Database,
        /// The tenant it acts for (must exist).
        #[arg(long)]
        tenant: String,
        /// The holder's name, shown as the actor in records.
        #[arg(long)]
        name: String,
        /// `operator` (reads and acts) or `auditor` (reads).
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List a tenant's tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        database: Database,
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by its id (the 16 hex digits after `hga_`).
    Revoke {
        #[command(flatten)]
        database: Database,
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The token id.
        id: String,
    },
}

/// `hegui console` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConsoleCommand {
    /// Add a console user, or set a new password, tenant and role for one (and unlock it). The
    /// password is read from the first line of standard input (at least 10 characters).
    AddUser {
        #[command(flatten)]
        database: Database,
        /// The login name (letters, digits, `.`, `-`, `_`, `@`); the actor in records.
        name: String,
        /// The tenant they act for (must exist).
        #[arg(long)]
        tenant: String,
        /// `operator` (reads and acts) or `auditor` (reads).
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

/// Runs `hegui console`.
pub(crate) fn run_console(command: ConsoleCommand) -> anyhow::Result<ExitCode> {
    let ConsoleCommand::AddUser {
        database,
        name,
        tenant,
        role,
    } = command;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    hegui_store::block_on(async {
        let store = open(&database).await?;
        if store.tenant(&tenant).await?.is_none() {
            anyhow::bail!(
                "tenant `{tenant}` does not exist: add it to `tenants` in the config and start the gateway once"
            );
        }
        let user = store
            .set_console_user(&tenant, &name, role, password)
            .await?;
        store.close().await;
        eprintln!(
            "console user `{}` ({}) of tenant `{}` can log in at /console/login",
            user.name, user.role, user.tenant_id
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|e: hegui_store::StoreError| e.to_string())
}

/// Runs `hegui admin`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Token(command) = command;
    hegui_store::block_on(token(command))
}

async fn open(database: &Database) -> anyhow::Result<Store> {
    Store::open_with(
        &database.url()?,
        OpenOptions {
            access: Access::Existing,
            ..OpenOptions::default()
        },
    )
    .await
    .context("cannot open the database")
}

async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            database,
            tenant,
            name,
            role,
        } => {
            let store = open(&database).await?;
            if store.tenant(&tenant).await?.is_none() {
                anyhow::bail!(
                    "tenant `{tenant}` does not exist: add it to `tenants` in the config and start the gateway once"
                );
            }
            let (info, text) = store.create_admin_token(&tenant, &name, role).await?;
            store.close().await;
            eprintln!(
                "admin token {} for `{}` ({}) of tenant `{tenant}`; shown once:",
                info.token_id, info.name, info.role
            );
            println!("{text}");
        }
        TokenCommand::List { database, tenant } => {
            let store = open(&database).await?;
            let tokens = store.admin_tokens(&tenant).await?;
            store.close().await;
            for t in tokens {
                let state = if t.revoked_ms.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}\t{state}", t.token_id, t.name, t.role);
            }
        }
        TokenCommand::Revoke {
            database,
            tenant,
            id,
        } => {
            let store = open(&database).await?;
            store.revoke_admin_token(&tenant, &id).await?;
            store.close().await;
            eprintln!("admin token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
