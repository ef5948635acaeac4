//! The readiness checks, each a small pure function over the tenant's [`Scope`] returning findings.
//!
//! | # | code | file |
//! |---|------|------|
//! | 1 | `seats.short` | licensing.rs |
//! | 2 | `group.mixed` | groups.rs |
//! | 3 | `license.early` | licensing.rs |
//! | 4 | `device.unsupported` | devices.rs |
//! | 5 | `user.no_usage_location` | licensing.rs |
//! | 6 | `tenant.support_required` | licensing.rs |
//! | 7 | `license.intune_plan_disabled` | licensing.rs |
//! | 8 | `policy.cleanup` | policies.rs |
//! | 9 | `policy.setting_not_one_to_one` | policies.rs (from `crate::policy::caveats`) |
//! | 10 | `data.inconsistent` | data.rs |

pub mod data;
pub mod devices;
pub mod groups;
pub mod licensing;
pub mod policies;

use super::finding::{sort_findings, sort_findings_keyed, Finding};
use super::scope::Scope;

pub use groups::SplitGroup;
pub use licensing::Seats;

/// Everything the checks found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    pub seats: Seats,
    /// Sorted: most severe first, then by code and objects.
    pub findings: Vec<Finding>,
    /// Users all of whose devices Intune does not support (lower-case UPNs, sorted).
    pub users_unsupported_only: Vec<String>,
    /// Groups to create for the mixed groups' not-yet-licensed members.
    pub split_groups: Vec<SplitGroup>,
}

/// Runs every check. The checks are independent reads of the same scope, so the heavy ones run
/// on their own threads; results are joined in a fixed order and sorted, so the outcome does not
/// depend on scheduling.
pub fn assess(scope: &Scope) -> Assessment {
    // Each thread sorts what it found; the final sort then only merges sorted runs.
    let (seats_and_more, groups, devices, others) = std::thread::scope(|s| {
        let groups = s.spawn(|| {
            let (splits, mut f) = groups::mixed_groups(scope);
            sort_findings_keyed(&mut f);
            (splits, f)
        });
        let devices = s.spawn(|| {
            let (only, mut f) = devices::unsupported_devices(scope);
            sort_findings_keyed(&mut f);
            (only, f)
        });
        let others = s.spawn(|| {
            let mut f = licensing::licensed_early(scope);
            f.extend(licensing::usage_location(scope));
            f.extend(licensing::support_required(scope));
            f.extend(licensing::intune_plan_disabled(scope));
            f.extend(policies::cleanup(scope));
            f.extend(policies::settings_not_one_to_one(scope));
            sort_findings_keyed(&mut f);
            f
        });
        let mut here = licensing::seats(scope);
        here.1.extend(data::inconsistent(scope));
        sort_findings_keyed(&mut here.1);
        (here, join(groups), join(devices), join(others))
    });
    let (seats, mut findings) = seats_and_more;
    let (split_groups, f) = groups;
    findings.extend(f);
    let (users_unsupported_only, f) = devices;
    findings.extend(f);
    findings.extend(others);
    sort_findings(&mut findings);
    Assessment {
        seats,
        findings,
        users_unsupported_only,
        split_groups,
    }
}

/// Joins a check's thread; a panic in a check is re-raised here so the protocol layer reports it
/// as an internal error, as it would without threads.
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
