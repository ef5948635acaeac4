//! The tenant as bms2intune sees it: users, groups, memberships, products (SKUs) with seats,
//! license assignments, BMS-enrolled devices and BMS device security policies.
//!
//! Pure data and indexes: no I/O. Cross references are indexes into the owning vectors
//! (`UserIx`, `GroupIx`, `ProductIx`) so that a million users and ten million memberships fit
//! in memory; every vector is kept in a stable, sorted order by the importer so that everything
//! downstream is deterministic.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the snapshot layout written to the workspace (`tenant.json`).
pub const SNAPSHOT_VERSION: u32 = 1;

pub type UserIx = u32;
pub type GroupIx = u32;
pub type ProductIx = u32;

/// Names of the service plans that entitle a user to Intune device management
/// (see `templates/licensing/intune-service-plans.csv`). `INTUNE_O365` is BMS, not Intune.
pub const INTUNE_SERVICE_PLANS: &[&str] = &[
    "INTUNE_A",
    "INTUNE_EDU",
    "INTUNE_SMBIZ",
    "INTUNE_A_GOV",
    "INTUNE_A_VL",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    /// User principal name, lower-cased: the key.
    pub upn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Two-letter ISO 3166 code; a license can't be assigned without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// Manager's UPN, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_upn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Group {
    /// Entra object id (GUID, lower-case) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub display_name: String,
    /// Dynamic membership groups can't take direct members.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dynamic: bool,
}

impl Group {
    /// The id if known, else the display name: how reports name a group.
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.display_name)
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Member {
    User(UserIx),
    Group(GroupIx),
}

/// Direct membership as imported; nested groups are resolved by [`Tenant::transitive_users`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Membership {
    pub group: GroupIx,
    pub member: Member,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServicePlan {
    /// Service plan name, e.g. `INTUNE_A`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A product (Graph `subscribedSku`) the tenant holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Product {
    /// SKU part number (`String_Id`), e.g. `ENTERPRISEPACK`.
    pub part_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_id: Option<String>,
    /// Friendly name as the admin centers show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Seats bought (`prepaidUnits.enabled`); `None` when the export did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_units: Option<u64>,
    /// Seats in use (`consumedUnits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_units: Option<u64>,
    pub service_plans: Vec<ServicePlan>,
}

impl Product {
    /// Service plans of this product that entitle Intune.
    pub fn intune_plans(&self) -> impl Iterator<Item = &ServicePlan> {
        self.service_plans.iter().filter(|p| {
            INTUNE_SERVICE_PLANS
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&p.name))
        })
    }

    pub fn includes_intune(&self) -> bool {
        self.intune_plans().next().is_some()
    }

    /// Seats still free, when both counts are known.
    pub fn free_units(&self) -> Option<u64> {
        Some(self.enabled_units?.saturating_sub(self.consumed_units?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LicenseAssignment {
    pub user: UserIx,
    pub product: ProductIx,
    /// Names of the service plans disabled in this assignment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_plans: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Ios,
    Android,
    /// Windows 10/11 desktop and earlier desktop Windows; the version tells them apart.
    Windows,
    WindowsPhone,
    MacOs,
    Other,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Windows => "windows",
            Platform::WindowsPhone => "windows_phone",
            Platform::MacOs => "macos",
            Platform::Other => "other",
        }
    }
}

/// A device enrolled in BMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Owner, when the owner is among the imported users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<UserIx>,
    /// Owner UPN as the export gave it (lower-cased), kept even when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_upn: Option<String>,
    pub platform: Platform,
    /// OS string as exported, e.g. `iOS`, `Android`, `Windows Phone 8.1`.
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Last sync/check-in, ISO 8601 when parseable, else as exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
}

/// Which BMS object pair a policy came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// DeviceConditionalAccessPolicy/Rule: "Block access" when requirements are not met.
    ConditionalAccess,
    /// DeviceConfigurationPolicy/Rule: "Allow access and report".
    Configuration,
}

