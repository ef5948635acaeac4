//! Check 4: devices whose OS or version Intune does not support (minimums from
//! templates/readiness/supported-os.json). Their users lose the BMS settings when licensed.

use std::cmp::Ordering;

use crate::model::{Device, Platform};
use crate::readiness::finding::{Finding, Severity};
use crate::readiness::reference::{compare_version_text, Reference};
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

/// True when `os` (any case) contains one of the lower-case `markers`, matched against
/// ` <os> ` so a marker may carry spaces (` rt `).
fn os_matches(os: &str, markers: &[String]) -> Option<String> {
    if markers.is_empty() {
        return None;
    }
    let padded = format!(" {} ", os.to_lowercase());
    markers
        .iter()
        .find(|m| !m.is_empty() && padded.contains(m.as_str()))
        .map(|m| m.trim().to_string())
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
    let note = || {
        rule.note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default()
    };
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
                note()
            ),
            fix: "replace it with a supported device".into(),
        };
    }
    if let Some(m) = os_matches(os, &rule.unsupported_os_markers) {
        return Verdict::Unsupported {
            sub: "platform",
            why: format!("{os} is not migrated (matches '{m}'){}", note()),
            fix: "replace it with a supported device".into(),
        };
    }
    let (Some(min), Some(min_text)) = (rule.minimum.as_deref(), rule.minimum_version.as_deref())
    else {
        return Verdict::Supported;
    };
    let version_text = d
        .os_version
        .as_deref()
        .map(str::trim)
        .filter(|v| v.bytes().any(|b| b.is_ascii_digit()));
    let ordering = match version_text {
        Some(v) => compare_version_text(v, min),
        // A version-less Windows is recognised by name (`Windows 10`) before digits in the name are tried.
        None if os_matches(os, &rule.supported_os_markers).is_some() => return Verdict::Supported,
        None => compare_version_text(os, min),
    };
    match ordering {
        None => Verdict::Unknown(format!(
            "{} version unknown (the export gave none)",
            platform_label(d.platform)
        )),
        Some(Ordering::Less) => Verdict::Unsupported {
            sub: "os_version",
            why: format!(
                "{} {} is below Intune's minimum {min_text} (as of {})",
                platform_label(d.platform),
                version_text.unwrap_or(os),
                r.os.as_of
            ),
            fix: format!(
                "update it to {} {min_text} or later (or replace it)",
                platform_label(d.platform)
            ),
        },
        Some(_) => Verdict::Supported,
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
        let verdict = classify(d, scope.reference);
        if verdict == Verdict::Supported {
            continue;
        }
        let label = scope.device_label(i);
        let owner_text = owner
            .as_deref()
            .map(|o| format!(" of {o}"))
            .unwrap_or_else(|| " (owner unknown)".into());
        let message_head = format!("device {label}{owner_text}");
        let mut objects = Vec::with_capacity(2);
        objects.push(label);
        objects.extend(owner);
        match verdict {
            Verdict::Supported => {}
            Verdict::Unsupported { sub, why, fix } => {
                if let Some(slot) = unsupported.get_mut(i) {
                    *slot = true;
                }
                findings.push(Finding::new(
                    if sub == "platform" {
                        "device.unsupported.platform"
                    } else {
                        "device.unsupported.os_version"
                    },
                    Severity::Warning,
                    format!(
                        "{message_head}: {why}; it loses its BMS settings when the user is licensed for Intune"
                    ),
                    objects,
                    format!("Before the user's wave, {fix}; otherwise expect it to be unmanaged after the move."),
                ));
            }
            Verdict::Unknown(why) => findings.push(Finding::new(
                "device.unsupported.version_unknown",
                Severity::Info,
                format!(
                    "{message_head}: {why}, so readiness can't tell whether Intune supports it"
                ),
                objects,
                "Import a device export that includes the OS version (Get-MobileDevice or the Microsoft 365 admin center device list) to have it checked.",
            )),
        }
    }
    let mut only = Vec::new();
    for u in 0..t.users.len() {
        let devs = scope.devices_of(u);
        if !devs
            .iter()
            .any(|i| unsupported.get(*i).copied().unwrap_or(false))
        {
            continue;
        }
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
            Verdict::Unsupported {
                sub: "os_version",
                ..
            }
        ));
        assert_eq!(
            classify(&dev(Platform::Android, "Android", Some("10")), &r),
            Verdict::Supported
        );
        assert!(matches!(
            classify(&dev(Platform::Android, "Android", Some("9")), &r),
            Verdict::Unsupported {
                sub: "os_version",
                ..
            }
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
            Verdict::Unsupported {
                sub: "platform",
                ..
            }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows", Some("6.3.9600")), &r),
            Verdict::Unsupported {
                sub: "os_version",
                ..
            }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows RT 8.1", None), &r),
            Verdict::Unsupported {
                sub: "platform",
                ..
            }
        ));
        assert!(matches!(
            classify(&dev(Platform::WindowsPhone, "Windows Phone 8.1", None), &r),
            Verdict::Unsupported {
                sub: "platform",
                ..
            }
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
