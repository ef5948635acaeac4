//! Check 8: BMS policies to clean up before conversion (disabled, no target, empty or unknown
//! target groups, exact duplicates).

use std::collections::HashMap;

use crate::readiness::finding::{Finding, Severity};
use crate::readiness::scope::{Scope, Target};

/// What makes two policies "the same": kind, enabled, targets and configured settings.
fn duplicate_key(scope: &Scope, pi: usize) -> Option<String> {
    let p = scope.tenant.policies.get(pi)?;
    let mut targets: Vec<String> = p
        .target_groups
        .iter()
        .map(|t| t.trim().to_lowercase())
        .collect();
    targets.sort();
    targets.dedup();
    let settings: Vec<(&String, &serde_json::Value)> =
        p.settings.iter().filter(|(_, v)| !v.is_null()).collect();
    serde_json::to_string(&(p.kind, p.enabled, targets, settings)).ok()
}

pub fn cleanup(scope: &Scope) -> Vec<Finding> {
    let t = scope.tenant;
    let mut out = Vec::new();
    let mut seen = vec![false; t.groups.len()];
    let mut first_with_key: HashMap<String, usize> = HashMap::new();
    // Policies in name order, so "duplicate of" always names the same original.
    let mut order: Vec<usize> = (0..t.policies.len()).collect();
    order.sort_by(|a, b| {
        let na = t.policies.get(*a).map(|p| p.name.as_str());
        let nb = t.policies.get(*b).map(|p| p.name.as_str());
        na.cmp(&nb).then(a.cmp(b))
    });
    for pi in order {
        let (Some(p), Some(targets)) = (t.policies.get(pi), scope.policy_targets.get(pi)) else {
            continue;
        };
        let name = p.name.clone();
        if !p.enabled {
            out.push(Finding::new(
                "policy.cleanup.disabled",
                Severity::Info,
                format!("BMS policy '{name}' is disabled: converting it creates Intune objects nobody needs"),
                vec![name.clone()],
                "Delete it in BMS (Remove-DeviceConfigurationPolicy / Remove-DeviceConditionalAccessPolicy) or leave it out of the conversion.",
            ));
        }
        if targets.is_empty() {
            out.push(Finding::new(
                "policy.cleanup.no_target",
                Severity::Info,
                format!("BMS policy '{name}' targets no group, so it applies to nobody"),
                vec![name.clone()],
                "Delete it before conversion, or add the intended target groups to it.",
            ));
        }
        let mut unknown: Vec<String> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Unknown(id) => Some(id.clone()),
                Target::Group(_) => None,
            })
            .collect();
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            let mut objects = vec![name.clone()];
            objects.extend(unknown.iter().cloned());
            out.push(Finding::new(
                "policy.cleanup.unknown_group",
                Severity::Warning,
                format!(
                    "BMS policy '{name}' targets groups that are not among the imported groups: {} (deleted groups, or an incomplete group export; their members are not counted as users to migrate)",
                    unknown.join(", ")
                ),
                objects,
                "Import the full group and membership export; if the groups were deleted, remove them from the policy's TargetGroups (Set-DeviceConfigurationRule / Set-DeviceConditionalAccessRule -TargetGroups).",
            ));
        }
        let mut empty: Vec<String> = Vec::new();
        for tg in targets {
            if let Target::Group(g) = tg {
                if scope.transitive_users(*g, &mut seen).is_empty() {
                    if let Some(group) = t.groups.get(*g as usize) {
                        empty.push(group.display_name.clone());
                    }
                }
            }
        }
        empty.sort();
        empty.dedup();
        if !empty.is_empty() {
            let mut objects = vec![name.clone()];
            objects.extend(empty.iter().cloned());
            out.push(Finding::new(
                "policy.cleanup.empty_group",
                Severity::Info,
                format!(
                    "BMS policy '{name}' targets groups without members: {}",
                    empty.join(", ")
                ),
                objects,
                "Remove the empty groups from the policy (or delete the policy if it targets nothing else) before conversion.",
            ));
        }
        if let Some(key) = duplicate_key(scope, pi) {
            match first_with_key.get(&key) {
                Some(first) => {
                    let original = t
                        .policies
                        .get(*first)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    out.push(Finding::new(
                        "policy.cleanup.duplicate",
                        Severity::Info,
                        format!("BMS policy '{name}' duplicates '{original}' exactly (same kind, state, target groups and settings)"),
                        vec![name.clone(), original.clone()],
                        format!("Delete '{name}' before conversion; '{original}' does the same."),
                    ));
                }
                None => {
                    first_with_key.insert(key, pi);
                }
            }
        }
    }
    out
}

/// Check 9: settings of enabled BMS policies that won't carry over one-to-one to Intune, from the
/// same mapping data `convert` uses (`crate::policy::caveats`). One finding per policy, setting
/// and kind of loss, naming the platforms and where the setting goes.
pub fn settings_not_one_to_one(scope: &Scope) -> Vec<Finding> {
    use std::collections::BTreeMap;
    let mut out = Vec::new();
    for p in scope.tenant.policies.iter().filter(|p| p.enabled) {
        // (setting, status) → notes per platform, in the mapping's order.
        let mut by_setting: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for c in crate::policy::caveats(p) {
            by_setting
                .entry((c.setting, c.status))
                .or_default()
                .push(format!("{}: {}", c.platform, c.note));
        }
        for ((setting, status), notes) in by_setting {
            let (what, remedy) = match status.as_str() {
                "not_migrated" => (
                    "is not migrated",
                    "Recreate it by hand in Intune if it is still needed, or accept that it is dropped; intune/mapping-report.csv has the details after convert.",
                ),
                "clamped" => (
                    "is adjusted to Intune's allowed range",
                    "Check the converted value in intune/mapping-report.csv before assigning the Intune policies.",
                ),
                "manual" => (
                    "needs to be configured by hand",
                    "Configure it by hand in Intune after convert (intune/mapping-report.csv lists where).",
                ),
                _ => (
                    "converts with a loss of precision",
                    "Review the converted value in intune/mapping-report.csv before assigning the Intune policies.",
                ),
            };
            let setting_text = if setting.is_empty() {
                "the policy".to_string()
            } else {
                format!("setting {setting}")
            };
            out.push(Finding::new(
                &format!("policy.setting_not_one_to_one.{status}"),
                Severity::Warning,
                format!(
                    "BMS policy '{}': {setting_text} {what}: {}",
                    p.name,
                    notes.join("; ")
                ),
                vec![p.name.clone()],
                remedy,
            ));
        }
    }
    out
}
