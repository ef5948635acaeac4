//! Check 4: devices whose OS or version Intune does not support (minimums from
//! templates/readiness/supported-os.json). Their users lose the BMS settings when licensed.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::model::{Device, Platform};
use crate::readiness::finding::{cmp_findings, n, prefix16, Finding, Severity};
use crate::readiness::reference::{compare_version_text, Reference};
use crate::readiness::scope::Scope;

/// The memo key of a device: platform, OS and version, with a hash computed from the lengths and
/// the first and last eight bytes of each string (equality still compares everything). The memo
/// below looks up 1.3 million devices at a million users; hashing whole strings through `Hasher`
/// byte by byte was most of the check's time.
#[derive(Debug, Clone, Copy)]
struct OsKey<'t> {
    hash: u64,
    platform: Platform,
    os: &'t str,
    version: Option<&'t str>,
}

/// The first and the last eight bytes of a string (zero-padded when shorter), as two words.
#[inline]
fn edge_words(s: &[u8]) -> (u64, u64) {
    let mut first = [0u8; 8];
    let mut last = [0u8; 8];
    let n = s.len().min(8);
    if let (Some(dst), Some(src)) = (first.get_mut(..n), s.get(..n)) {
        dst.copy_from_slice(src);
    }
    if let (Some(dst), Some(src)) = (last.get_mut(..n), s.get(s.len() - n..)) {
        dst.copy_from_slice(src);
    }
    (u64::from_le_bytes(first), u64::from_le_bytes(last))
}

impl<'t> OsKey<'t> {
    #[inline]
    fn of(d: &'t Device) -> OsKey<'t> {
        let os = d.os.as_str();
        let version = d.os_version.as_deref();
        let (a, b) = edge_words(os.as_bytes());
        let (c, e) = version.map_or((0, 0), |v| edge_words(v.as_bytes()));
        let lens = (d.platform as u64)
            | ((os.len() as u64) << 8)
            | (version.map_or(u64::from(u32::MAX), |v| v.len() as u64) << 32);
        let mut h: u64 = 0x243f_6a88_85a3_08d3;
        for x in [lens, a, b, c, e] {
            h = (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
        }
        OsKey {
            hash: h ^ (h >> 32),
            platform: d.platform,
            os,
            version,
        }
    }
}

impl PartialEq for OsKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && self.platform == other.platform
            && self.os == other.os
            && self.version == other.version
    }
}

impl Eq for OsKey<'_> {}

impl Hash for OsKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Passes an [`OsKey`]'s precomputed hash through.
#[derive(Default)]
struct KeyHash(u64);

impl Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by OsKey; any bytes still spread over the table.
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// What Intune will make of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<'r> {
    Supported,
    /// The platform (or this variant of it) is not managed by Intune; `marker` is the OS-name
    /// marker that identified the variant, `note` the reference data's explanation.
    UnsupportedPlatform {
        marker: Option<&'r str>,
        note: Option<&'r str>,
    },
    /// The version is below Intune's minimum for the platform.
    BelowMinimum {
        minimum: &'r str,
    },
    /// Can't tell: the export gave no version (or there's no rule for the platform).
    Unknown,
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

/// The first of the lower-case `markers` found in `os` (any case), matched against ` <os> ` so
/// a marker may carry spaces (` rt `). `buf` is scratch space, reused across devices.
fn os_marker<'r>(os: &str, markers: &'r [String], buf: &mut String) -> Option<&'r str> {
    if markers.is_empty() {
        return None;
    }
    buf.clear();
    buf.push(' ');
    buf.extend(os.chars().flat_map(char::to_lowercase));
    buf.push(' ');
    markers
        .iter()
        .find(|m| !m.is_empty() && buf.contains(m.as_str()))
        .map(|m| m.trim())
}

/// Classifies one device against the reference minimums.
pub fn classify<'r>(d: &Device, r: &'r Reference) -> Verdict<'r> {
    classify_with(d, r, &mut String::new())
}

fn classify_with<'r>(d: &Device, r: &'r Reference, buf: &mut String) -> Verdict<'r> {
    let Some(rule) = r.os.rule(d.platform) else {
        return Verdict::Unknown;
    };
    let os = d.os.trim();
    if !rule.supported {
        return Verdict::UnsupportedPlatform {
            marker: None,
            note: rule.note.as_deref(),
        };
    }
    if let Some(m) = os_marker(os, &rule.unsupported_os_markers, buf) {
        return Verdict::UnsupportedPlatform {
            marker: Some(m),
            note: rule.note.as_deref(),
        };
    }
    let (Some(min), Some(min_text)) = (rule.minimum.as_deref(), rule.minimum_version.as_deref())
    else {
        return Verdict::Supported;
    };
    let ordering = match version_text(d) {
        Some(v) => compare_version_text(v, min),
        // A version-less Windows is recognised by name (`Windows 10`) before digits in the name are tried.
        None if os_marker(os, &rule.supported_os_markers, buf).is_some() => {
            return Verdict::Supported
        }
        None => compare_version_text(os, min),
    };
    match ordering {
        None => Verdict::Unknown,
        Some(Ordering::Less) => Verdict::BelowMinimum { minimum: min_text },
        Some(_) => Verdict::Supported,
    }
}

