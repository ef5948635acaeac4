//! Check 2: groups targeted by BMS policies that mix Intune-licensed and unlicensed users, with
//! the split to make.

use std::collections::HashSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::readiness::finding::{n, Finding, Severity};
use crate::readiness::scope::Scope;

/// A group to create: the not-yet-licensed members of a mixed group, ready to be the target of
/// the converted Intune policies instead of the mixed group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SplitGroup {
    /// Display name for the new group (unique among the imported groups and other proposals).
    pub proposed_name: String,
    /// Display name of the mixed group.
    pub source_group: String,
    /// Entra object id of the mixed group, when known.
    pub source_group_id: Option<String>,
    /// BMS policies (names) targeting the mixed group.
    pub policies: Vec<String>,
    /// Members of the mixed group already Intune-licensed (they stay out of the new group).
    pub licensed_members: usize,
    /// Lower-case UPNs of the new group's members: the mixed group's not-yet-licensed users.
    pub members: Vec<String>,
}

const SUFFIX: &str = " (BMS, not Intune-licensed)";

pub fn mixed_groups(scope: &Scope) -> (Vec<SplitGroup>, Vec<Finding>) {
    let t = scope.tenant;
    // Names already in use, built on the first mixed group only (most tenants have none).
    let mut taken: Option<HashSet<String>> = None;
    let mut seen = vec![false; t.groups.len()];
    let mut splits = Vec::new();
    let mut findings = Vec::new();
    for (g, policy_ixs) in &scope.targeted_groups {
        let Some(group) = t.groups.get(*g as usize) else {
            continue;
        };
        let users = scope.transitive_users(*g, &mut seen);
        let (licensed, unlicensed): (Vec<_>, Vec<_>) = users
            .into_iter()
            .partition(|u| scope.licensed.get(*u as usize).copied().unwrap_or(false));
        if licensed.is_empty() || unlicensed.is_empty() {
            continue;
        }
        let mut policies: Vec<String> = policy_ixs
            .iter()
            .filter_map(|p| t.policies.get(*p).map(|p| p.name.clone()))
            .collect();
        policies.sort();
        policies.dedup();
        let base = format!("{}{SUFFIX}", group.display_name.trim());
        let mut proposed = base.clone();
        let mut suffix = 2;
        // A proposed name ends with SUFFIX, so only existing names holding its ')' can clash
        // (lower-casing never produces an ASCII ')' from anything else): the other 100,000
        // names of a large tenant are neither lower-cased nor hashed.
        let taken = taken.get_or_insert_with(|| {
            t.groups
                .iter()
                .filter(|g| g.display_name.contains(')'))
                .map(|g| g.display_name.trim().to_lowercase())
                .collect()
        });
        while !taken.insert(proposed.to_lowercase()) {
            proposed = format!("{base} {suffix}");
            suffix += 1;
        }
        let mut members: Vec<String> = unlicensed.iter().map(|u| scope.upn(*u)).collect();
        members.sort_unstable();
        let id_note = group
            .id
            .as_deref()
            .map(|id| format!(" ({id})"))
            .unwrap_or_default();
        let dynamic_note = if group.dynamic {
            "; it is a dynamic group, so create the new one as an assigned group"
        } else {
            ""
        };
        findings.push(Finding::new(
            "group.mixed",
            Severity::Warning,
            format!(
                "group '{}'{id_note}, targeted by BMS {} {}, has {} already Intune-licensed and {} not yet licensed; only users without an Intune license should keep BMS policies (the licensed ones move to Intune when coexistence is enabled)",
                group.display_name,
                if policies.len() == 1 { "policy" } else { "policies" },
                policies.join(", "),
                n(licensed.len() as u64, "member", "members"),
                unlicensed.len()
            ),
            vec![group.display_name.clone()],
            format!(
                "Create the group '{proposed}' with the {} members listed in readiness/split-groups.csv and assign the converted Intune policies to it instead of '{}'{dynamic_note}.",
                unlicensed.len(),
                group.display_name
            ),
        ));
        splits.push(SplitGroup {
            proposed_name: proposed,
            source_group: group.display_name.clone(),
            source_group_id: group.id.clone(),
            policies,
            licensed_members: licensed.len(),
            members,
        });
    }
    splits.sort_by(|a, b| a.proposed_name.cmp(&b.proposed_name));
    (splits, findings)
}

/// The split groups as CSV: one row per proposed group and member (the source group, its id and
/// the policies are in the JSON beside it).
pub fn split_groups_csv(splits: &[SplitGroup]) -> Result<Vec<u8>, csv::Error> {
    use crate::readiness::finding::csv_safe;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["proposed_group", "member_upn"])?;
    for s in splits {
        let group = csv_safe(&s.proposed_name);
        for m in &s.members {
            w.write_record([group.as_bytes(), csv_safe(m).as_bytes()])?;
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
