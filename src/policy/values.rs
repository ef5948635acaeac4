//! Reading BMS setting values as the import normalised them, and liberally as `ConvertTo-Json`
//! really produces them: TimeSpans as `[d.]hh:mm:ss[.fffffff]` strings or `{Ticks,TotalMinutes,..}`
//! objects, enums as names or numbers (resolved by value, never by position), booleans as JSON
//! booleans or `True`/`$false`/`1`/`0` strings, MultiValuedProperty as arrays or comma-separated
//! strings. `null`, `""`, `"$null"` and `[]` mean "not configured".

use std::collections::BTreeMap;

use serde_json::Value;

/// A BMS setting value read according to the setting's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceValue {
    Bool(bool),
    Int(i64),
    /// A TimeSpan as whole seconds (fractions rounded up).
    Seconds(i64),
    /// An enum member name (numbers resolved through the enum table when one is known).
    Name(String),
    Text(String),
    List(Vec<String>),
}

impl SourceValue {
    /// The key used to look the value up in a conversion's `map`.
    pub fn key(&self) -> String {
        match self {
            SourceValue::Bool(b) => b.to_string(),
            SourceValue::Int(i) => i.to_string(),
            SourceValue::Seconds(s) => minutes_ceil(*s).to_string(),
            SourceValue::Name(s) | SourceValue::Text(s) => s.clone(),
            SourceValue::List(l) => l.join(","),
        }
    }

    /// How the value is shown in the mapping report.
    pub fn display(&self) -> String {
        match self {
            SourceValue::Bool(b) => b.to_string(),
            SourceValue::Int(i) => i.to_string(),
            SourceValue::Seconds(s) => format!("{} ({} min)", format_timespan(*s), fmt_minutes(*s)),
            SourceValue::Name(s) | SourceValue::Text(s) => s.clone(),
            SourceValue::List(l) => l.join(";"),
        }
    }

    /// True for `true` and for positive numbers (used by `truthy_const`).
    pub fn truthy(&self) -> bool {
        match self {
            SourceValue::Bool(b) => *b,
            SourceValue::Int(i) => *i > 0,
            SourceValue::Seconds(s) => *s > 0,
            SourceValue::Name(s) | SourceValue::Text(s) => !s.is_empty(),
            SourceValue::List(l) => !l.is_empty(),
        }
    }

    /// The value as a whole number where that makes sense (ints, TimeSpans in minutes).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            SourceValue::Int(i) => Some(*i),
            SourceValue::Seconds(s) => Some(minutes_ceil(*s)),
            _ => None,
        }
    }
}

fn fmt_minutes(seconds: i64) -> String {
    if seconds % 60 == 0 {
        (seconds / 60).to_string()
    } else {
        format!("{:.2}", seconds as f64 / 60.0)
    }
}

/// Whole minutes, rounding a part-minute up (a 30-second lock becomes 1 minute, never 0).
pub fn minutes_ceil(seconds: i64) -> i64 {
    if seconds <= 0 {
        0
    } else {
        (seconds + 59) / 60
    }
}

/// Canonical `[d.]hh:mm:ss` form.
pub fn format_timespan(seconds: i64) -> String {
    let d = seconds / 86_400;
    let h = (seconds % 86_400) / 3600;
    let m = (seconds % 3600) / 60;
    let s = seconds % 60;
    if d > 0 {
        format!("{d}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// `null`, empty string, `$null` and empty arrays are "not configured".
pub fn is_unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => {
            let t = s.trim();
            t.is_empty() || t.eq_ignore_ascii_case("$null") || t.eq_ignore_ascii_case("null")
        }
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

pub fn parse_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(format!("{n} is not a boolean (expected true/false)")),
        },
        Value::String(s) => {
            let t = s.trim().trim_start_matches('$').to_ascii_lowercase();
            match t.as_str() {
                "true" | "1" | "yes" | "y" | "on" => Ok(true),
                "false" | "0" | "no" | "n" | "off" => Ok(false),
                _ => Err(format!(
                    "{} is not a boolean (expected true/false)",
                    short(v)
                )),
            }
        }
        _ => Err(format!(
            "{} is not a boolean (expected true/false)",
            short(v)
        )),
    }
}

pub fn parse_int(v: &Value) -> Result<i64, String> {
    let bad = || format!("{} is not a whole number", short(v));
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
                    _ => Err(bad()),
                }
            }
        }
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Ok(i);
            }
            match t.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
                _ => Err(bad()),
            }
        }
        Value::Bool(b) => Ok(i64::from(*b)),
        _ => Err(bad()),
    }
}