/// A BMS device security policy with its rule's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BmsPolicy {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub enabled: bool,
    pub kind: PolicyKind,
    /// Target security group ids (lower-case GUIDs) as the rule lists them.
    pub target_groups: Vec<String>,
    /// Rule settings keyed by the cmdlet parameter name (`PasswordRequired`, `PasswordTimeout`, ...),
    /// values as imported (normalised JSON: booleans, numbers, strings, arrays). Absent or null =
    /// not configured.
    pub settings: BTreeMap<String, serde_json::Value>,
}

/// The imported tenant snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tenant {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Direct memberships. In `tenant.json` written compactly as
    /// `{"users":[[group,[user,...]],...],"groups":[[group,[member group,...]],...]}` (a plain
    /// array of `{"group","member"}` objects is read too).
    #[serde(with = "compact_memberships")]
    #[schemars(with = "compact_memberships::CompactMemberships")]
    pub memberships: Vec<Membership>,
    pub products: Vec<Product>,
    pub license_assignments: Vec<LicenseAssignment>,
    pub devices: Vec<Device>,
    pub policies: Vec<BmsPolicy>,
    /// Org-wide "security groups excluded from access control" (DeviceTenantRule ExclusionList).
    #[serde(default)]
    pub exclusion_groups: Vec<String>,
    /// Wave assignments imported from a spreadsheet (Wave / Pilot / BatchName columns): the planner
    /// places these users as pinned and fills around them.
    #[serde(default)]
    pub pins: Vec<WavePin>,
}

/// Compact (de)serialisation of memberships: ten million `{"group":..,"member":{"user":..}}`
/// objects would make `tenant.json` several times larger and slower to read and write.
pub mod compact_memberships {
    use super::{GroupIx, Member, Membership};
    use schemars::JsonSchema;
    use serde::de::{MapAccess, SeqAccess, Visitor};
    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Per group the indexes of its direct user members and of its direct member groups.
    #[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
    pub struct CompactMemberships {
        /// `[group index, [user index, ...]]` runs.
        pub users: Vec<(GroupIx, Vec<u32>)>,
        /// `[group index, [member group index, ...]]` runs.
        pub groups: Vec<(GroupIx, Vec<u32>)>,
    }

    struct Runs<'a> {
        ms: &'a [Membership],
        groups: bool,
    }

    struct Run<'a> {
        group: GroupIx,
        ms: &'a [Membership],
        groups: bool,
    }

    struct Ixs<'a>(&'a [Membership], bool);

    fn pick(m: &Membership, groups: bool) -> Option<u32> {
        match (m.member, groups) {
            (Member::User(u), false) => Some(u),
            (Member::Group(g), true) => Some(g),
            _ => None,
        }
    }

    impl Serialize for Ixs<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().filter_map(|m| pick(m, self.1)))
        }
    }

    impl Serialize for Run<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            (self.group, Ixs(self.ms, self.groups)).serialize(s)
        }
    }

    impl Serialize for Runs<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            // A run = consecutive memberships of one group that have at least one member of the
            // wanted sort (memberships are sorted by group, so one run per group).
            let ms = self.ms;
            let mut runs = Vec::new();
            let mut start = 0;
            while start < ms.len() {
                let g = ms.get(start).map(|m| m.group).unwrap_or(0);
                let mut end = start;
                while ms.get(end).is_some_and(|m| m.group == g) {
                    end += 1;
                }
                let slice = ms.get(start..end).unwrap_or(&[]);
                if slice.iter().any(|m| pick(m, self.groups).is_some()) {
                    runs.push(Run {
                        group: g,
                        ms: slice,
                        groups: self.groups,
                    });
                }
                start = end;
            }
            s.collect_seq(runs.iter())
        }
    }

    pub fn serialize<S: Serializer>(ms: &[Membership], s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("CompactMemberships", 2)?;
        st.serialize_field("users", &Runs { ms, groups: false })?;
        st.serialize_field("groups", &Runs { ms, groups: true })?;
        st.end()
    }

    struct V;

    impl<'de> Visitor<'de> for V {
        type Value = Vec<Membership>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("memberships as {\"users\":[[g,[u..]]],\"groups\":[[g,[g..]]]} or an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(m) = seq.next_element::<Membership>()? {
                out.push(m);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                let runs: Vec<(GroupIx, Vec<u32>)> = map.next_value()?;
                let groups = match key.as_str() {
                    "users" => false,
                    "groups" => true,
                    other => {
                        return Err(serde::de::Error::unknown_field(other, &["users", "groups"]))
                    }
                };
                for (g, ixs) in runs {
                    out.extend(ixs.into_iter().map(|i| Membership {
                        group: g,
                        member: if groups {
                            Member::Group(i)
                        } else {
                            Member::User(i)
                        },
                    }));
                }
            }
            out.sort_unstable();
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Membership>, D::Error> {
        d.deserialize_any(V)
    }
}

