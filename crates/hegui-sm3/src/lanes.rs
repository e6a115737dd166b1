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

/// One message's blocks: the whole 64-byte blocks borrowed from the message, then one or two
/// padded blocks (the rest of the message, `0x80`, zeros, the bit length big-endian; §5.2).
struct Padded<'a> {
    whole: &'a [u8],
    tail: [u8; 128],
    blocks: usize,
}

impl<'a> Padded<'a> {
    fn new(message: &'a [u8]) -> Padded<'a> {
        let split = message.len() - message.len() % 64;
        let (whole, rest) = message.split_at(split);
        let mut tail = [0u8; 128];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let tail_blocks = if rest.len() < 56 { 1 } else { 2 };
        let bits = (message.len() as u64).wrapping_mul(8);
        tail[tail_blocks * 64 - 8..tail_blocks * 64].copy_from_slice(&bits.to_be_bytes());
        Padded {
            whole,
            tail,
            blocks: split / 64 + tail_blocks,
        }
    }

    /// Block `i` (< `self.blocks`).
    fn block(&self, i: usize) -> &[u8] {
        let whole = self.whole.len() / 64;
        if i < whole {
            &self.whole[i * 64..i * 64 + 64]
        } else {
            let i = i - whole;
            &self.tail[i * 64..i * 64 + 64]
        }
    }
}

/// The chain values of `L` lanes, word-major: `state[word][lane]`.
pub(crate) type State<const L: usize> = [[u32; L]; 8];
/// One block for each of `L` lanes, word-major: `words[word][lane]` (already big-endian
/// decoded).
pub(crate) type Words<const L: usize> = [[u32; L]; 16];

/// A lane's current message.
struct Lane<'a> {
    message: usize,
    padded: Padded<'a>,
    next: usize,
}

/// Runs the multi-buffer schedule with `L` lanes: each lane hashes one message block by block;
/// when its message ends, its digest is written out and the lane starts the next message.
///
/// # Safety
///
/// `compress` must be safe to call on this CPU (its target features were detected).
pub(crate) unsafe fn schedule<'m, const L: usize>(
    compress: unsafe fn(&mut State<L>, &Words<L>),
    messages: &[&'m [u8]],
    out: &mut [[u8; 32]],
) {
    let mut state: State<L> = [[0; L]; 8];
    let mut lanes: [Option<Lane<'m>>; L] = std::array::from_fn(|_| None);
    let mut upcoming = 0..messages.len();
    let mut start = |lane: usize, state: &mut State<L>, lanes: &mut [Option<Lane<'m>>; L]| {
        lanes[lane] = upcoming.next().map(|message| Lane {
            message,
            padded: Padded::new(messages[message]),
            next: 0,
        });
        for (word, iv) in state.iter_mut().zip(IV) {
            word[lane] = iv;
        }
    };
    for lane in 0..L {
        start(lane, &mut state, &mut lanes);
    }
    let mut words: Words<L> = [[0; L]; 16];
    while lanes.iter().any(Option::is_some) {
        for (lane, slot) in lanes.iter().enumerate() {
            // An idle lane hashes whatever it last had; its result is never read.
            if let Some(current) = slot {
                let block = current.padded.block(current.next);
                for (word, bytes) in words.iter_mut().zip(block.chunks_exact(4)) {
                    word[lane] = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                }
            }
        }
        // SAFETY: the caller guarantees that `compress` runs on this CPU.
        unsafe { compress(&mut state, &words) };
        for lane in 0..L {
            let Some(current) = &mut lanes[lane] else {
                continue;
            };
            current.next += 1;
            if current.next == current.padded.blocks {
                let digest = &mut out[current.message];
                for (word, bytes) in state.iter().zip(digest.chunks_exact_mut(4)) {
                    bytes.copy_from_slice(&word[lane].to_be_bytes());
                }
                start(lane, &mut state, &mut lanes);
            }
        }
    }
}