const TICKS_PER_SECOND: f64 = 10_000_000.0;

/// A TimeSpan as whole seconds (fractions rounded up).
pub fn parse_timespan(v: &Value) -> Result<i64, String> {
    let bad = || {
        format!(
            "{} is not a TimeSpan (expected \"hh:mm:ss\", \"d.hh:mm:ss\" or a {{Ticks,TotalMinutes}} object)",
            short(v)
        )
    };
    let secs = match v {
        Value::String(s) => parse_timespan_text(s.trim()).ok_or_else(bad)?,
        Value::Object(o) => {
            let num = |k: &str| {
                o.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .and_then(|(_, v)| match v {
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => s.trim().parse::<f64>().ok(),
                        _ => None,
                    })
            };
            if let Some(t) = num("Ticks") {
                t / TICKS_PER_SECOND
            } else if let Some(s) = num("TotalSeconds") {
                s
            } else if let Some(m) = num("TotalMinutes") {
                m * 60.0
            } else if num("Days").is_some()
                || num("Hours").is_some()
                || num("Minutes").is_some()
                || num("Seconds").is_some()
            {
                num("Days").unwrap_or(0.0) * 86_400.0
                    + num("Hours").unwrap_or(0.0) * 3600.0
                    + num("Minutes").unwrap_or(0.0) * 60.0
                    + num("Seconds").unwrap_or(0.0)
            } else {
                return Err(bad());
            }
        }
        // A bare number: a spreadsheet time cell (fraction of a day) below 1, else minutes.
        Value::Number(n) => {
            let f = n.as_f64().ok_or_else(bad)?;
            if f > 0.0 && f < 1.0 {
                f * 86_400.0
            } else {
                f * 60.0
            }
        }
        _ => return Err(bad()),
    };
    if !secs.is_finite() || !(0.0..=1.0e12).contains(&secs) {
        return Err(bad());
    }
    // Round to the millisecond first so 899.9999999 from float arithmetic stays 900.
    let ms = (secs * 1000.0).round() as i64;
    Ok((ms + 999) / 1000)
}

/// `[-][d.]hh:mm[:ss[.fffffff]]`, ISO 8601 `PT..H..M..S`, or a plain number of minutes.
fn parse_timespan_text(s: &str) -> Option<f64> {
    // A negative lock time means nothing to Intune: refuse it rather than guess.
    if s.is_empty() || s.starts_with('-') {
        return None;
    }
    if let Some(rest) = s
        .strip_prefix("PT")
        .or_else(|| s.strip_prefix("pt"))
        .or_else(|| s.strip_prefix('P').and_then(|r| r.strip_prefix('T')))
    {
        let mut total = 0.0;
        let mut num = String::new();
        for c in rest.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let n: f64 = num.parse().ok()?;
                num.clear();
                total += match c.to_ascii_uppercase() {
                    'H' => n * 3600.0,
                    'M' => n * 60.0,
                    'S' => n,
                    _ => return None,
                };
            }
        }
        return if num.is_empty() { Some(total) } else { None };
    }
    if !s.contains(':') {
        return s.parse::<f64>().ok().map(|m| m * 60.0);
    }
    let (days, clock) = match s.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, rest) = s.split_once('.')?;
            (d.parse::<f64>().ok()?, rest)
        }
        _ => (0.0, s),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m] => (*h, *m, "0"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let h: f64 = h.parse().ok()?;
    let m: f64 = m.parse().ok()?;
    let sec: f64 = sec.parse().ok()?;
    if days < 0.0 || h < 0.0 || m < 0.0 || sec < 0.0 || m >= 60.0 || sec >= 60.0 {
        return None;
    }
    Some(days * 86_400.0 + h * 3600.0 + m * 60.0 + sec)
}

/// An enum value as a member name: names are matched case-insensitively against the table and
/// returned in its spelling; numbers are resolved by value. Without a table, names pass through
/// and numbers become their decimal text.
pub fn parse_enum(v: &Value, table: Option<&BTreeMap<String, i64>>) -> Result<String, String> {
    let by_number = |n: i64| -> Result<String, String> {
        match table {
            Some(t) => t
                .iter()
                .find(|(_, val)| **val == n)
                .map(|(name, _)| name.clone())
                .ok_or_else(|| {
                    format!(
                        "{n} is not a known value of this enum (known: {})",
                        t.iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            None => Ok(n.to_string()),
        }
    };
    match v {
        Value::Number(_) => by_number(parse_int(v)?),
        Value::String(s) => {
            let t = s.trim();
            if let Ok(n) = t.parse::<i64>() {
                return by_number(n);
            }
            match table {
                Some(tab) => tab
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(t))
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "{t:?} is not a known value of this enum (known: {})",
                            tab.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }),
                None => Ok(t.to_string()),
            }
        }
        // ConvertTo-Json of an enum inside a wrapper object: {"value":3,"Value":"Name"}.
        Value::Object(o) => o
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("value"))
            .map(|(_, v)| parse_enum(v, table))
            .unwrap_or_else(|| Err(format!("{} is not an enum value", short(v)))),
        _ => Err(format!("{} is not an enum value", short(v))),
    }
}

