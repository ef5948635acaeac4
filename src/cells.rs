//! Cells of the spreadsheets and CSV files the tool writes: formula defusing and RFC 4180
//! quoting, shared by readiness.csv, plan.csv and plan.xlsx. CSV cells are written byte for
//! byte as the `csv` crate writes them, without its per-field overhead (the million-user files
//! are 70-140 MB), and scanned eight bytes at a time.

use std::borrow::Cow;

/// A text that a spreadsheet program would take for a formula: it starts with `=`, `+`, `-`,
/// `@`, tab or CR.
pub fn formula_like(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Neutralises spreadsheet formulas: formula-like text is prefixed with `'` so Excel shows it
/// as text instead of evaluating it.
pub fn csv_safe(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Eight copies of a byte.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// True when some byte of `x` is zero (exact, the classic bit trick).
#[inline]
pub(crate) fn has_zero_byte(x: u64) -> bool {
    x.wrapping_sub(splat(1)) & !x & splat(0x80) != 0
}

/// True when some byte of `x` equals `b`.
#[inline]
pub(crate) fn has_byte(x: u64, b: u8) -> bool {
    has_zero_byte(x ^ splat(b))
}

/// True when the cell holds a byte that makes the csv crate quote it: comma, double quote, CR,
/// LF.
pub(crate) fn csv_needs_quotes(b: &[u8]) -> bool {
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        if has_byte(x, b',') || has_byte(x, b'"') || has_byte(x, b'\r') || has_byte(x, b'\n') {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
}

/// Appends one CSV cell as the csv crate (default settings) writes it: quoted only when it holds
/// a comma, a double quote, CR or LF, with quotes doubled; formula-like text defused with `'`
/// first when `defuse`.
fn push_cell(out: &mut Vec<u8>, cell: &str, defuse: bool) {
    let b = cell.as_bytes();
    let defuse = defuse && formula_like(cell);
    let quote = csv_needs_quotes(b);
    if quote {
        out.push(b'"');
    }
    if defuse {
        out.push(b'\'');
    }
    if !quote {
        out.extend_from_slice(b);
        return;
    }
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
}

/// Appends one CSV cell, formula-like text defused ([`csv_safe`]).
pub fn push_csv_safe(out: &mut Vec<u8>, cell: &str) {
    push_cell(out, cell, true);
}

/// Appends one CSV cell as it is (no formula defusing).
pub fn push_csv_plain(out: &mut Vec<u8>, cell: &str) {
    push_cell(out, cell, false);
}
