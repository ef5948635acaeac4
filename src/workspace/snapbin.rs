//! `tenant.bin`: a binary copy of `tenant.json` that later steps load several times faster.
//!
//! `tenant.json` stays the snapshot of record (readable, diffable); `tenant.bin` is a cache
//! written beside it by the same save. It is used only when it was written for exactly this
//! `tenant.json` (same length and the same sampled fingerprint); otherwise, or when it is damaged,
//! the JSON is loaded. Layout: magic, version, fingerprint, then each vector as a count followed by
//! its records; strings as u32 length + UTF-8 bytes (u32::MAX = None); integers little-endian.
//! Policies and pins (small, nested) are embedded as JSON text.

use std::io::{BufRead, Read};

use super::Fields;
use crate::model::{
    BmsPolicy, Device, Group, LicenseAssignment, Member, Membership, Platform, Product,
    ServicePlan, Tenant, User, WavePin,
};

const MAGIC: &[u8; 8] = b"B2ISNAP\x02";
const NONE: u32 = u32::MAX;
/// Sections, each decodable on its own (so big ones load on separate threads).
const SECTIONS: usize = 7;
const S_USERS: usize = 0;
const S_GROUPS: usize = 1;
const S_MEMBERSHIPS: usize = 2;
const S_PRODUCTS: usize = 3;
const S_LICENSES: usize = 4;
const S_DEVICES: usize = 5;
const S_REST: usize = 6;
/// Magic, version, fingerprint, then (offset, length) of each section.
const HEADER: usize = 8 + 4 + 16 + SECTIONS * 16;

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

/// One section being written: fixed-size fields and string lengths in `meta`, the string bytes
/// back to back in `text` (validated as UTF-8 once when read, instead of string by string).
struct W {
    meta: Vec<u8>,
    text: Vec<u8>,
}

impl W {
    fn new(meta: usize, text: usize) -> W {
        W {
            meta: Vec::with_capacity(meta),
            text: Vec::with_capacity(text),
        }
    }
    fn u8(&mut self, v: u8) {
        self.meta.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.meta.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.meta.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.text.extend_from_slice(s.as_bytes());
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
    /// The section bytes: meta length, meta, text.
    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.meta.len() + self.text.len());
        out.extend_from_slice(&(self.meta.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.meta);
        out.extend_from_slice(&self.text);
        out
    }
}

/// Tracks the fingerprint of the bytes written through it (the JSON snapshot as it is streamed
/// to its file), so `tenant.bin` can be encoded at the same time instead of after.
pub struct FingerprintWriter<W> {
    inner: W,
    len: u64,
    head: Vec<u8>,
    /// The last bytes written (at most `2 * ENDS`, trimmed to the last `ENDS` when read).
    tail: Vec<u8>,
}

impl<W: std::io::Write> FingerprintWriter<W> {
    pub fn new(inner: W) -> Self {
        FingerprintWriter {
            inner,
            len: 0,
            head: Vec::with_capacity(ENDS),
            tail: Vec::with_capacity(2 * ENDS),
        }
    }
    /// The fingerprint of everything written, as [`fingerprint`] computes it from the file.
    pub fn fingerprint(&self) -> (u64, u64) {
        let tail = &self.tail[self.tail.len().saturating_sub(ENDS)..];
        fingerprint_parts(self.len, &self.head, tail)
    }
}

impl<W: std::io::Write> std::io::Write for FingerprintWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = &buf[..n];
        self.len += n as u64;
        let room = ENDS - self.head.len();
        self.head.extend_from_slice(&done[..room.min(n)]);
        if n >= ENDS {
            self.tail.clear();
            self.tail.extend_from_slice(&done[n - ENDS..]);
        } else {
            if self.tail.len() + n > 2 * ENDS {
                let cut = self.tail.len() + n - ENDS;
                self.tail.drain(..cut.min(self.tail.len()));
            }
            self.tail.extend_from_slice(done);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A tenant encoded section by section, waiting for the fingerprint of its JSON snapshot.
pub struct Sections(Vec<Vec<u8>>);

impl Sections {
    /// Writes `tenant.bin`: header with `fp` and the section table, then the sections.
    pub fn write_to(&self, w: &mut impl std::io::Write, fp: (u64, u64)) -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&crate::model::SNAPSHOT_VERSION.to_le_bytes())?;
        w.write_all(&fp.0.to_le_bytes())?;
        w.write_all(&fp.1.to_le_bytes())?;
        let mut at = HEADER as u64;
        for s in &self.0 {
            w.write_all(&at.to_le_bytes())?;
            w.write_all(&(s.len() as u64).to_le_bytes())?;
            at += s.len() as u64;
        }
        for s in &self.0 {
            w.write_all(s)?;
        }
        Ok(())
    }
}

