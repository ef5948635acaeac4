//! The snapshot being built: the tenant plus the key maps the row readers look things up in
//! (built once, interned), and the final deterministic sort with index remapping.

use crate::model::{
    Group, GroupIx, LicenseAssignment, Member, Membership, Product, ProductIx, Tenant, User,
    UserIx, WavePin,
};

use super::licenses::Reference;
use super::report::Issue;
use super::text::{norm, FastMap};

/// Marks a name that more than one group carries.
pub const AMBIGUOUS: u32 = u32::MAX;

#[derive(Default)]
pub struct Builder {
    pub t: Tenant,
    pub user_by_upn: FastMap<Box<str>, UserIx>,
    pub user_by_id: FastMap<Box<str>, UserIx>,
    /// Users touched by a users row in this run (duplicates within a run conflict; rows for users
    /// already in the snapshot update them).
    pub user_seen: Vec<bool>,
    pub group_by_id: FastMap<String, GroupIx>,
    pub group_by_name: FastMap<String, GroupIx>,
    /// A groups list exists (imported now or in the snapshot): members of other groups are rejected.
    pub groups_listed: bool,
    pub product_by_part: FastMap<String, ProductIx>,
    pub product_by_sku: FastMap<String, ProductIx>,
    pub product_by_name: FastMap<String, ProductIx>,
    /// Products whose seat counts came from a products file.
    pub product_has_seats: Vec<bool>,
    pub device_by_id: FastMap<String, usize>,
    pub reference: Option<Reference>,
    /// Snapshot-wide warnings (cycles, ...).
    pub warnings: Vec<Issue>,
    lower_buf: String,
}

impl Builder {
    pub fn new(base: Option<Tenant>) -> Builder {
        let mut b = Builder::default();
        if let Some(t) = base {
            b.t = t;
            for (i, u) in b.t.users.iter().enumerate() {
                b.user_by_upn
                    .insert(u.upn.to_lowercase().into(), i as UserIx);
                if let Some(id) = &u.id {
                    b.user_by_id.insert(id.to_lowercase().into(), i as UserIx);
                }
            }
            b.user_seen = vec![false; b.t.users.len()];
            for i in 0..b.t.groups.len() {
                b.index_group(i as GroupIx);
            }
            b.groups_listed = !b.t.groups.is_empty();
            for i in 0..b.t.products.len() {
                b.index_product(i as ProductIx);
            }
            b.product_has_seats =
                b.t.products
                    .iter()
                    .map(|p| p.enabled_units.is_some())
                    .collect();
            for (i, d) in b.t.devices.iter().enumerate() {
                if let Some(id) = &d.id {
                    b.device_by_id.insert(id.to_lowercase(), i);
                }
            }
        }
        b
    }

    pub fn reference(&mut self) -> &mut Reference {
        self.reference.get_or_insert_with(Reference::builtin)
    }

    pub fn find_user(&mut self, upn: &str) -> Option<UserIx> {
        let key = super::text::lower_into(upn, &mut self.lower_buf);
        self.user_by_upn.get(key).copied()
    }

    pub fn find_user_by_id(&mut self, id: &str) -> Option<UserIx> {
        let key = super::text::lower_into(id, &mut self.lower_buf);
        self.user_by_id.get(key).copied()
    }

    pub fn add_user(&mut self, u: User) -> UserIx {
        let ix = self.t.users.len() as UserIx;
        self.user_by_upn.insert(u.upn.clone().into(), ix);
        if let Some(id) = &u.id {
            self.user_by_id.insert(id.as_str().into(), ix);
        }
        self.t.users.push(u);
        self.user_seen.push(true);
        ix
    }

    fn index_group(&mut self, ix: GroupIx) {
        let Some(g) = self.t.groups.get(ix as usize) else {
            return;
        };
        if let Some(id) = &g.id {
            self.group_by_id.insert(id.to_lowercase(), ix);
        }
        let name = norm(&g.display_name);
        match self.group_by_name.get(&name) {
            Some(&other) if other != ix => {
                self.group_by_name.insert(name, AMBIGUOUS);
            }
            _ => {
                self.group_by_name.insert(name, ix);
            }
        }
    }

    pub fn add_group(&mut self, g: Group) -> GroupIx {
        let ix = self.t.groups.len() as GroupIx;
        self.t.groups.push(g);
        self.index_group(ix);
        ix
    }

    /// Finds a group by id (GUID) or display name. `Err(())` when the name is ambiguous.
    #[allow(clippy::result_unit_err)]
    pub fn find_group(&self, key: &str) -> Result<Option<GroupIx>, ()> {
        if let Some(id) = super::text::parse_guid(key) {
            if let Some(&g) = self.group_by_id.get(&id) {
                return Ok(Some(g));
            }
        }
        match self.group_by_name.get(&norm(key)) {
            Some(&AMBIGUOUS) => Err(()),
            Some(&g) => Ok(Some(g)),
            None => Ok(None),
        }
    }

