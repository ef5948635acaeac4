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
//! | 9 | `policy.setting_not_one_to_one` | not here yet (needs `crate::policy::caveats`) |
//! | 10 | `data.inconsistent` | data.rs |

pub mod data;
pub mod devices;
pub mod groups;
pub mod licensing;
pub mod policies;

use super::finding::{sort_findings, Finding};
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

/// Runs every check.
pub fn assess(scope: &Scope) -> Assessment {
    let (seats, mut findings) = licensing::seats(scope);
    let (split_groups, f) = groups::mixed_groups(scope);
    findings.extend(f);
    findings.extend(licensing::licensed_early(scope));
    let (users_unsupported_only, f) = devices::unsupported_devices(scope);
    findings.extend(f);
    findings.extend(licensing::usage_location(scope));
    findings.extend(licensing::support_required(scope));
    findings.extend(licensing::intune_plan_disabled(scope));
    findings.extend(policies::cleanup(scope));
    findings.extend(data::inconsistent(scope));
    sort_findings(&mut findings);
    Assessment {
        seats,
        findings,
        users_unsupported_only,
        split_groups,
    }
}
