//! The snapshot being built: the tenant plus the key maps the row readers look things up in
//! (built once, interned), and the final deterministic sort with index remapping.

use crate::model::{
    Group, GroupIx, LicenseAssignment, Member, Membership, Product, ProductIx, Tenant, User,
    UserIx, WavePin,
};

use super::licenses::Reference;
use super::report::Issue;
use super::text::{norm, FastMap};
use std::collections::hash_map::Entry;

/// Lower-cased string key → index, keeping two independent 64-bit hashes per key instead of the
/// key itself: a million users or devices cost no key strings, and a lookup touches one table
/// slot (no pointer chase to the string). Two different keys agreeing on both hashes (about
/// n²/2¹²⁹ for n keys) is treated as impossible; keys agreeing on the first hash only go to a
/// small string-keyed overflow map.
#[derive(Default)]
pub struct KeyIndex {
    by_hash: FastMap<u64, (u32, u64)>,
    overflow: FastMap<Box<str>, u32>,
}

/// Two independent 64-bit hashes of a key: SipHash (std's `DefaultHasher`, fixed keys, so the
/// result is deterministic) over two different seed prefixes. A fast multiply-rotate hash is not
/// good enough here: structured UPNs (`user19282@contoso.com`) collide in it, and since a lookup
/// trusts the pair without comparing strings, the pair must behave like a random 128-bit value.
fn key_hashes(s: &str) -> (u64, u64) {
    use std::hash::Hasher as _;
    let mut a = std::collections::hash_map::DefaultHasher::new();
    a.write_u64(0x9E37_79B9_7F4A_7C15);
    a.write(s.as_bytes());
    let mut b = std::collections::hash_map::DefaultHasher::new();
    b.write_u64(0x243F_6A88_85A3_08D3);
    b.write(s.as_bytes());
    (a.finish(), b.finish())
}

impl KeyIndex {
    pub fn get(&self, key: &str) -> Option<u32> {
        let (a, b) = key_hashes(key);
        if let Some(&(ix, check)) = self.by_hash.get(&a) {
            if check == b {
                return Some(ix);
            }
        }
        if self.overflow.is_empty() {
            None
        } else {
            self.overflow.get(key).copied()
        }
    }

    /// Inserts `key → ix` unless the key is there already: then returns its index.
    pub fn insert_if_absent(&mut self, key: &str, ix: u32) -> Option<u32> {
        let (a, b) = key_hashes(key);
        match self.by_hash.entry(a) {
            Entry::Vacant(e) => {
                e.insert((ix, b));
                None
            }
            Entry::Occupied(e) => {
                let (old, check) = *e.get();
                if check == b {
                    return Some(old);
                }
                match self.overflow.get(key) {
                    Some(&o) => Some(o),
                    None => {
                        self.overflow.insert(key.into(), ix);
                        None
                    }
                }
            }
        }
    }

    /// Inserts or replaces `key → ix`.
    pub fn insert(&mut self, key: &str, ix: u32) {
        let (a, b) = key_hashes(key);
        match self.by_hash.entry(a) {
            Entry::Vacant(e) => {
                e.insert((ix, b));
            }
            Entry::Occupied(mut e) => {
                if e.get().1 == b {
                    e.insert((ix, b));
                } else {
                    self.overflow.insert(key.into(), ix);
                }
            }
        }
    }
}

/// Marks a name that more than one group carries.
pub const AMBIGUOUS: u32 = u32::MAX;

#[derive(Default)]
pub struct Builder {
    pub t: Tenant,
    user_by_upn: KeyIndex,
    user_by_id: KeyIndex,
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
    device_by_id: KeyIndex,
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
            for u in &mut b.t.users {
                u.upn = u.upn.to_lowercase();
                u.id = u.id.take().map(|id| id.to_lowercase());
            }
            for i in 0..b.t.users.len() {
                b.index_user(i as UserIx);
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
                    b.device_by_id.insert(&id.to_lowercase(), i as u32);
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
        self.user_by_upn.get(key)
    }

    pub fn find_user_by_id(&mut self, id: &str) -> Option<UserIx> {
        let key = super::text::lower_into(id, &mut self.lower_buf);
        self.user_by_id.get(key)
    }

    /// A user by lower-case UPN (no allocation).
    pub fn user_ix(&self, upn_lower: &str) -> Option<UserIx> {
        self.user_by_upn.get(upn_lower)
    }

    /// A user by lower-case object id.
    pub fn user_ix_by_id(&self, id_lower: &str) -> Option<UserIx> {
        self.user_by_id.get(id_lower)
    }

