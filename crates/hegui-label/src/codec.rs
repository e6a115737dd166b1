//! The shared codec trait and the byte-level helpers every codec uses.
//!
//! Each format lives in its own module and implements `Codec`: `find` returns every label
//! candidate with its carrier, `splice` (or, for small formats, `write`) returns the file with
//! exactly one label (replacing any old one) as a plan of input ranges and new pieces, and
//! `content` feeds the bytes covered by the integrity code. The invariant tying
//! them together, tested per codec: `content(write(x, v)) == content(x)` for every `x` and `v`.
//!
//! Most codecs are hand-written chunk/box walkers of a few hundred lines: the crates that exist
//! either re-encode (the `png` encoder), pull a large tree for one field (`lofty`, `lopdf`), or
//! cannot edit in place (`mp4`). A walker that copies untouched bytes verbatim is what guarantees
//! the media is never re-encoded.

use serde::Serialize;

use crate::{Form, Format, LabelError};

pub(crate) mod flac;
pub(crate) mod jpeg;
pub(crate) mod markdown;
pub(crate) mod mp3;
pub(crate) mod mp4;
pub(crate) mod ogg;
#[cfg(feature = "ooxml")]
pub(crate) mod ooxml;
pub(crate) mod pdf;
pub(crate) mod png;
pub(crate) mod riff;
pub(crate) mod tiff;
pub(crate) mod webp;
pub(crate) mod xmp;

/// Where a label was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Carrier {
    /// XMP `TC260:AIGC` in a JPEG APP1 segment.
    JpegXmp,
    /// EXIF `UserComment` (JPEG APP1 or WebP `EXIF` chunk).
    ExifUserComment,
    /// XMP in a PNG `iTXt` chunk (`XML:com.adobe.xmp`).
    PngXmp,
    /// A PNG `tEXt`, `zTXt` or `iTXt` chunk with keyword `AIGC`.
    PngText,
    /// XMP in a WebP `XMP ` chunk.
    WebpXmp,
    /// A RIFF `AIGC` chunk (WAV).
    RiffChunk,
    /// ID3v2 `TXXX` frame, description `AIGC` (MP3).
    Id3Txxx,
    /// Vorbis comment `AIGC` (FLAC, Ogg Vorbis, Ogg Opus).
    VorbisComment,
    /// MP4 `mdta` key `AIGC` in `keys` + `ilst` (ffmpeg `use_metadata_tags`).
    Mp4Mdta,
    /// MP4 `ilst` freeform item `----:…:AIGC`.
    Mp4Freeform,
    /// MP4 top-level `uuid` XMP box.
    Mp4UuidXmp,
    /// A literal MP4 `aigc` box.
    Mp4AigcBox,
    /// `/AIGC` in a PDF Info dictionary.
    PdfInfo,
    /// XMP in a PDF metadata stream.
    PdfXmp,
    /// `docProps/custom.xml` property `AIGC` (OOXML).
    OoxmlCustom,
    /// Markdown front matter `AIGC:`.
    FrontMatter,
    /// XMP properties of the TC260 namespace, one per Annex E key (`AIGC:Label="1"`,
    /// `AIGC:ContentProducer=…`), as attributes or elements: a form other tools write into
    /// images; the XMP carrier itself is vendor convention (labels.md §4 ◐).
    XmpFields,
    /// An XMP property `XmpKvBase64` holding the Annex E JSON (or `AIGC={…}`) in base64, the
    /// transport form of Alibaba Cloud's API (labels.md §4, R7 ◐) also found in image XMP.
    XmpKvBase64,
}

impl Carrier {
    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Carrier::JpegXmp => "jpeg-xmp",
            Carrier::ExifUserComment => "exif-user-comment",
            Carrier::PngXmp => "png-xmp",
            Carrier::PngText => "png-text",
            Carrier::WebpXmp => "webp-xmp",
            Carrier::RiffChunk => "riff-chunk",
            Carrier::Id3Txxx => "id3-txxx",
            Carrier::VorbisComment => "vorbis-comment",
            Carrier::Mp4Mdta => "mp4-mdta",
            Carrier::Mp4Freeform => "mp4-freeform",
            Carrier::Mp4UuidXmp => "mp4-uuid-xmp",
            Carrier::Mp4AigcBox => "mp4-aigc-box",
            Carrier::PdfInfo => "pdf-info",
            Carrier::PdfXmp => "pdf-xmp",
            Carrier::OoxmlCustom => "ooxml-custom",
            Carrier::FrontMatter => "front-matter",
            Carrier::XmpFields => "xmp-fields",
            Carrier::XmpKvBase64 => "xmp-kv-base64",
        }
    }
}

/// One label candidate as found in a file, before JSON parsing.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) carrier: Carrier,
    /// The label value: Annex E JSON (Markdown: front-matter lines).
    pub(crate) value: String,
    /// The form the carrier imposes, when the value was rebuilt from it (XMP per-field
    /// properties become a JSON object of the keys found); `None`: the form of the JSON.
    pub(crate) form: Option<Form>,
    /// Why the candidate's value could not be decoded (bad base64): the candidate is reported
    /// like one whose JSON does not parse.
    pub(crate) broken: Option<LabelError>,
    pub(crate) warnings: Vec<String>,
}

impl Raw {
    pub(crate) fn new(carrier: Carrier, value: impl Into<String>) -> Raw {
        Raw {
            carrier,
            value: value.into(),
            form: None,
            broken: None,
            warnings: Vec::new(),
        }
    }

    /// A candidate whose value could not be decoded.
    pub(crate) fn broken(carrier: Carrier, error: LabelError) -> Raw {
        Raw {
            broken: Some(error),
            ..Raw::new(carrier, "")
        }
    }
}