pub fn parse_text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("{} is not text", short(v))),
    }
}

/// A MultiValuedProperty: an array, or a string separated by commas or semicolons.
pub fn parse_list(v: &Value) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = match v {
        Value::Array(a) => a
            .iter()
            .filter(|x| !is_unset(x))
            .map(parse_text)
            .collect::<Result<_, _>>()?,
        Value::String(s) => s
            .split([',', ';'])
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        _ => vec![parse_text(v)?],
    };
    out.retain(|x| !x.is_empty());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timespans_in_every_shape_convertto_json_produces() {
        assert_eq!(parse_timespan(&json!("00:15:00")), Ok(900));
        assert_eq!(parse_timespan(&json!("1.00:00:00")), Ok(86_400));
        assert_eq!(parse_timespan(&json!("00:00:30")), Ok(30));
        assert_eq!(parse_timespan(&json!("00:05:00.5000000")), Ok(301));
        assert_eq!(parse_timespan(&json!("PT15M")), Ok(900));
        assert_eq!(parse_timespan(&json!("15")), Ok(900));
        assert_eq!(
            parse_timespan(&json!({"Ticks": 9_000_000_000_i64, "Days": 0, "TotalMinutes": 15.0})),
            Ok(900)
        );
        assert_eq!(parse_timespan(&json!({"TotalMinutes": 5.0})), Ok(300));
        assert_eq!(
            parse_timespan(&json!({"Hours": 1, "Minutes": 2, "Seconds": 0})),
            Ok(3720)
        );
        assert_eq!(parse_timespan(&json!(0.010416666666666666)), Ok(900));
        assert!(parse_timespan(&json!("soon")).is_err());
        assert!(parse_timespan(&json!("00:75:00")).is_err());
        assert!(parse_timespan(&json!("-00:05:00")).is_err());
        assert!(parse_timespan(&json!({"Foo": 1})).is_err());
        assert!(parse_timespan(&json!(true)).is_err());
        assert_eq!(format_timespan(86_400 + 3600 + 61), "1.01:01:01");
        assert_eq!(minutes_ceil(30), 1);
        assert_eq!(minutes_ceil(0), 0);
    }

    #[test]
    fn booleans_ints_and_unset() {
        assert_eq!(parse_bool(&json!("$false")), Ok(false));
        assert_eq!(parse_bool(&json!("True")), Ok(true));
        assert_eq!(parse_bool(&json!(1)), Ok(true));
        assert!(parse_bool(&json!("maybe")).is_err());
        assert_eq!(parse_int(&json!("12")), Ok(12));
        assert_eq!(parse_int(&json!(12.0)), Ok(12));
        assert!(parse_int(&json!(1.5)).is_err());
        assert!(is_unset(&json!(null)));
        assert!(is_unset(&json!("")));
        assert!(is_unset(&json!("$null")));
        assert!(is_unset(&json!([])));
        assert!(!is_unset(&json!(false)));
    }

    #[test]
    fn enums_resolve_by_value_not_position() {
        let mut t = BTreeMap::new();
        t.insert("DontAllow".to_string(), 0);
        t.insert("Rating9plus".to_string(), 200);
        t.insert("AllowAll".to_string(), 1000);
        assert_eq!(parse_enum(&json!(200), Some(&t)), Ok("Rating9plus".into()));
        assert_eq!(parse_enum(&json!("1000"), Some(&t)), Ok("AllowAll".into()));
        assert_eq!(
            parse_enum(&json!("allowall"), Some(&t)),
            Ok("AllowAll".into())
        );
        assert!(parse_enum(&json!(2), Some(&t)).is_err());
        assert_eq!(parse_enum(&json!(3), None), Ok("3".into()));
        assert_eq!(
            parse_enum(&json!({"value": 0}), Some(&t)),
            Ok("DontAllow".into())
        );
    }

    #[test]
    fn lists_from_arrays_and_separated_strings() {
        assert_eq!(
            parse_list(&json!(["a", "b"])),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            parse_list(&json!("a, b;c")),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
    }
}