    fn index_product(&mut self, ix: ProductIx) {
        let Some(p) = self.t.products.get(ix as usize) else {
            return;
        };
        self.product_by_part
            .insert(norm(&p.part_number).to_uppercase(), ix);
        if let Some(id) = &p.sku_id {
            self.product_by_sku.insert(id.to_lowercase(), ix);
        }
        if let Some(n) = &p.display_name {
            self.product_by_name.entry(norm(n)).or_insert(ix);
        }
    }

    pub fn add_product(&mut self, p: Product, has_seats: bool) -> ProductIx {
        let ix = self.t.products.len() as ProductIx;
        self.t.products.push(p);
        self.product_has_seats.push(has_seats);
        self.index_product(ix);
        ix
    }

    pub fn reindex_product(&mut self, ix: ProductIx) {
        self.index_product(ix);
    }

    /// A product of the tenant by part number, SKU id or friendly name.
    pub fn find_product(&self, key: &str) -> Option<ProductIx> {
        if let Some(id) = super::text::parse_guid(key) {
            return self.product_by_sku.get(&id).copied();
        }
        let n = norm(key);
        self.product_by_part
            .get(&n.to_uppercase())
            .or_else(|| self.product_by_name.get(&n))
            .copied()
    }

    pub fn assign(&mut self, user: UserIx, product: ProductIx, disabled: Vec<String>) {
        self.t.license_assignments.push(LicenseAssignment {
            user,
            product,
            disabled_plans: disabled,
        });
    }

    /// Sorts every vector deterministically, remaps indexes, removes duplicates, reports cycles.
    pub fn finish(mut self) -> (Tenant, Vec<Issue>) {
        let mut t = std::mem::take(&mut self.t);
        // Users by UPN.
        let mut order: Vec<u32> = (0..t.users.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let ua = t.users.get(a as usize).map(|u| u.upn.as_str());
            let ub = t.users.get(b as usize).map(|u| u.upn.as_str());
            ua.cmp(&ub)
        });
        let user_map = inverse(&order);
        t.users = permute(std::mem::take(&mut t.users), &order);
        // Groups by name, then id.
        let mut gorder: Vec<u32> = (0..t.groups.len() as u32).collect();
        let gkeys: Vec<(String, String)> = t
            .groups
            .iter()
            .map(|g| {
                (
                    g.display_name.to_lowercase(),
                    g.id.clone().unwrap_or_default(),
                )
            })
            .collect();
        gorder.sort_by(|&a, &b| gkeys.get(a as usize).cmp(&gkeys.get(b as usize)));
        let group_map = inverse(&gorder);
        t.groups = permute(std::mem::take(&mut t.groups), &gorder);
        // Products by part number.
        let mut porder: Vec<u32> = (0..t.products.len() as u32).collect();
        porder.sort_by(|&a, &b| {
            let pa = t
                .products
                .get(a as usize)
                .map(|p| p.part_number.to_uppercase());
            let pb = t
                .products
                .get(b as usize)
                .map(|p| p.part_number.to_uppercase());
            pa.cmp(&pb)
        });
        let product_map = inverse(&porder);
        t.products = permute(std::mem::take(&mut t.products), &porder);
        for p in &mut t.products {
            p.service_plans.sort_by_key(|a| a.name.to_uppercase());
            p.service_plans
                .dedup_by(|a, b| a.name.eq_ignore_ascii_case(&b.name));
        }

        let um = |u: UserIx| user_map.get(u as usize).copied().unwrap_or(u);
        let gm = |g: GroupIx| group_map.get(g as usize).copied().unwrap_or(g);
        let pm = |p: ProductIx| product_map.get(p as usize).copied().unwrap_or(p);

        for m in &mut t.memberships {
            m.group = gm(m.group);
            m.member = match m.member {
                Member::User(u) => Member::User(um(u)),
                Member::Group(g) => Member::Group(gm(g)),
            };
        }
        t.memberships.sort_unstable_by_key(membership_key);
        t.memberships.dedup();

        for a in &mut t.license_assignments {
            a.user = um(a.user);
            a.product = pm(a.product);
            a.disabled_plans.sort();
            a.disabled_plans.dedup();
        }
        // Stable sort keeps the later row last; keep that one (it is the newest statement).
        t.license_assignments.sort_by_key(|a| (a.user, a.product));
        let mut la: Vec<LicenseAssignment> = Vec::with_capacity(t.license_assignments.len());
        for a in std::mem::take(&mut t.license_assignments) {
            match la.last_mut() {
                Some(last) if last.user == a.user && last.product == a.product => *last = a,
                _ => la.push(a),
            }
        }
        t.license_assignments = la;

