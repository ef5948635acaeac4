//! Groups (Entra "Download groups" and hand-made lists) and memberships (group → user or nested
//! group; Entra "Download members"/"Import members" files without a group column take the group
//! from the sheet name or the file name).

use super::recognise::Columns;
use super::report::FileReport;
use super::rows::Row;
use super::snapshot::{Builder, AMBIGUOUS};
use super::text::{clean, lower_into, norm, opt, parse_guid};
use crate::model::{Group, GroupIx, Member, Membership};

pub struct GroupRows {
    id: Option<usize>,
    name: Option<usize>,
    mtype: Option<usize>,
    rule: Option<usize>,
}

impl GroupRows {
    pub fn new(cols: &Columns) -> Self {
        GroupRows {
            id: cols.get("id"),
            name: cols.get("name"),
            mtype: cols.get("membership_type"),
            rule: cols.get("membership_rule"),
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
        let id = match opt(cell(self.id)) {
            Some(v) => match parse_guid(v) {
                Some(g) => Some(g),
                None => {
                    rep.reject(
                        row_no,
                        "import.guid.malformed",
                        cols.header_of("id"),
                        v,
                        "the group id is not a GUID".into(),
                    );
                    return;
                }
            },
            None => None,
        };
        let name = opt(cell(self.name)).map(|s| s.to_string());
        let Some(display_name) = name.clone().or_else(|| id.clone()) else {
            rep.reject(
                row_no,
                "import.groups.missing_name",
                cols.header_of("name"),
                "",
                "the row has neither a group name nor an id".into(),
            );
            return;
        };
        let mt = norm(cell(self.mtype));
        let dynamic = mt.contains("dynamic") || opt(cell(self.rule)).is_some();
        b.groups_listed = true;
        // Same id (or, without ids, same name) = the same group: update it.
        let existing = match &id {
            Some(i) => b.group_by_id.get(i).copied(),
            None => match b.group_by_name.get(&norm(&display_name)) {
                Some(&g) if g != AMBIGUOUS => {
                    b.t.groups
                        .get(g as usize)
                        .filter(|x| x.id.is_none())
                        .map(|_| g)
                }
                _ => None,
            },
        };
        match existing {
            Some(g) => {
                if let Some(x) = b.t.groups.get_mut(g as usize) {
                    if name.is_some() {
                        x.display_name = display_name;
                    }
                    x.dynamic = x.dynamic || dynamic;
                }
                rep.warn(
                    row_no,
                    "import.groups.duplicate",
                    cols.header_of(if id.is_some() { "id" } else { "name" }),
                    cell(if id.is_some() { self.id } else { self.name }),
                    "the group is listed again; merged".into(),
                );
            }
            None => {
                b.add_group(Group {
                    id,
                    display_name,
                    dynamic,
                });
            }
        }
        rep.keep();
    }
}

pub struct MemberRows {
    group_id: Option<usize>,
    group_name: Option<usize>,
    any: Option<usize>,
    upn: Option<usize>,
    id: Option<usize>,
    name: Option<usize>,
    mtype: Option<usize>,
    /// Group of a file without group column (from sheet/file name).
    fixed_group: Option<Result<Option<GroupIx>, ()>>,
    fixed_name: String,
    last_group: (String, Option<GroupIx>),
    buf: String,
}

enum Want {
    User,
    Group,
    Either,
}

impl MemberRows {
    /// `source_name`: the sheet name (workbooks) or the file name without extension.
    pub fn new(cols: &Columns, source_name: &str, b: &mut Builder) -> Self {
        let group_id = cols.get("group_id");
        let group_name = cols.get("group_name");
        // `Member` (member_any) doubles as the only column of Entra's import template.
        let fixed = group_id.is_none() && group_name.is_none();
        MemberRows {
            group_id,
            group_name,
            any: cols.get("member_any"),
            upn: cols.get("member_upn"),
            id: cols.get("member_id"),
            name: cols.get("member_name"),
            mtype: cols.get("member_type"),
            fixed_group: fixed.then(|| match b.find_group(clean(source_name)) {
                // No groups list at all: the file name defines the group.
                Ok(None) if !b.groups_listed && !clean(source_name).is_empty() => {
                    let name = clean(source_name).to_string();
                    let id = parse_guid(&name);
                    Ok(Some(b.add_group(Group {
                        display_name: name,
                        id,
                        dynamic: false,
                    })))
                }
                other => other,
            }),
            fixed_name: clean(source_name).to_string(),
            last_group: (String::new(), None),
            buf: String::new(),
        }
    }

