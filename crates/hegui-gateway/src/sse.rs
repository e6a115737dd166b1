//! Server-sent events from the upstream: a byte stream split into the `data` of its events.
//! Only `data` lines matter to the gateway (joined by `\n`; LF or CRLF separators; comments and
//! other fields ignored).

/// Splits an SSE byte stream into the `data` of its events.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Feeds bytes; returns the data of each completed event (data lines joined by `\n`).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some((end, skip)) = find_event_end(&self.buffer) {
            let raw: Vec<u8> = self.buffer.drain(..end + skip).take(end).collect();
            let text = String::from_utf8_lossy(&raw);
            let mut data: Vec<&str> = Vec::new();
            for line in text.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if let Some(rest) = line.strip_prefix("data:") {
                    data.push(rest.strip_prefix(' ').unwrap_or(rest));
                }
            }
            if !data.is_empty() {
                events.push(data.join("\n"));
            }
        }
        events
    }

    /// Bytes of an unfinished event.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.buffer.len()
    }
}

/// The end of the first event (index of its blank-line separator) and the separator length.
fn find_event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 1 < buffer.len() {
        if buffer[i] == b'\n' && buffer[i + 1] == b'\n' {
            return Some((i, 2));
        }
        if buffer[i] == b'\r' && buffer.get(i + 1..i + 4) == Some(b"\n\r\n".as_slice()) {
            return Some((i, 4));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_parser_handles_split_events_and_crlf() {
        let mut p = SseParser::default();
        assert!(p.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            p.push(b":1}\n\ndata: [DONE]\r\n\r\n"),
            vec!["{\"a\":1}", "[DONE]"]
        );
        assert_eq!(p.push(b": comment\n\n"), Vec::<String>::new());
        assert_eq!(p.pending(), 0);
    }
}
