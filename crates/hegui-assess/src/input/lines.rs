//! Reading a line-oriented file (JSON Lines, plain text) with several threads: one thread reads
//! the file in blocks of whole lines and numbers them, one hashes the blocks in order (SM3, for
//! the report's input list), and worker threads take blocks from a bounded queue and parse the
//! lines.
//!
//! Why: a corpus is often one big file, and parsing JSON is the slow part of the audit; reading
//! runs many times faster than one core parses, and SM3 (strictly sequential, 250–350 MB/s on
//! one core) would cap the whole audit if the reader hashed too, so it gets a thread of its own.
//! Why not split the file by byte offsets instead: the line numbers of the errors and of the
//! sampled items need every newline before a block counted, and the digest needs the bytes in
//! order, so the reading stays sequential and cheap while the parsing spreads.
//!
//! Memory is constant: at most about `3 × workers + 6` blocks of about [`BLOCK`] bytes exist at
//! once (both queues are bounded; a block is freed when the hasher and its worker are done with
//! it), plus whatever each worker's own state keeps. A line longer than a block makes its block
//! grow to hold it.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use sm3::Digest as _;

use super::{InputError, InputFile};

/// The size a block is filled to before its last partial line is cut off.
pub(super) const BLOCK: usize = 1 << 20;

/// A run of whole lines and the number of its first line.
struct Block {
    first_line: u64,
    bytes: Arc<Vec<u8>>,
}

