//! The binary COPY stream that PostgreSQL verification parses, on arbitrary bytes cut at
//! arbitrary points: an error or a break with a reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first bytes choose up to four cut points; the rest is the stream. Streams that start
    // with the signature get past the header check more often.
    let (cuts, rest) = data.split_at(data.len().min(4));
    let cuts: Vec<usize> = cuts.iter().map(|&c| usize::from(c) * 7).collect();
    let mut stream = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
    if rest.first() == Some(&0) {
        stream.extend_from_slice(&rest[1..]);
    } else {
        stream = rest.to_vec();
    }
    let _ = hegui_store::fuzzing::pg_copy_stream(&stream, &cuts);
});
