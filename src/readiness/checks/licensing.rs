//! Checks about licenses: seats (1), licensed too early (3), usage location (5), products that
//! need support first (6), Intune plan disabled (7).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::UserIx;
use crate::readiness::finding::{n, Finding, Severity};
use crate::readiness::scope::Scope;

/// Intune seats against the users still to migrate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Seats {
    /// Intune-capable seats still free: the sum, over products that include an Intune service
    /// plan, of enabled minus consumed units. `null` when some such product's counts are unknown
    /// (see `unknown_products`; `available_known` is then a lower bound).
    pub available: Option<u64>,
    /// Users still to migrate who need a new seat (`to_migrate` minus `enable_plan_only`).
    pub needed: u64,
    /// `needed` minus `available` when positive, else 0; `null` when it can't be known.
    pub shortfall: Option<u64>,
    /// Users still to migrate: with BMS-enrolled devices or in groups targeted by enabled BMS
    /// policies (transitively), minus those already Intune-licensed.
    pub to_migrate: u64,
    /// Users still to migrate who already hold a product including Intune with the Intune plan
    /// disabled: enabling the plan licenses them without using a new seat.
    pub enable_plan_only: u64,
    /// Free seats over the Intune products whose counts are known.
    pub available_known: u64,
    /// Part numbers of Intune products whose enabled or consumed count was not imported.
    pub unknown_products: Vec<String>,
}

