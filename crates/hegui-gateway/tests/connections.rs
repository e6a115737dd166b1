//! What a connection may cost before it sends a request, over a real socket: a silent
//! connection (idle, or a slowloris sending headers a byte at a time) is closed after
//! `limits.header-read-secs`, and no more than `limits.connections` are open at once.

use std::time::{Duration, Instant};

use hegui_gateway::mock::MockOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util::{Harness, harness};

/// Serves `h` on a local port until the returned sender is dropped.
async fn serve(h: &Harness) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hegui_gateway::serve(h.gateway.clone(), listener, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Reads until the server closes the connection (or 10 s pass: the test fails then).
async fn closed_within(stream: &mut TcpStream) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the connection was still open after 10 s"),
        }
    }
}

#[tokio::test]
async fn silent_and_slow_connections_are_closed() {
    let h = harness(MockOptions::default(), |c| c.limits.header_read_secs = 1).await;
    let (addr, _stop) = serve(&h).await;
    // Connected, never a byte.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    // Headers one byte at a time, slower than the timeout allows.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let dribble = tokio::spawn(async move {
        for byte in b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        slow
    });
    assert!(closed_within(&mut idle).await >= Duration::from_millis(900));
    let mut slow = dribble.await.unwrap();
    closed_within(&mut slow).await;
    // A kept-alive connection is closed after the same time without a next request.
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

#[tokio::test]
async fn no_more_connections_than_the_limit() {
    let h = harness(MockOptions::default(), |c| {
        c.limits.header_read_secs = 1;
        c.limits.connections = 2;
    })
    .await;
    let (addr, _stop) = serve(&h).await;
    let _a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The third waits in the backlog until a silent one is closed, about a second later.
    let start = Instant::now();
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "answered after {:?} although both connections were taken",
        start.elapsed()
    );
}

/// Sends `head` (a request's headers), then `body` one byte every 200 ms, and returns the
/// status line of the answer and how long after the headers it came.
async fn answer_to_drip(
    addr: std::net::SocketAddr,
    head: String,
    body: &[u8],
) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let start = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let body = body.to_vec();
    let drip = tokio::spawn(async move {
        for byte in body {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        writer
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            Ok(_) => panic!("closed without an answer"),
            Err(_) => panic!("no answer after 10 s"),
        }
    }
    drip.abort();
    let line = String::from_utf8_lossy(&answer);
    (
        line.lines().next().unwrap_or("").to_owned(),
        start.elapsed(),
    )
}

fn chat_head(key: &str, length: usize) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// The body's deadline is for the whole body: a client that keeps sending a byte now and then
/// (each frame well within the deadline) still gets 408 when the deadline passes.
#[tokio::test]
async fn a_dripping_body_gets_408_at_the_deadline() {
    let h = harness(MockOptions::default(), |c| c.limits.body_read_secs = 1).await;
    let (addr, _stop) = serve(&h).await;
    let body = br#"{"model": "mock-chat", "messages": [{"role": "user", "content": "hi"}]}"#;
    let (status, after) = answer_to_drip(addr, chat_head(&h.key, body.len()), body).await;
    assert!(status.contains(" 408 "), "{status}");
    assert!(
        after < Duration::from_secs(4),
        "answered after {after:?}, the deadline is 1 s"
    );
}

/// A body declared larger than the limit is refused from its headers, without waiting for it.
#[tokio::test]
async fn a_declared_length_over_the_limit_gets_413_at_once() {
    let h = harness(MockOptions::default(), |c| {
        c.limits.body_bytes = 1000;
        c.limits.body_read_secs = 30;
    })
    .await;
    let (addr, _stop) = serve(&h).await;
    let (status, after) = answer_to_drip(addr, chat_head(&h.key, 5000), b"{").await;
    assert!(status.contains(" 413 "), "{status}");
    assert!(after < Duration::from_secs(5), "answered after {after:?}");
}