/// Encodes `tenant` for the JSON snapshot whose fingerprint is given.
#[cfg(test)]
pub fn encode(tenant: &Tenant, fp: (u64, u64)) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    encode_sections(tenant)?
        .write_to(&mut out, fp)
        .map_err(serde_json::Error::io)?;
    Ok(out)
}

/// Encodes `tenant`'s sections (the header comes with [`Sections::write_to`]).
pub fn encode_sections(tenant: &Tenant) -> Result<Sections, serde_json::Error> {
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
    let mut sections: Vec<Vec<u8>> = Vec::with_capacity(SECTIONS);

    let mut w = W::new(4 + users.len() * 37, users.len() * 150);
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
    sections.push(w.finish());

    let mut w = W::new(4 + groups.len() * 9, groups.len() * 60);
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
    sections.push(w.finish());

    let mut w = W::new(4 + memberships.len() * 9, 0);
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
    sections.push(w.finish());

    let mut w = W::new(1024, 1024);
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
    sections.push(w.finish());

    let mut w = W::new(4 + license_assignments.len() * 12, 0);
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
    sections.push(w.finish());

    let mut w = W::new(4 + devices.len() * 29, devices.len() * 120);
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
    sections.push(w.finish());

    let mut w = W::new(64, 1024);
    w.str(&serde_json::to_string(policies)?);
    w.strs(exclusion_groups);
    w.str(&serde_json::to_string(pins)?);
    sections.push(w.finish());

    Ok(Sections(sections))
}

/// Reads one section as two streams: fixed fields and lengths from `meta`, string bytes from
/// `text`; nothing but the decoded values is held in memory.
struct R<M: BufRead, T: BufRead> {
    meta: M,
    meta_left: u64,
    text: T,
    text_left: u64,
}