/// The OS version column when it holds a number.
fn version_text(d: &Device) -> Option<&str> {
    d.os_version
        .as_deref()
        .map(str::trim)
        .filter(|v| v.bytes().any(|b| b.is_ascii_digit()))
}

/// An unsupported device, as the report will name it.
struct Hit<'t> {
    kind: u32,
    prefix: u128,
    label: Cow<'t, str>,
    owner: Option<Cow<'t, str>>,
}

/// Inserts a finding where the report order puts it in a sorted list.
fn insert_sorted(findings: &mut Vec<Finding>, f: Finding) {
    let at = findings.partition_point(|x| cmp_findings(x, &f) != Ordering::Greater);
    findings.insert(at, f);
}

/// The finding (without objects) for the devices of one platform, OS and version; `None` when
/// Intune supports them.
fn template(d: &Device, verdict: Verdict, r: &Reference) -> Option<Finding> {
    let os = if d.os.trim().is_empty() {
        platform_label(d.platform)
    } else {
        d.os.trim()
    };
    let version = version_text(d).unwrap_or("");
    let os_version = if version.is_empty() {
        os.to_string()
    } else {
        format!("{os} {version}")
    };
    Some(match verdict {
        Verdict::Supported => return None,
        Verdict::UnsupportedPlatform { marker, note } => Finding::new(
            "device.unsupported.platform",
            Severity::Warning,
            match (marker, note) {
                (Some(m), Some(note)) => format!(
                    "{os_version} is not migrated (matches '{m}': {note}); the device loses its BMS settings when its user is licensed"
                ),
                _ => format!(
                    "{os_version} is not supported by Intune; the device loses its BMS settings when its user is licensed"
                ),
            },
            Vec::new(),
            "Replace it with a supported device before the user's wave; otherwise it is unmanaged after the move.",
        ),
        Verdict::BelowMinimum { minimum } => {
            let p = platform_label(d.platform);
            Finding::new(
                "device.unsupported.os_version",
                Severity::Warning,
                format!(
                    "{p} {} is below Intune's minimum {minimum} (as of {}); the device loses its BMS settings when its user is licensed",
                    if version.is_empty() { os } else { version },
                    r.os.as_of
                ),
                Vec::new(),
                format!("Update it to {p} {minimum} or later (or replace it) before the user's wave; otherwise it is unmanaged after the move."),
            )
        }
        Verdict::Unknown => Finding::new(
            "device.unsupported.version_unknown",
            Severity::Info,
            format!(
                "{} version unknown (the export gave none), so readiness can't tell whether Intune supports the device",
                platform_label(d.platform)
            ),
            Vec::new(),
            "Import a device export that includes the OS version (Get-MobileDevice or the Microsoft 365 admin center device list) to have it checked.",
        ),
    })
}