/// Calls `each(state, line_number, line)` for every line of `path` (1-based number, the bytes
/// without the `\n`, possibly blank) on `workers` threads, each with its own state from `init`;
/// returns the states and the file's size and SM3 digest, computed on the way.
///
/// Within a block the lines reach one worker in order; across blocks the order is not fixed,
/// so `each` must not depend on it (the corpus audit keys its sample by line number).
///
/// # Errors
///
/// An unreadable file, or the error `each` returned for the earliest line among the blocks
/// read (reading stops soon after the first error).
pub fn par_for_each_line<S: Send>(
    path: &Path,
    workers: usize,
    on_bytes: &(dyn Fn(u64) + Sync),
    init: impl Fn() -> S + Sync,
    each: impl Fn(&mut S, u64, &[u8]) -> Result<(), InputError> + Sync,
) -> Result<(Vec<S>, InputFile), InputError> {
    let name = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| InputError::io(&name, e))?;
    let workers = workers.max(1);
    let (blocks_tx, blocks_rx) = sync_channel::<Block>(2 * workers);
    let (hash_tx, hash_rx) = sync_channel::<Arc<Vec<u8>>>(4);
    // Owned by the workers only: when they have all stopped, the reader's send fails.
    let blocks_rx = Arc::new(Mutex::new(blocks_rx));
    let failed = AtomicBool::new(false);
    let (read, digest, results) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let blocks_rx = Arc::clone(&blocks_rx);
                let (init, each, failed) = (&init, &each, &failed);
                scope.spawn(move || {
                    let mut state = init();
                    let result = work(&blocks_rx, &mut state, each);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    result.map(|()| state)
                })
            })
            .collect();
        drop(blocks_rx);
        let hasher = scope.spawn(move || {
            let mut hasher = sm3::Sm3::new();
            for bytes in hash_rx {
                hasher.update(bytes.as_slice());
            }
            hex::encode(hasher.finalize())
        });
        let read = read_blocks(&mut file, &name, on_bytes, &blocks_tx, &hash_tx, &failed);
        drop((blocks_tx, hash_tx));
        let results: Vec<Result<S, InputError>> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        let digest = hasher
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (read, digest, results)
    });
    let mut states = Vec::with_capacity(results.len());
    let mut first_error: Option<InputError> = None;
    for result in results {
        match result {
            Ok(state) => states.push(state),
            Err(e) => {
                if first_error
                    .as_ref()
                    .is_none_or(|f| line_of(&e) < line_of(f))
                {
                    first_error = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let bytes = read?;
    Ok((
        states,
        InputFile {
            path: name,
            sm3: digest,
            bytes,
        },
    ))
}

fn line_of(e: &InputError) -> u64 {
    match e {
        InputError::Invalid { line, .. } => *line,
        InputError::Io { .. } => 0,
    }
}

fn work<S>(
    blocks: &Mutex<Receiver<Block>>,
    state: &mut S,
    each: &impl Fn(&mut S, u64, &[u8]) -> Result<(), InputError>,
) -> Result<(), InputError> {
    loop {
        let next = blocks.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(block) = next else {
            return Ok(());
        };
        let mut number = block.first_line;
        let mut rest = block.bytes.as_slice();
        while !rest.is_empty() {
            let (line, after) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            each(state, number, line)?;
            number += 1;
            rest = after;
        }
    }
}

/// Reads `file` into blocks of whole lines and queues them for the workers and the hasher;
/// returns the size.
fn read_blocks(
    file: &mut impl Read,
    name: &str,
    on_bytes: &(dyn Fn(u64) + Sync),
    blocks: &SyncSender<Block>,
    hash: &SyncSender<Arc<Vec<u8>>>,
    failed: &AtomicBool,
) -> Result<u64, InputError> {
    let mut total = 0u64;
    let mut first_line = 1u64;
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut buf = Vec::with_capacity(BLOCK + carry.len());
        buf.append(&mut carry);
        let start = buf.len();
        let want = (BLOCK - start.min(BLOCK)).max(BLOCK / 2) as u64;
        // `take` + `read_to_end` fills the spare capacity without zeroing it first.
        let n = loop {
            match file.by_ref().take(want).read_to_end(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(InputError::io(name, e)),
            }
        };
        total += n as u64;
        on_bytes(n as u64);
        let eof = (n as u64) < want;
        if !eof {
            match memchr::memrchr(b'\n', &buf) {
                Some(last) => carry.extend_from_slice(&buf[last + 1..]),
                None => {
                    // One line longer than the block so far: read on.
                    carry = buf;
                    continue;
                }
            }
            buf.truncate(buf.len() - carry.len());
        }
        if !buf.is_empty() {
            let lines = memchr::memchr_iter(b'\n', &buf).count() as u64
                + u64::from(buf.last() != Some(&b'\n'));
            let bytes = Arc::new(buf);
            let block = Block {
                first_line,
                bytes: Arc::clone(&bytes),
            };
            first_line += lines;
            if failed.load(Ordering::Relaxed)
                || hash.send(bytes).is_err()
                || blocks.send(block).is_err()
            {
                // A worker failed: its error is the one to report.
                return Ok(total);
            }
        }
        if eof {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line arrives exactly once with its number, whatever the block cuts and threads.
    #[test]
    fn lines_numbered_across_blocks_and_threads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.txt");
        let mut text = String::new();
        for i in 1..=40_000u32 {
            // Lines of varied length, a blank one now and then, a long one once.
            match i % 997 {
                0 => text.push('\n'),
                5 => text.push_str(&format!("{i}:{}\n", "x".repeat(3 * BLOCK))),
                _ => text.push_str(&format!("{i}:{}\n", "y".repeat((i % 50) as usize))),
            }
        }
        text.push_str("last-without-newline");
        std::fs::write(&path, &text).unwrap();
        let expected: Vec<&str> = text.lines().collect();
        for workers in [1, 3] {
            let (states, file) = par_for_each_line(
                &path,
                workers,
                &|_| {},
                Vec::new,
                |seen: &mut Vec<(u64, usize)>, n, line| {
                    seen.push((n, line.len()));
                    assert_eq!(line, expected[(n - 1) as usize].as_bytes(), "line {n}");
                    Ok(())
                },
            )
            .unwrap();
            let mut all: Vec<(u64, usize)> = states.into_iter().flatten().collect();
            all.sort_unstable();
            assert_eq!(all.len(), expected.len());
            assert!(all.iter().enumerate().all(|(i, (n, _))| *n == i as u64 + 1));
            assert_eq!(file.bytes, text.len() as u64);
            assert_eq!(file.sm3, hex::encode(hegui_sm3::digest(text.as_bytes())));
        }
    }

    #[test]
    fn earliest_error_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.txt");
        let text: String = (1..=200_000).map(|i| format!("{i}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        let err = par_for_each_line(
            &path,
            2,
            &|_| {},
            || (),
            |(), n, _| {
                if n % 50_000 == 0 {
                    Err(InputError::invalid("d.txt", n, "bad"))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "`d.txt:50000`: bad");
    }
}
