//! SM3 throughput: one message at a time (the RustCrypto `sm3` crate) against the lane engines,
//! on batches shaped like the audit ledger's work (leaves of about 250 bytes, 65-byte chain
//! links, response texts of about 350 bytes) and on 4 KiB messages.
//!
//! `cargo bench -p hegui-sm3 --bench sm3`

use std::time::Instant;

use hegui_sm3::Engine;

fn main() {
    let shapes: [(&str, usize, usize); 4] = [
        ("65 B (chain link)", 65, 200_000),
        ("250 B (leaf)", 250, 100_000),
        ("350 B (response)", 350, 100_000),
        ("4 KiB", 4096, 10_000),
    ];
    println!("| messages | engine | MB/s | messages/s | × scalar |");
    println!("|---|---|---:|---:|---:|");
    for (name, len, count) in shapes {
        let data: Vec<Vec<u8>> = (0..count)
            .map(|i| (0..len).map(|j| (i * 7 + j) as u8).collect())
            .collect();
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let mut out = vec![[0u8; 32]; count];
        let mut scalar = 0.0;
        for engine in Engine::available() {
            // Best of five, after a warm-up.
            engine.digest_many(&refs, &mut out);
            let mut best = f64::MAX;
            for _ in 0..5 {
                let start = Instant::now();
                engine.digest_many(&refs, &mut out);
                best = best.min(start.elapsed().as_secs_f64());
            }
            let rate = count as f64 / best;
            if engine == Engine::Scalar {
                scalar = rate;
            }
            println!(
                "| {name} | {} | {:.0} | {:.0} | {:.2} |",
                engine.name(),
                rate * len as f64 / 1e6,
                rate,
                rate / scalar
            );
            std::hint::black_box(&out);
        }
    }
}