/// Why a `tenant.bin` can't be used (the caller falls back to `tenant.json`).
#[derive(Debug)]
pub struct Unusable(pub &'static str);

type Res<T> = Result<T, Unusable>;

/// Copies `out.len()` bytes from `r` (the buffer's fast path when they are there).
#[inline(always)]
fn fill(r: &mut impl BufRead, out: &mut [u8]) -> Res<()> {
    let buf = r.fill_buf().map_err(|_| Unusable("unreadable"))?;
    if buf.len() >= out.len() {
        out.copy_from_slice(&buf[..out.len()]);
        r.consume(out.len());
        return Ok(());
    }
    r.read_exact(out).map_err(|_| Unusable("truncated"))
}

impl<M: BufRead, T: BufRead> R<M, T> {
    #[inline]
    fn fixed<const N: usize>(&mut self) -> Res<[u8; N]> {
        if (N as u64) > self.meta_left {
            return Err(Unusable("truncated"));
        }
        let mut a = [0u8; N];
        fill(&mut self.meta, &mut a)?;
        self.meta_left -= N as u64;
        Ok(a)
    }
    #[inline]
    fn u8(&mut self) -> Res<u8> {
        Ok(self.fixed::<1>()?[0])
    }
    #[inline]
    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_le_bytes(self.fixed()?))
    }
    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.fixed()?))
    }
    /// A count, sanity-checked against the bytes left (each record takes at least one byte).
    fn count(&mut self) -> Res<usize> {
        let n = self.u32()?;
        if n as u64 > self.meta_left {
            return Err(Unusable("bad count"));
        }
        Ok(n as usize)
    }
    /// Passes the next `n` text bytes to `each`, buffer by buffer.
    #[inline]
    fn text(&mut self, n: u32, mut each: impl FnMut(&[u8])) -> Res<()> {
        if n as u64 > self.text_left {
            return Err(Unusable("truncated"));
        }
        let mut left = n as usize;
        while left > 0 {
            let buf = self.text.fill_buf().map_err(|_| Unusable("unreadable"))?;
            if buf.is_empty() {
                return Err(Unusable("truncated"));
            }
            let k = buf.len().min(left);
            each(&buf[..k]);
            self.text.consume(k);
            left -= k;
        }
        self.text_left -= n as u64;
        Ok(())
    }
    #[inline]
    fn str_of_len(&mut self, n: u32) -> Res<String> {
        let mut v = Vec::with_capacity(n as usize);
        self.text(n, |b| v.extend_from_slice(b))?;
        String::from_utf8(v).map_err(|_| Unusable("bad utf-8"))
    }
    /// An optional string that is read only when `keep` (else skipped, no allocation).
    #[inline]
    fn opt_str_if(&mut self, keep: bool) -> Res<Option<String>> {
        if keep {
            return self.opt_str();
        }
        let n = self.u32()?;
        if n != NONE {
            self.text(n, |_| ())?;
        }
        Ok(None)
    }
    #[inline]
    fn str(&mut self) -> Res<String> {
        let n = self.u32()?;
        if n == NONE {
            return Err(Unusable("missing string"));
        }
        self.str_of_len(n)
    }
    #[inline]
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
    #[inline]
    fn opt_u32(&mut self) -> Res<Option<u32>> {
        let v = self.u32()?;
        Ok((v != NONE).then_some(v))
    }
    fn strs(&mut self) -> Res<Vec<String>> {
        self.list(Self::str)
    }
    /// A count, then that many values read by `one`.
    fn list<V>(&mut self, mut one: impl FnMut(&mut Self) -> Res<V>) -> Res<Vec<V>> {
        let n = self.count()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(one(self)?);
        }
        Ok(v)
    }
    /// A whole section: a list of records, and nothing after it.
    fn records<V>(mut self, one: impl FnMut(&mut Self) -> Res<V>) -> Res<Vec<V>> {
        let v = self.list(one)?;
        self.end()?;
        Ok(v)
    }
    /// Everything read, nothing left over.
    fn end(&self) -> Res<()> {
        if self.meta_left != 0 || self.text_left != 0 {
            return Err(Unusable("trailing bytes"));
        }
        Ok(())
    }
}

fn decode_users<M: BufRead, T: BufRead>(r: R<M, T>, f: Fields) -> Res<Vec<User>> {
    r.records(|r| {
        let upn = r.str()?;
        let id = r.opt_str_if(f.user_ids)?;
        let display_name = r.opt_str_if(f.user_profile)?;
        let department = r.opt_str_if(f.user_profile)?;
        let office = r.opt_str_if(f.user_profile)?;
        let city = r.opt_str_if(f.user_location)?;
        let country = r.opt_str_if(f.user_location)?;
        let usage_location = r.opt_str()?;
        let manager_upn = r.opt_str_if(f.user_profile)?;
        let account_enabled = match r.u8()? {
            0 => Some(false),
            1 => Some(true),
            2 => None,
            _ => return Err(Unusable("bad bool")),
        };
        Ok(User {
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
        })
    })
}

fn decode_groups<M: BufRead, T: BufRead>(r: R<M, T>) -> Res<Vec<Group>> {
    r.records(|r| {
        let id = r.opt_str()?;
        let display_name = r.str()?;
        let dynamic = r.u8()? == 1;
        Ok(Group {
            id,
            display_name,
            dynamic,
        })
    })
}

fn decode_memberships<M: BufRead, T: BufRead>(r: R<M, T>) -> Res<Vec<Membership>> {
    r.records(|r| {
        let group = r.u32()?;
        let member = match r.u8()? {
            0 => Member::User(r.u32()?),
            1 => Member::Group(r.u32()?),
            _ => return Err(Unusable("bad member kind")),
        };
        Ok(Membership { group, member })
    })
}

