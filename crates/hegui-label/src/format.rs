//! File formats and how they are recognized: by magic bytes first, by extension only for formats
//! without magic (Markdown).

use serde::Serialize;

/// A file format with an implicit-label carrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// PNG: `iTXt` XMP before `IDAT`.
    Png,
    /// JPEG: XMP in APP1.
    Jpeg,
    /// WebP: RIFF `XMP ` chunk and the VP8X flag.
    Webp,
    /// WAV: RIFF `AIGC` chunk.
    Wav,
    /// MP3: ID3v2 `TXXX` with description `AIGC`.
    Mp3,
    /// FLAC: Vorbis comment `AIGC`.
    Flac,
    /// Ogg Vorbis and Ogg Opus: comment header `AIGC`.
    Ogg,
    /// MP4, MOV, M4A: `moov/udta/meta` `mdta` key `AIGC`.
    Mp4,
    /// PDF: `/AIGC` in the Info dictionary, by incremental update.
    Pdf,
    /// DOCX, XLSX, PPTX: `docProps/custom.xml` property `AIGC`.
    Ooxml,
    /// Markdown: front matter mapping `AIGC:`.
    Markdown,
}

impl Format {
    /// Every format, for listings.
    pub const ALL: [Format; 11] = [
        Format::Png,
        Format::Jpeg,
        Format::Webp,
        Format::Wav,
        Format::Mp3,
        Format::Flac,
        Format::Ogg,
        Format::Mp4,
        Format::Pdf,
        Format::Ooxml,
        Format::Markdown,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Webp => "webp",
            Format::Wav => "wav",
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
            Format::Mp4 => "mp4",
            Format::Pdf => "pdf",
            Format::Ooxml => "ooxml",
            Format::Markdown => "markdown",
        }
    }

    /// Recognizes a format by its magic bytes. Markdown has none: see [`Format::detect`].
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let at =
            |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
        if at(0, b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if at(0, b"\xff\xd8\xff") {
            Some(Format::Jpeg)
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            Some(Format::Webp)
        } else if (at(0, b"RIFF") || at(0, b"RF64")) && at(8, b"WAVE") {
            Some(Format::Wav)
        } else if at(0, b"ID3")
            || (bytes.len() > 2
                && bytes[0] == 0xff
                && bytes[1] & 0xe0 == 0xe0
                && !at(0, b"\xff\xd8"))
        {
            Some(Format::Mp3)
        } else if at(0, b"fLaC") {
            Some(Format::Flac)
        } else if at(0, b"OggS") {
            Some(Format::Ogg)
        } else if at(4, b"ftyp")
            || at(4, b"moov")
            || at(4, b"mdat")
            || at(4, b"wide")
            || at(4, b"free")
        {
            Some(Format::Mp4)
        } else if bytes.len() >= 5
            && bytes[..bytes.len().min(1024)]
                .windows(5)
                .any(|w| w == b"%PDF-")
        {
            Some(Format::Pdf)
        } else if at(0, b"PK\x03\x04") {
            Some(Format::Ooxml)
        } else {
            None
        }
    }

    /// The format for a file extension (case-insensitive).
    pub fn from_extension(extension: &str) -> Option<Format> {
        Some(match extension.to_ascii_lowercase().as_str() {
            "png" => Format::Png,
            "jpg" | "jpeg" | "jfif" => Format::Jpeg,
            "webp" => Format::Webp,
            "wav" | "wave" => Format::Wav,
            "mp3" => Format::Mp3,
            "flac" => Format::Flac,
            "ogg" | "oga" | "opus" => Format::Ogg,
            "mp4" | "m4a" | "m4v" | "mov" | "3gp" => Format::Mp4,
            "pdf" => Format::Pdf,
            "docx" | "xlsx" | "pptx" | "docm" | "xlsm" | "pptm" | "dotx" | "xltx" | "potx" => {
                Format::Ooxml
            }
            "md" | "markdown" => Format::Markdown,
            _ => return None,
        })
    }

    /// Magic bytes first; the extension only when the bytes have no magic and are UTF-8 text.
    pub fn detect(bytes: &[u8], extension: Option<&str>) -> Option<Format> {
        Format::sniff(bytes).or_else(|| {
            let by_extension = extension.and_then(Format::from_extension)?;
            (by_extension == Format::Markdown && std::str::from_utf8(bytes).is_ok())
                .then_some(Format::Markdown)
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
