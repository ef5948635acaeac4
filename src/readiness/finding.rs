//! A finding: one thing that will go wrong, with a stable code, a severity, the objects it
//! concerns and what to do about it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered most severe first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the migration (or the affected users) until fixed.
    Blocker,
    /// Will go wrong or lose settings unless acted on.
    Warning,
    /// Worth knowing; nothing breaks.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable code: one of `seats.short`, `group.mixed`, `license.early`, `device.unsupported`,
    /// `user.no_usage_location`, `tenant.support_required`, `license.intune_plan_disabled`,
    /// `policy.cleanup`, `policy.setting_not_one_to_one`, `data.inconsistent`, optionally followed
    /// by a more specific sub-code after a dot (`data.inconsistent.unknown_owner`).
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// The objects concerned: lower-case UPNs, group names or ids, device ids, product part
    /// numbers, policy names.
    pub objects: Vec<String>,
    /// What to do about it.
    pub remedy: String,
}

impl Finding {
    pub fn new(
        code: &str,
        severity: Severity,
        message: impl Into<String>,
        objects: Vec<String>,
        remedy: impl Into<String>,
    ) -> Finding {
        Finding {
            code: code.to_string(),
            severity,
            message: message.into(),
            objects,
            remedy: remedy.into(),
        }
    }

    /// True when the finding's code is `base` or a sub-code of it.
    pub fn is(&self, base: &str) -> bool {
        self.code == base
            || (self.code.len() > base.len()
                && self.code.starts_with(base)
                && self.code.as_bytes().get(base.len()) == Some(&b'.'))
    }
}

/// `1 user`, `2 users`: a count with its noun.
pub fn n(count: impl Into<u64>, one: &str, many: &str) -> String {
    let count = count.into();
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The order of findings: most severe first, then by code, objects, message, remedy.
pub fn cmp_findings(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.severity
        .cmp(&b.severity)
        .then_with(|| a.code.cmp(&b.code))
        .then_with(|| a.objects.cmp(&b.objects))
        .then_with(|| a.message.cmp(&b.message))
        .then_with(|| a.remedy.cmp(&b.remedy))
}

/// Sorts findings so two runs over the same data give the same order: most severe first, then
/// by code, objects, message. Cheap on a concatenation of sorted lists (each check sorts its own
/// with [`sort_findings_keyed`] on its thread; this merges the runs).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(cmp_findings);
}

/// The first 16 bytes of a string, big-endian and zero-padded: ordering by it agrees with
/// ordering the strings (ties need a full comparison).
pub fn prefix16(s: &str) -> u128 {
    let mut buf = [0u8; 16];
    let b = s.as_bytes();
    let n = b.len().min(16);
    if let (Some(dst), Some(src)) = (buf.get_mut(..n), b.get(..n)) {
        dst.copy_from_slice(src);
    }
    u128::from_be_bytes(buf)
}

/// The same order as [`sort_findings`], faster for many findings: the sort compares compact
/// keys (severity, code, the first 16 bytes of the first object) held in one array and only
/// looks at the findings themselves on ties, instead of following three pointers per comparison
/// (110,000 device findings took 100 ms to sort).
pub fn sort_findings_keyed(findings: &mut Vec<Finding>) {
    if findings.len() < 64 {
        sort_findings(findings);
        return;
    }
    if findings.windows(2).all(|w| {
        w.first().zip(w.get(1)).map(|(a, b)| cmp_findings(a, b))
            != Some(std::cmp::Ordering::Greater)
    }) {
        return;
    }
    // Codes by rank: a check produces a handful of distinct codes.
    let mut codes: Vec<&str> = Vec::new();
    for f in findings.iter() {
        if codes.last() != Some(&f.code.as_str()) && !codes.contains(&f.code.as_str()) {
            codes.push(&f.code);
        }
    }
    codes.sort_unstable();
    let mut last: (&str, u32) = ("", 0);
    let mut keys: Vec<(Severity, u32, bool, u128, u32)> = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        if last.0 != f.code || i == 0 {
            let rank = codes.binary_search(&f.code.as_str()).unwrap_or(0);
            last = (&f.code, rank as u32);
        }
        let first = f.objects.first();
        keys.push((
            f.severity,
            last.1,
            first.is_some(),
            first.map_or(0, |o| prefix16(o)),
            i as u32,
        ));
    }
    keys.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2, a.3)
            .cmp(&(b.0, b.1, b.2, b.3))
            .then_with(
                || match (findings.get(a.4 as usize), findings.get(b.4 as usize)) {
                    (Some(x), Some(y)) => cmp_findings(x, y),
                    _ => a.4.cmp(&b.4),
                },
            )
    });
    let order: Vec<u32> = keys.into_iter().map(|k| k.4).collect();
    let mut slots: Vec<Option<Finding>> = std::mem::take(findings).into_iter().map(Some).collect();
    findings.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i as usize).and_then(Option::take)),
    );
}