        for d in &mut t.devices {
            d.owner = d.owner.map(um);
        }
        t.devices.sort_by(|a, b| {
            (&a.owner_upn, &a.id, &a.os, &a.model, &a.last_sync).cmp(&(
                &b.owner_upn,
                &b.id,
                &b.os,
                &b.model,
                &b.last_sync,
            ))
        });

        for p in &mut t.pins {
            p.user = um(p.user);
        }
        t.pins.sort_by_key(|p| p.user);
        let mut pins: Vec<WavePin> = Vec::with_capacity(t.pins.len());
        for p in std::mem::take(&mut t.pins) {
            match pins.last_mut() {
                Some(last) if last.user == p.user => *last = p,
                _ => pins.push(p),
            }
        }
        t.pins = pins;

        for p in &mut t.policies {
            p.target_groups.sort();
            p.target_groups.dedup();
        }
        t.policies.sort_by(|a, b| {
            (
                a.name.to_lowercase(),
                a.kind,
                &a.name,
                a.enabled,
                &a.target_groups,
                &a.comment,
            )
                .cmp(&(
                    b.name.to_lowercase(),
                    b.kind,
                    &b.name,
                    b.enabled,
                    &b.target_groups,
                    &b.comment,
                ))
        });
        t.exclusion_groups.sort();
        t.exclusion_groups.dedup();

        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.extend(cycles(&t));
        (t, warnings)
    }
}

fn membership_key(m: &Membership) -> (GroupIx, u8, u32) {
    match m.member {
        Member::User(u) => (m.group, 0, u),
        Member::Group(g) => (m.group, 1, g),
    }
}

/// `order[new] = old` → `map[old] = new`.
fn inverse(order: &[u32]) -> Vec<u32> {
    let mut map = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        if let Some(slot) = map.get_mut(old as usize) {
            *slot = new as u32;
        }
    }
    map
}

fn permute<T: Default>(mut v: Vec<T>, order: &[u32]) -> Vec<T> {
    order
        .iter()
        .map(|&old| {
            v.get_mut(old as usize)
                .map(std::mem::take)
                .unwrap_or_default()
        })
        .collect()
}

/// Nested-group cycles, each reported once (by its sorted group names).
fn cycles(t: &Tenant) -> Vec<Issue> {
    let n = t.groups.len();
    let mut edges: Vec<Vec<GroupIx>> = vec![Vec::new(); n];
    for m in &t.memberships {
        if let (Member::Group(g), Some(e)) = (m.member, edges.get_mut(m.group as usize)) {
            e.push(g);
        }
    }
    if edges.iter().all(|e| e.is_empty()) {
        return Vec::new();
    }
    // Iterative DFS with colours; a back edge closes a cycle.
    let mut colour = vec![0u8; n];
    let mut found: Vec<Vec<GroupIx>> = Vec::new();
    for start in 0..n {
        if colour.get(start).copied() != Some(0) {
            continue;
        }
        let mut stack: Vec<(GroupIx, usize)> = vec![(start as GroupIx, 0)];
        if let Some(c) = colour.get_mut(start) {
            *c = 1;
        }
        while let Some(&mut (g, ref mut next)) = stack.last_mut() {
            let out = edges.get(g as usize).map(|e| e.as_slice()).unwrap_or(&[]);
            if let Some(&h) = out.get(*next) {
                *next += 1;
                match colour.get(h as usize).copied() {
                    Some(0) => {
                        if let Some(c) = colour.get_mut(h as usize) {
                            *c = 1;
                        }
                        stack.push((h, 0));
                    }
                    Some(1) => {
                        let pos = stack.iter().position(|(x, _)| *x == h).unwrap_or(0);
                        let mut cyc: Vec<GroupIx> = stack
                            .get(pos..)
                            .unwrap_or(&[])
                            .iter()
                            .map(|(x, _)| *x)
                            .collect();
                        cyc.sort_unstable();
                        if !found.contains(&cyc) {
                            found.push(cyc);
                        }
                    }
                    _ => {}
                }
            } else {
                if let Some(c) = colour.get_mut(g as usize) {
                    *c = 2;
                }
                stack.pop();
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|cyc| {
            let names: Vec<String> = cyc
                .iter()
                .filter_map(|g| t.groups.get(*g as usize))
                .map(|g| g.display_name.clone())
                .collect();
            Issue {
                code: "import.members.cycle".into(),
                row: 0,
                column: String::new(),
                value: names.join(" → "),
                message: format!(
                    "nested groups form a cycle ({}); members are resolved once each, but Entra ID does not allow this nesting for licensing or Intune assignment: break the cycle",
                    names.join(", ")
                ),
            }
        })
        .collect()
}
