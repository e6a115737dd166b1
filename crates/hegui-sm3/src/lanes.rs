//! The multi-buffer schedule shared by the SIMD engines: messages padded into blocks (§5.2),
//! lanes that each hash one message and take the next when it ends, and the constants.

#![allow(unsafe_code)]

/// The initial chain value (GB/T 32905-2016 §4.1).
pub(crate) const IV: [u32; 8] = [
    0x7380_166f,
    0x4914_b2b9,
    0x1724_42d7,
    0xda8a_0600,
    0xa96f_30bc,
    0x1631_38aa,
    0xe38d_ee4d,
    0xb0fb_0e4e,
];

/// The round constants already rotated: `T_j <<< (j mod 32)` (§4.2 and §5.3.3).
pub(crate) const T: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut j = 0;
    while j < 64 {
        let base: u32 = if j < 16 { 0x79cc_4519 } else { 0x7a87_9d8a };
        t[j] = base.rotate_left(j as u32 % 32);
        j += 1;
    }
    t
};

/// A block of zeros for lanes without a message (their results are never read).
static IDLE: [u8; 64] = [0; 64];

/// One lane's message: its whole 64-byte blocks borrowed from the message, then one or two
/// padded blocks in `tail` (the rest of the message, `0x80`, zeros, the bit length big-endian;
/// §5.2). Filled in place when the lane takes a message, so nothing of it is moved around.
struct Lane<'m> {
    /// Which message (its index in the batch), or `None` when idle.
    message: Option<usize>,
    whole: &'m [u8],
    tail: [u8; 128],
    /// Blocks in all.
    blocks: usize,
    /// The next block to hash.
    next: usize,
}

impl<'m> Lane<'m> {
    fn idle() -> Lane<'m> {
        Lane {
            message: None,
            whole: &[],
            tail: [0; 128],
            blocks: 0,
            next: 0,
        }
    }

    /// Takes message number `index`, `bytes`.
    fn take(&mut self, index: usize, bytes: &'m [u8]) {
        let split = bytes.len() - bytes.len() % 64;
        let (whole, rest) = bytes.split_at(split);
        let tail_blocks = if rest.len() < 56 { 1 } else { 2 };
        let end = tail_blocks * 64;
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail[rest.len()] = 0x80;
        self.tail[rest.len() + 1..end - 8].fill(0);
        let bits = (bytes.len() as u64).wrapping_mul(8);
        self.tail[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        self.message = Some(index);
        self.whole = whole;
        self.blocks = split / 64 + tail_blocks;
        self.next = 0;
    }

    /// The next block.
    fn block(&self) -> &[u8; 64] {
        let whole = self.whole.len() / 64;
        let (bytes, i) = if self.next < whole {
            (self.whole, self.next)
        } else {
            (&self.tail[..], self.next - whole)
        };
        bytes
            .get(i * 64..i * 64 + 64)
            .and_then(|b| b.try_into().ok())
            .unwrap_or(&IDLE)
    }
}

/// The chain values of `L` lanes, word-major: `state[word][lane]`.
pub(crate) type State<const L: usize> = [[u32; L]; 8];

/// Runs the multi-buffer schedule with `L` lanes: each lane hashes one message block by block
/// (`compress` takes the next block of every lane, as bytes, and transposes them itself); when
/// its message ends, its digest is written out and the lane takes the next message.
///
/// # Safety
///
/// `compress` must be safe to call on this CPU (its target features were detected).
pub(crate) unsafe fn schedule<'m, const L: usize>(
    compress: unsafe fn(&mut State<L>, &[&[u8; 64]; L]),
    messages: &[&'m [u8]],
    out: &mut [[u8; 32]],
) {
    let mut state: State<L> = [[0; L]; 8];
    let mut lanes: [Lane<'m>; L] = std::array::from_fn(|_| Lane::idle());
    let mut upcoming = messages.iter().enumerate();
    let mut start = |lane: usize, state: &mut State<L>, lanes: &mut [Lane<'m>; L]| {
        match upcoming.next() {
            Some((index, bytes)) => lanes[lane].take(index, bytes),
            None => lanes[lane].message = None,
        }
        for (word, iv) in state.iter_mut().zip(IV) {
            word[lane] = iv;
        }
    };
    for lane in 0..L {
        start(lane, &mut state, &mut lanes);
    }
    while lanes.iter().any(|lane| lane.message.is_some()) {
        let blocks: [&[u8; 64]; L] = std::array::from_fn(|lane| match lanes[lane].message {
            Some(_) => lanes[lane].block(),
            // An idle lane hashes zeros; its result is never read.
            None => &IDLE,
        });
        // SAFETY: the caller guarantees that `compress` runs on this CPU.
        unsafe { compress(&mut state, &blocks) };
        for lane in 0..L {
            let current = &mut lanes[lane];
            let Some(message) = current.message else {
                continue;
            };
            current.next += 1;
            if current.next == current.blocks {
                let digest = &mut out[message];
                for (word, bytes) in state.iter().zip(digest.chunks_exact_mut(4)) {
                    bytes.copy_from_slice(&word[lane].to_be_bytes());
                }
                start(lane, &mut state, &mut lanes);
            }
        }
    }
}