#[cfg(test)]
use crate::cells::csv_needs_quotes;
pub use crate::cells::csv_safe;
/// Appends one formula-safe CSV cell exactly as the csv crate writes it.
pub use crate::cells::push_csv_safe as push_csv_cell;

/// Writes readiness.csv: one row per finding and object (a finding without objects gets one row
/// with an empty object), every cell formula-safe. The severity, code, message and remedy cells
/// of a finding are encoded once and copied into each of its rows; the output is what the csv
/// crate writes, byte for byte (unit-tested).
pub fn write_findings_csv(
    findings: &[Finding],
    w: &mut impl std::io::Write,
) -> std::io::Result<()> {
    const CHUNK: usize = 1 << 18;
    let mut out: Vec<u8> = Vec::with_capacity(CHUNK + (1 << 14));
    out.extend_from_slice(b"severity,code,object,message,remedy\n");
    let mut head = Vec::new();
    let mut tail = Vec::new();
    for f in findings {
        head.clear();
        push_csv_cell(&mut head, f.severity.as_str());
        head.push(b',');
        push_csv_cell(&mut head, &f.code);
        head.push(b',');
        tail.clear();
        tail.push(b',');
        push_csv_cell(&mut tail, &f.message);
        tail.push(b',');
        push_csv_cell(&mut tail, &f.remedy);
        tail.push(b'\n');
        if f.objects.is_empty() {
            out.extend_from_slice(&head);
            out.extend_from_slice(&tail);
        }
        for o in &f.objects {
            out.extend_from_slice(&head);
            push_csv_cell(&mut out, o);
            out.extend_from_slice(&tail);
            if out.len() >= CHUNK {
                w.write_all(&out)?;
                out.clear();
            }
        }
        if out.len() >= CHUNK {
            w.write_all(&out)?;
            out.clear();
        }
    }
    w.write_all(&out)
}

