//! OOXML (DOCX, XLSX, PPTX): the label is the custom document property `AIGC` in
//! `docProps/custom.xml`, its JSON in `<vt:lpwstr>` (text-file guide 20258A ◐). hegui writes the
//! wrapped form; the reader accepts both (an open-source writer uses the bare form).
//!
//! Writing copies every other ZIP entry with `raw_copy_file` (compressed bytes untouched), rewrites
//! `custom.xml` (other properties kept, an old `AIGC` property dropped, `pid`s renumbered), and
//! adds the `[Content_Types].xml` override and the package relationship when they are missing.
//! Content for the integrity code: for every entry except those three, in archive order, its name,
//! a NUL, its uncompressed length (8 bytes big-endian) and its uncompressed bytes.

use std::io::{Cursor, Read as _, Write as _};

use zip::write::SimpleFileOptions;

use crate::LabelError;
use crate::codec::xmp::unescape;
use crate::codec::{Carrier, Codec, Raw};

pub(crate) struct Ooxml;

const CUSTOM: &str = "docProps/custom.xml";
const TYPES: &str = "[Content_Types].xml";
const RELS: &str = "_rels/.rels";
const FMTID: &str = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}";
const CUSTOM_TYPE: &str = "application/vnd.openxmlformats-officedocument.custom-properties+xml";
const CUSTOM_REL: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties";

#[allow(clippy::needless_pass_by_value)] // used as `map_err(zip_error)`
fn zip_error(e: zip::result::ZipError) -> LabelError {
    LabelError::corrupt("ooxml", 0, e.to_string())
}

fn archive(bytes: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, LabelError> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)
}

fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, LabelError> {
    let mut file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(zip_error(e)),
    };
    if file.size() > 16 << 20 {
        return Err(LabelError::unsupported(
            "ooxml",
            format!("`{name}` over 16 MiB"),
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| LabelError::corrupt("ooxml", 0, format!("`{name}`: {e}")))?;
    Ok(Some(text))
}

/// The `<property …>…</property>` elements: (span, name, inner text of the value element).
fn properties(xml: &str) -> Vec<(std::ops::Range<usize>, String, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = xml[from..].find("<property ").map(|p| p + from) {
        let Some(end) = xml[p..]
            .find("</property>")
            .map(|e| p + e + "</property>".len())
        else {
            break;
        };
        let element = &xml[p..end];
        let name = element
            .find("name=\"")
            .map(|n| &element[n + 6..])
            .and_then(|s| s.find('"').map(|q| s[..q].to_string()))
            .unwrap_or_default();
        let inner = element
            .find("<vt:lpwstr>")
            .and_then(|s| {
                element[s + 11..]
                    .find("</vt:lpwstr>")
                    .map(|e| unescape(&element[s + 11..s + 11 + e]))
            })
            .unwrap_or_default();
        out.push((p..end, name, inner));
        from = end;
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn new_custom(existing: Option<&str>, value: &str) -> String {
    let mut kept = Vec::new();
    let mut head = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties\" xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">".to_string();
    if let Some(xml) = existing {
        if let Some(open) = xml.find("<Properties")
            && let Some(close) = xml[open..].find('>')
        {
            head = xml[..open + close + 1].to_string();
        }
        for (span, name, _) in properties(xml) {
            if !name.eq_ignore_ascii_case("AIGC") {
                kept.push(xml[span].to_string());
            }
        }
    }
    let mut out = head;
    let mut pid = 2;
    for element in kept {
        // Renumber pids so they stay unique and dense.
        let renumbered = match element.find("pid=\"") {
            Some(p) => {
                let end = element[p + 5..]
                    .find('"')
                    .map_or(element.len(), |e| p + 5 + e);
                format!("{}pid=\"{pid}\"{}", &element[..p], &element[end + 1..])
            }
            None => element,
        };
        out.push_str(&renumbered);
        pid += 1;
    }
    out.push_str(&format!(
        "<property fmtid=\"{FMTID}\" pid=\"{pid}\" name=\"AIGC\"><vt:lpwstr>{}</vt:lpwstr></property></Properties>",
        escape(value)
    ));
    out
}

fn is_metadata(name: &str) -> bool {
    name == CUSTOM || name == TYPES || name == RELS
}

impl Codec for Ooxml {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let mut archive = archive(bytes)?;
        let Some(xml) = read_entry(&mut archive, CUSTOM)? else {
            return Ok(Vec::new());
        };
        if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
            return Err(LabelError::unsupported(
                "ooxml",
                "custom.xml declares a DTD; refused",
            ));
        }
        Ok(properties(&xml)
            .into_iter()
            .filter(|(_, name, _)| name.eq_ignore_ascii_case("AIGC"))
            .map(|(_, _, value)| Raw::new(Carrier::OoxmlCustom, value))
            .collect())
    }

    fn write(&self, bytes: &[u8], value: &str) -> Result<Vec<u8>, LabelError> {
        let mut source = archive(bytes)?;
        let custom = new_custom(read_entry(&mut source, CUSTOM)?.as_deref(), value);
        let mut types = read_entry(&mut source, TYPES)?.ok_or_else(|| {
            LabelError::corrupt("ooxml", 0, "no `[Content_Types].xml`: not an OOXML package")
        })?;
        if !types.contains("/docProps/custom.xml") {
            let at = types.rfind("</Types>").ok_or_else(|| {
                LabelError::corrupt("ooxml", 0, "`[Content_Types].xml` has no `</Types>`")
            })?;
            types.insert_str(
                at,
                &format!(
                    "<Override PartName=\"/docProps/custom.xml\" ContentType=\"{CUSTOM_TYPE}\"/>"
                ),
            );
        }
        let mut rels = read_entry(&mut source, RELS)?.unwrap_or_else(|| {
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"></Relationships>".into()
        });
        if !rels.contains("docProps/custom.xml") {
            let at = rels.rfind("</Relationships>").ok_or_else(|| {
                LabelError::corrupt("ooxml", 0, "`_rels/.rels` has no `</Relationships>`")
            })?;
            rels.insert_str(at, &format!("<Relationship Id=\"rIdHeguiAigc\" Type=\"{CUSTOM_REL}\" Target=\"docProps/custom.xml\"/>"));
        }
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() + 4096)));
        // The parts written here are stored, not deflated, with a fixed time: the same input
        // gives the same bytes whatever the clock and whichever deflate backend the build
        // links (zip's features differ with the crates built beside it). They are a few hundred
        // bytes; the document's own parts are copied as they were.
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        let write_text = |writer: &mut zip::ZipWriter<Cursor<Vec<u8>>>,
                          name: &str,
                          text: &str|
         -> Result<(), LabelError> {
            writer.start_file(name, options).map_err(zip_error)?;
            writer
                .write_all(text.as_bytes())
                .map_err(|e| LabelError::corrupt("ooxml", 0, e.to_string()))
        };
        // [Content_Types].xml first, as OPC consumers expect.
        write_text(&mut writer, TYPES, &types)?;
        for i in 0..source.len() {
            let file = source.by_index_raw(i).map_err(zip_error)?;
            match file.name() {
                TYPES => {}
                RELS => {
                    drop(file);
                    write_text(&mut writer, RELS, &rels)?;
                }
                CUSTOM => {}
                _ => writer.raw_copy_file(file).map_err(zip_error)?,
            }
        }
        if source.index_for_name(RELS).is_none() {
            write_text(&mut writer, RELS, &rels)?;
        }
        write_text(&mut writer, CUSTOM, &custom)?;
        Ok(writer.finish().map_err(zip_error)?.into_inner())
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let mut archive = archive(bytes)?;
        let mut buffer = Vec::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).map_err(zip_error)?;
            if is_metadata(file.name()) || file.is_dir() {
                continue;
            }
            buffer.clear();
            file.read_to_end(&mut buffer)
                .map_err(|e| LabelError::corrupt("ooxml", 0, format!("`{}`: {e}", file.name())))?;
            sink(file.name().as_bytes());
            sink(&[0]);
            sink(&(buffer.len() as u64).to_be_bytes());
            sink(&buffer);
        }
        Ok(())
    }
}
