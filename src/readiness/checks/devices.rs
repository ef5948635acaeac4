//! Check 4: devices whose OS or version Intune does not support (minimums from
//! templates/readiness/supported-os.json). Their users lose the BMS settings when licensed.

use std::cmp::Ordering;

use crate::model::{Device, Platform};
use crate::readiness::finding::{Finding, Severity};
use crate::readiness::reference::{compare_versions, parse_version, Reference};
use crate::readiness::scope::Scope;

/// What Intune will make of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Supported,
    /// Not supported: `sub` is the finding's sub-code (`platform` or `os_version`), `why` says
    /// what is wrong and `fix` what would make it supported.
    Unsupported {
        sub: &'static str,
        why: String,
        fix: String,
    },
    /// Can't tell (no version in the export).
    Unknown(String),
}

fn platform_label(p: Platform) -> &'static str {
    match p {
        Platform::Ios => "iOS/iPadOS",
        Platform::Android => "Android",
        Platform::Windows => "Windows",
        Platform::WindowsPhone => "Windows Phone",
        Platform::MacOs => "macOS",
        Platform::Other => "this platform",
    }
}

/// Classifies one device against the reference minimums.
pub fn classify(d: &Device, r: &Reference) -> Verdict {
    let Some(rule) = r.os.rule(d.platform) else {
        return Verdict::Unknown(format!(
            "no supported-OS rule for platform {}",
            d.platform.as_str()
        ));
    };
    let os = d.os.trim();
    if !rule.supported {
        return Verdict::Unsupported {
            sub: "platform",
            why: format!(
                "{} ({}) is not supported by Intune{}",
                if os.is_empty() {
                    platform_label(d.platform)
                } else {
                    os
                },
                d.platform.as_str(),
                rule.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
            fix: "replace it with a supported device".into(),
        };
    }
    let padded = format!(" {} ", os.to_lowercase());
    if let Some(m) = rule
        .unsupported_os_markers
        .iter()
        .find(|m| !m.is_empty() && padded.contains(m.as_str()))
    {
        return Verdict::Unsupported {
            sub: "platform",
            why: format!(
                "{os} is not migrated (matches '{}'){}",
                m.trim(),
                rule.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
            fix: "replace it with a supported device".into(),
        };
    }
    let Some(min_text) = rule.minimum_version.as_deref() else {
        return Verdict::Supported;
    };
    let Some(min) = parse_version(min_text) else {
        return Verdict::Unknown(format!("minimum version {min_text:?} is not a version"));
    };
    let version = d
        .os_version
        .as_deref()
        .and_then(parse_version)
        .or_else(|| {
            // A version-less Windows is recognised by name (`Windows 10`) before digits in the name are tried.
            if rule
                .supported_os_markers
                .iter()
                .any(|m| !m.is_empty() && padded.contains(m.as_str()))
            {
                Some(min.clone())
            } else {
                parse_version(os)
            }
        });
    let Some(version) = version else {
        return Verdict::Unknown(format!(
            "{} version unknown (the export gave none)",
            platform_label(d.platform)
        ));
    };
    if compare_versions(&version, &min) == Ordering::Less {
        let shown = d
            .os_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(os);
        Verdict::Unsupported {
            sub: "os_version",
            why: format!(
                "{} {shown} is below Intune's minimum {min_text} (as of {})",
                platform_label(d.platform),
                r.os.as_of
            ),
            fix: format!(
                "update it to {} {min_text} or later (or replace it)",
                platform_label(d.platform)
            ),
        }
    } else {
        Verdict::Supported
    }
}

/// Per-device and per-user findings, plus the users all of whose devices are unsupported.
pub fn unsupported_devices(scope: &Scope) -> (Vec<String>, Vec<Finding>) {
    let t = scope.tenant;
    let mut findings = Vec::new();
    let mut unsupported = vec![false; t.devices.len()];
    for (i, d) in t.devices.iter().enumerate() {
        let owner = d
            .owner
            .filter(|o| (*o as usize) < t.users.len())
            .map(|o| scope.upn(o))
            .or_else(|| d.owner_upn.as_ref().map(|u| u.trim().to_lowercase()))
            .filter(|u| !u.is_empty());
        let mut objects = vec![scope.device_label(i)];
        objects.extend(owner.clone());
        let owner_text = owner
            .as_deref()
            .map(|o| format!(" of {o}"))
            .unwrap_or_else(|| " (owner unknown)".into());
        match classify(d, scope.reference) {
            Verdict::Supported => {}
            Verdict::Unsupported { sub, why, fix } => {
                unsupported[i] = true;
                findings.push(Finding::new(
                    &format!("device.unsupported.{sub}"),
                    Severity::Warning,
                    format!(
                        "device {}{owner_text}: {why}; it loses its BMS settings when the user is licensed for Intune",
                        scope.device_label(i)
                    ),
                    objects,
                    format!("Before the user's wave, {fix}; otherwise expect it to be unmanaged after the move."),
                ));
            }
            Verdict::Unknown(why) => findings.push(Finding::new(
                "device.unsupported.version_unknown",
                Severity::Info,
                format!(
                    "device {}{owner_text}: {why}, so readiness can't tell whether Intune supports it",
                    scope.device_label(i)
                ),
                objects,
                "Import a device export that includes the OS version (Get-MobileDevice or the Microsoft 365 admin center device list) to have it checked.",
            )),
        }
    }
    let mut only = Vec::new();
    for (u, devs) in scope.devices_by_user.iter().enumerate() {
        let bad: Vec<usize> = devs
            .iter()
            .copied()
            .filter(|i| unsupported.get(*i).copied().unwrap_or(false))
            .collect();
        if bad.is_empty() {
            continue;
        }
        let upn = scope.upn(u as u32);
        let all = bad.len() == devs.len();
        let mut objects = vec![upn.clone()];
        let mut labels: Vec<String> = bad.iter().map(|i| scope.device_label(*i)).collect();
        labels.sort();
        objects.extend(labels);
        findings.push(Finding::new(
            "device.unsupported.user",
            Severity::Warning,
            if all {
                if devs.len() == 1 {
                    format!("{upn}: the user's only BMS device is unsupported by Intune; licensing the user leaves it without management")
                } else {
                    format!("{upn}: all {} of the user's BMS devices are unsupported by Intune; licensing the user leaves them without management", devs.len())
                }
            } else {
                format!("{upn}: {} of the user's {} BMS devices {} unsupported by Intune (listed) and lose their BMS settings when the user is licensed", bad.len(), devs.len(), if bad.len() == 1 { "is" } else { "are" })
            },
            objects,
            if all {
                "Replace or update the devices before the user's wave, or hold the user back (bms2intune plan --skip-unsupported)."
            } else {
                "Replace or update the listed devices before the user's wave; the user's other devices move to Intune normally."
            },
        ));
        if all {
            only.push(upn);
        }
    }
    only.sort_unstable();
    only.dedup();
    (only, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(p: Platform, os: &str, v: Option<&str>) -> Device {
        Device {
            id: Some("d".into()),
            owner: None,
            owner_upn: None,
            platform: p,
            os: os.into(),
            os_version: v.map(Into::into),
            model: None,
            last_sync: None,
        }
    }

    #[test]
    fn minimum_is_supported_and_one_below_is_not() {
        let r = Reference::builtin().unwrap();
        assert_eq!(
            classify(&dev(Platform::Ios, "iOS", Some("16.0")), &r),
            Verdict::Supported
        );
        assert_eq!(
            classify(&dev(Platform::Ios, "iPadOS", Some("16")), &r),
            Verdict::Supported
        );
        assert!(matches!(
            classify(&dev(Platform::Ios, "iOS", Some("15.8.3")), &r),
            Verdict::Unsupported { sub: "os_version", .. }
        ));
        assert_eq!(
            classify(&dev(Platform::Android, "Android", Some("10")), &r),
            Verdict::Supported
        );
        assert!(matches!(
            classify(&dev(Platform::Android, "Android", Some("9")), &r),
            Verdict::Unsupported { sub: "os_version", .. }
        ));
    }

    #[test]
    fn windows_variants() {
        let r = Reference::builtin().unwrap();
        assert_eq!(
            classify(&dev(Platform::Windows, "Windows", Some("10.0.19045")), &r),
            Verdict::Supported
        );
        assert_eq!(
            classify(&dev(Platform::Windows, "Windows 11", None), &r),
            Verdict::Supported
        );
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows 8.1", Some("6.3.9600")), &r),
            Verdict::Unsupported { sub: "platform", .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows", Some("6.3.9600")), &r),
            Verdict::Unsupported { sub: "os_version", .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows RT 8.1", None), &r),
            Verdict::Unsupported { sub: "platform", .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::WindowsPhone, "Windows Phone 8.1", None), &r),
            Verdict::Unsupported { sub: "platform", .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows", None), &r),
            Verdict::Unknown(_)
        ));
    }

    #[test]
    fn version_from_os_name_when_no_version_column() {
        let r = Reference::builtin().unwrap();
        assert!(matches!(
            classify(&dev(Platform::Ios, "iOS 15.4", None), &r),
            Verdict::Unsupported { .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Android, "Android", None), &r),
            Verdict::Unknown(_)
        ));
    }
}
