//! Constant-rate HTTP load generator with coordinated-omission correction (wrk2-style).
//!
//! Request `i` is *scheduled* at `start + i / rate`, whether or not earlier requests have been
//! answered. A ticker thread releases each request at its intended time into a FIFO queue; `N`
//! connection tasks (HTTP/1.1 keep-alive, one request in flight each) take requests from it.
//! Latency is measured from the **intended** send time to the end of the response body, so a
//! stalled server is charged for every request that should have been sent during the stall,
//! not only for the one that was in flight (a closed-loop tool such as wrk records one slow
//! sample and simply sends fewer requests).
//!
//! Output: one JSON line on stdout (rates in req/s, latencies in ms).
//!
//! ```text
//! hegui-loadgen --url http://127.0.0.1:9301/v1/chat/completions --rate 1000 --duration 15 \
//!   --connections 50 -H 'Authorization: Bearer KEY' -H 'Content-Type: application/json' \
//!   --body '{"model":"mock-chat","messages":[…]}'
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hegui_loadgen::{Schedule, Summary, flag_pairs, new_histogram, number, record};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

/// Discrete-event model of the generator: requests released at their intended times into one
/// FIFO queue, `conns` connections each taking the next request when free. `service(send_ns)`
/// is the server's time for a request sent at `send_ns`. Returns (corrected, uncorrected)
/// histograms; the real generator records the first.
#[cfg(test)]
fn simulate(
    sched: Schedule,
    conns: usize,
    service: impl Fn(u64) -> u64,
) -> (Histogram<u64>, Histogram<u64>) {
    let mut free_at = vec![0u64; conns];
    let (mut corrected, mut naive) = (new_histogram(), new_histogram());
    for i in 0..sched.count() {
        let intended = sched.intended_ns(i);
        let c = (0..conns).min_by_key(|&c| free_at[c]).unwrap();
        let send = intended.max(free_at[c]);
        let done = send + service(send);
        free_at[c] = done;
        record(&mut corrected, intended, done);
        record(&mut naive, send, done);
    }
    (corrected, naive)
}

struct Args {
    url: hyper::Uri,
    rate: f64,
    duration: f64,
    connections: usize,
    threads: usize,
    method: hyper::Method,
    headers: Vec<(String, String)>,
    body: Bytes,
    timeout: Duration,
    drain: Duration,
}

const USAGE: &str = "usage: hegui-loadgen --url URL --rate REQ_PER_S [--duration SECS=10] \
[--connections N=50] [--threads N=1] [--method POST|GET] [-H 'Name: value']... \
[--body TEXT | --body-file PATH] [--timeout SECS=10] [--drain SECS=5]";