fn upns(scope: &Scope, users: impl Iterator<Item = UserIx>) -> Vec<String> {
    let mut v: Vec<String> = users.map(|u| scope.upn(u)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn count(v: &[bool]) -> u64 {
    v.iter().filter(|b| **b).count() as u64
}

/// Check 1: enough Intune-capable seats for the users still to migrate.
pub fn seats(scope: &Scope) -> (Seats, Vec<Finding>) {
    let t = scope.tenant;
    let to_migrate = count(&scope.to_migrate);
    let enable_plan_only = scope
        .to_migrate
        .iter()
        .zip(&scope.plan_disabled)
        .filter(|(m, d)| **m && **d)
        .count() as u64;
    let needed = to_migrate - enable_plan_only;
    let mut intune_products = Vec::new();
    let mut unknown_products = Vec::new();
    let mut available_known: u64 = 0;
    for (p, has) in t.products.iter().zip(&scope.product_has_intune) {
        if !*has {
            continue;
        }
        intune_products.push(p.part_number.clone());
        match p.free_units() {
            Some(n) => available_known = available_known.saturating_add(n),
            None => unknown_products.push(p.part_number.clone()),
        }
    }
    intune_products.sort();
    intune_products.dedup();
    unknown_products.sort();
    unknown_products.dedup();
    // With no products imported at all the seat count is unknown, not zero.
    let known = unknown_products.is_empty() && !t.products.is_empty();
    let available = known.then_some(available_known);
    let shortfall = if known || available_known >= needed {
        Some(needed.saturating_sub(available_known))
    } else {
        None
    };
    let mut findings = Vec::new();
    match shortfall {
        Some(0) => {}
        Some(short) => findings.push(Finding::new(
            "seats.short",
            Severity::Blocker,
            format!(
                "{} still to migrate need an Intune seat but only {available_known} are free{}: short by {short}",
                n(needed, "user", "users"),
                if intune_products.is_empty() {
                    " (the tenant holds no product that includes Intune)".to_string()
                } else {
                    format!(" across {}", intune_products.join(", "))
                }
            ),
            intune_products.clone(),
            format!(
                "Buy at least {short} more licenses of a product that includes Intune (or Intune Plan 1), or free seats held by leavers; the planner never schedules more users than there are free seats."
            ),
        )),
        None => findings.push(Finding::new(
            "seats.short.unknown",
            Severity::Warning,
            if t.products.is_empty() {
                format!("{} still to migrate need an Intune seat, but no products (SKUs with seat counts) were imported, so seats can't be checked", n(needed, "user", "users"))
            } else {
                format!(
                    "{} still to migrate need an Intune seat; {available_known} seats are known to be free, but the seat counts of {} were not imported, so seats can't be checked",
                    n(needed, "user", "users"),
                    unknown_products.join(", ")
                )
            },
            unknown_products.clone(),
            "Import the products with their seat counts (Microsoft 365 admin center > Billing > Licenses export, or Graph subscribedSkus: prepaidUnits.enabled and consumedUnits) and run readiness again.",
        )),
    }
    (
        Seats {
            available,
            needed,
            shortfall,
            to_migrate,
            enable_plan_only,
            available_known,
            unknown_products,
        },
        findings,
    )
}

/// Check 3: users already Intune-licensed whose devices are still BMS-enrolled.
pub fn licensed_early(scope: &Scope) -> Vec<Finding> {
    let users = upns(
        scope,
        (0..scope.tenant.users.len())
            .filter(|u| scope.licensed[*u] && !scope.devices_of(*u).is_empty())
            .map(|u| u as UserIx),
    );
    if users.is_empty() {
        return Vec::new();
    }
    vec![Finding::new(
        "license.early",
        Severity::Warning,
        format!(
            "{} an Intune license while their devices are still enrolled in BMS: as soon as coexistence is enabled their devices move to Intune, before the replacement policies exist",
            n(users.len() as u64, "user already holds", "users already hold")
        ),
        users,
        "Assign the converted Intune policies to these users (e.g. include them in the pilot) before enabling coexistence, or remove their Intune license until their wave.",
    )]
}

fn valid_usage_location(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Check 5: users to migrate without a (valid) usage location can't be licensed.
pub fn usage_location(scope: &Scope) -> Vec<Finding> {
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    for (u, user) in scope.tenant.users.iter().enumerate() {
        if !scope.to_migrate[u] {
            continue;
        }
        match user.usage_location.as_deref().map(str::trim) {
            None | Some("") => missing.push(user.upn.to_lowercase()),
            Some(loc) if !valid_usage_location(loc) => invalid.push(user.upn.to_lowercase()),
            Some(_) => {}
        }
    }
    let mut out = Vec::new();
    for (mut list, what) in [
        (missing, "no usage location"),
        (
            invalid,
            "a usage location that is not a two-letter ISO 3166 country code",
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        list.sort_unstable();
        out.push(Finding::new(
            "user.no_usage_location",
            Severity::Blocker,
            format!(
                "{} still to migrate {} {what}: a license can't be assigned, so they can't be in a wave",
                n(list.len() as u64, "user", "users"),
                if list.len() == 1 { "has" } else { "have" }
            ),
            list,
            "Set usageLocation (two-letter country code, e.g. US, DE) on these users in Entra ID (Users > Properties > Usage location, or Update-MgUser -UsageLocation) and import again.",
        ));
    }
    out
}

/// Check 6: products Microsoft says need a support contact before migrating.
pub fn support_required(scope: &Scope) -> Vec<Finding> {
    let mut listed = Vec::new();
    let mut edu_plan = Vec::new();
    for p in &scope.tenant.products {
        if let Some(m) = scope
            .reference
            .support_first_match(&p.part_number, p.display_name.as_deref())
        {
            listed.push((p.part_number.clone(), m.product_name.clone()));
        } else if p
            .service_plans
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case("INTUNE_EDU"))
        {
            edu_plan.push(p.part_number.clone());
        }
    }
    listed.sort();
    listed.dedup();
    edu_plan.sort();
    edu_plan.dedup();
    let mut out = Vec::new();
    if !listed.is_empty() {
        let names: Vec<String> = listed
            .iter()
            .map(|(part, name)| format!("{name} ({part})"))
            .collect();
        out.push(Finding::new(
            "tenant.support_required",
            Severity::Blocker,
            format!(
                "the tenant holds products for which Microsoft asks you to contact support before migrating from Basic Mobility and Security: {}",
                names.join(", ")
            ),
            listed.into_iter().map(|(part, _)| part).collect(),
            "Open a support request with Microsoft (Microsoft 365 admin center > Support) before enabling coexistence or licensing anyone; continue once support confirms the tenant can migrate.",
        ));
    }
    if !edu_plan.is_empty() {
        out.push(Finding::new(
            "tenant.support_required.edu_plan",
            Severity::Warning,
            format!(
                "products {} include Intune for Education (INTUNE_EDU); Microsoft's contact-support list names Intune for Education products, not these, so check with support whether it applies",
                edu_plan.join(", ")
            ),
            edu_plan,
            "Ask Microsoft support whether the tenant needs their help before migrating; if not, nothing to do.",
        ));
    }
    out
}

/// Check 7: users whose product includes Intune with the Intune plan disabled (counted as unlicensed).
pub fn intune_plan_disabled(scope: &Scope) -> Vec<Finding> {
    let t = scope.tenant;
    let mut by_product: BTreeMap<String, Vec<UserIx>> = BTreeMap::new();
    for a in &t.license_assignments {
        let (Some(p), Some(false)) = (
            t.products.get(a.product as usize),
            scope.licensed.get(a.user as usize).copied(),
        ) else {
            continue;
        };
        if scope
            .product_has_intune
            .get(a.product as usize)
            .copied()
            .unwrap_or(false)
        {
            by_product
                .entry(p.part_number.clone())
                .or_default()
                .push(a.user);
        }
    }
    by_product
        .into_iter()
        .map(|(part, users)| {
            let users = upns(scope, users.into_iter());
            let count = users.len();
            let mut objects = Vec::with_capacity(count + 1);
            objects.push(part.clone());
            objects.extend(users);
            Finding::new(
                "license.intune_plan_disabled",
                Severity::Info,
                format!(
                    "{} {part}, which includes Intune, with the Intune service plan disabled: they count as not Intune-licensed (enabling the plan in their wave licenses them without using a new seat)",
                    n(count as u64, "user holds", "users hold")
                ),
                objects,
                "Nothing to do now; in the user's wave enable the Intune plan of this license (remove it from disabledPlans) instead of assigning a new license.",
            )
        })
        .collect()
}