    fn group(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
    ) -> Option<GroupIx> {
        if let Some(fixed) = &self.fixed_group {
            return match fixed {
                Ok(Some(g)) => Some(*g),
                Ok(None) => {
                    rep.reject(row_no, "import.members.unknown_group", "", &self.fixed_name, format!("this members list has no group column, so the group is taken from the sheet/file name {:?}, which matches no imported group; name the file or sheet after the group (display name or id) or add a Group column", self.fixed_name));
                    None
                }
                Err(()) => {
                    rep.reject(
                        row_no,
                        "import.members.ambiguous_group",
                        "",
                        &self.fixed_name,
                        "several groups have this name; use the group id".into(),
                    );
                    None
                }
            };
        }
        let (field, key) = match opt(self.group_id.map(|c| r.cell(c)).unwrap_or("")) {
            Some(k) => ("group_id", k),
            None => (
                "group_name",
                opt(self.group_name.map(|c| r.cell(c)).unwrap_or("")).unwrap_or(""),
            ),
        };
        if key.is_empty() {
            rep.reject(
                row_no,
                "import.members.missing_group",
                cols.header_of(field),
                "",
                "the row names no group".into(),
            );
            return None;
        }
        if field == "group_id" && parse_guid(key).is_none() {
            rep.reject(
                row_no,
                "import.guid.malformed",
                cols.header_of(field),
                key,
                "the group id is not a GUID".into(),
            );
            return None;
        }
        // Members files are usually sorted by group: skip the lookup when it repeats.
        if self.last_group.0 == key {
            if let Some(g) = self.last_group.1 {
                return Some(g);
            }
        }
        let found = match b.find_group(key) {
            Ok(g) => g,
            Err(()) => {
                rep.reject(
                    row_no,
                    "import.members.ambiguous_group",
                    cols.header_of(field),
                    key,
                    "several groups have this display name; use the group id".into(),
                );
                return None;
            }
        };
        let g = match found {
            Some(g) => g,
            None if !b.groups_listed => {
                // No groups list at all: the members file defines the groups.
                let id = parse_guid(key);
                b.add_group(Group {
                    display_name: key.to_string(),
                    id,
                    dynamic: false,
                })
            }
            None => {
                rep.reject(row_no, "import.members.unknown_group", cols.header_of(field), key, "no imported group has this name or id; import the groups file that lists it, or fix the name".into());
                return None;
            }
        };
        self.last_group = (key.to_string(), Some(g));
        Some(g)
    }

    pub fn row(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
    ) {
        let Some(group) = self.group(r, row_no, cols, rep, b) else {
            return;
        };
        let cell = |c: Option<usize>| c.map(|c| r.cell(c)).unwrap_or("");
        let t = norm(cell(self.mtype));
        let want = if t.contains("group") {
            Want::Group
        } else if t.contains("user") {
            Want::User
        } else {
            Want::Either
        };
        let (field, key) = if let Some(v) = opt(cell(self.upn)) {
            ("member_upn", v)
        } else if let Some(v) = opt(cell(self.id)) {
            ("member_id", v)
        } else if let Some(v) = opt(cell(self.any)) {
            ("member_any", v)
        } else if let Some(v) = opt(cell(self.name)) {
            ("member_name", v)
        } else {
            rep.reject(
                row_no,
                "import.members.missing_member",
                cols.header_of("member_upn"),
                "",
                "the row names no member (UPN, object id or group)".into(),
            );
            return;
        };
        if key.starts_with("Example:") {
            // The example line of Entra's import template.
            rep.reject(
                row_no,
                "import.members.template_example",
                cols.header_of(field),
                key,
                "this is the example line of Microsoft's template; delete it".into(),
            );
            return;
        }
        let member = if key.contains('@') && !matches!(want, Want::Group) {
            let k = lower_into(key, &mut self.buf);
            b.user_ix(k).map(Member::User)
        } else if let Some(id) = parse_guid(key) {
            let u = b.user_ix_by_id(&id).map(Member::User);
            let g = b.group_by_id.get(&id).copied().map(Member::Group);
            match want {
                Want::User => u,
                Want::Group => g,
                Want::Either => u.or(g),
            }
        } else if field == "member_id" {
            rep.reject(
                row_no,
                "import.guid.malformed",
                cols.header_of(field),
                key,
                "the member object id is not a GUID".into(),
            );
            return;
        } else if !matches!(want, Want::User) {
            match b.find_group(key) {
                Ok(g) => g.map(Member::Group),
                Err(()) => {
                    rep.reject(
                        row_no,
                        "import.members.ambiguous_group",
                        cols.header_of(field),
                        key,
                        "several groups have this display name; use the group id".into(),
                    );
                    return;
                }
            }
        } else {
            None
        };
        match member {
            Some(m) => {
                if m == Member::Group(group) {
                    rep.warn(row_no, "import.members.self", cols.header_of(field), key, "a group listed as a member of itself; ignored".into());
                } else {
                    b.t.memberships.push(Membership { group, member: m });
                }
                rep.keep();
            }
            None => rep.reject(row_no, "import.members.unknown_member", cols.header_of(field), key, "no imported user (by UPN or object id) or group matches this member; import the users/groups files that list it".into()),
        }
    }
}
