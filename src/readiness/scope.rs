//! What every check needs to know about the tenant, computed once in linear time: who is already
//! Intune-licensed, who BMS manages (devices or targeted groups), which groups the policies target.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::model::{GroupIx, Member, Tenant, UserIx};

use super::reference::Reference;

/// Items grouped by an index: `list[start[i]..start[i + 1]]` belong to `i`.
#[derive(Debug, Default)]
struct Grouped {
    start: Vec<usize>,
    list: Vec<u32>,
}

impl Grouped {
    fn of(&self, i: usize) -> &[u32] {
        match (self.start.get(i), self.start.get(i + 1)) {
            (Some(a), Some(b)) => self.list.get(*a..*b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Counting sort of `(key, item)` pairs with `key < n` (others are left out).
    fn build(n: usize, pairs: impl Iterator<Item = (usize, u32)> + Clone) -> Grouped {
        let mut start = vec![0usize; n + 1];
        for (k, _) in pairs.clone() {
            if k < n {
                start[k + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut next = start.clone();
        let mut list = vec![0u32; start[n]];
        for (k, item) in pairs {
            if k >= n {
                continue;
            }
            if let Some(pos) = next.get_mut(k) {
                if let Some(slot) = list.get_mut(*pos) {
                    *slot = item;
                }
                *pos += 1;
            }
        }
        Grouped { start, list }
    }
}

/// Direct user members and direct member groups per group, in two passes over the memberships
/// (memberships naming a group the snapshot doesn't hold are left out), and the indexes of the
/// memberships that name a group, user or member group the snapshot doesn't hold (the data check
/// reports them; finding them here saves it a third pass over ten million memberships).
fn members_grouped(tenant: &Tenant) -> (Grouped, Grouped, Vec<usize>) {
    members_grouped_sorted(tenant).unwrap_or_else(|| members_grouped_any(tenant))
}

/// [`members_grouped`] in one pass when the memberships are sorted by group (import writes
/// them so): the lists are then the memberships in order. `None` at the first membership out of
/// order.
fn members_grouped_sorted(tenant: &Tenant) -> Option<(Grouped, Grouped, Vec<usize>)> {
    let n = tenant.groups.len();
    let n_users = tenant.users.len();
    let mut dangling = Vec::new();
    let mut users = Grouped {
        start: vec![0usize; n + 1],
        list: Vec::with_capacity(tenant.memberships.len()),
    };
    let mut groups = Grouped {
        start: vec![0usize; n + 1],
        list: Vec::new(),
    };
    let mut last = 0usize;
    for (i, m) in tenant.memberships.iter().enumerate() {
        let g = m.group as usize;
        if g < last {
            return None;
        }
        last = g;
        let member_ok = match m.member {
            Member::User(u) => (u as usize) < n_users,
            Member::Group(g) => (g as usize) < n,
        };
        if g < n {
            match m.member {
                Member::User(u) => {
                    users.list.push(u);
                    users.start[g + 1] += 1;
                }
                Member::Group(x) => {
                    groups.list.push(x);
                    groups.start[g + 1] += 1;
                }
            }
        }
        if g >= n || !member_ok {
            dangling.push(i);
        }
    }
    for i in 0..n {
        users.start[i + 1] += users.start[i];
        groups.start[i + 1] += groups.start[i];
    }
    Some((users, groups, dangling))
}

/// [`members_grouped`] for memberships in any order: a counting sort.
fn members_grouped_any(tenant: &Tenant) -> (Grouped, Grouped, Vec<usize>) {
    let n = tenant.groups.len();
    let n_users = tenant.users.len();
    let mut dangling = Vec::new();
    let mut users = Grouped {
        start: vec![0usize; n + 1],
        list: Vec::new(),
    };
    let mut groups = Grouped {
        start: vec![0usize; n + 1],
        list: Vec::new(),
    };
    for (i, m) in tenant.memberships.iter().enumerate() {
        let g = m.group as usize;
        let member_ok = match m.member {
            Member::User(u) => (u as usize) < n_users,
            Member::Group(g) => (g as usize) < n,
        };
        if g < n {
            match m.member {
                Member::User(_) => users.start[g + 1] += 1,
                Member::Group(_) => groups.start[g + 1] += 1,
            }
        }
        if g >= n || !member_ok {
            dangling.push(i);
        }
    }
    for i in 0..n {
        users.start[i + 1] += users.start[i];
        groups.start[i + 1] += groups.start[i];
    }
    users.list = vec![0u32; users.start[n]];
    groups.list = vec![0u32; groups.start[n]];
    let mut next_user = users.start.clone();
    let mut next_group = groups.start.clone();
    for m in &tenant.memberships {
        let (next, list, item) = match m.member {
            Member::User(u) => (&mut next_user, &mut users.list, u),
            Member::Group(g) => (&mut next_group, &mut groups.list, g),
        };
        if let Some(pos) = next.get_mut(m.group as usize) {
            if let Some(slot) = list.get_mut(*pos) {
                *slot = item;
                *pos += 1;
            }
        }
    }
    (users, groups, dangling)
}

/// A policy's target group as resolved against the imported groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Group(GroupIx),
    /// The id (or name) as the policy lists it; no imported group carries it.
    Unknown(String),
}

pub struct Scope<'t> {
    pub tenant: &'t Tenant,
    pub reference: &'t Reference,
    /// Per user: holds an enabled Intune service plan.
    pub licensed: Vec<bool>,
    /// Per user: holds a product that includes Intune but with every Intune plan disabled, and no
    /// enabled Intune plan elsewhere (enabling the plan licenses them without a new seat).
    pub plan_disabled: Vec<bool>,
    /// Per product: includes an Intune service plan.
    pub product_has_intune: Vec<bool>,
    /// Direct members per group, as offsets into flat lists (a vector per group would cost
    /// 100,000 allocations and reallocations over ten million memberships).
    member_users: Grouped,
    member_groups: Grouped,
    /// Device indexes grouped by owner: two flat vectors instead of a vector per user.
    devices: Grouped,
    /// Devices whose owner is missing or not among the imported users, in snapshot order.
    pub unowned_devices: Vec<u32>,
    /// Memberships naming a group, user or member group the snapshot doesn't hold.
    pub dangling_memberships: Vec<usize>,
    /// Per user: a direct member of at least one group.
    pub in_any_group: Vec<bool>,
    /// Per user: in a group (transitively) targeted by an enabled BMS policy.
    pub targeted: Vec<bool>,
    /// Per user: still to migrate = (has a BMS device or is targeted) and not Intune-licensed.
    pub to_migrate: Vec<bool>,
    /// Per policy (same order as `tenant.policies`): resolved targets, in the policy's order.
    pub policy_targets: Vec<Vec<Target>>,
    /// Groups targeted by enabled policies, sorted, with the indexes of the policies targeting them.
    pub targeted_groups: Vec<(GroupIx, Vec<usize>)>,
}

impl<'t> Scope<'t> {
    pub fn new(tenant: &'t Tenant, reference: &'t Reference) -> Scope<'t> {
        let n_users = tenant.users.len();
        let product_has_intune: Vec<bool> = tenant
            .products
            .iter()
            .map(|p| p.includes_intune())
            .collect();
        let licensed = intune_licensed(tenant, &product_has_intune);

        let mut plan_disabled = vec![false; n_users];
        for a in &tenant.license_assignments {
            if product_has_intune
                .get(a.product as usize)
                .copied()
                .unwrap_or(false)
                && !licensed.get(a.user as usize).copied().unwrap_or(true)
            {
                if let Some(slot) = plan_disabled.get_mut(a.user as usize) {
                    *slot = true;
                }
            }
        }

        // The memberships (ten million at a million users) are grouped on a thread of their own
        // while the devices are grouped and the targets resolved here.
        let (
            (member_users, member_groups, dangling_memberships),
            (devices, unowned_devices),
            policy_targets,
        ) = std::thread::scope(|s| {
            let members = s.spawn(|| members_grouped(tenant));
            let devices = devices_grouped(tenant);
            let targets = resolve_targets(tenant);
            let members = match members.join() {
                Ok(m) => m,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (members, devices, targets)
        });
        let mut in_any_group = vec![false; n_users];
        for u in &member_users.list {
            if let Some(slot) = in_any_group.get_mut(*u as usize) {
                *slot = true;
            }
        }

        let mut by_group: Vec<Vec<usize>> = vec![Vec::new(); tenant.groups.len()];
        for (pi, (p, targets)) in tenant.policies.iter().zip(&policy_targets).enumerate() {
            if !p.enabled {
                continue;
            }
            for t in targets {
                if let Target::Group(g) = t {
                    if let Some(slot) = by_group.get_mut(*g as usize) {
                        if slot.last() != Some(&pi) {
                            slot.push(pi);
                        }
                    }
                }
            }
        }
        let targeted_groups: Vec<(GroupIx, Vec<usize>)> = by_group
            .into_iter()
            .enumerate()
            .filter(|(_, ps)| !ps.is_empty())
            .map(|(g, ps)| (g as GroupIx, ps))
            .collect();

        // One walk from every targeted group at once: linear in groups + memberships.
        let mut targeted = vec![false; n_users];
        let mut seen = vec![false; tenant.groups.len()];
        let mut stack: Vec<GroupIx> = targeted_groups.iter().map(|(g, _)| *g).collect();
        while let Some(g) = stack.pop() {
            let Some(s) = seen.get_mut(g as usize) else {
                continue;
            };
            if *s {
                continue;
            }
            *s = true;
            for u in member_users.of(g as usize) {
                if let Some(slot) = targeted.get_mut(*u as usize) {
                    *slot = true;
                }
            }
            stack.extend_from_slice(member_groups.of(g as usize));
        }

        let to_migrate: Vec<bool> = (0..n_users)
            .map(|u| {
                let has_device = !devices.of(u).is_empty();
                (has_device || targeted[u]) && !licensed[u]
            })
            .collect();

        Scope {
            tenant,
            reference,
            licensed,
            plan_disabled,
            product_has_intune,
            member_users,
            member_groups,
            devices,
            unowned_devices,
            dangling_memberships,
            in_any_group,
            targeted,
            to_migrate,
            policy_targets,
            targeted_groups,
        }
    }

    /// Indexes of the devices user `u` owns, in snapshot order.
    pub fn devices_of(&self, u: usize) -> &[u32] {
        self.devices.of(u)
    }

    /// Lower-case UPN of a user index (out-of-range indexes, which the data check reports, give
    /// a placeholder so nothing panics).
    pub fn upn(&self, u: UserIx) -> String {
        self.upn_cow(u).into_owned()
    }

    /// [`Scope::upn`], borrowed from the snapshot when it is already lower-case (it always is
    /// after import).
    pub fn upn_cow(&self, u: UserIx) -> Cow<'t, str> {
        match self.tenant.users.get(u as usize) {
            Some(x) => lower(&x.upn),
            None => Cow::Owned(format!("(unknown user #{u})")),
        }
    }

    /// How reports name a device: its id, else its position in the snapshot.
    pub fn device_label(&self, i: usize) -> String {
        self.device_label_cow(i).into_owned()
    }

    /// [`Scope::device_label`], borrowed from the snapshot when the device has an id.
    pub fn device_label_cow(&self, i: usize) -> Cow<'t, str> {
        match self.tenant.devices.get(i).and_then(|d| d.id.as_deref()) {
            Some(id) if !id.trim().is_empty() => Cow::Borrowed(id.trim()),
            _ => Cow::Owned(format!("(device #{i} without id)")),
        }
    }

    /// Users of a group including nested groups, sorted and deduplicated. `seen` is a scratch
    /// buffer of `groups.len()` falses, left all-false again on return so the next call can reuse
    /// it without reallocating.
    pub fn transitive_users(&self, group: GroupIx, seen: &mut [bool]) -> Vec<UserIx> {
        let mut touched = Vec::new();
        let mut stack = vec![group];
        let mut users = Vec::new();
        while let Some(g) = stack.pop() {
            let Some(s) = seen.get_mut(g as usize) else {
                continue;
            };
            if *s {
                continue;
            }
            *s = true;
            touched.push(g);
            users.extend(
                self.member_users
                    .of(g as usize)
                    .iter()
                    .filter(|u| (**u as usize) < self.tenant.users.len()),
            );
            stack.extend_from_slice(self.member_groups.of(g as usize));
        }
        for g in touched {
            if let Some(s) = seen.get_mut(g as usize) {
                *s = false;
            }
        }
        users.sort_unstable();
        users.dedup();
        users
    }
}

/// Devices grouped by owner index, and the devices whose owner is missing or out of range (left
/// out of the grouping; the data check reports them).
fn devices_grouped(tenant: &Tenant) -> (Grouped, Vec<u32>) {
    let n_users = tenant.users.len();
    // The owners first, compactly: the counting sort then walks 8 bytes per device, not a Device.
    let owners: Vec<Option<u32>> = tenant.devices.iter().map(|d| d.owner).collect();
    let unowned: Vec<u32> = owners
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.is_some_and(|o| (o as usize) < n_users))
        .map(|(i, _)| i as u32)
        .collect();
    let grouped = Grouped::build(
        n_users,
        owners
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.map(|o| (o as usize, i as u32))),
    );
    (grouped, unowned)
}

