//! What every check needs to know about the tenant, computed once in linear time: who is already
//! Intune-licensed, who BMS manages (devices or targeted groups), which groups the policies target.

use std::collections::HashMap;

use crate::model::{GroupIx, Member, Tenant, UserIx};

use super::reference::Reference;

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
    /// Direct members per group: (users, nested groups).
    pub direct: Vec<(Vec<UserIx>, Vec<GroupIx>)>,
    /// Device indexes grouped by owner (`device_start[u]..device_start[u + 1]` are user `u`'s):
    /// two flat vectors instead of a vector per user.
    device_start: Vec<usize>,
    device_list: Vec<usize>,
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
        let licensed = tenant.intune_licensed();
        let product_has_intune: Vec<bool> = tenant
            .products
            .iter()
            .map(|p| p.includes_intune())
            .collect();

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

        let direct = tenant.direct_members();
        let (device_start, device_list) = devices_grouped(tenant);
        let mut in_any_group = vec![false; n_users];
        for m in &tenant.memberships {
            if let (Member::User(u), true) = (m.member, (m.group as usize) < tenant.groups.len()) {
                if let Some(slot) = in_any_group.get_mut(u as usize) {
                    *slot = true;
                }
            }
        }

        let mut group_by_id: HashMap<String, GroupIx> = HashMap::new();
        let mut group_by_name: HashMap<String, GroupIx> = HashMap::new();
        for (i, g) in tenant.groups.iter().enumerate() {
            if let Some(id) = &g.id {
                group_by_id
                    .entry(id.trim().to_lowercase())
                    .or_insert(i as GroupIx);
            }
            group_by_name
                .entry(g.display_name.trim().to_lowercase())
                .or_insert(i as GroupIx);
        }
        let policy_targets: Vec<Vec<Target>> = tenant
            .policies
            .iter()
            .map(|p| {
                p.target_groups
                    .iter()
                    .map(|t| {
                        let key = t.trim().to_lowercase();
                        match group_by_id.get(&key).or_else(|| group_by_name.get(&key)) {
                            Some(g) => Target::Group(*g),
                            None => Target::Unknown(t.trim().to_string()),
                        }
                    })
                    .collect()
            })
            .collect();

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
            if let Some((users, groups)) = direct.get(g as usize) {
                for u in users {
                    if let Some(slot) = targeted.get_mut(*u as usize) {
                        *slot = true;
                    }
                }
                stack.extend_from_slice(groups);
            }
        }

        let to_migrate: Vec<bool> = (0..n_users)
            .map(|u| {
                let has_device = device_start.get(u + 1) > device_start.get(u);
                (has_device || targeted[u]) && !licensed[u]
            })
            .collect();

        Scope {
            tenant,
            reference,
            licensed,
            plan_disabled,
            product_has_intune,
            direct,
            device_start,
            device_list,
            in_any_group,
            targeted,
            to_migrate,
            policy_targets,
            targeted_groups,
        }
    }

    /// Indexes of the devices user `u` owns, in snapshot order.
    pub fn devices_of(&self, u: usize) -> &[usize] {
        match (self.device_start.get(u), self.device_start.get(u + 1)) {
            (Some(a), Some(b)) => self.device_list.get(*a..*b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Lower-case UPN of a user index (out-of-range indexes, which the data check reports, give
    /// a placeholder so nothing panics).
    pub fn upn(&self, u: UserIx) -> String {
        self.tenant
            .users
            .get(u as usize)
            .map(|x| {
                if x.upn
                    .bytes()
                    .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
                {
                    x.upn.to_lowercase()
                } else {
                    x.upn.clone()
                }
            })
            .unwrap_or_else(|| format!("(unknown user #{u})"))
    }

    /// How reports name a device: its id, else its position in the snapshot.
    pub fn device_label(&self, i: usize) -> String {
        match self.tenant.devices.get(i).and_then(|d| d.id.as_deref()) {
            Some(id) if !id.trim().is_empty() => id.trim().to_string(),
            _ => format!("(device #{i} without id)"),
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
            if let Some((us, gs)) = self.direct.get(g as usize) {
                users.extend(
                    us.iter()
                        .filter(|u| (**u as usize) < self.tenant.users.len()),
                );
                stack.extend_from_slice(gs);
            }
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

/// Devices grouped by owner index (counting sort): offsets per user and the device indexes.
/// Devices whose owner is missing or out of range are left out (the data check reports them).
fn devices_grouped(tenant: &Tenant) -> (Vec<usize>, Vec<usize>) {
    let n = tenant.users.len();
    let mut start = vec![0usize; n + 1];
    for d in &tenant.devices {
        if let Some(o) = d.owner.map(|o| o as usize).filter(|o| *o < n) {
            start[o + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut next = start.clone();
    let mut list = vec![0usize; start[n]];
    for (i, d) in tenant.devices.iter().enumerate() {
        let Some(o) = d.owner.map(|o| o as usize).filter(|o| *o < n) else {
            continue;
        };
        if let Some(pos) = next.get_mut(o) {
            if let Some(slot) = list.get_mut(*pos) {
                *slot = i;
            }
            *pos += 1;
        }
    }
    (start, list)
}
