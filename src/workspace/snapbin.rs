//! `tenant.bin`: a binary copy of `tenant.json` that later steps load several times faster.
//!
//! `tenant.json` stays the snapshot of record (readable, diffable); `tenant.bin` is a cache
//! written beside it by the same save. It is used only when it was written for exactly this
//! `tenant.json` (same length and the same sampled fingerprint); otherwise, or when it is damaged,
//! the JSON is loaded. Layout: magic, version, fingerprint, then each vector as a count followed by
//! its records; strings as u32 length + UTF-8 bytes (u32::MAX = None); integers little-endian.
//! Policies and pins (small, nested) are embedded as JSON text.

use crate::model::{
    BmsPolicy, Device, Group, LicenseAssignment, Member, Membership, Platform, Product,
    ServicePlan, Tenant, User, WavePin,
};

const MAGIC: &[u8; 8] = b"B2ISNAP\x01";
const NONE: u32 = u32::MAX;

/// Fingerprint of the JSON snapshot: its length and an FNV-1a hash of up to 64 KiB at each end.
pub fn fingerprint(json: &[u8]) -> (u64, u64) {
    let n = json.len();
    fingerprint_parts(
        n as u64,
        &json[..n.min(ENDS)],
        &json[n.saturating_sub(ENDS)..],
    )
}

/// How many bytes at each end of the JSON the fingerprint hashes.
pub const ENDS: usize = 65_536;

/// The fingerprint from the length and the two ends (for reading only the ends of a big file).
pub fn fingerprint_parts(len: u64, head: &[u8], tail: &[u8]) -> (u64, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in head.iter().chain(tail.iter()) {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (len, h)
}

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            Some(s) => self.str(s),
            None => self.u32(NONE),
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
            None => self.u8(0),
        }
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            Some(v) => self.u32(v),
            None => self.u32(NONE),
        }
    }
    fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }
}

/// Encodes `tenant` for the JSON snapshot whose fingerprint is given.
pub fn encode(tenant: &Tenant, fp: (u64, u64)) -> Result<Vec<u8>, serde_json::Error> {
    let Tenant {
        users,
        groups,
        memberships,
        products,
        license_assignments,
        devices,
        policies,
        exclusion_groups,
        pins,
    } = tenant;
    let mut w = W(Vec::with_capacity(
        users.len() * 160 + memberships.len() * 9 + devices.len() * 120 + 1024,
    ));
    w.0.extend_from_slice(MAGIC);
    w.u32(crate::model::SNAPSHOT_VERSION);
    w.u64(fp.0);
    w.u64(fp.1);
    w.len(users.len());
    for u in users {
        let User {
            upn,
            id,
            display_name,
            department,
            office,
            city,
            country,
            usage_location,
            account_enabled,
            manager_upn,
        } = u;
        w.str(upn);
        for s in [
            id,
            display_name,
            department,
            office,
            city,
            country,
            usage_location,
            manager_upn,
        ] {
            w.opt_str(s);
        }
        w.u8(match account_enabled {
            None => 2,
            Some(true) => 1,
            Some(false) => 0,
        });
    }
    w.len(groups.len());
    for g in groups {
        let Group {
            id,
            display_name,
            dynamic,
        } = g;
        w.opt_str(id);
        w.str(display_name);
        w.u8(*dynamic as u8);
    }
    w.len(memberships.len());
    for m in memberships {
        let Membership { group, member } = m;
        w.u32(*group);
        match member {
            Member::User(u) => {
                w.u8(0);
                w.u32(*u);
            }
            Member::Group(g) => {
                w.u8(1);
                w.u32(*g);
            }
        }
    }
    w.len(products.len());
    for p in products {
        let Product {
            part_number,
            sku_id,
            display_name,
            enabled_units,
            consumed_units,
            service_plans,
        } = p;
        w.str(part_number);
        w.opt_str(sku_id);
        w.opt_str(display_name);
        w.opt_u64(*enabled_units);
        w.opt_u64(*consumed_units);
        w.len(service_plans.len());
        for sp in service_plans {
            let ServicePlan { name, id } = sp;
            w.str(name);
            w.opt_str(id);
        }
    }
    w.len(license_assignments.len());
    for a in license_assignments {
        let LicenseAssignment {
            user,
            product,
            disabled_plans,
        } = a;
        w.u32(*user);
        w.u32(*product);
        w.strs(disabled_plans);
    }
    w.len(devices.len());
    for d in devices {
        let Device {
            id,
            owner,
            owner_upn,
            platform,
            os,
            os_version,
            model,
            last_sync,
        } = d;
        w.opt_str(id);
        w.opt_u32(*owner);
        w.opt_str(owner_upn);
        w.u8(match platform {
            Platform::Ios => 0,
            Platform::Android => 1,
            Platform::Windows => 2,
            Platform::WindowsPhone => 3,
            Platform::MacOs => 4,
            Platform::Other => 5,
        });
        w.str(os);
        w.opt_str(os_version);
        w.opt_str(model);
        w.opt_str(last_sync);
    }
    w.str(&serde_json::to_string(policies)?);
    w.strs(exclusion_groups);
    w.str(&serde_json::to_string(pins)?);
    Ok(w.0)
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

/// Why a `tenant.bin` can't be used (the caller falls back to `tenant.json`).
#[derive(Debug)]
pub struct Unusable(pub &'static str);

type Res<T> = Result<T, Unusable>;

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or(Unusable("truncated"))?;
        let s = self.b.get(self.at..end).ok_or(Unusable("truncated"))?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Res<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Res<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    /// A count, sanity-checked against the bytes left (each record takes at least one byte).
    fn count(&mut self) -> Res<usize> {
        let n = self.u32()? as usize;
        if n > self.b.len().saturating_sub(self.at) {
            return Err(Unusable("bad count"));
        }
        Ok(n)
    }
    fn str_of_len(&mut self, n: u32) -> Res<String> {
        let s = self.take(n as usize)?;
        String::from_utf8(s.to_vec()).map_err(|_| Unusable("bad utf-8"))
    }
    fn str(&mut self) -> Res<String> {
        let n = self.u32()?;
        if n == NONE {
            return Err(Unusable("missing string"));
        }
        self.str_of_len(n)
    }
    fn opt_str(&mut self) -> Res<Option<String>> {
        let n = self.u32()?;
        if n == NONE {
            Ok(None)
        } else {
            self.str_of_len(n).map(Some)
        }
    }
    fn opt_u64(&mut self) -> Res<Option<u64>> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.u64().map(Some),
            _ => Err(Unusable("bad option")),
        }
    }
    fn opt_u32(&mut self) -> Res<Option<u32>> {
        let v = self.u32()?;
        Ok((v != NONE).then_some(v))
    }
    fn strs(&mut self) -> Res<Vec<String>> {
        let n = self.count()?;
        (0..n).map(|_| self.str()).collect()
    }
}

