//! Devices: Intune "All devices" export, Exchange `Get-MobileDevice` output and the MSOnline
//! `Get-MsolUserDeviceComplianceStatus` export.

use std::sync::OnceLock;

use super::recognise::Columns;
use super::report::FileReport;
use super::rows::Row;
use super::snapshot::Builder;
use super::text::{clean, lower_into, norm, opt, parse_date, parse_guid, FastMap};
use crate::model::{Device, Platform, UserIx};

const OS_JSON: &str = include_str!("../../templates/import/os-platforms.json");

#[derive(serde::Deserialize)]
struct OsTable {
    prefixes: Vec<(String, String)>,
}

fn table() -> &'static [(String, Platform)] {
    static T: OnceLock<Vec<(String, Platform)>> = OnceLock::new();
    T.get_or_init(|| {
        let t: OsTable = serde_json::from_str(OS_JSON).unwrap_or(OsTable {
            prefixes: Vec::new(),
        });
        t.prefixes
            .into_iter()
            .filter_map(|(p, plat)| {
                let plat = match plat.as_str() {
                    "ios" => Platform::Ios,
                    "android" => Platform::Android,
                    "windows" => Platform::Windows,
                    "windows_phone" => Platform::WindowsPhone,
                    "macos" => Platform::MacOs,
                    "other" => Platform::Other,
                    _ => return None,
                };
                Some((norm(&p), plat))
            })
            .collect()
    })
}

/// Platform of an OS string; `None` when the table does not know it.
pub fn platform_of(os: &str) -> Option<Platform> {
    let n = norm(os);
    if n.is_empty() {
        return None;
    }
    table()
        .iter()
        .find(|(p, _)| n.starts_with(p.as_str()))
        .map(|(_, plat)| *plat)
}

/// `iOS 17.1.2 21B101` → `17.1.2`.
fn version_in(os: &str) -> Option<String> {
    os.split_whitespace()
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.'))
        .map(|t| t.to_string())
}

pub struct DeviceRows {
    id: Option<usize>,
    name: Option<usize>,
    owner_upn: Option<usize>,
    owner_id: Option<usize>,
    owner_name: Option<usize>,
    identity: Option<usize>,
    os: Option<usize>,
    os_version: Option<usize>,
    device_type: Option<usize>,
    model: Option<usize>,
    last_sync: Option<usize>,
    by_display: Option<FastMap<String, Option<UserIx>>>,
    by_alias: Option<FastMap<String, Option<UserIx>>>,
    buf: String,
    /// The last OS string and its platform: exports repeat a handful of values.
    last_os: (String, Option<Platform>),
}

fn unique_map(
    b: &Builder,
    key: impl Fn(&crate::model::User) -> Option<String>,
) -> FastMap<String, Option<UserIx>> {
    let mut m: FastMap<String, Option<UserIx>> = FastMap::default();
    for (i, u) in b.t.users.iter().enumerate() {
        if let Some(k) = key(u) {
            m.entry(k)
                .and_modify(|v| *v = None)
                .or_insert(Some(i as UserIx));
        }
    }
    m
}

impl DeviceRows {
    pub fn new(cols: &Columns) -> Self {
        DeviceRows {
            id: cols.get("device_id"),
            name: cols.get("device_name"),
            owner_upn: cols.get("owner_upn"),
            owner_id: cols.get("owner_id"),
            owner_name: cols.get("owner_name"),
            identity: cols.get("identity"),
            os: cols.get("os"),
            os_version: cols.get("os_version"),
            device_type: cols.get("device_type"),
            model: cols.get("model"),
            last_sync: cols.get("last_sync"),
            by_display: None,
            by_alias: None,
            buf: String::new(),
            last_os: (String::new(), None),
        }
    }

    fn by_display(&mut self, b: &Builder, name: &str) -> Option<UserIx> {
        let m = self
            .by_display
            .get_or_insert_with(|| unique_map(b, |u| u.display_name.as_deref().map(norm)));
        m.get(&norm(name)).copied().flatten()
    }

    fn by_alias(&mut self, b: &Builder, alias: &str) -> Option<UserIx> {
        let m = self.by_alias.get_or_insert_with(|| {
            unique_map(b, |u| u.upn.split('@').next().map(|s| s.to_string()))
        });
        m.get(&norm(alias)).copied().flatten()
    }

