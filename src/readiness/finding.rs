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

/// Sorts findings so two runs over the same data give the same order: most severe first, then
/// by code, objects, message.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.objects.cmp(&b.objects))
            .then_with(|| a.message.cmp(&b.message))
            .then_with(|| a.remedy.cmp(&b.remedy))
    });
}

/// Neutralises spreadsheet formulas: a cell that starts with `=`, `+`, `-`, `@`, tab or CR is
/// prefixed with `'` so Excel shows it as text instead of evaluating it.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Appends one formula-safe CSV cell exactly as the csv crate (default settings) writes it:
/// quoted only when it holds a comma, a double quote, CR or LF, with quotes doubled.
pub fn push_csv_cell(out: &mut Vec<u8>, cell: &str) {
    let b = cell.as_bytes();
    let defuse = matches!(b.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    if !b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n')) {
        if defuse {
            out.push(b'\'');
        }
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    if defuse {
        out.push(b'\'');
    }
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
}

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