    /// (Re)indexes a user's UPN and id (after it was added or its id changed).
    pub fn index_user(&mut self, ix: UserIx) {
        let Some(u) = self.t.users.get(ix as usize) else {
            return;
        };
        self.user_by_upn.insert(&u.upn, ix);
        if let Some(id) = &u.id {
            self.user_by_id.insert(id, ix);
        }
    }

    /// Adds a user unless its UPN is known: `Err((existing index, the user given back))`.
    #[allow(clippy::result_large_err)] // the hot path: no Box per row
    pub fn add_user_if_new(&mut self, u: User) -> Result<UserIx, (UserIx, User)> {
        let ix = self.t.users.len() as UserIx;
        if let Some(existing) = self.user_by_upn.insert_if_absent(&u.upn, ix) {
            return Err((existing, u));
        }
        if let Some(id) = &u.id {
            self.user_by_id.insert(id, ix);
        }
        self.t.users.push(u);
        self.user_seen.push(true);
        Ok(ix)
    }

    /// Reserves room for about `rows` more rows of `kind` (estimated from the file size).
    pub fn reserve(&mut self, kind: super::Kind, rows: usize) {
        use super::Kind;
        match kind {
            Kind::Users => {
                self.t.users.reserve(rows);
                self.user_seen.reserve(rows);
            }
            Kind::Members => self.t.memberships.reserve(rows),
            Kind::Licenses => self.t.license_assignments.reserve(rows),
            Kind::Devices => self.t.devices.reserve(rows),
            _ => {}
        }
    }

    /// A device already imported with this id (lower-cased key).
    pub fn device_ix(&self, id_lower: &str) -> Option<usize> {
        self.device_by_id.get(id_lower).map(|i| i as usize)
    }

    pub fn index_device(&mut self, id_lower: &str, ix: usize) {
        self.device_by_id.insert(id_lower, ix as u32);
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
        // Sort keys carry the first 16 bytes so that most comparisons need no pointer chase.
        let upn = |i: u32| {
            t.users
                .get(i as usize)
                .map(|u| u.upn.as_str())
                .unwrap_or("")
        };
        let mut keys: Vec<(u128, u32)> = t
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (prefix16(&u.upn), i as u32))
            .collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| upn(a.1).cmp(upn(b.1))));
        let order: Vec<u32> = keys.into_iter().map(|k| k.1).collect();
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

/// The first 16 bytes of `s`, big-endian, zero-padded: orders like the bytes themselves.
fn prefix16(s: &str) -> u128 {
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(s.as_bytes()) {
        *d = *s;
    }
    u128::from_be_bytes(b)
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

/// Reorders `v` in place so that `v[new] = old v[order[new]]` (cycle by cycle: no second copy of
/// a million users).
fn permute<T: Default>(mut v: Vec<T>, order: &[u32]) -> Vec<T> {
    if order.len() != v.len() {
        return v;
    }
    let mut done = vec![false; v.len()];
    for start in 0..v.len() {
        if done.get(start).copied().unwrap_or(true) {
            continue;
        }
        let first = v.get_mut(start).map(std::mem::take).unwrap_or_default();
        let mut j = start;
        loop {
            if let Some(d) = done.get_mut(j) {
                *d = true;
            }
            let k = order.get(j).copied().unwrap_or(start as u32) as usize;
            if k == start {
                if let Some(slot) = v.get_mut(j) {
                    *slot = first;
                }
                break;
            }
            let moved = v.get_mut(k).map(std::mem::take).unwrap_or_default();
            if let Some(slot) = v.get_mut(j) {
                *slot = moved;
            }
            j = k;
        }
    }
    v
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

#[cfg(test)]
mod key_index_tests {
    use super::KeyIndex;

    /// Regression: structured keys collided in both halves of the old multiply-rotate hash pair,
    /// so distinct users were taken for duplicates.
    #[test]
    fn structured_keys_never_collide() {
        let mut ix = KeyIndex::default();
        for i in 0..300_000u32 {
            let k = format!("user{i}@contoso.com");
            assert_eq!(ix.insert_if_absent(&k, i), None, "{k}");
        }
        for i in 0..300_000u32 {
            let k = format!("user{i}@contoso.com");
            assert_eq!(ix.get(&k), Some(i));
        }
        assert_eq!(ix.get("user300000@contoso.com"), None);
        assert_eq!(ix.insert_if_absent("user5@contoso.com", 9), Some(5));
    }
}

#[cfg(test)]
mod permute_tests {
    #[test]
    fn permutes_in_place_by_cycles() {
        let v = vec!["a", "b", "c", "d", "e"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        let order = [3u32, 0, 4, 1, 2];
        let p = super::permute(v, &order);
        assert_eq!(p, ["d", "a", "e", "b", "c"]);
    }
}
