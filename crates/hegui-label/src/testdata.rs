//! Tiny valid media files built in code, for doctests, tests, fuzz seeds and benchmarks. Not
//! part of the stable API.

fn crc(parts: &[&[u8]]) -> u32 {
    crate::codec::crc32(parts)
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc(&[kind, data]).to_be_bytes());
}

/// A 1×1 grey PNG with `extra` bytes of `IDAT` padding chunks (`size` ≈ total size).
pub fn png_sized(size: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    // zlib stream of the single row [filter 0, pixel 0x80], stored block.
    let idat = [
        0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x00, 0x80, 0x00, 0x82, 0x00, 0x81,
    ];
    png_chunk(&mut out, b"IDAT", &idat);
    if size > out.len() + 24 {
        // Private ancillary chunk standing in for image data of a large file.
        let fill = vec![0x5a; size - out.len() - 24];
        png_chunk(&mut out, b"fiLL", &fill);
    }
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A 1×1 PNG.
pub fn png() -> Vec<u8> {
    png_sized(0)
}

/// A decodable `width` × `height` RGB PNG (a gradient), its pixels in stored (uncompressed)
/// zlib blocks: big enough for a visible caption, and what the mock upstream generates.
pub fn png_image(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            raw.extend_from_slice(&[(x * 4) as u8, (y * 5) as u8, 0x80]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A minimal JPEG-shaped file: SOI, APP0 JFIF, a DQT-like segment, SOS and `scan` bytes, EOI.
/// Structurally valid for the segment walker; not decodable.
pub fn jpeg_sized(scan: usize) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
    out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    out.extend_from_slice(&[0xff, 0xdb, 0x00, 0x04, 0x00, 0x01]);
    out.extend_from_slice(&[0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
    out.extend((0..scan).map(|i| (i % 251) as u8 & 0xfe));
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

/// A WAV file: 16-bit mono PCM at 8 kHz with `samples` samples of a ramp.
pub fn wav(samples: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..samples)
        .flat_map(|i| ((i as i16).wrapping_mul(37)).to_le_bytes())
        .collect();
    let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
    out.extend_from_slice(b"fmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0");
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    let size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    out
}

/// An MP3-shaped file: `frames` MPEG-1 Layer III frame headers with silent payloads.
pub fn mp3(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..frames {
        out.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
        out.extend_from_slice(&[0u8; 413]);
    }
    out
}

/// A FLAC-shaped file: `STREAMINFO` and `audio` bytes of frames.
pub fn flac(audio: usize) -> Vec<u8> {
    let mut out = b"fLaC".to_vec();
    out.extend_from_slice(&[0x80, 0, 0, 34]);
    out.extend_from_slice(&[
        0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0x0a, 0xc4, 0x40, 0xf0, 0, 0, 0, 0,
    ]);
    out.extend_from_slice(&[0u8; 16]);
    out.extend((0..audio).map(|i| (i % 253) as u8));
    out
}

/// `bytes` (a PNG, JPEG or WebP) with `packet`, verbatim, as its only XMP packet: for tests of
/// the label forms other tools write into XMP (per-field properties, base64), which hegui's
/// writer never produces.
pub fn with_xmp(
    bytes: &[u8],
    format: crate::Format,
    packet: &str,
) -> Result<Vec<u8>, crate::LabelError> {
    use crate::codec::{concat, jpeg, png, webp};
    let pieces = match format {
        crate::Format::Png => png::splice_packet(bytes, packet)?,
        crate::Format::Jpeg => jpeg::splice_packet(bytes, packet)?,
        crate::Format::Webp => webp::splice_packet(bytes, packet)?,
        other => {
            return Err(crate::LabelError::unsupported(
                other.name(),
                "no XMP packet writer for tests",
            ));
        }
    };
    Ok(concat(bytes, &pieces))
}