/// Per user: holds an enabled Intune service plan. Same rule as [`Tenant::intune_licensed`], with
/// the common case (nothing disabled in the assignment) decided per product once instead of
/// comparing plan names for each of a million assignments.
fn intune_licensed(tenant: &Tenant, product_has_intune: &[bool]) -> Vec<bool> {
    let mut out = vec![false; tenant.users.len()];
    for a in &tenant.license_assignments {
        if !product_has_intune
            .get(a.product as usize)
            .copied()
            .unwrap_or(false)
        {
            continue;
        }
        let enabled = a.disabled_plans.is_empty()
            || tenant.products.get(a.product as usize).is_some_and(|p| {
                p.intune_plans().any(|plan| {
                    !a.disabled_plans.iter().any(|d| {
                        d.eq_ignore_ascii_case(&plan.name)
                            || plan
                                .id
                                .as_deref()
                                .is_some_and(|id| d.eq_ignore_ascii_case(id))
                    })
                })
            });
        if enabled {
            if let Some(slot) = out.get_mut(a.user as usize) {
                *slot = true;
            }
        }
    }
    out
}

/// Lower-cased, without allocating when it already is.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        s.to_lowercase().into()
    } else {
        s.into()
    }
}

/// Resolves every policy's target groups: by group id first, then by display name (spreadsheets
/// sometimes name the group), case-insensitively; the first group in snapshot order wins. Only
/// the few target keys go into a map, so a tenant's 100,000 groups are scanned, not indexed.
fn resolve_targets(tenant: &Tenant) -> Vec<Vec<Target>> {
    let mut wanted: HashMap<String, Option<GroupIx>> = HashMap::new();
    for p in &tenant.policies {
        for t in &p.target_groups {
            wanted.entry(t.trim().to_lowercase()).or_insert(None);
        }
    }
    if !wanted.is_empty() {
        for (i, g) in tenant.groups.iter().enumerate() {
            if let Some(slot) =
                g.id.as_deref()
                    .and_then(|id| wanted.get_mut(lower(id.trim()).as_ref()))
            {
                slot.get_or_insert(i as GroupIx);
            }
        }
        if wanted.values().any(Option::is_none) {
            let mut by_name: HashMap<String, GroupIx> = HashMap::new();
            for (i, g) in tenant.groups.iter().enumerate() {
                let name = lower(g.display_name.trim());
                if wanted.get(name.as_ref()) == Some(&None) {
                    by_name.entry(name.into_owned()).or_insert(i as GroupIx);
                }
            }
            for (k, v) in wanted.iter_mut() {
                if v.is_none() {
                    *v = by_name.get(k).copied();
                }
            }
        }
    }
    tenant
        .policies
        .iter()
        .map(|p| {
            p.target_groups
                .iter()
                .map(
                    |t| match wanted.get(&t.trim().to_lowercase()).copied().flatten() {
                        Some(g) => Target::Group(g),
                        None => Target::Unknown(t.trim().to_string()),
                    },
                )
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LicenseAssignment, Product, ServicePlan};

    #[test]
    fn memberships_group_the_same_sorted_or_not() {
        use crate::model::{Group, Membership};
        let mut t = Tenant::default();
        for g in 0..5 {
            t.groups.push(Group {
                display_name: format!("g{g}"),
                ..Group::default()
            });
        }
        for u in 0..4 {
            t.users.push(crate::model::User {
                upn: format!("u{u}@x"),
                ..Default::default()
            });
        }
        let ms = [
            (0, Member::User(1)),
            (0, Member::User(0)),
            (0, Member::Group(3)),
            (1, Member::User(9)),
            (2, Member::Group(7)),
            (2, Member::User(2)),
            (3, Member::User(3)),
            (3, Member::User(1)),
            (7, Member::User(0)),
        ];
        t.memberships = ms
            .iter()
            .map(|(g, m)| Membership {
                group: *g,
                member: *m,
            })
            .collect();
        let sorted = members_grouped_sorted(&t).unwrap();
        let any = members_grouped_any(&t);
        for (a, b) in [(&sorted.0, &any.0), (&sorted.1, &any.1)] {
            for g in 0..6 {
                assert_eq!(a.of(g), b.of(g), "group {g}");
            }
            assert_eq!(a.start, b.start);
        }
        assert_eq!(sorted.2, any.2);
        assert_eq!(sorted.2, vec![3, 4, 8]);
        assert_eq!(sorted.0.of(0), &[1, 0]);
        t.memberships.swap(0, 4);
        assert!(members_grouped_sorted(&t).is_none());
    }

    #[test]
    fn licensed_matches_the_model_rule() {
        let mut t: Tenant = serde_json::from_str(include_str!(
            "../../tests/fixtures/readiness/all-checks-tenant.json"
        ))
        .unwrap();
        t.products.push(Product {
            part_number: "BOTH".into(),
            service_plans: vec![
                ServicePlan {
                    name: "INTUNE_A".into(),
                    id: Some("c1ec4a95-1f05-45b3-a911-aa3fa01094f5".into()),
                },
                ServicePlan {
                    name: "INTUNE_EDU".into(),
                    id: None,
                },
            ],
            ..Default::default()
        });
        let both = (t.products.len() - 1) as u32;
        for (user, disabled) in [
            (0, vec!["C1EC4A95-1F05-45B3-A911-AA3FA01094F5"]),
            (1, vec!["intune_a", "INTUNE_EDU"]),
            (2, vec!["EXCHANGE_S_ENTERPRISE"]),
        ] {
            t.license_assignments.push(LicenseAssignment {
                user,
                product: both,
                disabled_plans: disabled.into_iter().map(String::from).collect(),
            });
        }
        let r = Reference::builtin().unwrap();
        let scope = Scope::new(&t, &r);
        assert_eq!(scope.licensed, t.intune_licensed());
        assert!(scope.licensed[0] && !scope.licensed[1] && scope.licensed[2]);
    }

    #[test]
    fn targets_resolve_by_id_then_name_case_insensitively() {
        let mut t: Tenant = serde_json::from_str(include_str!(
            "../../tests/fixtures/readiness/clean-tenant.json"
        ))
        .unwrap();
        t.policies[0].target_groups = vec![
            "11111111-1111-1111-1111-111111111111".to_uppercase(),
            " it staff ".into(),
            "nope".into(),
        ];
        let r = Reference::builtin().unwrap();
        let scope = Scope::new(&t, &r);
        assert_eq!(
            scope.policy_targets[0],
            [
                Target::Group(0),
                Target::Group(1),
                Target::Unknown("nope".into())
            ]
        );
        assert_eq!(scope.targeted_groups, [(0, vec![0]), (1, vec![0])]);
    }
}