fn decode_products<M: BufRead, T: BufRead>(r: R<M, T>) -> Res<Vec<Product>> {
    r.records(|r| {
        let part_number = r.str()?;
        let sku_id = r.opt_str()?;
        let display_name = r.opt_str()?;
        let enabled_units = r.opt_u64()?;
        let consumed_units = r.opt_u64()?;
        let service_plans = r.list(|r| {
            Ok(ServicePlan {
                name: r.str()?,
                id: r.opt_str()?,
            })
        })?;
        Ok(Product {
            part_number,
            sku_id,
            display_name,
            enabled_units,
            consumed_units,
            service_plans,
        })
    })
}

fn decode_licenses<M: BufRead, T: BufRead>(r: R<M, T>) -> Res<Vec<LicenseAssignment>> {
    r.records(|r| {
        let user = r.u32()?;
        let product = r.u32()?;
        let disabled_plans = r.strs()?;
        Ok(LicenseAssignment {
            user,
            product,
            disabled_plans,
        })
    })
}

fn decode_devices<M: BufRead, T: BufRead>(r: R<M, T>, f: Fields) -> Res<Vec<Device>> {
    r.records(|r| {
        let id = r.opt_str_if(f.device_ids)?;
        let owner = r.opt_u32()?;
        // The owner's UPN as exported is needed only where the owner is not a known user.
        let owner_upn = r.opt_str_if(f.device_details || owner.is_none())?;
        let platform = match r.u8()? {
            0 => Platform::Ios,
            1 => Platform::Android,
            2 => Platform::Windows,
            3 => Platform::WindowsPhone,
            4 => Platform::MacOs,
            5 => Platform::Other,
            _ => return Err(Unusable("bad platform")),
        };
        let os = match r.opt_str_if(f.device_os)? {
            Some(os) => os,
            // Skipped, or (never written so) missing: a device's OS is a required string.
            None if !f.device_os => String::new(),
            None => return Err(Unusable("missing string")),
        };
        let os_version = r.opt_str_if(f.device_os)?;
        let model = r.opt_str_if(f.device_details)?;
        let last_sync = r.opt_str_if(f.device_details)?;
        Ok(Device {
            id,
            owner,
            owner_upn,
            platform,
            os,
            os_version,
            model,
            last_sync,
        })
    })
}

type Rest = (Vec<BmsPolicy>, Vec<String>, Vec<WavePin>);

fn decode_rest<M: BufRead, T: BufRead>(mut r: R<M, T>) -> Res<Rest> {
    let policies: Vec<BmsPolicy> =
        serde_json::from_str(&r.str()?).map_err(|_| Unusable("bad policies"))?;
    let exclusion_groups = r.strs()?;
    let pins: Vec<WavePin> = serde_json::from_str(&r.str()?).map_err(|_| Unusable("bad pins"))?;
    r.end()?;
    Ok((policies, exclusion_groups, pins))
}

/// The section table of a header: (offset, length) of each section, checked against `file_len`.
fn table(header: &[u8], fp: (u64, u64), file_len: u64) -> Res<[(u64, u64); SECTIONS]> {
    if header.len() < HEADER || &header[..8] != MAGIC {
        return Err(Unusable("not a bms2intune tenant.bin of this version"));
    }
    let u32_at =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let u64_at = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&header[i..i + 8]);
        u64::from_le_bytes(a)
    };
    if u32_at(8) != crate::model::SNAPSHOT_VERSION {
        return Err(Unusable("other snapshot version"));
    }
    if (u64_at(12), u64_at(20)) != fp {
        return Err(Unusable("written for another tenant.json"));
    }
    let mut t = [(0u64, 0u64); SECTIONS];
    let mut expect = HEADER as u64;
    for (i, slot) in t.iter_mut().enumerate() {
        let (at, len) = (u64_at(28 + i * 16), u64_at(36 + i * 16));
        // Sections are back to back, in order, and end exactly at the end of the file.
        if at != expect {
            return Err(Unusable("bad section table"));
        }
        expect = at.checked_add(len).ok_or(Unusable("bad section table"))?;
        *slot = (at, len);
    }
    if expect != file_len {
        return Err(Unusable("truncated or trailing bytes"));
    }
    Ok(t)
}

