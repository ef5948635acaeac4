//! Reference data the checks read: supported OS minimums and the products that need Microsoft
//! support before migrating. Kept in `templates/readiness/` (with their sources in SOURCE.md) and
//! compiled into the binary.

use std::cmp::Ordering;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::Platform;

const SUPPORTED_OS: &str = include_str!("../../templates/readiness/supported-os.json");
const SUPPORT_FIRST: &str = include_str!("../../templates/readiness/support-first-products.csv");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformRule {
    /// Platform name as [`Platform::as_str`] spells it (`ios`, `android`, `macos`, ...).
    pub platform: String,
    pub supported: bool,
    #[serde(default)]
    pub minimum_version: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Lower-case substrings of the OS name that mark a variant Intune does not manage
    /// (e.g. `windows rt`, `phone`); matched against ` <os> ` so a marker may carry spaces.
    #[serde(default)]
    pub unsupported_os_markers: Vec<String>,
    /// Lower-case substrings of the OS name that identify a supported variant when the version is
    /// missing (e.g. `windows 10`).
    #[serde(default)]
    pub supported_os_markers: Vec<String>,
    /// `minimum_version` parsed once at load.
    #[serde(skip)]
    pub minimum: Option<Vec<u64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportedOs {
    pub as_of: String,
    pub source: String,
    pub platforms: Vec<PlatformRule>,
}

impl SupportedOs {
    pub fn rule(&self, p: Platform) -> Option<&PlatformRule> {
        self.platforms.iter().find(|r| r.platform == p.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SupportFirstProduct {
    pub part_number: String,
    pub product_name: String,
    pub evidence: String,
}

#[derive(Debug, Clone)]
pub struct Reference {
    pub os: SupportedOs,
    pub support_first: Vec<SupportFirstProduct>,
}

fn bad_template(file: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(
        "readiness.template_invalid",
        format!("built-in reference data templates/readiness/{file} is invalid: {e}"),
    )
}

impl Reference {
    /// The reference data compiled into this binary.
    pub fn builtin() -> Result<Reference> {
        let mut os: SupportedOs =
            serde_json::from_str(SUPPORTED_OS).map_err(|e| bad_template("supported-os.json", e))?;
        for rule in &mut os.platforms {
            if let Some(text) = &rule.minimum_version {
                rule.minimum = Some(parse_version(text).ok_or_else(|| {
                    bad_template(
                        "supported-os.json",
                        format!(
                            "minimum_version {text:?} of {} is not a version",
                            rule.platform
                        ),
                    )
                })?);
            }
            for m in rule
                .unsupported_os_markers
                .iter_mut()
                .chain(rule.supported_os_markers.iter_mut())
            {
                *m = m.to_lowercase();
            }
        }
        let mut support_first = Vec::new();
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(SUPPORT_FIRST.as_bytes());
        for row in rdr.deserialize() {
            let row: SupportFirstProduct =
                row.map_err(|e| bad_template("support-first-products.csv", e))?;
            support_first.push(row);
        }
        Ok(Reference { os, support_first })
    }

    /// The support-first entry a product matches, by part number or display name.
    pub fn support_first_match(
        &self,
        part_number: &str,
        display_name: Option<&str>,
    ) -> Option<&SupportFirstProduct> {
        let part = part_number.trim();
        let name = display_name.map(str::trim).unwrap_or("");
        self.support_first.iter().find(|s| {
            (!s.part_number.is_empty() && s.part_number.eq_ignore_ascii_case(part))
                || (!name.is_empty() && s.product_name.eq_ignore_ascii_case(name))
        })
    }
}

/// Numeric components of the first dotted number in `s` (`"iOS 15.7.1"` → `[15, 7, 1]`);
/// `None` when `s` holds no digits.
pub fn parse_version(s: &str) -> Option<Vec<u64>> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let rest = s.get(start..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let parts: Vec<u64> = rest
        .get(..end)?
        .split('.')
        .take_while(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().unwrap_or(u64::MAX))
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts)
    }
}

/// Compares the first dotted number in `s` with `min` like [`compare_versions`], without
/// allocating; `None` when `s` holds no digits.
pub fn compare_version_text(s: &str, min: &[u64]) -> Option<Ordering> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let rest = s.get(start..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let mut parts = rest
        .get(..end)?
        .split('.')
        .take_while(|p| !p.is_empty())
        .map(|p| p.parse::<u64>().unwrap_or(u64::MAX));
    let mut i = 0;
    loop {
        let a = parts.next();
        let b = min.get(i).copied();
        if a.is_none() && b.is_none() {
            return Some(Ordering::Equal);
        }
        match a.unwrap_or(0).cmp(&b.unwrap_or(0)) {
            Ordering::Equal => i += 1,
            o => return Some(o),
        }
    }
}

/// Compares versions component by component, missing components counting as 0 (`16` == `16.0`).
pub fn compare_versions(a: &[u64], b: &[u64]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_reference_data_parses_and_covers_every_platform() {
        let r = Reference::builtin().unwrap();
        for p in [
            Platform::Ios,
            Platform::Android,
            Platform::Windows,
            Platform::WindowsPhone,
            Platform::MacOs,
            Platform::Other,
        ] {
            assert!(r.os.rule(p).is_some(), "no rule for {p:?}");
        }
        assert_eq!(
            r.os.rule(Platform::Ios).unwrap().minimum_version.as_deref(),
            Some("16.0")
        );
        assert!(r.support_first_match("ems_edu_faculty", None).is_some());
        assert!(r
            .support_first_match("X", Some("Intune for Education Add-On"))
            .is_some());
        assert!(r
            .support_first_match("SPE_E3", Some("Microsoft 365 E3"))
            .is_none());
    }

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(parse_version("iOS 15.7.1"), Some(vec![15, 7, 1]));
        assert_eq!(parse_version("10.0.19045"), Some(vec![10, 0, 19045]));
        assert_eq!(parse_version("16"), Some(vec![16]));
        assert_eq!(parse_version("unknown"), None);
        assert_eq!(compare_versions(&[16], &[16, 0]), Ordering::Equal);
        assert_eq!(compare_versions(&[15, 8], &[16, 0]), Ordering::Less);
        assert_eq!(compare_versions(&[16, 0, 1], &[16, 0]), Ordering::Greater);
        assert_eq!(compare_version_text("16", &[16, 0]), Some(Ordering::Equal));
        assert_eq!(
            compare_version_text("iOS 15.8.3", &[16, 0]),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_version_text("16.0.1", &[16, 0]),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare_version_text("10.0.19045", &[10, 0]),
            Some(Ordering::Greater)
        );
        assert_eq!(compare_version_text("n/a", &[10, 0]), None);
    }
}
