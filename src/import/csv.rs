//! CSV reading: encoding (UTF-8 ± BOM, UTF-16 LE/BE with BOM), delimiter sniffing (`,` `;` tab,
//! Excel's `sep=` line), streaming records.

use std::io::{Cursor, Read};

use serde_json::json;

use super::rows::{io_err, open_file, Input, Row, RowReader};
use crate::error::{Error, Result};

const HEAD: usize = 64 * 1024;

pub struct CsvRows {
    rdr: csv::Reader<Box<dyn Read>>,
    rec: csv::StringRecord,
    n: u32,
    file: String,
    /// Rough number of records (file size / average line length of the first 64 KiB), to reserve
    /// memory once instead of growing ten-million-entry vectors by doubling.
    pub estimated_rows: Option<usize>,
}

fn encoding_error(file: &str, what: String) -> Error {
    Error::input(
        "import.csv.encoding",
        format!("{file}: {what}; save the file as \"CSV UTF-8 (Comma delimited)\" or \"Unicode Text\" (UTF-16) and import it again"),
    )
    .with_detail(json!({ "file": file }))
}

fn decode_utf16(file: &str, bytes: &[u8], le: bool) -> Result<Vec<u8>> {
    let units = bytes.chunks_exact(2).map(|c| {
        let (a, b) = (
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        );
        if le {
            u16::from_le_bytes([a, b])
        } else {
            u16::from_be_bytes([a, b])
        }
    });
    let mut out = String::with_capacity(bytes.len() / 2 + 16);
    for (i, r) in char::decode_utf16(units).enumerate() {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(encoding_error(
                    file,
                    format!(
                        "the file starts with a UTF-16 {} byte order mark but has an invalid character at byte {}",
                        if le { "LE" } else { "BE" },
                        2 + i * 2
                    ),
                ))
            }
        }
    }
    if bytes.len() % 2 == 1 {
        return Err(encoding_error(
            file,
            "the file starts with a UTF-16 byte order mark but has an odd number of bytes".into(),
        ));
    }
    Ok(out.into_bytes())
}

/// Checks the head is UTF-8 (a multi-byte character cut at the end of the head is fine).
fn check_utf8(file: &str, head: &[u8], complete: bool) -> Result<()> {
    if let Err(e) = std::str::from_utf8(head) {
        if !complete && e.error_len().is_none() {
            return Ok(());
        }
        let at = e.valid_up_to();
        let line = head.iter().take(at).filter(|&&b| b == b'\n').count() + 1;
        let zeros = head.iter().filter(|&&b| b == 0).count();
        let guess = if zeros * 4 > head.len() {
            "it looks like UTF-16 without a byte order mark"
        } else {
            "it looks like an ANSI/Windows-1252 (or other 8-bit code page) export"
        };
        return Err(encoding_error(
            file,
            format!("not valid UTF-8 at byte {at} (line {line}); {guess}"),
        ));
    }
    Ok(())
}

/// Picks the delimiter from the first lines; `sep=X` (Excel's hint line) wins.
pub fn sniff_delimiter(head: &[u8]) -> (u8, bool) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    if let Some(first) = text.lines().next() {
        let f = first.trim_start_matches('\u{feff}').trim();
        if let Some(d) = f.strip_prefix("sep=").or_else(|| f.strip_prefix("SEP=")) {
            let d = d.trim_matches('"');
            if let Some(&b) = d.as_bytes().first() {
                if d.len() == 1 {
                    return (b, true);
                }
            }
        }
        let _ = lines.next();
    }
    let sample: Vec<&str> = text
        .lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.to_ascii_lowercase().starts_with("version:")
        })
        .take(10)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for d in [b',', b';', b'\t'] {
        let mut lines_with = 0;
        let mut total = 0;
        for l in &sample {
            let mut inq = false;
            let mut n = 0;
            for &b in l.as_bytes() {
                if b == b'"' {
                    inq = !inq;
                } else if b == d && !inq {
                    n += 1;
                }
            }
            if n > 0 {
                lines_with += 1;
            }
            total += n;
        }
        if (lines_with, total) > (best.1, best.2) {
            best = (d, lines_with, total);
        }
    }
    (best.0, false)
}