/// The result of a decoder thread; a thread that could not be started or that failed makes the
/// cache unusable (the caller then loads tenant.json).
fn joined<T>(h: std::io::Result<std::thread::ScopedJoinHandle<'_, Res<T>>>) -> Res<T> {
    h.map_err(|_| Unusable("no decoder thread"))?
        .join()
        .unwrap_or(Err(Unusable("decoder thread failed")))
}

/// Decodes the sections (each opened by `open`), the big ones on two more threads.
fn decode_with<M, T, F>(open: F, f: Fields) -> Res<Tenant>
where
    M: BufRead,
    T: BufRead,
    F: Fn(usize) -> Res<R<M, T>> + Sync,
{
    let (users, devices, small) = std::thread::scope(|s| {
        let open = &open;
        let users = std::thread::Builder::new()
            .name("load-users".into())
            .spawn_scoped(s, move || decode_users(open(S_USERS)?, f));
        let devices = std::thread::Builder::new()
            .name("load-devices".into())
            .spawn_scoped(s, move || decode_devices(open(S_DEVICES)?, f));
        let small = (|| {
            Ok::<_, Unusable>((
                decode_groups(open(S_GROUPS)?)?,
                decode_memberships(open(S_MEMBERSHIPS)?)?,
                decode_products(open(S_PRODUCTS)?)?,
                decode_licenses(open(S_LICENSES)?)?,
                decode_rest(open(S_REST)?)?,
            ))
        })();
        (joined(users), joined(devices), small)
    });

    let (groups, memberships, products, license_assignments, (policies, exclusion_groups, pins)) =
        small?;
    Ok(Tenant {
        users: users?,
        groups,
        memberships,
        products,
        license_assignments,
        devices: devices?,
        policies,
        exclusion_groups,
        pins,
    })
}

/// The meta length at the start of a section of `len` bytes, checked.
fn meta_len(head: [u8; 8], len: u64) -> Res<u64> {
    let n = u64::from_le_bytes(head);
    if n > len.saturating_sub(8) {
        return Err(Unusable("bad section"));
    }
    Ok(n)
}

#[cfg(test)]
/// Decodes a `tenant.bin` held in memory, written for the JSON snapshot with fingerprint `fp`.
pub fn decode(b: &[u8], fp: (u64, u64), f: Fields) -> Res<Tenant> {
    let t = table(b, fp, b.len() as u64)?;
    decode_with(
        |i| {
            let (at, len) = t[i];
            // The table was checked against the length of `b`.
            let section = &b[at as usize..(at + len) as usize];
            let head: [u8; 8] = section
                .get(..8)
                .and_then(|h| h.try_into().ok())
                .ok_or(Unusable("truncated section"))?;
            let m = meta_len(head, len)?;
            let (meta, text) = section[8..].split_at(m as usize);
            Ok(R {
                meta,
                meta_left: m,
                text,
                text_left: len - 8 - m,
            })
        },
        f,
    )
}

