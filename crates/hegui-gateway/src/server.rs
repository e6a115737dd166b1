//! The accept loop: what a connection may cost the gateway before it has sent a request.
//!
//! `axum::serve` installs no timer on its connections, so hyper's header-read timeout never
//! fires: a connection that sends nothing (or one byte every ten seconds) is kept for ever, and
//! 20,000 of them exhaust the file descriptors. Here every connection is served by hyper-util's
//! HTTP/1 + HTTP/2 builder with a Tokio timer:
//!
//! - `limits.header-read-secs`: the headers of a request must arrive within this time, counted
//!   from the connection's opening and, on a kept-alive connection, from the end of the
//!   previous answer, so an idle connection is closed after it too;
//! - `limits.body-read-secs` (`routes::read_json`): the whole body within its own time;
//! - `limits.connections`: at most this many connections at once; the loop stops accepting
//!   while it is reached, so further clients wait in the kernel's listen backlog instead of
//!   taking descriptors;
//! - graceful shutdown: stop accepting, let the open connections finish their requests, drain
//!   open streams for at most `limits.shutdown-grace-secs`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;

use crate::Gateway;

/// HTTP/2's connection preface: the protocol is known once the first bytes differ from it or
/// all of it has arrived.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the client has sent enough, within `wait`, for the server to know its protocol.
/// hyper-util reads these first bytes before hyper's own header-read timer starts, so a client
/// that sends nothing would otherwise be waited for without end.
async fn version_known(stream: &tokio::net::TcpStream, wait: Duration) -> bool {
    let decided = async {
        let mut buf = [0u8; H2_PREFACE.len()];
        loop {
            let n = stream.peek(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            if n == buf.len() || buf[..n] != H2_PREFACE[..n] {
                return Some(());
            }
            // Part of the preface: peek would answer at once again, so wait a little.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    matches!(tokio::time::timeout(wait, decided).await, Ok(Some(())))
}

/// Serves the gateway on `listener` until `shutdown` resolves, then stops accepting, drains
/// open streams for at most `limits.shutdown-grace-secs` and returns. Every audit record of an
/// answered request is committed before its response completes, so nothing is left to flush.
pub async fn serve(
    gateway: Gateway,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = gateway.config().limits.clone();
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    let router = gateway.router();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_secs));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(limits.header_read_secs))
        .keep_alive_timeout(Duration::from_secs(limits.header_read_secs));
    let connections = Arc::new(Semaphore::new(limits.connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let header_read = Duration::from_secs(limits.header_read_secs);
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            if !version_known(&stream, header_read).await {
                drop(permit);
                return;
            }
            let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                tower::ServiceExt::oneshot(router.clone(), request)
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            // A client that goes away or times out is not an error of the gateway.
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }
    tracing::info!("shutting down: draining open streams");
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("shutdown grace period over; closing open streams");
        }
    }
    // Stream tasks write their audit record before their last chunk; wait for them briefly.
    gateway.inner.streams.close();
    if tokio::time::timeout(Duration::from_secs(5), gateway.inner.streams.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = gateway.inner.streams.len(),
            "streams still open after the grace period"
        );
    }
    Ok(())
}
