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

/// The findings as CSV, one row per finding and object (a finding without objects gets one row
/// with an empty object), every cell formula-safe.
pub fn findings_csv(findings: &[Finding]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["severity", "code", "object", "message", "remedy"])?;
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
            w.write_record(row(""))?;
        }
        for o in &f.objects {
            w.write_record(row(o))?;
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
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
        let text = String::from_utf8(findings_csv(&f).unwrap()).unwrap();
        assert_eq!(
            text,
            "severity,code,object,message,remedy\nwarning,license.early,a@x,m,r\nwarning,license.early,'=b@x,m,r\nblocker,seats.short,,m2,r2\n"
        );
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
