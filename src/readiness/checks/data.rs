//! Check 10: inconsistent data: devices whose owner is unknown, users with nothing to migrate,
//! disabled accounts, references to objects that don't exist.

use crate::readiness::finding::{n, Finding, Severity};
use crate::readiness::scope::Scope;

pub fn inconsistent(scope: &Scope) -> Vec<Finding> {
    let t = scope.tenant;
    let n_users = t.users.len();
    let mut out = Vec::new();

    // Devices without a known owner (found while grouping the devices by owner).
    let mut unknown_owner: Vec<String> = Vec::new();
    for i in scope.unowned_devices.iter().map(|i| *i as usize) {
        let Some(d) = t.devices.get(i) else {
            continue;
        };
        unknown_owner.push(scope.device_label(i));
        if let Some(upn) = d
            .owner_upn
            .as_deref()
            .map(|u| u.trim().to_lowercase())
            .filter(|u| !u.is_empty())
        {
            unknown_owner.push(upn);
        }
    }
    if !unknown_owner.is_empty() {
        let devices = scope.unowned_devices.len();
        out.push(Finding::new(
            "data.inconsistent.unknown_owner",
            Severity::Warning,
            format!("{} no owner among the imported users (listed with the owner UPN the export gave, if any): licensing can't move a device without a user", n(devices as u64, "device has", "devices have")),
            unknown_owner,
            "Import the missing users (or fix the owner in the device export); devices enrolled without a user must be moved by Microsoft support.",
        ));
    }

    // Users in no group and with no device: nothing to migrate.
    let mut idle: Vec<String> = (0..n_users)
        .filter(|u| !scope.in_any_group[*u] && scope.devices_of(*u).is_empty())
        .map(|u| scope.upn(u as u32))
        .collect();
    if !idle.is_empty() {
        idle.sort_unstable();
        out.push(Finding::new(
            "data.inconsistent.nothing_to_migrate",
            Severity::Info,
            format!(
                "{} in no group and without a BMS device: nothing to migrate for them",
                n(idle.len() as u64, "user is", "users are")
            ),
            idle,
            "Nothing to do unless they should be in scope; then check that the membership and device exports are complete.",
        ));
    }

    // Disabled accounts: in scope they would take a seat for nobody.
    let mut disabled_in_scope = Vec::new();
    let mut disabled_other = Vec::new();
    for (u, user) in t.users.iter().enumerate() {
        if user.account_enabled != Some(false) {
            continue;
        }
        if scope.to_migrate[u] {
            disabled_in_scope.push(user.upn.to_lowercase());
        } else {
            disabled_other.push(user.upn.to_lowercase());
        }
    }
    if !disabled_in_scope.is_empty() {
        disabled_in_scope.sort_unstable();
        out.push(Finding::new(
            "data.inconsistent.account_disabled",
            Severity::Warning,
            format!(
                "{} still to migrate (BMS devices or in BMS-targeted groups): licensing them would use Intune seats for nobody",
                n(disabled_in_scope.len() as u64, "disabled account is", "disabled accounts are")
            ),
            disabled_in_scope,
            "Retire their devices and remove them from the BMS-targeted groups (or delete the accounts) instead of migrating them.",
        ));
    }
    if !disabled_other.is_empty() {
        disabled_other.sort_unstable();
        out.push(Finding::new(
            "data.inconsistent.account_disabled",
            Severity::Info,
            format!(
                "{} (not in the migration's scope)",
                n(
                    disabled_other.len() as u64,
                    "disabled account",
                    "disabled accounts"
                )
            ),
            disabled_other,
            "Nothing to do for the migration.",
        ));
    }

    // References to objects the snapshot doesn't hold (a damaged or hand-edited tenant.json).
    let mut dangling: Vec<String> = scope
        .dangling_memberships
        .iter()
        .map(|i| format!("membership #{i}"))
        .collect();
    for (i, a) in t.license_assignments.iter().enumerate() {
        if (a.user as usize) >= n_users || (a.product as usize) >= t.products.len() {
            dangling.push(format!("license assignment #{i}"));
        }
    }
    for (i, p) in t.pins.iter().enumerate() {
        if (p.user as usize) >= n_users {
            dangling.push(format!("wave pin #{i}"));
        }
    }
    if !dangling.is_empty() {
        out.push(Finding::new(
            "data.inconsistent.dangling_reference",
            Severity::Warning,
            format!(
                "{} of the tenant snapshot {} to users, groups or products it does not hold; ignored",
                n(dangling.len() as u64, "entry", "entries"),
                if dangling.len() == 1 { "refers" } else { "refer" }
            ),
            dangling,
            "Import again from the exports (bms2intune import) rather than editing tenant.json by hand.",
        ));
    }
    out
}