/// Decodes a `tenant.bin` written for the JSON snapshot with fingerprint `fp`.
pub fn decode(b: &[u8], fp: (u64, u64)) -> Res<Tenant> {
    let mut r = R { b, at: 0 };
    if r.take(8)? != MAGIC {
        return Err(Unusable("not a bms2intune tenant.bin"));
    }
    if r.u32()? != crate::model::SNAPSHOT_VERSION {
        return Err(Unusable("other snapshot version"));
    }
    if (r.u64()?, r.u64()?) != fp {
        return Err(Unusable("written for another tenant.json"));
    }
    let n = r.count()?;
    let mut users = Vec::with_capacity(n);
    for _ in 0..n {
        let upn = r.str()?;
        let id = r.opt_str()?;
        let display_name = r.opt_str()?;
        let department = r.opt_str()?;
        let office = r.opt_str()?;
        let city = r.opt_str()?;
        let country = r.opt_str()?;
        let usage_location = r.opt_str()?;
        let manager_upn = r.opt_str()?;
        let account_enabled = match r.u8()? {
            0 => Some(false),
            1 => Some(true),
            2 => None,
            _ => return Err(Unusable("bad bool")),
        };
        users.push(User {
            upn,
            id,
            display_name,
            department,
            office,
            city,
            country,
            usage_location,
            account_enabled,
            manager_upn,
        });
    }
    let n = r.count()?;
    let mut groups = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.opt_str()?;
        let display_name = r.str()?;
        let dynamic = r.u8()? == 1;
        groups.push(Group {
            id,
            display_name,
            dynamic,
        });
    }
    let n = r.count()?;
    let mut memberships = Vec::with_capacity(n);
    for _ in 0..n {
        let group = r.u32()?;
        let member = match r.u8()? {
            0 => Member::User(r.u32()?),
            1 => Member::Group(r.u32()?),
            _ => return Err(Unusable("bad member kind")),
        };
        memberships.push(Membership { group, member });
    }
    let n = r.count()?;
    let mut products = Vec::with_capacity(n);
    for _ in 0..n {
        let part_number = r.str()?;
        let sku_id = r.opt_str()?;
        let display_name = r.opt_str()?;
        let enabled_units = r.opt_u64()?;
        let consumed_units = r.opt_u64()?;
        let k = r.count()?;
        let mut service_plans = Vec::with_capacity(k);
        for _ in 0..k {
            let name = r.str()?;
            let id = r.opt_str()?;
            service_plans.push(ServicePlan { name, id });
        }
        products.push(Product {
            part_number,
            sku_id,
            display_name,
            enabled_units,
            consumed_units,
            service_plans,
        });
    }
    let n = r.count()?;
    let mut license_assignments = Vec::with_capacity(n);
    for _ in 0..n {
        let user = r.u32()?;
        let product = r.u32()?;
        let disabled_plans = r.strs()?;
        license_assignments.push(LicenseAssignment {
            user,
            product,
            disabled_plans,
        });
    }
    let n = r.count()?;
    let mut devices = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.opt_str()?;
        let owner = r.opt_u32()?;
        let owner_upn = r.opt_str()?;
        let platform = match r.u8()? {
            0 => Platform::Ios,
            1 => Platform::Android,
            2 => Platform::Windows,
            3 => Platform::WindowsPhone,
            4 => Platform::MacOs,
            5 => Platform::Other,
            _ => return Err(Unusable("bad platform")),
        };
        let os = r.str()?;
        let os_version = r.opt_str()?;
        let model = r.opt_str()?;
        let last_sync = r.opt_str()?;
        devices.push(Device {
            id,
            owner,
            owner_upn,
            platform,
            os,
            os_version,
            model,
            last_sync,
        });
    }
    let policies: Vec<BmsPolicy> =
        serde_json::from_str(&r.str()?).map_err(|_| Unusable("bad policies"))?;
    let exclusion_groups = r.strs()?;
    let pins: Vec<WavePin> = serde_json::from_str(&r.str()?).map_err(|_| Unusable("bad pins"))?;
    if r.at != b.len() {
        return Err(Unusable("trailing bytes"));
    }
    Ok(Tenant {
        users,
        groups,
        memberships,
        products,
        license_assignments,
        devices,
        policies,
        exclusion_groups,
        pins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sample() -> Tenant {
        Tenant {
            users: vec![
                User {
                    upn: "a@x".into(),
                    id: Some("1".into()),
                    usage_location: Some("DE".into()),
                    account_enabled: Some(true),
                    ..Default::default()
                },
                User {
                    upn: "b@x".into(),
                    account_enabled: None,
                    manager_upn: Some("a@x".into()),
                    ..Default::default()
                },
            ],
            groups: vec![Group {
                id: None,
                display_name: "G".into(),
                dynamic: true,
            }],
            memberships: vec![
                Membership {
                    group: 0,
                    member: Member::User(1),
                },
                Membership {
                    group: 0,
                    member: Member::Group(0),
                },
            ],
            products: vec![Product {
                part_number: "EMS".into(),
                enabled_units: Some(5),
                consumed_units: None,
                service_plans: vec![ServicePlan {
                    name: "INTUNE_A".into(),
                    id: Some("c1".into()),
                }],
                ..Default::default()
            }],
            license_assignments: vec![LicenseAssignment {
                user: 0,
                product: 0,
                disabled_plans: vec!["X".into()],
            }],
            devices: vec![Device {
                id: None,
                owner: Some(1),
                owner_upn: Some("b@x".into()),
                platform: Platform::WindowsPhone,
                os: "Windows Phone".into(),
                os_version: Some("8.1".into()),
                model: None,
                last_sync: Some("2026-01-01".into()),
            }],
            policies: vec![BmsPolicy {
                name: "P".into(),
                comment: Some("c".into()),
                enabled: true,
                kind: crate::model::PolicyKind::ConditionalAccess,
                target_groups: vec!["g".into()],
                settings: BTreeMap::from([(
                    "PasswordRequired".to_string(),
                    serde_json::json!(true),
                )]),
            }],
            exclusion_groups: vec!["e".into()],
            pins: vec![WavePin {
                user: 0,
                wave: Some(2),
                pilot: false,
                source: Some("f.csv row 2".into()),
            }],
        }
    }

    #[test]
    fn round_trips_every_field() {
        let t = sample();
        let bin = encode(&t, (10, 20)).unwrap();
        assert_eq!(decode(&bin, (10, 20)).unwrap(), t);
    }

    #[test]
    fn refuses_another_fingerprint_and_damage_without_panicking() {
        let bin = encode(&sample(), (10, 20)).unwrap();
        assert!(decode(&bin, (10, 21)).is_err());
        for cut in 0..bin.len() {
            assert!(decode(&bin[..cut], (10, 20)).is_err(), "truncated at {cut}");
        }
        let mut flipped = bin.clone();
        for i in 28..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = decode(&flipped, (10, 20)); // must not panic
            flipped[i] ^= 0xff;
        }
    }
}