/// The findings as CSV in memory (see [`write_findings_csv`]).
pub fn findings_csv(findings: &[Finding]) -> Vec<u8> {
    let mut v = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_findings_csv(findings, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+1"), "'+1");
        assert_eq!(csv_safe("-1"), "'-1");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("a=b"), "a=b");
        assert_eq!(csv_safe(""), "");
    }

    #[test]
    fn csv_has_one_row_per_object() {
        let f = vec![
            Finding::new(
                "license.early",
                Severity::Warning,
                "m",
                vec!["a@x".into(), "=b@x".into()],
                "r",
            ),
            Finding::new("seats.short", Severity::Blocker, "m2", vec![], "r2"),
        ];
        let text = String::from_utf8(findings_csv(&f)).unwrap();
        assert_eq!(
            text,
            "severity,code,object,message,remedy\nwarning,license.early,a@x,m,r\nwarning,license.early,'=b@x,m,r\nblocker,seats.short,,m2,r2\n"
        );
    }

    /// The csv crate's writer, as readiness.csv was written before the direct writer.
    fn csv_crate(findings: &[Finding]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["severity", "code", "object", "message", "remedy"])
            .unwrap();
        for f in findings {
            let row = |obj: &str| {
                [
                    csv_safe(f.severity.as_str()).into_owned(),
                    csv_safe(&f.code).into_owned(),
                    csv_safe(obj).into_owned(),
                    csv_safe(&f.message).into_owned(),
                    csv_safe(&f.remedy).into_owned(),
                ]
            };
            if f.objects.is_empty() {
                w.write_record(row("")).unwrap();
            }
            for o in &f.objects {
                w.write_record(row(o)).unwrap();
            }
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn direct_csv_matches_the_csv_crate() {
        let tricky = [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "\"",
            "line\nbreak",
            "cr\rhere",
            "=1+2",
            "+1",
            "-x,y",
            "@a\"b",
            "\tt",
            "\r\n",
            "'quoted'",
            "é€😀",
            " lead",
            "#hash",
            "a;b",
        ];
        let mut findings = Vec::new();
        for (i, m) in tricky.iter().enumerate() {
            let objects: Vec<String> = tricky.iter().skip(i % 3).map(|s| s.to_string()).collect();
            findings.push(Finding::new(
                m,
                Severity::Warning,
                *m,
                objects,
                tricky[(i + 5) % tricky.len()],
            ));
            findings.push(Finding::new("c.d", Severity::Info, "msg", vec![], *m));
        }
        // Enough rows to cross the chunk size several times.
        let many: Vec<String> = (0..50_000).map(|i| format!("=user{i}@x.test")).collect();
        findings.push(Finding::new(
            "big",
            Severity::Blocker,
            "m, with comma",
            many,
            "r",
        ));
        assert_eq!(
            String::from_utf8(findings_csv(&findings)).unwrap(),
            String::from_utf8(csv_crate(&findings)).unwrap()
        );
        assert_eq!(findings_csv(&[]), csv_crate(&[]));
    }

    #[test]
    fn quote_detection_is_exact() {
        for b in 0u8..=0xff {
            for pos in 0..19 {
                let mut v = vec![b'a'; 19];
                v[pos] = b;
                let want = matches!(b, b',' | b'"' | b'\r' | b'\n');
                assert_eq!(csv_needs_quotes(&v), want, "byte {b:#x} at {pos}");
            }
        }
    }

    #[test]
    fn keyed_sort_gives_the_same_order() {
        let mut findings = Vec::new();
        let objs = [
            "",
            "a",
            "ab",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnoo",
            "abcdefghijklmnop\u{0}",
            "b",
            "é",
            "A",
        ];
        for (i, o) in objs.iter().enumerate() {
            for sev in [Severity::Info, Severity::Blocker] {
                for code in ["x.b", "x.a"] {
                    let mut objects = vec![o.to_string()];
                    if i % 2 == 0 {
                        objects.push(objs[(i + 3) % objs.len()].to_string());
                    }
                    findings.push(Finding::new(
                        code,
                        sev,
                        format!("m{}", i % 3),
                        objects.clone(),
                        "r",
                    ));
                    findings.push(Finding::new(code, sev, "m", vec![], format!("r{i}")));
                    findings.push(Finding::new(code, sev, "m", objects, "r0"));
                }
            }
        }
        findings.reverse();
        let mut a = findings.clone();
        sort_findings(&mut a);
        let mut b = findings;
        sort_findings_keyed(&mut b);
        assert!(b.len() >= 64);
        assert_eq!(a, b);
    }

    #[test]
    fn sub_codes_match_their_base() {
        let f = Finding::new(
            "data.inconsistent.unknown_owner",
            Severity::Warning,
            "",
            vec![],
            "",
        );
        assert!(f.is("data.inconsistent"));
        assert!(f.is("data.inconsistent.unknown_owner"));
        assert!(!f.is("data.inconsistent.unknown"));
    }
}
