//! Ledger benchmarks (a plain bench binary, release mode): durable appends per second through
//! the group-commit writer with 1, 8, 64, 512 and 2,048 concurrent writers, and verification speed, on
//! SQLite (a temporary file, WAL, `synchronous=FULL`) and PostgreSQL (a fresh schema at
//! 127.0.0.1:5432/test, dropped afterwards; `HEGUI_BENCH_PG=0` skips it).
//!
//! `cargo bench -p hegui-store --bench ledger` (`HEGUI_BENCH_RECORDS` sets records per run,
//! `HEGUI_BENCH_WRITERS=64,512` the numbers of writers, `HEGUI_BENCH_VERIFY_ROUNDS` how many
//! times the filled ledger is verified, default 3).

use std::time::Instant;

use hegui_store::ledger::{NewRecord, VerifyOptions};
use hegui_store::{AuditWriter, OpenOptions, Store, WriterOptions};

fn record(i: usize) -> NewRecord {
    NewRecord::new("chat")
        .tenant("tenant-1")
        .end_user(format!("user-{}", i % 1000))
        .client_addr("203.0.113.7")
        .model("qwen-max")
        .request(format!("请介绍一下第{i}号展品的历史背景和艺术价值。"))
        .response("这件展品创作于清代中期，体现了当时工艺美术的高超水平……".repeat(4))
        .verdicts(r#"[{"guard":"lexicon","verdict":"pass"}]"#)
        .latency(120)
}

async fn appends(store: &Store, writers: usize, total: usize) -> f64 {
    let writer = AuditWriter::start(store.clone(), WriterOptions::default());
    let per = total / writers;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                writer.append(record(w * per + i)).await.map(|_| ())?;
            }
            Ok::<(), hegui_store::StoreError>(())
        }));
    }
    for t in tasks {
        if let Ok(Err(e)) = t.await {
            eprintln!("append failed: {e}");
        }
    }
    (per * writers) as f64 / start.elapsed().as_secs_f64()
}

async fn run(name: &str, url: &str, options: OpenOptions, total: usize) {
    let store = match Store::open_with(url, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{name}: cannot open: {e}");
            return;
        }
    };
    for writers in writer_counts() {
        // One writer waits for every commit: give it fewer records.
        let n = if writers == 1 { total / 20 } else { total };
        let rate = appends(&store, writers, n).await;
        println!("{name:<8} appends, {writers:>3} writers: {rate:>10.0} records/s ({n} records)");
    }
    // Verification is read-only: run it several times over the same ledger and report each
    // run and the median (the machine's speed drifts between runs).
    let rounds: usize = std::env::var("HEGUI_BENCH_VERIFY_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let mut rates = Vec::new();
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let report = store.verify(&VerifyOptions::default()).await;
        let elapsed = start.elapsed().as_secs_f64();
        match report {
            Ok(r) => {
                let rate = r.records as f64 / elapsed;
                println!(
                    "{name:<8} verify: {rate:>10.0} records/s ({} records, ok = {})",
                    r.records,
                    r.is_ok()
                );
                rates.push(rate);
            }
            Err(e) => eprintln!("{name}: verify failed: {e}"),
        }
    }
    if !rates.is_empty() {
        rates.sort_by(f64::total_cmp);
        println!(
            "{name:<8} verify: {:>10.0} records/s median of {}",
            rates[rates.len() / 2],
            rates.len()
        );
    }
    store.close().await;
}

/// `HEGUI_BENCH_WRITERS` (comma-separated) or 1, 8, 64, 512 and 2,048.
fn writer_counts() -> Vec<usize> {
    std::env::var("HEGUI_BENCH_WRITERS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 64, 512, 2048])
}

fn main() {
    let total: usize = std::env::var("HEGUI_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    hegui_store::block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        run("sqlite", &url, OpenOptions::default(), total).await;
        if std::env::var("HEGUI_BENCH_PG").as_deref() == Ok("0") {
            println!("postgres: skipped (HEGUI_BENCH_PG=0)");
            return;
        }
        let url = std::env::var("HEGUI_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("hegui_bench_{}", std::process::id());
        let options = OpenOptions {
            pg_schema: Some(schema.clone()),
            ..OpenOptions::default()
        };
        run("postgres", &url, options, total).await;
        if let Ok(admin) = Store::open_admin_for_tests(&url).await {
            let _ = admin
                .execute_raw_for_tests(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await;
            admin.close().await;
        }
    });
}
