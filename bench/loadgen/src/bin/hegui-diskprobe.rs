//! The disk's own floor for a durable commit, at a constant rate: job `i` is due at
//! `i / rate`; it writes `--size` bytes (default 16 KiB, about the WAL frames of one audit
//! record: 3–4 pages of 4 KiB with their headers) at the next offset of a ring file and calls
//! `fsync` (what SQLite calls at a commit with `synchronous = FULL`). The ring (default 4 MiB)
//! is rewritten in place, as the WAL is after each checkpoint. Its latency runs from the
//! intended time to the end of the `fsync`, as the load generator's does, so a slow sync is
//! charged to every job that waited behind it.
//!
//! One thread, one file, one commit at a time, and every job that fell due while a commit was in
//! flight goes into the next one (one write, one `fsync`): the audit writer's group commit,
//! minus everything that is not the disk (SQLite's pages and locks, the hand-offs between
//! threads). `bench/gateway/openloop.sh` runs it in each round
//! beside the gateway, on a file next to the gateway's ledger, and prints it as the `disk` row:
//! no durable ledger on that disk can have a p99 below it.
//!
//! The ring file is made (written through and synced) when it is missing or short, and kept
//! afterwards: filling it is a burst of writes that slows the disk's syncs for a while, so the
//! benchmark makes it once, before its warm-up, and every round reuses it.
//!
//! ```text
//! hegui-diskprobe --file /tmp/bench/ring --rate 1000 --duration 15
//! ```
//!
//! Output: the load generator's JSON line (`connections` is 1; an I/O error stops the probe
//! with a message on stderr and exit status 1).

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hegui_loadgen::{Schedule, Summary, flag_pairs, new_histogram, number, record};

const USAGE: &str = "usage: hegui-diskprobe --file PATH --rate JOBS_PER_S [--duration SECS=10] \
[--size BYTES=16384] [--ring-mib MIB=4]";

struct Args {
    file: PathBuf,
    rate: f64,
    duration: f64,
    size: usize,
    ring: u64,
}

fn parse_args() -> Result<Args, String> {
    let (mut file, mut rate) = (None, None);
    let (mut duration, mut size, mut ring_mib) = (10.0, 16_384.0, 4.0);
    for (flag, v) in flag_pairs(USAGE)? {
        match flag.as_str() {
            "--file" => file = Some(PathBuf::from(v)),
            "--rate" | "-R" => rate = Some(number(&flag, &v)?),
            "--duration" | "-d" => duration = number(&flag, &v)?,
            "--size" => size = number(&flag, &v)?,
            "--ring-mib" => ring_mib = number(&flag, &v)?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    let file = file.ok_or(format!("--file is required\n{USAGE}"))?;
    let rate = rate.ok_or(format!("--rate is required\n{USAGE}"))?;
    if rate <= 0.0 || duration <= 0.0 || size < 1.0 || ring_mib * 1_048_576.0 < size {
        return Err(format!(
            "rate and duration must be > 0, size ≥ 1 byte and within the ring\n{USAGE}"
        ));
    }
    Ok(Args {
        file,
        rate,
        duration,
        size: size as usize,
        ring: (ring_mib * 1_048_576.0) as u64,
    })
}

/// Opens the ring file at `path`, at least `len` bytes long: made and written through (then
/// synced) when missing or short, so that the measured writes land on allocated blocks.
fn ring(path: &std::path::Path, len: u64) -> std::io::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if file.metadata()?.len() < len {
        let zeros = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        file.sync_all()?;
    }
    Ok(file)
}

fn run(args: &Args) -> std::io::Result<String> {
    let file = ring(&args.file, args.ring)?;
    let sched = Schedule {
        rate: args.rate,
        duration_ns: (args.duration * 1e9) as u64,
    };
    let slots = (args.ring / args.size as u64).max(1);
    // The most jobs one commit writes: the ring, and the gateway's `max_batch` (4096).
    let most = slots.min(4096);
    let batch = vec![0x5au8; args.size * most as usize];
    let mut hist = new_histogram();
    let start = Instant::now();
    let (count, mut next, mut slot) = (sched.count(), 0, 0);
    while next < count {
        let due = sched.intended_ns(next);
        let now = start.elapsed().as_nanos() as u64;
        if due > now {
            std::thread::sleep(Duration::from_nanos(due - now));
        }
        // Every job due by now goes into this commit, as queued records do into a group commit.
        let now = start.elapsed().as_nanos() as u64;
        let mut n = 1;
        while n < most && next + n < count && sched.intended_ns(next + n) <= now {
            n += 1;
        }
        let n = n.min(slots - slot);
        file.write_all_at(&batch[..args.size * n as usize], slot * args.size as u64)?;
        file.sync_all()?;
        let done = start.elapsed().as_nanos() as u64;
        for job in next..next + n {
            record(&mut hist, sched.intended_ns(job), done);
        }
        next += n;
        slot = (slot + n) % slots;
    }
    let elapsed = start.elapsed().as_secs_f64().max(args.duration);
    let done = count;
    Ok(Summary {
        target_rps: args.rate,
        duration_s: args.duration,
        connections: 1,
        scheduled: done,
        completed: done,
        achieved_rps: done as f64 / elapsed,
        ok: done,
        non2xx: 0,
        socket_errors: 0,
        timeouts: 0,
        dropped: 0,
    }
    .to_json(&hist))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hegui-diskprobe: {}: {e}", args.file.display());
            ExitCode::FAILURE
        }
    }
}
