//! `hegui serve [--config FILE] [--listen ADDR] [--demo]`: runs the compliance gateway.
//!
//! `--demo` needs no file: a fresh SQLite database in a new temporary directory at every start
//! (deleted at exit; `--demo-db PATH` keeps one on purpose), the sample lexicon and an
//! in-process mock upstream with scripted answers marked as demo; the demo API key is printed
//! at start. A fresh database is what makes "new at every start" true: keys, sanctions and
//! records of an earlier run do not carry over. `--new-key TENANT` creates an API key in the
//! store and exits.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_gateway::{Config, Gateway};

/// Arguments of `hegui serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The config file (`hegui.toml`, documented in `examples/hegui.toml`); default
    /// `./hegui.toml` when it exists.
    #[arg(long, env = "HEGUI_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address, overriding `listen` in the config (`127.0.0.1:0` picks a free port).
    #[arg(long)]
    listen: Option<String>,
    /// Run on embedded defaults with a mock upstream (a fresh SQLite database, the sample
    /// lexicon, a new demo key).
    #[arg(long, conflicts_with = "config")]
    demo: bool,
    /// With `--demo`: keep the database in this SQLite file across starts instead of a fresh
    /// one deleted at exit.
    #[arg(long, value_name = "PATH", requires = "demo")]
    demo_db: Option<PathBuf>,
    /// Create an API key for TENANT (which must exist), print it and exit.
    #[arg(long, value_name = "TENANT")]
    new_key: Option<String>,
}

/// Runs `hegui serve`.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<ExitCode> {
    hegui_gateway::init_logging();
    // The demo's mock and its fresh database's directory must outlive the server.
    let mut _mock = None;
    let mut demo_db = None;
    let mut config = if args.demo {
        let mock = hegui_gateway::mock::spawn(hegui_gateway::demo::mock_options())
            .await
            .context("cannot start the demo upstream")?;
        let db = DemoDatabase::new(args.demo_db.as_deref())?;
        let config = hegui_gateway::demo::config(&mock.base_url(), &db.url);
        _mock = Some(mock);
        demo_db = Some(db);
        config
    } else {
        let path = match args.config {
            Some(path) => path,
            None if std::path::Path::new("hegui.toml").exists() => PathBuf::from("hegui.toml"),
            None => anyhow::bail!(
                "no config: pass `--config FILE` (see examples/hegui.toml) or `--demo`"
            ),
        };
        Config::load(&path)?
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    config.validate()?;
    let gateway = Gateway::new(config).await?;
    if let Some(tenant) = args.new_key {
        if gateway.store().tenant(&tenant).await?.is_none() {
            anyhow::bail!("tenant `{tenant}` does not exist: add it to `tenants` in the config");
        }
        let (_, key) = gateway
            .store()
            .create_api_key(&tenant, "hegui serve --new-key")
            .await?;
        println!("{key}");
        return Ok(ExitCode::SUCCESS);
    }
    let listener = tokio::net::TcpListener::bind(&gateway.config().listen)
        .await
        .with_context(|| format!("cannot listen on `{}`", gateway.config().listen))?;
    let addr = listener.local_addr()?;
    spawn_reload_on_hangup(gateway.clone());
    let shutdown = shutdown_signal();
    if gateway.config().pass_through {
        eprintln!(
            "hegui: WARNING: `pass-through = true`: no guard, no label and no audit record; \
             for measuring only, never in service"
        );
    }
    if let Some(db) = &demo_db {
        let (_, key) = gateway
            .store()
            .create_api_key(hegui_gateway::demo::TENANT, "demo")
            .await?;
        eprintln!(
            "hegui demo: mock upstream with scripted answers (marked 【演示回答】), sample lexicon, model `{}`",
            hegui_gateway::demo::MODEL,
        );
        eprintln!("hegui demo: database {} ({})", db.url, db.lifetime);
        eprintln!(
            "hegui demo: public pages http://{addr}/public/{}",
            hegui_gateway::demo::TENANT
        );
        for (name, role) in [
            ("demo-operator", hegui_store::admins::Role::Operator),
            ("demo-auditor", hegui_store::admins::Role::Auditor),
        ] {
            let (_, token) = gateway
                .store()
                .create_admin_token(hegui_gateway::demo::TENANT, name, role)
                .await?;
            eprintln!(
                "hegui demo: admin API http://{addr}/admin/v1, {role} token of `{name}`: {token}"
            );
        }
        // A demo password, new at every start like the key: the console is as open as the
        // demo's database.
        let mut secret = [0u8; 8];
        getrandom::fill(&mut secret)
            .map_err(|e| anyhow::anyhow!("cannot draw the demo password: {e}"))?;
        let password = format!("demo-{}", hex::encode(secret));
        for (name, role) in [
            ("demo-operator", hegui_store::admins::Role::Operator),
            ("demo-auditor", hegui_store::admins::Role::Auditor),
        ] {
            gateway
                .store()
                .set_console_user(hegui_gateway::demo::TENANT, name, role, &password)
                .await?;
        }
        eprintln!(
            "hegui demo: console http://{addr}/console, log in as `demo-operator` (or the read-only `demo-auditor`) with password {password}"
        );
        eprintln!("hegui gateway listening on http://{addr}/v1");
        eprintln!("hegui demo: API key, new at every start (on stdout):");
        println!("{key}");
    } else {
        eprintln!("hegui gateway listening on http://{addr}/v1");
        eprintln!(
            "hegui: operator console http://{addr}/console (people: `hegui console add-user`), admin API http://{addr}/admin/v1 (tokens: `hegui admin token create`)"
        );
    }
    hegui_gateway::serve(gateway, listener, shutdown).await?;
    eprintln!("hegui gateway stopped");
    drop(demo_db);
    Ok(ExitCode::SUCCESS)
}

