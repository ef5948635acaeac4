//! Small value parsers shared by the readers: header/name normalisation, booleans, GUIDs, dates,
//! and a fast hasher for the big key maps.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash-style hasher: the key maps hold millions of short strings built by the importer itself,
/// so DoS resistance is not needed and SipHash would dominate the members import.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(SEED);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(SEED);
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(SEED);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(SEED);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        // murmur3 fmix64: the multiply-rotate state alone leaves the low bits (the bucket index)
        // nearly constant for keys sharing a suffix such as `@contoso.com`.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Trims spaces, tabs, U+00A0, U+FEFF and other whitespace.
pub fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}')
}

/// Lower-case with whitespace (incl. U+00A0) collapsed to single spaces: how names are compared.
pub fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in clean(s).chars() {
        if c.is_whitespace() || c == '\u{a0}' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// Lower-cases `s` (trimmed) into `buf` without allocating when `buf` has room.
pub fn lower_into<'b>(s: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    let s = clean(s);
    if s.is_ascii() {
        buf.push_str(s);
        buf.make_ascii_lowercase();
    } else {
        for c in s.chars() {
            buf.extend(c.to_lowercase());
        }
    }
    buf.as_str()
}

/// `Some(trimmed)` when not empty.
pub fn opt(s: &str) -> Option<&str> {
    let s = clean(s);
    (!s.is_empty()).then_some(s)
}

/// Parses a boolean as exports and admins write it (English and common European words).
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = clean(s);
    // Fast path without allocating: the common spellings.
    for (w, v) in [
        ("true", true),
        ("false", false),
        ("yes", true),
        ("no", false),
        ("1", true),
        ("0", false),
    ] {
        if t.eq_ignore_ascii_case(w) {
            return Some(v);
        }
    }
    if t.len() > 12 {
        return None;
    }
    let n = norm(t);
    match n.as_str() {
        "true" | "yes" | "y" | "1" | "ja" | "j" | "oui" | "si" | "sí" | "sim" | "wahr" | "x"
        | "enabled" | "on" | "vrai" => Some(true),
        "false" | "no" | "n" | "0" | "nein" | "non" | "não" | "nao" | "falsch" | "disabled"
        | "off" | "faux" => Some(false),
        _ => None,
    }
}

/// A GUID in its 36-character form (optionally in braces), lower-cased; `None` when malformed.
pub fn parse_guid(s: &str) -> Option<String> {
    let s = clean(s);
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            c == b'-'
        } else {
            c.is_ascii_hexdigit()
        };
        if !ok {
            return None;
        }
    }
    Some(s.to_ascii_lowercase())
}

/// Formats a duration in days (Excel duration cell) as `[d.]hh:mm:ss`.
pub fn duration_days_to_timespan(value: f64) -> String {
    if !value.is_finite() || !(0.0..=1e7).contains(&value) {
        return String::new();
    }
    let total = (value * 86_400.0).round() as i64;
    timespan_from_secs(total)
}

pub fn timespan_from_secs(total: i64) -> String {
    let d = total / 86_400;
    let rest = total % 86_400;
    let (h, m, s) = (rest / 3600, (rest % 3600) / 60, rest % 60);
    if d > 0 {
        format!("{d}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Parses `[d.]h:mm[:ss[.fffffff]]` (a .NET TimeSpan) into whole seconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = clean(s);
    let (days, rest) = match s.split_once(':') {
        Some((head, tail)) => match head.split_once('.') {
            Some((d, h)) => (d.parse::<i64>().ok()?, format!("{h}:{tail}")),
            None => (0, s.to_string()),
        },
        None => {
            // Only days: "1" or "1.00:00:00" without colon isn't a TimeSpan we accept.
            return None;
        }
    };
    let mut parts = rest.split(':');
    let h: i64 = parts.next()?.trim().parse().ok()?;
    let m: i64 = parts.next()?.trim().parse().ok()?;
    let sec: i64 = match parts.next() {
        Some(x) => {
            let whole = x.split('.').next().unwrap_or("0");
            whole.trim().parse().ok()?
        }
        None => 0,
    };
    if parts.next().is_some() || days < 0 || !(0..24).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    if !(0..60).contains(&sec) {
        return None;
    }
    days.checked_mul(86_400)?
        .checked_add(h * 3600 + m * 60 + sec)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses the date formats the exports use into ISO 8601. `Ok(None)` = "never"/empty
/// (`0001-01-01…`, `9999-12-31…`); `Err(())` = not a date we know (callers keep it as given).
#[allow(clippy::result_unit_err)]
pub fn parse_date(s: &str) -> Result<Option<String>, ()> {
    let s = clean(s);
    if s.is_empty() || s.starts_with("0001-01-01") || s.starts_with("9999-12-31") {
        return Ok(None);
    }
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, clean(t)),
        None => (s, ""),
    };
    let (y, m, d) = if let Some((a, rest)) = date.split_once('-') {
        let (b, c) = rest.split_once('-').ok_or(())?;
        (num(a).ok_or(())?, num(b).ok_or(())?, num(c).ok_or(())?)
    } else if let Some((a, rest)) = date.split_once('/') {
        // US: M/D/YYYY
        let (b, c) = rest.split_once('/').ok_or(())?;
        (num(c).ok_or(())?, num(a).ok_or(())?, num(b).ok_or(())?)
    } else if let Some((a, rest)) = date.split_once('.') {
        // European: D.M.YYYY
        let (b, c) = rest.split_once('.').ok_or(())?;
        (num(c).ok_or(())?, num(b).ok_or(())?, num(a).ok_or(())?)
    } else {
        return Err(());
    };
    if !(1900..=9998).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(());
    }
    if time.is_empty() {
        return Ok(Some(format!("{y:04}-{m:02}-{d:02}")));
    }
    let (t, zulu) = match time.strip_suffix('Z') {
        Some(t) => (t, true),
        None => (time, false),
    };
    let (t, pm) = {
        let up = t.to_ascii_uppercase();
        if let Some(x) = up.strip_suffix("PM") {
            (clean(x).to_string(), Some(true))
        } else if let Some(x) = up.strip_suffix("AM") {
            (clean(x).to_string(), Some(false))
        } else {
            (t.to_string(), None)
        }
    };
    // Drop a zone offset like +01:00 (keep it simple: exports are UTC or local without zone).
    let t = t.split(['+']).next().unwrap_or("");
    let mut parts = t.split(':');
    let mut h = num(parts.next().unwrap_or("")).ok_or(())?;
    let mi = num(parts.next().unwrap_or("")).ok_or(())?;
    let sec = match parts.next() {
        Some(x) => num(x.split(['.', ',']).next().unwrap_or("")).ok_or(())?,
        None => 0,
    };
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    if h > 23 || mi > 59 || sec > 60 {
        return Err(());
    }
    Ok(Some(format!(
        "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{}",
        if zulu { "Z" } else { "" }
    )))
}