/// Per-device findings, two per-user findings (users with only unsupported devices, users with
/// some) and the list of users all of whose devices are unsupported. The findings come sorted
/// (report order).
pub fn unsupported_devices<'t>(scope: &Scope<'t>) -> (Vec<String>, Vec<Finding>) {
    let t = scope.tenant;
    let r = scope.reference;
    let mut findings = Vec::new();
    let mut unsupported = vec![false; t.devices.len()];
    let mut buf = String::new();
    // Tenants have a few hundred distinct OS/version pairs across millions of devices: each pair
    // is classified, and its finding's texts written, once; a device's finding copies them.
    let mut seen: HashMap<OsKey, usize, BuildHasherDefault<KeyHash>> = HashMap::default();
    let mut kinds: Vec<(Verdict, Option<Finding>)> = Vec::new();
    // The owner's lower-case UPN, else the one the export gave.
    let owner = |d: &'t Device| -> Option<Cow<'t, str>> {
        d.owner
            .filter(|o| (*o as usize) < t.users.len())
            .map(|o| scope.upn_cow(o))
            .or_else(|| {
                d.owner_upn
                    .as_ref()
                    .map(|u| Cow::Owned(u.trim().to_lowercase()))
            })
            .filter(|u| !u.is_empty())
    };
    // Per unsupported device: its kind, the first 16 bytes of its label, its label and owner
    // (read here, in snapshot order, rather than later in report order, which jumps around).
    // The findings are made after sorting these, so they are allocated in report order and the
    // report writers read memory in order (that halves their time at 100,000 findings).
    let mut hits: Vec<Hit<'t>> = Vec::new();
    for (i, d) in t.devices.iter().enumerate() {
        let key = OsKey::of(d);
        let kind = match seen.get(&key) {
            Some(k) => *k,
            None => {
                let v = classify_with(d, r, &mut buf);
                kinds.push((v, template(d, v, r)));
                seen.insert(key, kinds.len() - 1);
                kinds.len() - 1
            }
        };
        let Some((verdict, Some(_))) = kinds.get(kind) else {
            continue;
        };
        if matches!(
            verdict,
            Verdict::UnsupportedPlatform { .. } | Verdict::BelowMinimum { .. }
        ) {
            if let Some(slot) = unsupported.get_mut(i) {
                *slot = true;
            }
        }
        let label = scope.device_label_cow(i);
        hits.push(Hit {
            kind: kind as u32,
            prefix: prefix16(&label),
            label,
            owner: owner(d),
        });
    }
    // Kinds ranked by severity and code, the first keys of the report order (kinds with the
    // same severity and code share a rank).
    let kind_key = |k: usize| {
        kinds
            .get(k)
            .and_then(|(_, t)| t.as_ref())
            .map(|t| (t.severity, t.code.as_str()))
    };
    let mut by_rank: Vec<usize> = (0..kinds.len()).collect();
    by_rank.sort_by_key(|k| kind_key(*k));
    let mut rank = vec![0u32; kinds.len()];
    let mut r = 0u32;
    for (n, k) in by_rank.iter().enumerate() {
        if n > 0 && by_rank.get(n - 1).map(|p| kind_key(*p)) != Some(kind_key(*k)) {
            r += 1;
        }
        if let Some(slot) = rank.get_mut(*k) {
            *slot = r;
        }
    }
    let template_of = |k: u32| kinds.get(k as usize).and_then(|(_, t)| t.as_ref());
    let rank_of = |k: u32| rank.get(k as usize).copied().unwrap_or(0);
    // The report order (severity, code, objects = [label, owner], message, remedy); the full
    // comparison only runs on equal label prefixes.
    hits.sort_unstable_by(|a, b| {
        (rank_of(a.kind), a.prefix)
            .cmp(&(rank_of(b.kind), b.prefix))
            .then_with(|| {
                let (ta, tb) = (template_of(a.kind), template_of(b.kind));
                a.label
                    .cmp(&b.label)
                    .then_with(|| a.owner.cmp(&b.owner))
                    .then_with(|| ta.map(|t| &t.message).cmp(&tb.map(|t| &t.message)))
                    .then_with(|| ta.map(|t| &t.remedy).cmp(&tb.map(|t| &t.remedy)))
            })
    });
    findings.reserve_exact(hits.len() + 2);
    for hit in hits {
        let Some(template) = template_of(hit.kind) else {
            continue;
        };
        let mut objects = Vec::with_capacity(2);
        objects.push(hit.label.into_owned());
        objects.extend(hit.owner.map(Cow::into_owned));
        findings.push(Finding {
            code: template.code.clone(),
            severity: template.severity,
            message: template.message.clone(),
            objects,
            remedy: template.remedy.clone(),
        });
    }
    let mut only = Vec::new();
    let mut some = Vec::new();
    for u in 0..t.users.len() {
        let devs = scope.devices_of(u);
        let bad = devs
            .iter()
            .filter(|i| unsupported.get(**i as usize).copied().unwrap_or(false))
            .count();
        if bad == 0 {
            continue;
        }
        if bad == devs.len() {
            only.push(scope.upn(u as u32));
        } else {
            some.push(scope.upn(u as u32));
        }
    }
    only.sort_unstable();
    only.dedup();
    some.sort_unstable();
    some.dedup();
    if !only.is_empty() {
        insert_sorted(&mut findings, Finding::new(
            "device.unsupported.user",
            Severity::Warning,
            format!(
                "{} only BMS devices Intune does not support: licensing them leaves them without managed devices",
                n(only.len() as u64, "user has", "users have")
            ),
            only.clone(),
            "Replace or update their devices before their wave, or hold them back (bms2intune plan --skip-unsupported); the device.unsupported.platform/os_version findings list the devices.",
        ));
    }
    if !some.is_empty() {
        insert_sorted(&mut findings, Finding::new(
            "device.unsupported.user_partial",
            Severity::Warning,
            format!(
                "{} both supported BMS devices and devices Intune does not support: the unsupported ones lose their BMS settings when the user is licensed",
                n(some.len() as u64, "user has", "users have")
            ),
            some,
            "Replace or update the unsupported devices (listed in the device.unsupported.platform/os_version findings) before the user's wave; the other devices move to Intune normally.",
        ));
    }
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
            Verdict::BelowMinimum { .. }
        ));
        assert_eq!(
            classify(&dev(Platform::Android, "Android", Some("10")), &r),
            Verdict::Supported
        );
        assert!(matches!(
            classify(&dev(Platform::Android, "Android", Some("9")), &r),
            Verdict::BelowMinimum { .. }
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
            Verdict::UnsupportedPlatform { .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows", Some("6.3.9600")), &r),
            Verdict::BelowMinimum { .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows RT 8.1", None), &r),
            Verdict::UnsupportedPlatform { .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::WindowsPhone, "Windows Phone 8.1", None), &r),
            Verdict::UnsupportedPlatform { .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Windows, "Windows", None), &r),
            Verdict::Unknown
        ));
    }

    #[test]
    fn memo_keys_tell_devices_apart() {
        let a = dev(
            Platform::Windows,
            "Windows 10 Enterprise LTSC",
            Some("10.0.1"),
        );
        let b = dev(
            Platform::Windows,
            "Windows 11 Enterprise LTSC",
            Some("10.0.1"),
        );
        let c = dev(
            Platform::Windows,
            "Windows 10 Enterprise LTSC",
            Some("10.0.2"),
        );
        let d = dev(Platform::Windows, "Windows 10 Enterprise LTSC", None);
        let e = dev(
            Platform::WindowsPhone,
            "Windows 10 Enterprise LTSC",
            Some("10.0.1"),
        );
        let keys: Vec<OsKey> = [&a, &b, &c, &d, &e].iter().map(|x| OsKey::of(x)).collect();
        for (i, x) in keys.iter().enumerate() {
            for (j, y) in keys.iter().enumerate() {
                assert_eq!(x == y, i == j, "{i} {j}");
            }
        }
        // The same content in other allocations is the same key.
        assert_eq!(OsKey::of(&a), OsKey::of(&a.clone()));
        // Equal hashes alone don't make keys equal.
        let forged = OsKey {
            os: "other",
            ..OsKey::of(&a)
        };
        assert_ne!(forged, OsKey::of(&a));
    }

    #[test]
    fn findings_come_in_report_order() {
        use crate::model::{Tenant, User};
        use crate::readiness::finding::sort_findings;
        let r = Reference::builtin().unwrap();
        let mut t = Tenant::default();
        for u in 0..50 {
            t.users.push(User {
                upn: if u % 7 == 0 {
                    format!("User{u}@X.test")
                } else {
                    format!("user{u}@x.test")
                },
                ..User::default()
            });
        }
        let oses = [
            (Platform::Ios, "iOS", Some("15.1")),
            (Platform::Ios, "iPadOS", Some("14")),
            (Platform::Android, "Android", Some("9")),
            (Platform::Android, "Android", None),
            (Platform::Windows, "Windows 8.1", None),
            (Platform::WindowsPhone, "Windows Phone 8.1", None),
            (Platform::Ios, "iOS", Some("17.0")),
        ];
        for i in 0..700usize {
            let (p, os, v) = oses[i % oses.len()];
            let mut d = dev(p, os, v);
            // Shared ids, ids that differ after 16 bytes, and devices without an id.
            d.id = match i % 5 {
                0 => None,
                1 => Some(format!("same-prefix-0000-{}", i % 13)),
                2 => Some(format!("{}", (i * 7919) % 101)),
                _ => Some(format!(
                    "{:08x}-device",
                    (i * 2_654_435_761usize) % 1_000_003
                )),
            };
            d.owner = (i % 3 != 0).then_some((i % 60) as u32);
            d.owner_upn = (i % 4 == 0).then(|| format!("Former{}@x.test", i % 9));
            t.devices.push(d);
        }
        let scope = Scope::new(&t, &r);
        let (_, findings) = unsupported_devices(&scope);
        assert!(findings.len() > 500);
        let mut sorted = findings.clone();
        sort_findings(&mut sorted);
        assert_eq!(findings, sorted);
        assert!(findings
            .iter()
            .any(|f| f.is("device.unsupported.user_partial")));
        assert!(findings
            .iter()
            .any(|f| f.code == "device.unsupported.version_unknown"));
    }

    #[test]
    fn version_from_os_name_when_no_version_column() {
        let r = Reference::builtin().unwrap();
        assert!(matches!(
            classify(&dev(Platform::Ios, "iOS 15.4", None), &r),
            Verdict::BelowMinimum { .. }
        ));
        assert!(matches!(
            classify(&dev(Platform::Android, "Android", None), &r),
            Verdict::Unknown
        ));
    }
}