fn parse_args() -> Result<Args, String> {
    let (mut url, mut rate) = (None, None);
    let mut a = Args {
        url: hyper::Uri::from_static("http://127.0.0.1/"),
        rate: 0.0,
        duration: 10.0,
        connections: 50,
        threads: 1,
        method: hyper::Method::GET,
        headers: Vec::new(),
        body: Bytes::new(),
        timeout: Duration::from_secs(10),
        drain: Duration::from_secs(5),
    };
    let mut method = None;
    for (flag, v) in flag_pairs(USAGE)? {
        let num = |v: &str| number(&flag, v);
        match flag.as_str() {
            "--url" => url = Some(v.parse::<hyper::Uri>().map_err(|e| format!("--url: {e}"))?),
            "--rate" | "-R" => rate = Some(num(&v)?),
            "--duration" | "-d" => a.duration = num(&v)?,
            "--connections" | "-c" => a.connections = num(&v)? as usize,
            "--threads" | "-t" => a.threads = num(&v)? as usize,
            "--method" | "-m" => method = Some(v.parse().map_err(|e| format!("--method: {e}"))?),
            "--header" | "-H" => {
                let (n, val) = v
                    .split_once(':')
                    .ok_or(format!("-H {v}: want 'Name: value'"))?;
                a.headers
                    .push((n.trim().to_string(), val.trim().to_string()));
            }
            "--body" => a.body = Bytes::from(v),
            "--body-file" => {
                a.body = Bytes::from(std::fs::read(&v).map_err(|e| format!("{v}: {e}"))?)
            }
            "--timeout" => a.timeout = Duration::from_secs_f64(num(&v)?),
            "--drain" => a.drain = Duration::from_secs_f64(num(&v)?),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    a.url = url.ok_or(format!("--url is required\n{USAGE}"))?;
    a.rate = rate.ok_or(format!("--rate is required\n{USAGE}"))?;
    if a.rate <= 0.0 || a.duration <= 0.0 || a.connections == 0 || a.threads == 0 {
        return Err(format!(
            "rate, duration, connections and threads must be > 0\n{USAGE}"
        ));
    }
    a.method = method.unwrap_or(if a.body.is_empty() {
        hyper::Method::GET
    } else {
        hyper::Method::POST
    });
    Ok(a)
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    non2xx: AtomicU64,
    socket_errors: AtomicU64,
    timeouts: AtomicU64,
    last_done_ns: AtomicU64,
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(args: &Args) -> std::io::Result<Sender> {
    let host = args.url.host().unwrap_or("127.0.0.1");
    let port = args.url.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(sender)
}

fn build_request(args: &Args) -> Request<Full<Bytes>> {
    let authority = args
        .url
        .authority()
        .map(|a| a.as_str())
        .unwrap_or("localhost");
    let path = args.url.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut b = Request::builder()
        .method(args.method.clone())
        .uri(path)
        .header("host", authority);
    for (n, v) in &args.headers {
        b = b.header(n.as_str(), v.as_str());
    }
    b.body(Full::new(args.body.clone())).expect("valid request")
}

/// One connection: take the next due request, send it, record its corrected latency.
async fn worker(
    args: Arc<Args>,
    start: Instant,
    mut sender: Option<Sender>,
    queue: async_channel::Receiver<u64>,
    counters: Arc<Counters>,
    deadline: Instant,
) -> Histogram<u64> {
    let mut hist = new_histogram();
    while let Ok(intended) = queue.recv().await {
        if Instant::now() >= deadline {
            // Still queued when the drain ended: charge it the time it has waited so far.
            record(&mut hist, intended, start.elapsed().as_nanos() as u64);
            continue;
        }
        if sender.as_ref().is_none_or(|s| s.is_closed()) {
            sender = connect(&args).await.ok();
        }
        let Some(s) = sender.as_mut() else {
            counters.socket_errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let call = async {
            s.ready().await?;
            let resp = s.send_request(build_request(&args)).await?;
            let status = resp.status();
            resp.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        };
        match tokio::time::timeout(args.timeout, call).await {
            Ok(Ok(status)) => {
                let done = start.elapsed().as_nanos() as u64;
                record(&mut hist, intended, done);
                counters.last_done_ns.fetch_max(done, Ordering::Relaxed);
                if status.is_success() {
                    counters.ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.non2xx.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Err(_)) => {
                counters.socket_errors.fetch_add(1, Ordering::Relaxed);
                sender = None;
            }
            Err(_) => {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
                record(&mut hist, intended, start.elapsed().as_nanos() as u64);
                sender = None;
            }
        }
    }
    hist
}

/// Releases request `i` at `start + i / rate` (precise sleeps on an OS thread: tokio's timer
/// has a 1 ms granularity, which would add up to 1 ms to every latency).
fn ticker(sched: Schedule, start: Instant, tx: async_channel::Sender<u64>) -> u64 {
    let mut sent = 0;
    for i in 0..sched.count() {
        let t = sched.intended_ns(i);
        let now = start.elapsed().as_nanos() as u64;
        if t > now {
            std::thread::sleep(Duration::from_nanos(t - now));
        }
        if tx.send_blocking(t).is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let sched = Schedule {
        rate: args.rate,
        duration_ns: (args.duration * 1e9) as u64,
    };
    let counters = Arc::new(Counters::default());
    let (hist, scheduled, connect_errors) = rt.block_on(async {
        // Open every connection before the clock starts.
        let mut senders = Vec::new();
        let mut connect_errors = 0u64;
        for _ in 0..args.connections {
            match connect(&args).await {
                Ok(s) => senders.push(Some(s)),
                Err(_) => {
                    connect_errors += 1;
                    senders.push(None)
                }
            }
        }
        let (tx, rx) = async_channel::unbounded();
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(args.duration) + args.drain;
        let tasks: Vec<_> = senders
            .into_iter()
            .map(|s| {
                tokio::spawn(worker(
                    args.clone(),
                    start,
                    s,
                    rx.clone(),
                    counters.clone(),
                    deadline,
                ))
            })
            .collect();
        drop(rx);
        let scheduled = tokio::task::spawn_blocking(move || ticker(sched, start, tx))
            .await
            .expect("ticker");
        let mut hist = new_histogram();
        for t in tasks {
            hist.add(t.await.expect("worker")).expect("same bounds");
        }
        (hist, scheduled, connect_errors)
    });
    let ok = counters.ok.load(Ordering::Relaxed);
    let non2xx = counters.non2xx.load(Ordering::Relaxed);
    let completed = ok + non2xx;
    // Completed responses over the time to the last of them (at least the duration): a server
    // that falls behind shows a rate below the target even though all requests were sent.
    let elapsed = (counters.last_done_ns.load(Ordering::Relaxed) as f64 / 1e9).max(args.duration);
    let achieved = completed as f64 / elapsed;
    let dropped = scheduled
        - completed
        - counters.socket_errors.load(Ordering::Relaxed)
        - counters.timeouts.load(Ordering::Relaxed);
    let summary = Summary {
        target_rps: args.rate,
        duration_s: args.duration,
        connections: args.connections,
        scheduled,
        completed,
        achieved_rps: achieved,
        ok,
        non2xx,
        socket_errors: counters.socket_errors.load(Ordering::Relaxed) + connect_errors,
        timeouts: counters.timeouts.load(Ordering::Relaxed),
        dropped,
    };
    println!("{}", summary.to_json(&hist));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn over(h: &Histogram<u64>, ms: u64) -> u64 {
        h.iter_recorded()
            .filter(|v| v.value_iterated_to() > ms * 1000)
            .map(|v| v.count_at_value())
            .sum()
    }

    /// One connection at 1,000 req/s, a 10 µs server that stalls for 100 ms once: every request
    /// scheduled during the stall waits, so about 100 samples are slow, not 1.
    #[test]
    fn a_stall_is_charged_to_every_request_scheduled_during_it() {
        let sched = Schedule {
            rate: 1000.0,
            duration_ns: 3_000 * MS,
        };
        let service = |send: u64| {
            if (1_000 * MS..1_001 * MS).contains(&send) {
                100 * MS
            } else {
                MS / 100
            }
        };
        let (corrected, naive) = simulate(sched, 1, service);
        assert_eq!(corrected.len(), 3000);
        let slow = over(&corrected, 1);
        assert!(
            (95..=101).contains(&slow),
            "corrected: {slow} samples over 1 ms"
        );
        // Their latencies fall from 100 ms to 0: about half are over 50 ms.
        let very = over(&corrected, 50);
        assert!(
            (45..=55).contains(&very),
            "corrected: {very} samples over 50 ms"
        );
        assert!(
            corrected.value_at_quantile(0.99) > 30_000,
            "p99 {}",
            corrected.value_at_quantile(0.99)
        );
        // Measured from the actual send (closed loop), only the stalled request is slow.
        assert_eq!(over(&naive, 1), 1);
        assert!(naive.value_at_quantile(0.99) <= 20);
    }

    /// With several connections a single stall holds one of them; the others keep up, so only
    /// the stalled request is slow.
    #[test]
    fn spare_connections_absorb_a_single_stall() {
        let sched = Schedule {
            rate: 1000.0,
            duration_ns: 3_000 * MS,
        };
        let service = |send: u64| {
            if (1_000 * MS..1_001 * MS).contains(&send) {
                100 * MS
            } else {
                MS / 100
            }
        };
        let (corrected, _) = simulate(sched, 4, service);
        assert_eq!(over(&corrected, 1), 1);
    }

    /// A server slower than the rate: the queue grows and so do the corrected latencies.
    #[test]
    fn an_overloaded_server_shows_growing_latency() {
        let sched = Schedule {
            rate: 1000.0,
            duration_ns: 1_000 * MS,
        };
        let (corrected, naive) = simulate(sched, 1, |_| 2 * MS);
        assert!(corrected.max() > 900_000, "max {} µs", corrected.max());
        assert!(naive.max() <= 2_002);
    }
}
