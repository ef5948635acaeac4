//! readiness.json written directly: the same bytes as `serde_json::to_vec_pretty` of the
//! [`ReadinessReport`] plus a newline, at memcpy speed. A million-user tenant has over 100,000
//! findings (65 MB of JSON); going through serde's pretty formatter byte by byte took a quarter
//! of a second. The unit tests compare the two on reports with every kind of string.

use std::io::{self, Write};

use super::finding::Finding;
use super::ReadinessReport;
use crate::cells::has_byte;

/// Flush the scratch buffer to the writer once it holds this much.
const CHUNK: usize = 1 << 18;

/// True when some byte needs escaping in a JSON string: a control character, `"` or `\`.
/// Eight bytes at a time (readiness.json at a million users is 65 MB, nearly all strings).
fn json_needs_escape(b: &[u8]) -> bool {
    const LOW: u64 = 0x2020_2020_2020_2020;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        // Some byte below 0x20 (exact: the classic "has less than" bit trick for n <= 128).
        let control = x.wrapping_sub(LOW) & !x & HIGH != 0;
        if control || has_byte(x, b'"') || has_byte(x, b'\\') {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|b| *b < 0x20 || *b == b'"' || *b == b'\\')
}

/// Appends `s` as a JSON string, escaped exactly as serde_json does (`\"`, `\\`, the short forms
/// `\b \t \n \f \r`, `\u00xx` for the other control characters; everything else as is).
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    if !json_needs_escape(bytes) {
        out.extend_from_slice(bytes);
    } else {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'\r' => out.extend_from_slice(b"\\r"),
                0x00..=0x1f => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]),
                _ => out.push(b),
            }
        }
    }
    out.push(b'"');
}

/// A list of strings as serde_json's pretty printer lays it out when the list's key sits at
/// `indent` spaces: `[]`, or one string per line at `indent + 2` and `]` at `indent`.
fn push_str_list(
    out: &mut Vec<u8>,
    items: &[String],
    indent: usize,
    w: &mut impl Write,
) -> io::Result<()> {
    if items.is_empty() {
        out.extend_from_slice(b"[]");
        return Ok(());
    }
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'\n');
        out.resize(out.len() + indent + 2, b' ');
        push_json_str(out, item);
        if out.len() >= CHUNK {
            w.write_all(out)?;
            out.clear();
        }
    }
    out.push(b'\n');
    out.resize(out.len() + indent, b' ');
    out.push(b']');
    Ok(())
}

fn push_finding(out: &mut Vec<u8>, f: &Finding, w: &mut impl Write) -> io::Result<()> {
    out.extend_from_slice(b"    {\n      \"code\": ");
    push_json_str(out, &f.code);
    out.extend_from_slice(b",\n      \"severity\": \"");
    out.extend_from_slice(f.severity.as_str().as_bytes());
    out.extend_from_slice(b"\",\n      \"message\": ");
    push_json_str(out, &f.message);
    out.extend_from_slice(b",\n      \"objects\": ");
    push_str_list(out, &f.objects, 6, w)?;
    out.extend_from_slice(b",\n      \"remedy\": ");
    push_json_str(out, &f.remedy);
    out.extend_from_slice(b"\n    }");
    Ok(())
}

/// Writes readiness.json: the report as pretty JSON and a trailing newline (what
/// `Workspace::write_json` would write), streamed in chunks.
pub fn write_report_json(r: &ReadinessReport, w: &mut impl Write) -> io::Result<()> {
    let mut out: Vec<u8> = Vec::with_capacity(CHUNK + (1 << 14));
    out.extend_from_slice(b"{\n  \"summary\": ");
    // The summary is small and holds optional and nested fields: serde lays it out, and its
    // lines are indented one level (JSON strings never hold a raw newline).
    let summary = serde_json::to_vec_pretty(&r.summary)?;
    for (i, line) in summary.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\n  ");
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b",\n  \"findings\": ");
    if r.findings.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.extend_from_slice(b"[\n");
        for (i, f) in r.findings.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            push_finding(&mut out, f, w)?;
            if out.len() >= CHUNK {
                w.write_all(&out)?;
                out.clear();
            }
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(b",\n  \"users_unsupported_only\": ");
    push_str_list(&mut out, &r.users_unsupported_only, 2, w)?;
    out.extend_from_slice(b"\n}\n");
    w.write_all(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readiness::{Seats, Severity, Summary};

    fn direct(r: &ReadinessReport) -> String {
        let mut v = Vec::new();
        write_report_json(r, &mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    fn serde(r: &ReadinessReport) -> String {
        let mut s = serde_json::to_string_pretty(r).unwrap();
        s.push('\n');
        s
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{2028}\u{7f}");
        for s in [all.as_str(), "", "plain", "\"", "\\", "a\"b\\c\nd\u{1}"] {
            let mut v = Vec::new();
            push_json_str(&mut v, s);
            assert_eq!(
                String::from_utf8(v).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn escape_detection_is_exact() {
        // Every byte at every position of a 17-byte string (two words and a remainder).
        for b in 0u8..=0xff {
            for pos in 0..17 {
                let mut v = vec![b'a'; 17];
                v[pos] = b;
                let want = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(json_needs_escape(&v), want, "byte {b:#x} at {pos}");
            }
        }
        // Bytes of multi-byte UTF-8 characters never need escaping.
        assert!(!json_needs_escape("é€😀ÿ\u{80}".repeat(5).as_bytes()));
    }

    #[test]
    fn empty_report_matches_serde() {
        let r = ReadinessReport::default();
        assert_eq!(direct(&r), serde(&r));
    }

    #[test]
    fn full_report_matches_serde() {
        let long: Vec<String> = (0..100_000).map(|i| format!("user{i}@x.test")).collect();
        let r = ReadinessReport {
            summary: Summary {
                blocker: 1,
                warning: 2,
                info: 3,
                seats: Seats {
                    available: Some(5),
                    needed: 7,
                    shortfall: Some(2),
                    unknown_products: vec!["A\"B".into(), "C".into()],
                    ..Seats::default()
                },
            },
            findings: vec![
                Finding::new(
                    "seats.short",
                    Severity::Blocker,
                    "short by 2 \"seats\"\n\ttab",
                    vec![],
                    "buy \\ more",
                ),
                Finding::new("user.x", Severity::Warning, "m", long.clone(), "r"),
                Finding::new(
                    "device.unsupported.os_version",
                    Severity::Info,
                    "é€😀",
                    vec!["=d1".into(), "".into(), "\u{1}".into()],
                    "",
                ),
            ],
            users_unsupported_only: long,
        };
        assert_eq!(direct(&r), serde(&r));
        let empty_lists = ReadinessReport {
            findings: vec![Finding::new("c", Severity::Info, "", vec![], "")],
            ..ReadinessReport::default()
        };
        assert_eq!(direct(&empty_lists), serde(&empty_lists));
    }
}