/// One piece of a labeled file: a range of the input, copied verbatim, or new bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// `bytes[range]` of the input file.
    Input(std::ops::Range<usize>),
    /// Bytes that are not in the input (the new metadata, a rebuilt `moov`, a patched header).
    Owned(Vec<u8>),
}

/// Builds a splice plan: consecutive input ranges are merged, so that the media data of a
/// large file is one piece written with one call.
#[derive(Debug, Default)]
pub(crate) struct Pieces(Vec<Piece>);

impl Pieces {
    pub(crate) fn new() -> Pieces {
        Pieces(Vec::new())
    }
    /// Appends `bytes[range]`.
    pub(crate) fn input(&mut self, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        if let Some(Piece::Input(last)) = self.0.last_mut()
            && last.end == range.start
        {
            last.end = range.end;
            return;
        }
        self.0.push(Piece::Input(range));
    }
    /// Appends new bytes.
    pub(crate) fn owned(&mut self, bytes: impl Into<Vec<u8>>) {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return;
        }
        if let Some(Piece::Owned(last)) = self.0.last_mut() {
            last.extend_from_slice(&bytes);
            return;
        }
        self.0.push(Piece::Owned(bytes));
    }
    /// Total length of the output.
    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(piece_len).sum()
    }
    /// The plan.
    pub(crate) fn into_vec(self) -> Vec<Piece> {
        self.0
    }
}

pub(crate) fn piece_len(piece: &Piece) -> usize {
    match piece {
        Piece::Input(r) => r.len(),
        Piece::Owned(v) => v.len(),
    }
}

/// Concatenates a splice plan into one buffer.
pub(crate) fn concat(bytes: &[u8], pieces: &[Piece]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pieces.iter().map(piece_len).sum());
    for piece in pieces {
        match piece {
            Piece::Input(r) => out.extend_from_slice(&bytes[r.clone()]),
            Piece::Owned(v) => out.extend_from_slice(v),
        }
    }
    out
}

/// One file format's label carrier.
pub(crate) trait Codec {
    /// Every label candidate in the file.
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError>;
    /// The file with `value` as its only label; media bytes copied verbatim.
    fn write(&self, bytes: &[u8], value: &str) -> Result<Vec<u8>, LabelError> {
        Ok(concat(bytes, &self.splice(bytes, value)?))
    }
    /// The same file as `write` as a splice plan: ranges of `bytes` and new pieces, so that a
    /// large file can be written without building the whole output in memory. Codecs for small
    /// formats keep the default, one owned piece; every codec implements `write` or `splice`.
    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        Ok(vec![Piece::Owned(self.write(bytes, value)?)])
    }
    /// Feeds the bytes the integrity code covers: everything except label carriers.
    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError>;
}

/// The codec for a format.
pub(crate) fn codec(format: Format) -> Result<&'static dyn Codec, LabelError> {
    Ok(match format {
        Format::Png => &png::Png,
        Format::Jpeg => &jpeg::Jpeg,
        Format::Webp => &webp::Webp,
        Format::Wav => &riff::Wav,
        Format::Mp3 => &mp3::Mp3,
        Format::Flac => &flac::Flac,
        Format::Ogg => &ogg::Ogg,
        Format::Mp4 => &mp4::Mp4,
        Format::Pdf => &pdf::Pdf,
        #[cfg(feature = "ooxml")]
        Format::Ooxml => &ooxml::Ooxml,
        #[cfg(not(feature = "ooxml"))]
        Format::Ooxml => {
            return Err(LabelError::unsupported(
                "ooxml",
                "built without the `ooxml` feature",
            ));
        }
        Format::Markdown => &markdown::Markdown,
    })
}

/// Bounds-checked big- and little-endian reads that turn a short input into a `Corrupt` error.
pub(crate) struct Bytes<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) format: &'static str,
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8], format: &'static str) -> Self {
        Bytes { data, format }
    }
    pub(crate) fn slice(&self, start: usize, len: usize) -> Result<&'a [u8], LabelError> {
        start
            .checked_add(len)
            .and_then(|end| self.data.get(start..end))
            .ok_or_else(|| {
                LabelError::corrupt(
                    self.format,
                    start,
                    format!(
                        "needs {len} bytes, only {} left",
                        self.data.len().saturating_sub(start)
                    ),
                )
            })
    }
    pub(crate) fn u8(&self, at: usize) -> Result<u8, LabelError> {
        Ok(self.slice(at, 1)?[0])
    }
    pub(crate) fn be16(&self, at: usize) -> Result<u16, LabelError> {
        let b = self.slice(at, 2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn be32(&self, at: usize) -> Result<u32, LabelError> {
        let b = self.slice(at, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn be64(&self, at: usize) -> Result<u64, LabelError> {
        let b = self.slice(at, 8)?;
        let mut a = [0; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    pub(crate) fn le32(&self, at: usize) -> Result<u32, LabelError> {
        let b = self.slice(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 (ISO 3309, as PNG uses it).
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for part in parts {
        for &b in *part {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xffff_ffff
}

/// Latin-1 bytes to a string.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Inflates zlib data with a size cap, so that a decompression bomb is an error, not an OOM.
pub(crate) fn inflate(data: &[u8], format: &'static str) -> Result<Vec<u8>, LabelError> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, 16 << 20)
        .map_err(|e| LabelError::corrupt(format, 0, format!("bad compressed text: {e:?}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_check_value() {
        assert_eq!(super::crc32(&[b"123456789"]), 0xcbf4_3926);
    }
}
