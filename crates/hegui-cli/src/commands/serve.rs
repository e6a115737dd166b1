//! `hegui serve [--config FILE] [--listen ADDR] [--demo]`: runs the compliance gateway.
//!
//! `--demo` needs no file: SQLite in the temporary directory (`hegui-demo.db`), the sample
//! lexicon and an in-process mock upstream with scripted answers marked as demo; the demo API
//! key is printed at start. `--new-key TENANT` creates an API key in the store and exits.

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
    /// Run on embedded defaults with a mock upstream (SQLite, sample lexicon, demo key).
    #[arg(long, conflicts_with = "config")]
    demo: bool,
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
    // The demo's mock must outlive the server.
    let mut _mock = None;
    let mut config = if args.demo {
        let mock = hegui_gateway::mock::spawn(hegui_gateway::demo::mock_options())
            .await
            .context("cannot start the demo upstream")?;
        let db = std::env::temp_dir().join("hegui-demo.db");
        let config =
            hegui_gateway::demo::config(&mock.base_url(), &format!("sqlite:{}", db.display()));
        _mock = Some(mock);
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
    if args.demo {
        let (_, key) = gateway
            .store()
            .create_api_key(hegui_gateway::demo::TENANT, "demo")
            .await?;
        eprintln!(
            "hegui demo: mock upstream with scripted answers (marked 【演示回答】), sample lexicon"
        );
        eprintln!(
            "hegui demo: model `{}`, database {}",
            hegui_gateway::demo::MODEL,
            gateway.config().storage
        );
        eprintln!("hegui demo: API key (printed on stdout):");
        println!("{key}");
    }
    spawn_reload_on_hangup(gateway.clone());
    eprintln!("hegui gateway listening on http://{addr}/v1");
    hegui_gateway::serve(gateway, listener, shutdown_signal()).await?;
    eprintln!("hegui gateway stopped");
    Ok(ExitCode::SUCCESS)
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

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