/// A user pinned to a wave (or to the pilot) by an imported spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WavePin {
    pub user: UserIx,
    /// Wave number (0 = pilot); `None` with `pilot: true` means "in the pilot".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pilot: bool,
    /// Where the pin came from (file, sheet, row) for error messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Lookups built once over a [`Tenant`].
#[derive(Debug, Default)]
pub struct TenantIndex {
    pub user_by_upn: HashMap<String, UserIx>,
    pub user_by_id: HashMap<String, UserIx>,
    pub group_by_id: HashMap<String, GroupIx>,
    pub group_by_name: HashMap<String, GroupIx>,
    pub product_by_part_number: HashMap<String, ProductIx>,
}

impl Tenant {
    pub fn index(&self) -> TenantIndex {
        let mut ix = TenantIndex::default();
        for (i, u) in self.users.iter().enumerate() {
            ix.user_by_upn.insert(u.upn.to_lowercase(), i as UserIx);
            if let Some(id) = &u.id {
                ix.user_by_id.insert(id.to_lowercase(), i as UserIx);
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(id) = &g.id {
                ix.group_by_id.insert(id.to_lowercase(), i as GroupIx);
            }
            ix.group_by_name
                .entry(g.display_name.to_lowercase())
                .or_insert(i as GroupIx);
        }
        for (i, p) in self.products.iter().enumerate() {
            ix.product_by_part_number
                .insert(p.part_number.to_uppercase(), i as ProductIx);
        }
        ix
    }

    /// Per user: true when an assigned product includes an Intune service plan that is not disabled.
    pub fn intune_licensed(&self) -> Vec<bool> {
        let mut out = vec![false; self.users.len()];
        for a in &self.license_assignments {
            let Some(p) = self.products.get(a.product as usize) else {
                continue;
            };
            let enabled = p.intune_plans().any(|plan| {
                !a.disabled_plans.iter().any(|d| {
                    d.eq_ignore_ascii_case(&plan.name)
                        || plan
                            .id
                            .as_deref()
                            .is_some_and(|id| d.eq_ignore_ascii_case(id))
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

    /// Direct members of every group: `(users, groups)` per group index.
    pub fn direct_members(&self) -> Vec<(Vec<UserIx>, Vec<GroupIx>)> {
        let mut out = vec![(Vec::new(), Vec::new()); self.groups.len()];
        for m in &self.memberships {
            if let Some(slot) = out.get_mut(m.group as usize) {
                match m.member {
                    Member::User(u) => slot.0.push(u),
                    Member::Group(g) => slot.1.push(g),
                }
            }
        }
        out
    }

    /// Users of a group including nested groups, sorted and deduplicated. Cycles are walked once.
    pub fn transitive_users(
        &self,
        direct: &[(Vec<UserIx>, Vec<GroupIx>)],
        group: GroupIx,
    ) -> Vec<UserIx> {
        let mut seen = vec![false; self.groups.len()];
        let mut stack = vec![group];
        let mut users = Vec::new();
        while let Some(g) = stack.pop() {
            let gi = g as usize;
            if gi >= seen.len() || seen[gi] {
                continue;
            }
            seen[gi] = true;
            users.extend_from_slice(&direct[gi].0);
            stack.extend_from_slice(&direct[gi].1);
        }
        users.sort_unstable();
        users.dedup();
        users
    }

    /// Devices per user index.
    pub fn devices_by_user(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.users.len()];
        for (i, d) in self.devices.iter().enumerate() {
            if let Some(slot) = d.owner.and_then(|o| out.get_mut(o as usize)) {
                slot.push(i);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(plans: &[&str]) -> Product {
        Product {
            part_number: "X".into(),
            service_plans: plans
                .iter()
                .map(|n| ServicePlan {
                    name: n.to_string(),
                    id: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn intune_license_needs_an_enabled_intune_plan() {
        let mut t = Tenant {
            users: vec![
                User {
                    upn: "a@x".into(),
                    ..Default::default()
                },
                User {
                    upn: "b@x".into(),
                    ..Default::default()
                },
                User {
                    upn: "c@x".into(),
                    ..Default::default()
                },
            ],
            products: vec![
                product(&["EXCHANGE_S_ENTERPRISE", "INTUNE_O365"]),
                product(&["INTUNE_A", "AAD_PREMIUM"]),
            ],
            ..Default::default()
        };
        t.license_assignments = vec![
            LicenseAssignment {
                user: 0,
                product: 0,
                disabled_plans: vec![],
            },
            LicenseAssignment {
                user: 1,
                product: 1,
                disabled_plans: vec![],
            },
            LicenseAssignment {
                user: 2,
                product: 1,
                disabled_plans: vec!["intune_a".into()],
            },
        ];
        assert_eq!(t.intune_licensed(), vec![false, true, false]);
    }

    #[test]
    fn memberships_round_trip_compactly() {
        let t = Tenant {
            memberships: vec![
                Membership {
                    group: 0,
                    member: Member::User(1),
                },
                Membership {
                    group: 0,
                    member: Member::User(2),
                },
                Membership {
                    group: 0,
                    member: Member::Group(1),
                },
                Membership {
                    group: 1,
                    member: Member::User(0),
                },
            ],
            ..Default::default()
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v["memberships"],
            serde_json::json!({"users": [[0, [1, 2]], [1, [0]]], "groups": [[0, [1]]]})
        );
        let back: Tenant = serde_json::from_value(v).unwrap();
        assert_eq!(back.memberships, t.memberships);
        let legacy: Tenant = serde_json::from_value(serde_json::json!({
            "users": [], "groups": [], "products": [], "license_assignments": [], "devices": [],
            "policies": [], "memberships": [{"group": 0, "member": {"user": 3}}]
        }))
        .unwrap();
        assert_eq!(
            legacy.memberships,
            vec![Membership {
                group: 0,
                member: Member::User(3)
            }]
        );
    }

    #[test]
    fn nested_groups_resolve_and_cycles_terminate() {
        let t = Tenant {
            groups: vec![
                Group {
                    display_name: "A".into(),
                    ..Default::default()
                },
                Group {
                    display_name: "B".into(),
                    ..Default::default()
                },
            ],
            memberships: vec![
                Membership {
                    group: 0,
                    member: Member::User(1),
                },
                Membership {
                    group: 0,
                    member: Member::Group(1),
                },
                Membership {
                    group: 1,
                    member: Member::Group(0),
                },
                Membership {
                    group: 1,
                    member: Member::User(0),
                },
            ],
            ..Default::default()
        };
        let d = t.direct_members();
        assert_eq!(t.transitive_users(&d, 0), vec![0, 1]);
        assert_eq!(t.transitive_users(&d, 1), vec![0, 1]);
    }
}