/// Formats an f64 read from a spreadsheet cell as the text the admin typed: integers without
/// `.0` (phone numbers, ids), other numbers in their shortest round-trip form.
pub fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return String::new();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Parses a seat count: `25`, `25.0`, ` 1 000 `; `None` when not a non-negative whole number.
pub fn parse_count(s: &str) -> Option<u64> {
    let s: String = clean(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\'')
        .collect();
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Splits the admin center `Licenses` value on `+` not surrounded by spaces.
pub fn split_plus(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'+' {
            let before = i > 0 && b.get(i - 1).is_some_and(|x| x.is_ascii_whitespace());
            let after = b.get(i + 1).is_some_and(|x| x.is_ascii_whitespace());
            if !(before && after) {
                if let Some(piece) = s.get(start..i) {
                    out.push(piece);
                }
                start = i + 1;
            }
        }
    }
    if let Some(piece) = s.get(start..) {
        out.push(piece);
    }
    out.into_iter().filter(|p| !clean(p).is_empty()).collect()
}

/// Splits a list cell (`a;b`, `a,b`, `a b`, newlines).
pub fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ';', '\n', '\r', '\t', ' '])
        .map(clean)
        .filter(|x| !x.is_empty())
}

/// Prefix a cell value that a spreadsheet would evaluate as a formula.
pub fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_split_respects_spaced_plus() {
        assert_eq!(
            split_plus("Office 365 E3+Microsoft 365 Copilot"),
            vec!["Office 365 E3", "Microsoft 365 Copilot"]
        );
        assert_eq!(
            split_plus("ENTERPRISE MOBILITY + SECURITY E5+Office 365 E3"),
            vec!["ENTERPRISE MOBILITY + SECURITY E5", "Office 365 E3"]
        );
        assert_eq!(split_plus("+"), Vec::<&str>::new());
    }

    #[test]
    fn dates_from_every_export() {
        assert_eq!(
            parse_date("2022-03-18 19:49:35Z"),
            Ok(Some("2022-03-18T19:49:35Z".into()))
        );
        assert_eq!(
            parse_date("8/19/2021 1:25:31 PM"),
            Ok(Some("2021-08-19T13:25:31".into()))
        );
        assert_eq!(
            parse_date("2024-05-01 10:11:12.0000000"),
            Ok(Some("2024-05-01T10:11:12".into()))
        );
        assert_eq!(parse_date("0001-01-01 00:00:00.0000000"), Ok(None));
        assert_eq!(
            parse_date("18.03.2022 07:05"),
            Ok(Some("2022-03-18T07:05:00".into()))
        );
        assert_eq!(parse_date("soon"), Err(()));
        assert_eq!(parse_date("12/40/2020"), Err(()));
    }

    #[test]
    fn excel_durations() {
        assert_eq!(duration_days_to_timespan(1.5), "1.12:00:00");
        assert_eq!(duration_days_to_timespan(0.25), "06:00:00");
    }

    #[test]
    fn guids_bools_timespans_numbers() {
        assert_eq!(
            parse_guid("{6FD2C87F-B296-42F0-B197-1E91E994B900}").as_deref(),
            Some("6fd2c87f-b296-42f0-b197-1e91e994b900")
        );
        assert!(parse_guid("6fd2c87f-b296-42f0-b197-1e91e994b90").is_none());
        assert!(parse_guid("6fd2c87f-b296-42f0-b197-1e91e994b90g").is_none());
        assert_eq!(parse_bool(" Ja "), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_timespan("00:15:00"), Some(900));
        assert_eq!(parse_timespan("1.02:00:00"), Some(93600));
        assert_eq!(parse_timespan("0:5"), Some(300));
        assert_eq!(parse_timespan("25:00:00"), None);
        assert_eq!(parse_timespan("99999999999999999.00:00:00"), None);
        assert_eq!(number_text(4915112345678.0), "4915112345678");
        assert_eq!(number_text(0.1), "0.1");
        assert_eq!(parse_count("1 000"), Some(1000));
        assert_eq!(parse_count("25.0"), Some(25));
        assert_eq!(parse_count("-3"), None);
        assert_eq!(norm("  Usage\u{a0}\u{a0}Location "), "usage location");
    }
}