impl CsvRows {
    pub fn open(input: &Input) -> Result<CsvRows> {
        let file = input.display();
        let (reader, head): (Box<dyn Read>, Vec<u8>) = match input {
            Input::Path(p) => {
                let mut f = open_file(p)?;
                let mut head = Vec::with_capacity(HEAD);
                (&mut f)
                    .take(HEAD as u64)
                    .read_to_end(&mut head)
                    .map_err(|e| io_err(p, e))?;
                if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
                    let mut all = head;
                    f.read_to_end(&mut all).map_err(|e| io_err(p, e))?;
                    let le = all.starts_with(&[0xFF, 0xFE]);
                    let utf8 = decode_utf16(&file, all.get(2..).unwrap_or(&[]), le)?;
                    let h = utf8.iter().take(HEAD).copied().collect();
                    (Box::new(Cursor::new(utf8)), h)
                } else {
                    let complete = head.len() < HEAD;
                    check_utf8(&file, &head, complete)?;
                    let h = head.clone();
                    (Box::new(Cursor::new(head).chain(f)), h)
                }
            }
            Input::Bytes { data, .. } => {
                if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
                    let le = data.starts_with(&[0xFF, 0xFE]);
                    let utf8 = decode_utf16(&file, data.get(2..).unwrap_or(&[]), le)?;
                    let h = utf8.iter().take(HEAD).copied().collect();
                    (Box::new(Cursor::new(utf8)), h)
                } else {
                    let head: Vec<u8> = data.iter().take(HEAD).copied().collect();
                    check_utf8(&file, &head, data.len() <= HEAD)?;
                    (Box::new(Cursor::new(data.clone())), head)
                }
            }
        };
        let total = match input {
            Input::Path(p) => std::fs::metadata(p).map(|m| m.len() as usize).ok(),
            Input::Bytes { data, .. } => Some(data.len()),
        };
        let mut rows = Self::from_reader(reader, &head, file);
        let lines = head.iter().filter(|&&b| b == b'\n').count();
        if let (Some(total), true) = (total, lines > 1) {
            rows.estimated_rows = Some((total / (head.len() / lines).max(1)).min(20_000_000));
        }
        Ok(rows)
    }

    /// A reader over bytes already in memory (tests).
    #[cfg(test)]
    pub fn from_bytes(data: &[u8], file: &str) -> Result<CsvRows> {
        Self::open(&Input::Bytes {
            name: file.into(),
            data: data.to_vec(),
        })
    }

    fn from_reader(reader: Box<dyn Read>, head: &[u8], file: String) -> CsvRows {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let (delim, sep_line) = sniff_delimiter(head);
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delim)
            .from_reader(reader);
        let mut rows = CsvRows {
            rdr,
            rec: csv::StringRecord::new(),
            n: 0,
            file,
            estimated_rows: None,
        };
        if sep_line {
            // The `sep=;` line is Excel's, not data: skip it (it still counts as row 1).
            let _ = rows.advance();
        }
        rows
    }
}

impl RowReader for CsvRows {
    fn advance(&mut self) -> Result<bool> {
        match self.rdr.read_record(&mut self.rec) {
            Ok(more) => {
                if more {
                    self.n = self.n.saturating_add(1);
                    if self.n == 1 {
                        // Strip a UTF-8 BOM from the very first cell.
                        if let Some(first) = self.rec.get(0) {
                            if let Some(stripped) = first.strip_prefix('\u{feff}') {
                                let mut v: Vec<String> =
                                    self.rec.iter().map(|s| s.to_string()).collect();
                                if let Some(f) = v.first_mut() {
                                    *f = stripped.to_string();
                                }
                                self.rec = csv::StringRecord::from(v);
                            }
                        }
                    }
                }
                Ok(more)
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => Err(encoding_error(
                        &self.file,
                        format!("not valid UTF-8 in the record at line {line}"),
                    )),
                    _ => Err(Error::input(
                        "import.csv.unreadable",
                        format!("{}: cannot read the CSV at line {line}: {e}", self.file),
                    )
                    .with_detail(json!({ "file": self.file, "line": line }))),
                }
            }
        }
    }
    fn row(&self) -> &dyn Row {
        &self.rec
    }
    fn row_no(&self) -> u32 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[u8]) -> Result<Vec<Vec<String>>> {
        let mut r = CsvRows::from_bytes(data, "t.csv")?;
        let mut out = Vec::new();
        while r.advance()? {
            out.push(r.row().to_vec());
        }
        Ok(out)
    }

    #[test]
    fn bom_semicolon_crlf_multiline() {
        let r = rows(b"\xEF\xBB\xBFa;b\r\n1;\"x\r\ny;z\"\r\n").unwrap();
        assert_eq!(r, vec![vec!["a", "b"], vec!["1", "x\r\ny;z"]]);
    }

    #[test]
    fn utf16_le_and_be() {
        let text = "UPN\tName\r\nä@x\tÄ\r\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(rows(&le).unwrap()[1], vec!["ä@x", "Ä"]);
        assert_eq!(rows(&be).unwrap()[1], vec!["ä@x", "Ä"]);
    }

    #[test]
    fn ansi_is_a_clear_encoding_error() {
        let e = rows(b"UPN,Name\nm@x,M\xfcller\n").unwrap_err();
        assert_eq!(e.code, "import.csv.encoding");
        assert!(e.message.contains("Windows-1252"), "{}", e.message);
    }

    #[test]
    fn sep_line_sets_delimiter() {
        let r = rows(b"sep=;\na;b,c\n").unwrap();
        assert_eq!(r, vec![vec!["a", "b,c"]]);
    }
}
