//! The audio rhythm cue "短长 短短" (Morse `·− ··`, "AI"), GB 45438 §5.3 ◐, spliced into PCM WAV
//! audio before or after the content. The standard leaves tone, tempo and loudness open
//! (labels.md §7 q5 ❓); hegui's defaults follow Morse timing: a dot is one unit, a dash three,
//! one unit between elements, three between letters; 1 kHz sine at half scale, a 100 ms unit,
//! 5 ms raised-cosine ramps against clicks, and 300 ms of silence between cue and content.
//!
//! Only WAV (PCM 8/16/24/32-bit integer, any channel count and rate): splicing MP3 or AAC needs an
//! encoder. The audio samples are re-written (the cue is new audio), all other chunks are copied.

use crate::LabelError;
use crate::codec::riff;
use crate::explicit::Position;

/// Parameters of the cue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cue {
    /// Tone frequency in Hz.
    pub frequency: f32,
    /// Morse unit (one dot) in milliseconds.
    pub unit_ms: u32,
    /// Peak amplitude, 0.0–1.0 of full scale.
    pub amplitude: f32,
    /// Silence between the cue and the content, in milliseconds.
    pub gap_ms: u32,
    /// Before or after the content (`Both` puts it on each side).
    pub position: Position,
}

impl Default for Cue {
    fn default() -> Cue {
        Cue {
            frequency: 1000.0,
            unit_ms: 100,
            amplitude: 0.5,
            gap_ms: 300,
            position: Position::Start,
        }
    }
}

/// On/off pattern of "AI" in units: `·−` then `··`.
const PATTERN: [(bool, u32); 7] = [
    (true, 1),
    (false, 1),
    (true, 3),
    (false, 3),
    (true, 1),
    (false, 1),
    (true, 1),
];

/// Mono cue samples in −1.0..=1.0 at `rate`, including the trailing or leading gap.
pub(crate) fn cue_samples(cue: &Cue, rate: u32) -> Vec<f32> {
    let unit = (rate as u64 * u64::from(cue.unit_ms) / 1000) as usize;
    let ramp = (rate as usize * 5 / 1000).max(1);
    let mut out = Vec::new();
    for (on, units) in PATTERN {
        let len = unit * units as usize;
        for i in 0..len {
            let v = if on {
                let edge = i.min(len - 1 - i);
                let gain = if edge < ramp {
                    0.5 - 0.5 * (std::f32::consts::PI * edge as f32 / ramp as f32).cos()
                } else {
                    1.0
                };
                let t = i as f32 / rate as f32;
                cue.amplitude * gain * (2.0 * std::f32::consts::PI * cue.frequency * t).sin()
            } else {
                0.0
            };
            out.push(v);
        }
    }
    out
}

fn encode(samples: &[f32], bits: u16, channels: u16) -> Vec<u8> {
    let bytes = usize::from(bits / 8);
    let mut out = Vec::with_capacity(samples.len() * bytes * usize::from(channels));
    for &s in samples {
        let s = s.clamp(-1.0, 1.0);
        for _ in 0..channels {
            match bits {
                8 => out.push((s * 127.0 + 128.0) as u8),
                16 => out.extend_from_slice(&((s * 32767.0) as i16).to_le_bytes()),
                24 => out.extend_from_slice(&((s * 8_388_607.0) as i32).to_le_bytes()[..3]),
                _ => {
                    out.extend_from_slice(&((f64::from(s) * 2_147_483_647.0) as i32).to_le_bytes());
                }
            }
        }
    }
    out
}

/// Adds the Morse "AI" cue to a PCM WAV file.
pub fn add_morse_cue(wav: &[u8], cue: &Cue) -> Result<Vec<u8>, LabelError> {
    let chunks = riff::chunks(wav, b"WAVE", "wav")?;
    let fmt = chunks
        .iter()
        .find(|c| &c.id == b"fmt ")
        .map(|c| &wav[c.data.clone()])
        .filter(|d| d.len() >= 16)
        .ok_or_else(|| LabelError::Explicit("WAV file has no `fmt ` chunk".into()))?;
    let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
    let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
    let pcm = tag == 1 || (tag == 0xfffe && fmt.get(24..26) == Some(&[1, 0]));
    if !pcm
        || !matches!(bits, 8 | 16 | 24 | 32)
        || channels == 0
        || !(1000..=384_000).contains(&rate)
    {
        return Err(LabelError::Explicit(format!(
            "the cue needs integer PCM WAV (found format {tag:#06x}, {bits} bits, {channels} channels, {rate} Hz)"
        )));
    }
    let tone = cue_samples(cue, rate);
    let gap = vec![0.0; (rate as u64 * u64::from(cue.gap_ms) / 1000) as usize];
    let before: Vec<f32> = [tone.as_slice(), &gap].concat();
    let after: Vec<f32> = [gap.as_slice(), &tone].concat();
    let mut out = wav[..12].to_vec();
    let mut seen_data = false;
    for chunk in &chunks {
        if &chunk.id == b"data" && !seen_data {
            seen_data = true;
            let mut data = Vec::new();
            if matches!(cue.position, Position::Start | Position::Both) {
                data.extend_from_slice(&encode(&before, bits, channels));
            }
            data.extend_from_slice(&wav[chunk.data.clone()]);
            if matches!(cue.position, Position::End | Position::Both) {
                data.extend_from_slice(&encode(&after, bits, channels));
            }
            riff::push_chunk(&mut out, b"data", &data)?;
        } else {
            out.extend_from_slice(&wav[chunk.start..chunk.end]);
        }
    }
    if !seen_data {
        return Err(LabelError::Explicit("WAV file has no `data` chunk".into()));
    }
    riff::fix_size(&mut out, "wav")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhythm_is_short_long_short_short() {
        let cue = Cue::default();
        let samples = cue_samples(&cue, 8000);
        // Runs of sound and silence, in 100 ms units.
        let mut runs: Vec<(bool, usize)> = Vec::new();
        for window in samples.chunks(80) {
            let loud = window.iter().any(|s| s.abs() > 0.1);
            match runs.last_mut() {
                Some((l, n)) if *l == loud => *n += 1,
                _ => runs.push((loud, 1)),
            }
        }
        let units: Vec<(bool, usize)> = runs.iter().map(|&(l, n)| (l, n / 10)).collect();
        assert_eq!(
            units,
            vec![
                (true, 1),
                (false, 1),
                (true, 3),
                (false, 3),
                (true, 1),
                (false, 1),
                (true, 1)
            ]
        );
        let wav = crate::testdata::wav(800);
        let out = add_morse_cue(&wav, &cue).unwrap();
        // 1.1 s of cue + 0.3 s gap at 8 kHz, 16-bit mono.
        assert_eq!(out.len(), wav.len() + (8800 + 2400) * 2);
        assert!(add_morse_cue(b"RIFF\0\0\0\0WAVE", &cue).is_err());
    }
}
