//! Users: M365 admin center "Export users" (all variants), Entra "Download users" (both naming
//! sets) and the Entra bulk-create template.

use super::licenses::{resolve_license_cell, warn_created, LicenseCell};
use super::recognise::Columns;
use super::report::FileReport;
use super::rows::Row;
use super::snapshot::Builder;
use super::text::{clean, lower_into, opt, parse_bool, parse_guid, FastMap};
use crate::model::User;

pub struct UserRows {
    upn: Option<usize>,
    id: Option<usize>,
    display_name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    department: Option<usize>,
    office: Option<usize>,
    city: Option<usize>,
    country: Option<usize>,
    usage_location: Option<usize>,
    enabled: Option<usize>,
    blocked: Option<usize>,
    manager: Option<usize>,
    licenses: Option<usize>,
    license_details: Option<usize>,
    cache: FastMap<String, LicenseCell>,
    buf: String,
}

fn s(v: &str) -> Option<String> {
    opt(v).map(|x| x.to_string())
}

/// Which field of two user records disagree, if any.
fn conflict(a: &User, b: &User) -> Option<&'static str> {
    fn differs(x: &Option<String>, y: &Option<String>) -> bool {
        matches!((x, y), (Some(x), Some(y)) if !x.eq_ignore_ascii_case(y))
    }
    if differs(&a.id, &b.id) {
        return Some("id");
    }
    if differs(&a.display_name, &b.display_name) {
        return Some("display_name");
    }
    if differs(&a.department, &b.department) {
        return Some("department");
    }
    if differs(&a.usage_location, &b.usage_location) {
        return Some("usage_location");
    }
    if matches!((a.account_enabled, b.account_enabled), (Some(x), Some(y)) if x != y) {
        return Some("account_enabled");
    }
    if differs(&a.manager_upn, &b.manager_upn) {
        return Some("manager_upn");
    }
    None
}

fn fill(into: &mut User, from: User) {
    fn f(a: &mut Option<String>, b: Option<String>) {
        if b.is_some() {
            *a = b;
        }
    }
    f(&mut into.id, from.id);
    f(&mut into.display_name, from.display_name);
    f(&mut into.department, from.department);
    f(&mut into.office, from.office);
    f(&mut into.city, from.city);
    f(&mut into.country, from.country);
    f(&mut into.usage_location, from.usage_location);
    f(&mut into.manager_upn, from.manager_upn);
    if from.account_enabled.is_some() {
        into.account_enabled = from.account_enabled;
    }
}