    /// `(owner index, owner UPN as given)`.
    fn owner(&mut self, r: &dyn Row, b: &mut Builder) -> (Option<UserIx>, Option<String>) {
        let cell = |c: Option<usize>| c.map(|c| r.cell(c)).unwrap_or("");
        let upn = opt(cell(self.owner_upn)).map(|u| lower_into(u, &mut self.buf).to_string());
        if let Some(u) = &upn {
            if let Some(ix) = b.user_ix(u) {
                return (Some(ix), upn);
            }
        }
        if let Some(id) = opt(cell(self.owner_id)).and_then(parse_guid) {
            if let Some(ix) = b.user_ix_by_id(&id) {
                return (
                    Some(ix),
                    upn.or_else(|| b.t.users.get(ix as usize).map(|u| u.upn.clone())),
                );
            }
        }
        if upn.is_some() {
            return (None, upn);
        }
        let name = opt(cell(self.owner_name)).map(|s| s.to_string());
        if let Some(n) = &name {
            // Get-MobileDevice may give `.../Users/alias` paths: try the last segment as alias too.
            let last = n.rsplit(['/', '\\']).next().unwrap_or(n).to_string();
            let found = self
                .by_display(b, n)
                .or_else(|| self.by_display(b, &last))
                .or_else(|| self.by_alias(b, &last));
            if let Some(ix) = found {
                return (Some(ix), b.t.users.get(ix as usize).map(|u| u.upn.clone()));
            }
        }
        if let Some(idt) = opt(cell(self.identity)) {
            // `alias\ExchangeActiveSyncDevices\...` or `.../alias/ExchangeActiveSyncDevices/...`.
            let parts: Vec<&str> = idt.split(['/', '\\']).collect();
            if let Some(pos) = parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case("ExchangeActiveSyncDevices"))
            {
                if let Some(alias) = pos.checked_sub(1).and_then(|p| parts.get(p)) {
                    let alias = clean(alias).to_string();
                    let found = self
                        .by_alias(b, &alias)
                        .or_else(|| self.by_display(b, &alias));
                    if let Some(ix) = found {
                        return (Some(ix), b.t.users.get(ix as usize).map(|u| u.upn.clone()));
                    }
                }
            }
        }
        (None, None)
    }

    pub fn row(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
    ) {
        let cell = |c: Option<usize>| c.map(|c| r.cell(c)).unwrap_or("");
        let id = opt(cell(self.id)).map(|s| s.to_string());
        let name = opt(cell(self.name)).map(|s| s.to_string());
        if id.is_none() && name.is_none() {
            rep.reject(
                row_no,
                "import.devices.missing_id",
                cols.header_of("device_id"),
                "",
                "the row has neither a device id nor a device name".into(),
            );
            return;
        }
        let os_raw = opt(cell(self.os)).or_else(|| opt(cell(self.device_type)));
        let Some(os) = os_raw.map(|s| s.to_string()) else {
            rep.reject(row_no, "import.devices.missing_os", cols.header_of("os"), "", "the row has no operating system; readiness cannot tell whether the device migrates".into());
            return;
        };
        let os_platform = if self.last_os.0 == os {
            self.last_os.1
        } else {
            let p = platform_of(&os);
            self.last_os = (os.clone(), p);
            p
        };
        let platform = match os_platform
            .or_else(|| opt(cell(self.device_type)).and_then(platform_of))
        {
            Some(p) => p,
            None => {
                rep.warn(row_no, "import.devices.unknown_os", cols.header_of("os"), &os, "unknown operating system; the device is kept as platform 'other' (readiness treats it as unsupported)".into());
                Platform::Other
            }
        };
        let os_version = opt(cell(self.os_version))
            .map(|s| s.to_string())
            .or_else(|| version_in(&os));
        let (owner, owner_upn) = self.owner(r, b);
        if owner.is_none() {
            let (field, v) = match &owner_upn {
                Some(u) => ("owner_upn", u.clone()),
                None => ("owner_name", cell(self.owner_name).to_string()),
            };
            rep.warn(row_no, "import.devices.unknown_owner", cols.header_of(field), &v, "the device's owner is not among the imported users; kept without owner (readiness reports it)".into());
        }
        let last_sync = opt(cell(self.last_sync)).and_then(|v| match parse_date(v) {
            Ok(d) => d,
            Err(()) => Some(v.to_string()),
        });
        let device = Device {
            id: id.clone().or(name),
            owner,
            owner_upn,
            platform,
            os,
            os_version,
            model: opt(cell(self.model)).map(|s| s.to_string()),
            last_sync,
        };
        if let Some(key) = &id {
            let k = lower_into(key, &mut self.buf).to_string();
            if let Some(i) = b.device_ix(&k) {
                if let Some(slot) = b.t.devices.get_mut(i) {
                    *slot = device;
                }
                rep.warn(
                    row_no,
                    "import.devices.duplicate",
                    cols.header_of("device_id"),
                    key,
                    "the device id appears again; the later row replaces the earlier one".into(),
                );
                rep.keep();
                return;
            }
            b.index_device(&k, b.t.devices.len());
        }
        b.t.devices.push(device);
        rep.keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_strings_from_every_export() {
        assert_eq!(platform_of("iOS 17.1.2 21B101"), Some(Platform::Ios));
        assert_eq!(platform_of("IPhone"), Some(Platform::Ios));
        assert_eq!(platform_of("AndroidForWork"), Some(Platform::Android));
        assert_eq!(
            platform_of("Windows Phone 8.1"),
            Some(Platform::WindowsPhone)
        );
        assert_eq!(platform_of("WindowsPhone"), Some(Platform::WindowsPhone));
        assert_eq!(platform_of("Windows"), Some(Platform::Windows));
        assert_eq!(platform_of("macOS"), Some(Platform::MacOs));
        assert_eq!(platform_of("Linux"), Some(Platform::Other));
        assert_eq!(platform_of("Symbian"), None);
        assert_eq!(version_in("iOS 17.1.2 21B101").as_deref(), Some("17.1.2"));
    }
}