/// The demo's database: `--demo-db`, else `HEGUI_DATABASE_URL` (which the gateway honours
/// everywhere), else a fresh file in a new temporary directory removed when this is dropped.
struct DemoDatabase {
    url: String,
    lifetime: &'static str,
    _fresh: Option<tempfile::TempDir>,
}

impl DemoDatabase {
    fn new(keep: Option<&std::path::Path>) -> anyhow::Result<DemoDatabase> {
        if let Some(path) = keep {
            return Ok(DemoDatabase {
                url: format!("sqlite:{}", path.display()),
                lifetime: "kept across starts: --demo-db",
                _fresh: None,
            });
        }
        if let Ok(url) = std::env::var("HEGUI_DATABASE_URL") {
            return Ok(DemoDatabase {
                url,
                lifetime: "kept: HEGUI_DATABASE_URL",
                _fresh: None,
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("hegui-demo-")
            .tempdir()
            .context("cannot create a temporary directory for the demo database")?;
        Ok(DemoDatabase {
            url: format!("sqlite:{}", dir.path().join("hegui.db").display()),
            lifetime: "fresh, deleted at exit; --demo-db PATH keeps one",
            _fresh: Some(dir),
        })
    }
}

/// `SIGHUP` reloads the lexicon (a failed reload keeps the current one and is logged).
fn spawn_reload_on_hangup(gateway: Gateway) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            return;
        };
        // Dies with the runtime at exit; it holds no state to flush.
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                match gateway.reload_lexicon().await {
                    Ok(()) => eprintln!("hegui: lexicon reloaded"),
                    Err(e) => {
                        eprintln!("hegui: lexicon reload failed, keeping the current one: {e}");
                    }
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = gateway;
}

/// Resolves at Ctrl-C or `SIGTERM`. The handlers are installed here, at the call, not when the
/// future is first polled: a `SIGTERM` that arrives right after the demo printed its key must
/// stop the server gracefully (draining, deleting the fresh database), not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (term, interrupt) {
                (Ok(mut term), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