impl UserRows {
    pub fn new(cols: &Columns) -> Self {
        UserRows {
            upn: cols.get("upn"),
            id: cols.get("id"),
            display_name: cols.get("display_name"),
            first: cols.get("first_name"),
            last: cols.get("last_name"),
            department: cols.get("department"),
            office: cols.get("office"),
            city: cols.get("city"),
            country: cols.get("country"),
            usage_location: cols.get("usage_location"),
            enabled: cols.get("account_enabled"),
            blocked: cols.get("sign_in_blocked"),
            manager: cols.get("manager_upn"),
            licenses: cols.get("licenses"),
            license_details: cols.get("license_details"),
            cache: FastMap::default(),
            buf: String::new(),
        }
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
        let raw_upn = clean(cell(self.upn));
        if raw_upn.is_empty() {
            rep.reject(
                row_no,
                "import.users.missing_upn",
                cols.header_of("upn"),
                "",
                "the row has no user principal name; every user needs one (it is the key)".into(),
            );
            return;
        }
        let well_formed = match raw_upn.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            }
            None => false,
        };
        if !well_formed || raw_upn.contains(char::is_whitespace) {
            rep.reject(
                row_no,
                "import.users.bad_upn",
                cols.header_of("upn"),
                raw_upn,
                "not a user principal name (name@domain)".into(),
            );
            return;
        }
        let id = match opt(cell(self.id)) {
            Some(v) => match parse_guid(v) {
                Some(g) => Some(g),
                None => {
                    rep.reject(
                        row_no,
                        "import.guid.malformed",
                        cols.header_of("id"),
                        v,
                        "the object id is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)".into(),
                    );
                    return;
                }
            },
            None => None,
        };
        let mut enabled = None;
        if let Some(v) = opt(cell(self.enabled)) {
            enabled = parse_bool(v);
            if enabled.is_none() {
                rep.warn(
                    row_no,
                    "import.value.bad_bool",
                    cols.header_of("account_enabled"),
                    v,
                    "not a yes/no value; account state left unknown".into(),
                );
            }
        } else if let Some(v) = opt(cell(self.blocked)) {
            enabled = parse_bool(v).map(|b| !b);
            if enabled.is_none() {
                rep.warn(
                    row_no,
                    "import.value.bad_bool",
                    cols.header_of("sign_in_blocked"),
                    v,
                    "not a yes/no value; account state left unknown".into(),
                );
            }
        }
        let mut usage_location = None;
        if let Some(v) = opt(cell(self.usage_location)) {
            if v.len() == 2 && v.bytes().all(|c| c.is_ascii_alphabetic()) {
                usage_location = Some(v.to_ascii_uppercase());
            } else {
                rep.warn(row_no, "import.users.bad_usage_location", cols.header_of("usage_location"), v, "usage location must be a two-letter ISO country code (e.g. DE); left empty, so readiness will flag the user".into());
            }
        }
        let display_name = s(cell(self.display_name)).or_else(|| {
            let f = clean(cell(self.first));
            let l = clean(cell(self.last));
            let full = format!("{f} {l}");
            s(&full)
        });
        let manager_upn = opt(cell(self.manager)).map(|m| {
            let mut buf = String::new();
            lower_into(m, &mut buf).to_string()
        });
        let upn = lower_into(raw_upn, &mut self.buf).to_string();
        let user = User {
            upn,
            id,
            display_name,
            department: s(cell(self.department)),
            office: s(cell(self.office)),
            city: s(cell(self.city)),
            country: s(cell(self.country)),
            usage_location,
            account_enabled: enabled,
            manager_upn,
        };
        let ix = match b.add_user_if_new(user) {
            Ok(ix) => ix,
            Err((ix, user)) => {
                let seen = b.user_seen.get(ix as usize).copied().unwrap_or(false);
                let Some(existing) = b.t.users.get_mut(ix as usize) else {
                    return;
                };
                if seen {
                    if let Some(field) = conflict(existing, &user) {
                        let value = match field {
                            "id" => user.id.clone(),
                            "display_name" => user.display_name.clone(),
                            "department" => user.department.clone(),
                            "usage_location" => user.usage_location.clone(),
                            "account_enabled" => user.account_enabled.map(|b| b.to_string()),
                            _ => user.manager_upn.clone(),
                        }
                        .unwrap_or_default();
                        let col = match field {
                            "account_enabled" if self.enabled.is_none() => "sign_in_blocked",
                            f => f,
                        };
                        rep.reject(row_no, "import.users.duplicate_conflict", cols.header_of(col), &value, format!("{} appears twice with different values; the first row was kept: fix or delete one of them", user.upn));
                        return;
                    }
                    rep.warn(
                        row_no,
                        "import.users.duplicate",
                        cols.header_of("upn"),
                        raw_upn,
                        "the same user appears again with matching values; merged".into(),
                    );
                }
                let old_id = existing.id.clone();
                fill(existing, user);
                let new_id = existing.id.clone();
                if let Some(s) = b.user_seen.get_mut(ix as usize) {
                    *s = true;
                }
                if old_id != new_id {
                    b.index_user(ix);
                }
                ix
            }
        };
        // Licenses: the `Licenses` column, or `License assignment details` when that is empty.
        let lic = match opt(cell(self.licenses)) {
            Some(v) => Some((v, "licenses")),
            None => opt(cell(self.license_details)).map(|v| (v, "license_details")),
        };
        if let Some((v, field)) = lic {
            if !self.cache.contains_key(v) {
                let c = resolve_license_cell(b, v);
                warn_created(b, rep, row_no, cols.header_of(field), &c.created);
                self.cache.insert(v.to_string(), c);
            }
            let Some(resolved) = self.cache.get(v) else {
                rep.keep();
                return;
            };
            for u in &resolved.unknown {
                rep.warn(row_no, "import.licenses.unknown_product", cols.header_of(field), u, "this license name matches no product of the tenant nor of Microsoft's product reference; the user is kept without it".into());
            }
            for &p in &resolved.products {
                b.assign(ix, p, Vec::new());
            }
        }
        rep.keep();
    }
}