/// Decodes `tenant.bin` at `path`, each section streamed from the file through two buffered
/// readers (meta and text), on up to three threads; the file itself is never held in memory.
pub fn decode_file(path: &std::path::Path, fp: (u64, u64), f: Fields) -> Res<Tenant> {
    use std::fs::File;
    use std::io::{BufReader, Seek, SeekFrom};
    let unreadable = |_| Unusable("unreadable");
    let mut file = File::open(path).map_err(unreadable)?;
    let file_len = file.metadata().map_err(unreadable)?.len();
    let mut header = vec![0u8; HEADER];
    file.read_exact(&mut header)
        .map_err(|_| Unusable("not a bms2intune tenant.bin of this version"))?;
    let t = table(&header, fp, file_len)?;
    decode_with(
        |i| {
            let (at, len) = t[i];
            let open_at = |pos: u64| -> Res<BufReader<File>> {
                let mut f = File::open(path).map_err(unreadable)?;
                f.seek(SeekFrom::Start(pos)).map_err(unreadable)?;
                Ok(BufReader::with_capacity(1 << 20, f))
            };
            let mut meta = open_at(at)?;
            let mut head = [0u8; 8];
            meta.read_exact(&mut head)
                .map_err(|_| Unusable("truncated section"))?;
            let m = meta_len(head, len)?;
            let text = open_at(at + 8 + m)?;
            Ok(R {
                meta,
                meta_left: m,
                text,
                text_left: len - 8 - m,
            })
        },
        f,
    )
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
        assert_eq!(decode(&bin, (10, 20), Fields::ALL).unwrap(), t);
    }

    #[test]
    fn streamed_fingerprint_equals_the_files() {
        use std::io::Write;
        for n in [
            0,
            1,
            10,
            ENDS - 1,
            ENDS,
            ENDS + 1,
            2 * ENDS - 1,
            2 * ENDS + 5,
            300_001,
        ] {
            let all: Vec<u8> = (0..n).map(|i| (i * 7 + i / 251) as u8).collect();
            for chunk in [1, 7, 4096, ENDS - 3, ENDS, ENDS + 9, 3 * ENDS] {
                let mut w = FingerprintWriter::new(Vec::new());
                for c in all.chunks(chunk) {
                    w.write_all(c).unwrap();
                }
                assert_eq!(w.fingerprint(), fingerprint(&all), "n {n} chunk {chunk}");
                assert_eq!(w.inner, all);
            }
        }
    }

    #[test]
    fn leaves_out_only_the_fields_not_asked_for() {
        let mut t = sample();
        // A second device whose owner is not a known user keeps its exported owner UPN.
        let mut orphan = t.devices[0].clone();
        orphan.owner = None;
        orphan.owner_upn = Some("gone@x".into());
        orphan.model = Some("iPhone".into());
        t.devices.push(orphan);
        let bin = encode(&t, (1, 2)).unwrap();
        let core = decode(&bin, (1, 2), Fields::MINIMAL).unwrap();
        let mut want = t.clone();
        for u in &mut want.users {
            u.id = None;
            u.display_name = None;
            u.department = None;
            u.office = None;
            u.city = None;
            u.country = None;
            u.manager_upn = None;
        }
        for d in &mut want.devices {
            d.id = None;
            d.os = String::new();
            d.os_version = None;
            d.model = None;
            d.last_sync = None;
            if d.owner.is_some() {
                d.owner_upn = None;
            }
        }
        assert_eq!(core, want);
        assert_eq!(core.devices[1].owner_upn.as_deref(), Some("gone@x"));
        assert_eq!(core.users[0].usage_location.as_deref(), Some("DE"));
        let profile = decode(
            &bin,
            (1, 2),
            Fields {
                user_profile: true,
                device_os: true,
                ..Fields::MINIMAL
            },
        )
        .unwrap();
        assert_eq!(profile.users[1].manager_upn.as_deref(), Some("a@x"));
        assert_eq!(profile.users[0].id, None);
        assert_eq!(profile.devices[0].os, "Windows Phone");
        assert_eq!(profile.devices[0].os_version.as_deref(), Some("8.1"));
        assert_eq!(profile.devices[0].id, None);
        assert_eq!(decode(&bin, (1, 2), Fields::ALL).unwrap(), t);
    }

    #[test]
    fn refuses_another_fingerprint_and_damage_without_panicking() {
        let bin = encode(&sample(), (10, 20)).unwrap();
        assert!(decode(&bin, (10, 21), Fields::ALL).is_err());
        for cut in 0..bin.len() {
            assert!(
                decode(&bin[..cut], (10, 20), Fields::ALL).is_err(),
                "truncated at {cut}"
            );
        }
        let mut flipped = bin.clone();
        for i in 28..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = decode(&flipped, (10, 20), Fields::ALL); // must not panic
            flipped[i] ^= 0xff;
        }
    }
}
