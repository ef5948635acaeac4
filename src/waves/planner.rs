//! The wave planner: pure and deterministic. Same tenant, readiness facts, options and pins give
//! the same [`WavePlan`], byte for byte once serialized.
//!
//! A wave is a set of users to license: with coexistence on, licensing a user for Intune moves all
//! that user's enrolled devices from BMS to Intune at their next check-in. So the planner decides,
//! per user who still uses BMS, whether they go in the pilot (wave 0), a later wave, the held-back
//! list (readiness blockers), the already-migrated list (already Intune-licensed) or the unplaced
//! list (no free Intune seat left).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::schedule::{Calendar, Date};
use crate::error::{Error, Result};
use crate::model::{GroupIx, Member, Platform, Tenant, UserIx};

/// Default maximum users per wave.
pub const DEFAULT_WAVE_SIZE: u64 = 500;
/// Default days between waves.
pub const DEFAULT_EVERY: u32 = 7;
/// Default soak after the pilot: profiles from the old authority can stay up to 7 days and
/// compliance reporting can take up to a week to settle (Microsoft's migration guidance).
pub const DEFAULT_SOAK_DAYS: u32 = 7;
/// Default name pattern of the Entra group that carries a wave's license.
pub const DEFAULT_GROUP_PATTERN: &str = "BMS2Intune Wave {nn}";

/// What users must share to be kept in one wave.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum KeepTogether {
    /// The smallest group the user is a direct member of (a team rather than "All staff").
    Group,
    Department,
    Office,
    Manager,
}

impl KeepTogether {
    pub fn as_str(self) -> &'static str {
        match self {
            KeepTogether::Group => "group",
            KeepTogether::Department => "department",
            KeepTogether::Office => "office",
            KeepTogether::Manager => "manager",
        }
    }
    pub fn parse(s: &str) -> Option<KeepTogether> {
        match s.trim().to_ascii_lowercase().as_str() {
            "group" => Some(KeepTogether::Group),
            "department" => Some(KeepTogether::Department),
            "office" => Some(KeepTogether::Office),
            "manager" => Some(KeepTogether::Manager),
            _ => None,
        }
    }
}

/// The options a plan was made with (resolved: defaults filled in). Stored in plan.json so an
/// edited plan is re-validated against the same rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanOptions {
    /// Pilot (test) groups, by display name or id.
    pub pilot_groups: Vec<String>,
    pub no_pilot: bool,
    pub wave_size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_devices: Option<u64>,
    /// Free Intune seats given by the admin, overriding the snapshot's counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<u64>,
    pub skip_unsupported: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_together: Option<KeepTogether>,
    /// Priority order, `KEY=V1,V2,...` (KEY: department, office, manager or group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    pub every: u32,
    pub soak_days: u32,
    pub calendar_days: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<String>,
    pub group_pattern: String,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            pilot_groups: Vec::new(),
            no_pilot: false,
            wave_size: DEFAULT_WAVE_SIZE,
            max_devices: None,
            seats: None,
            skip_unsupported: false,
            keep_together: None,
            order: None,
            start: None,
            every: DEFAULT_EVERY,
            soak_days: DEFAULT_SOAK_DAYS,
            calendar_days: false,
            holidays: Vec::new(),
            group_pattern: DEFAULT_GROUP_PATTERN.into(),
        }
    }
}

/// Users readiness says can't be licensed yet (from readiness.json), by lower-case UPN.
#[derive(Debug, Clone, Default)]
pub struct ReadinessFacts {
    pub no_usage_location: HashSet<String>,
    pub unsupported_only: HashSet<String>,
}

/// A user pinned to a wave (Tenant.pins or an edited plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub user: UserIx,
    pub wave: u32,
    /// Where it came from, for messages (`tenant pin`, `plan.xlsx!Wave 02 row 7`).
    pub source: String,
}

/// A wave date fixed by an edited plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatePin {
    pub wave: u32,
    pub date: Date,
    pub source: String,
}

pub struct PlanInput<'a> {
    pub tenant: &'a Tenant,
    pub facts: &'a ReadinessFacts,
    pub options: &'a PlanOptions,
    pub pins: &'a [Pin],
    pub date_pins: &'a [DatePin],
}

// ---------------------------------------------------------------------------------------------
// The plan (plan.json)

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WavePlan {
    /// Always `"plan"`.
    pub bms2intune: String,
    pub version: u32,
    pub options: PlanOptions,
    pub seats: SeatSummary,
    pub totals: PlanTotals,
    /// The ordered steps: pilot, the policy gate, then one step per wave.
    pub steps: Vec<PlanStep>,
    pub waves: Vec<Wave>,
    pub held_back: Vec<HeldBack>,
    pub already_migrated: Vec<String>,
    pub unplaced: Vec<Unplaced>,
    /// Cohesion units larger than a wave, split deterministically.
    #[serde(default)]
    pub splits: Vec<Split>,
    /// Pins or edited values that break a rule. Non-empty = exit code 3.
    #[serde(default)]
    pub violations: Vec<Violation>,
    /// Things the admin should know that are not rule breaks.
    #[serde(default)]
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeatSummary {
    /// Free Intune seats (enabled − consumed over products that include Intune), or the --seats
    /// override; `null` when the snapshot does not say.
    pub available: Option<u64>,
    /// Where `available` came from.
    pub source: String,
    /// Free seats the plan uses (users in waves, pilot included, except those who only need the
    /// Intune plan enabled).
    pub planned: u64,
    /// Seats a full migration needs: BMS users not yet Intune-licensed (held back included) minus
    /// those who only need the Intune plan enabled; the same definition as readiness's `seats.needed`.
    pub needed: u64,
    /// `needed − available` when positive.
    pub shortfall: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanTotals {
    pub users_in_tenant: u64,
    /// Users with BMS devices or in groups targeted by BMS policies (plus pinned users).
    pub bms_users: u64,
    pub planned: u64,
    pub pilot: u64,
    pub waves: u64,
    pub held_back: u64,
    pub already_migrated: u64,
    pub unplaced: u64,
    pub devices_planned: u64,
    /// BMS devices with no known owner: licensing never moves them; support must re-enroll them.
    pub devices_without_user: u64,
    /// Planned users who hold a product with Intune whose Intune plan is disabled: enabling the
    /// plan licenses them without a free seat.
    #[serde(default)]
    pub plan_enable_only: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanStep {
    /// `pilot`, `policy_gate` or `wave`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    pub date: Option<String>,
    pub title: String,
    /// What must be done before this step starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Wave {
    pub number: u32,
    pub pilot: bool,
    /// `YYYY-MM-DD`; `null` when no --start was given.
    pub date: Option<String>,
    /// True when the date was fixed in an edited plan rather than computed from the schedule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub date_pinned: bool,
    /// The Entra group that will carry this wave's Intune license.
    pub group: String,
    pub user_count: u64,
    pub device_count: u64,
    /// Devices by platform (every platform listed, zero included).
    pub devices: BTreeMap<String, u64>,
    /// Policy-targeted, pilot, priority and cohesion groups with members in this wave.
    pub groups_touched: Vec<String>,
    /// Users placed here by a pin (Tenant.pins or an edited plan).
    pub pinned: u64,
    /// Lower-case UPNs, sorted.
    pub users: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HeldBack {
    pub upn: String,
    pub reason: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unplaced {
    pub upn: String,
    pub reason: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Split {
    /// The cohesion unit, e.g. `department=Sales`.
    pub unit: String,
    pub users: u64,
    /// The waves its parts went to.
    pub waves: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Violation {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    pub code: String,
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Planning

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Not a BMS user: not in the plan.
    Out,
    Licensed,
    HeldNoUsageLocation,
    HeldUnsupported,
    /// To place.
    Free,
    Placed(u32),
    NoSeat,
}

/// Parsed `--order`.
struct OrderSpec {
    key: OrderKey,
    values: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OrderKey {
    Attr(KeepTogether),
}

fn parse_order(spec: &str, keep: Option<KeepTogether>) -> Result<OrderSpec> {
    let bad = |why: &str| {
        Error::input(
            "plan.order.invalid",
            format!("--order {spec:?}: {why}; write it as KEY=V1,V2 with KEY one of department, office, manager, group (e.g. --order department=Sales,IT)"),
        )
        .with_detail(json!({ "path": "order", "value": spec }))
    };
    let (key, list) = match spec.split_once('=') {
        Some((k, v)) => (KeepTogether::parse(k).ok_or_else(|| bad("unknown key"))?, v),
        None => (
            keep.ok_or_else(|| bad("no KEY= and no --keep-together to take it from"))?,
            spec,
        ),
    };
    let values: Vec<String> = list
        .split(',')
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(bad("no values"));
    }
    Ok(OrderSpec {
        key: OrderKey::Attr(key),
        values,
    })
}

/// Resolves a group given by id or display name (case-insensitive); ambiguous names are refused.
fn resolve_group(
    tenant: &Tenant,
    by_id: &HashMap<String, GroupIx>,
    what: &str,
    name: &str,
) -> Result<GroupIx> {
    let key = name.trim().to_lowercase();
    if let Some(&g) = by_id.get(&key) {
        return Ok(g);
    }
    let hits: Vec<GroupIx> = tenant
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.display_name.trim().to_lowercase() == key)
        .map(|(i, _)| i as GroupIx)
        .collect();
    match hits.as_slice() {
        [g] => Ok(*g),
        [] => Err(Error::input(
            format!("plan.{what}.group_not_found"),
            format!("{what} group {name:?} is not in the imported tenant (looked up by id and display name); check the name or import the group"),
        )
        .with_detail(json!({ "path": format!("{what}_groups"), "value": name }))),
        many => {
            let ids: Vec<String> = many
                .iter()
                .filter_map(|g| tenant.groups.get(*g as usize))
                .map(|g| g.key().to_string())
                .collect();
            Err(Error::input(
                format!("plan.{what}.group_ambiguous"),
                format!("{} groups are named {name:?}; give the group id instead (one of {})", many.len(), ids.join(", ")),
            )
            .with_detail(json!({ "path": format!("{what}_groups"), "value": name, "candidates": ids })))
        }
    }
}

/// Direct memberships in compressed form (one array per kind, offsets per group): no per-group
/// allocation, so a hundred thousand groups cost two vectors.
struct Members {
    user_start: Vec<usize>,
    users: Vec<UserIx>,
    group_start: Vec<usize>,
    groups: Vec<GroupIx>,
}

impl Members {
    fn new(t: &Tenant) -> Members {
        let g = t.groups.len();
        let (mut uc, mut gc) = (vec![0usize; g + 1], vec![0usize; g + 1]);
        for m in &t.memberships {
            let gi = m.group as usize;
            if gi >= g {
                continue;
            }
            match m.member {
                Member::User(_) => uc[gi + 1] += 1,
                Member::Group(_) => gc[gi + 1] += 1,
            }
        }
        for i in 0..g {
            uc[i + 1] += uc[i];
            gc[i + 1] += gc[i];
        }
        let mut users = vec![0; uc[g]];
        let mut groups = vec![0; gc[g]];
        let (mut ucur, mut gcur) = (uc.clone(), gc.clone());
        for m in &t.memberships {
            let gi = m.group as usize;
            if gi >= g {
                continue;
            }
            match m.member {
                Member::User(u) => {
                    users[ucur[gi]] = u;
                    ucur[gi] += 1;
                }
                Member::Group(x) => {
                    groups[gcur[gi]] = x;
                    gcur[gi] += 1;
                }
            }
        }
        Members {
            user_start: uc,
            users,
            group_start: gc,
            groups,
        }
    }

    fn direct_users(&self, g: GroupIx) -> &[UserIx] {
        let g = g as usize;
        match (self.user_start.get(g), self.user_start.get(g + 1)) {
            (Some(&a), Some(&b)) => self.users.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn direct_groups(&self, g: GroupIx) -> &[GroupIx] {
        let g = g as usize;
        match (self.group_start.get(g), self.group_start.get(g + 1)) {
            (Some(&a), Some(&b)) => self.groups.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Calls `f` for every user of `roots` and their nested groups (a user may come more than
    /// once); cycles are walked once.
    fn for_each_user(&self, roots: &[GroupIx], mut f: impl FnMut(UserIx)) {
        let mut seen = vec![false; self.user_start.len().saturating_sub(1)];
        let mut stack: Vec<GroupIx> = roots.to_vec();
        while let Some(g) = stack.pop() {
            let Some(s) = seen.get_mut(g as usize) else {
                continue;
            };
            if *s {
                continue;
            }
            *s = true;
            self.direct_users(g).iter().for_each(|&u| f(u));
            stack.extend_from_slice(self.direct_groups(g));
        }
    }

    /// Marks every user of `roots` (transitively).
    fn mark(&self, roots: &[GroupIx], mark: &mut [bool]) {
        self.for_each_user(roots, |u| {
            if let Some(m) = mark.get_mut(u as usize) {
                *m = true;
            }
        });
    }
}

/// Max segment tree over the users still free per wave, to find the first wave with room in
/// O(log waves).
struct RoomTree {
    size: usize,
    /// Leaves in use (waves 0..len); the padding leaves hold 0.
    len: usize,
    t: Vec<u64>,
}

impl RoomTree {
    fn new(leaves: &[u64]) -> RoomTree {
        let size = leaves.len().max(1).next_power_of_two();
        let mut t = vec![0; 2 * size];
        for (i, &v) in leaves.iter().enumerate() {
            t[size + i] = v;
        }
        for i in (1..size).rev() {
            t[i] = t[2 * i].max(t[2 * i + 1]);
        }
        RoomTree {
            size,
            len: leaves.len(),
            t,
        }
    }
    /// More waves, each with `fill` room.
    fn grow(&mut self, new_len: usize, fill: u64) {
        let mut leaves: Vec<u64> = (0..self.len).map(|i| self.get(i)).collect();
        leaves.resize(new_len.max(self.len), fill);
        *self = RoomTree::new(&leaves);
    }
    fn get(&self, i: usize) -> u64 {
        self.t.get(self.size + i).copied().unwrap_or(0)
    }
    fn set(&mut self, i: usize, v: u64) {
        let mut p = self.size + i;
        if p >= self.t.len() {
            return;
        }
        self.t[p] = v;
        while p > 1 {
            p /= 2;
            self.t[p] = self.t[2 * p].max(self.t[2 * p + 1]);
        }
    }
    /// First leaf index ≥ `lo` with value ≥ `need`.
    fn first_at_least(&self, lo: usize, need: u64) -> Option<usize> {
        self.find(1, 0, self.size, lo, need)
    }
    fn find(&self, node: usize, l: usize, r: usize, lo: usize, need: u64) -> Option<usize> {
        if r <= lo || self.t[node] < need {
            return None;
        }
        if r - l == 1 {
            return Some(l);
        }
        let mid = (l + r) / 2;
        self.find(2 * node, l, mid, lo, need)
            .or_else(|| self.find(2 * node + 1, mid, r, lo, need))
    }
}

/// A cohesion unit (or part of one): a run of `flat` members, in UPN order.
struct Unit {
    rank: u32,
    start: usize,
    len: usize,
    devices: u64,
    /// Tie-break: position of the first member in UPN order.
    first: u32,
    /// Index into `labels` when the unit came from a cohesion key.
    label: Option<usize>,
}

fn wave_group_name(pattern: &str, n: u32) -> String {
    pattern
        .replace("{nn}", &format!("{n:02}"))
        .replace("{n}", &n.to_string())
}

/// Checks the options that don't need the tenant.
pub fn validate_options(o: &PlanOptions) -> Result<()> {
    let bad = |code: &str, path: &str, msg: String| {
        Err(Error::input(code, msg).with_detail(json!({ "path": path })))
    };
    if o.wave_size == 0 {
        return bad(
            "plan.wave_size.invalid",
            "wave_size",
            "--wave-size must be at least 1".into(),
        );
    }
    if o.max_devices == Some(0) {
        return bad(
            "plan.max_devices.invalid",
            "max_devices",
            "--max-devices must be at least 1".into(),
        );
    }
    if o.every == 0 {
        return bad(
            "plan.every.invalid",
            "every",
            "--every must be at least 1 day".into(),
        );
    }
    if !o.group_pattern.contains("{nn}") && !o.group_pattern.contains("{n}") {
        return bad(
            "plan.group_pattern.invalid",
            "group_pattern",
            format!("--group-pattern {:?} has no {{nn}} or {{n}} placeholder, so every wave would get the same license group", o.group_pattern),
        );
    }
    if o.no_pilot && !o.pilot_groups.is_empty() {
        return bad(
            "plan.pilot.conflict",
            "no_pilot",
            "--no-pilot and --pilot-group contradict each other; give one".into(),
        );
    }
    if let Some(s) = &o.start {
        if Date::parse(s).is_none() {
            return bad(
                "plan.start.invalid",
                "start",
                format!("--start {s:?} is not a date; write YYYY-MM-DD"),
            );
        }
    }
    for h in &o.holidays {
        if Date::parse(h).is_none() {
            return bad(
                "plan.holiday.invalid",
                "holidays",
                format!("--holiday {h:?} is not a date; write YYYY-MM-DD"),
            );
        }
    }
    Ok(())
}

/// Free Intune seats from the snapshot: (available, source).
pub fn free_seats(tenant: &Tenant, override_seats: Option<u64>) -> (Option<u64>, String) {
    if let Some(s) = override_seats {
        return (Some(s), "--seats".into());
    }
    let intune: Vec<_> = tenant
        .products
        .iter()
        .filter(|p| p.includes_intune())
        .collect();
    if tenant.products.is_empty() {
        return (
            None,
            "unknown: the snapshot has no products (import the licenses export, or pass --seats N)"
                .into(),
        );
    }
    if intune.is_empty() {
        return (Some(0), "no imported product includes Intune (buy Intune seats, then import again or pass --seats N)".into());
    }
    let mut total = 0u64;
    let mut unknown = Vec::new();
    for p in &intune {
        match p.free_units() {
            Some(n) => total = total.saturating_add(n),
            None => unknown.push(p.part_number.clone()),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return (
            None,
            format!("unknown: seat counts missing for {} (import the licenses export with enabled/consumed units, or pass --seats N)", unknown.join(", ")),
        );
    }
    let mut parts: Vec<String> = intune.iter().map(|p| p.part_number.clone()).collect();
    parts.sort();
    parts.dedup();
    (
        Some(total),
        format!("enabled − consumed of {}", parts.join(", ")),
    )
}

/// Wall-clock time per planner phase, for the bench harness (never written into the plan).
#[derive(Debug)]
pub struct Laps {
    last: Instant,
    pub phases: Vec<(&'static str, u64)>,
}

impl Default for Laps {
    fn default() -> Self {
        Laps {
            last: Instant::now(),
            phases: Vec::new(),
        }
    }
}

impl Laps {
    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.phases
            .push((phase, now.duration_since(self.last).as_millis() as u64));
        self.last = now;
    }
}

/// Plans the waves.
pub fn plan(input: &PlanInput) -> Result<WavePlan> {
    plan_timed(input, &mut Laps::default())
}

/// [`plan`], recording how long each phase took.
pub fn plan_timed(input: &PlanInput, laps: &mut Laps) -> Result<WavePlan> {
    plan_with_users(input, laps).map(|(plan, _)| plan)
}

/// [`plan_timed`], also giving the tenant user indexes of every wave's users
/// (`users[i][k]` is the user behind `plan.waves[i].users[k]`), so writers need no UPN lookup.
pub fn plan_with_users(input: &PlanInput, laps: &mut Laps) -> Result<(WavePlan, Vec<Vec<UserIx>>)> {
    laps.last = Instant::now();
    let t = input.tenant;
    let o = input.options;
    validate_options(o)?;
    let n = t.users.len();
    let by_id: HashMap<String, GroupIx> = t
        .groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            g.id.as_ref()
                .map(|id| (id.trim().to_lowercase(), i as GroupIx))
        })
        .collect();
    let direct = Members::new(t);
    // As Tenant::intune_licensed, with each product's Intune plans found once rather than per
    // assignment (a million assignments of a handful of products).
    let intune_plans: Vec<Vec<&crate::model::ServicePlan>> = t
        .products
        .iter()
        .map(|p| p.intune_plans().collect())
        .collect();
    let plans_of = |a: &crate::model::LicenseAssignment| {
        intune_plans
            .get(a.product as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    let mut licensed = vec![false; n];
    for a in &t.license_assignments {
        let plans = plans_of(a);
        let enabled = plans.iter().any(|plan| {
            !a.disabled_plans.iter().any(|d| {
                d.eq_ignore_ascii_case(&plan.name)
                    || plan
                        .id
                        .as_deref()
                        .is_some_and(|id| d.eq_ignore_ascii_case(id))
            })
        });
        if enabled {
            if let Some(slot) = licensed.get_mut(a.user as usize) {
                *slot = true;
            }
        }
    }
    // Users holding a product that includes Intune with the Intune plan disabled: enabling the plan
    // in their existing assignment licenses them without taking a free seat (as readiness counts).
    let mut plan_disabled = vec![false; n];
    for a in &t.license_assignments {
        let has_intune = !plans_of(a).is_empty();
        if has_intune && !licensed.get(a.user as usize).copied().unwrap_or(true) {
            if let Some(slot) = plan_disabled.get_mut(a.user as usize) {
                *slot = true;
            }
        }
    }
    let takes_seat = |u: UserIx| !plan_disabled.get(u as usize).copied().unwrap_or(false);
    let mut notes: Vec<Note> = Vec::new();
    let mut violations: Vec<Violation> = Vec::new();
    let note = |notes: &mut Vec<Note>, code: &str, message: String| {
        notes.push(Note {
            code: code.into(),
            message,
        })
    };

    // Devices per user.
    let mut dev_count = vec![0u32; n];
    let mut devices_without_user = 0u64;
    for d in &t.devices {
        match d.owner.and_then(|o| dev_count.get_mut(o as usize)) {
            Some(c) => *c += 1,
            None => devices_without_user += 1,
        }
    }
    if devices_without_user > 0 {
        note(&mut notes, "devices.without_user", format!("{devices_without_user} BMS devices have no known owner; licensing never moves them, support must re-enroll them"));
    }

    laps.mark("devices");
    // Users in groups targeted by BMS policies (transitively).
    let mut targeted_groups: BTreeSet<GroupIx> = BTreeSet::new();
    let mut unresolved: BTreeSet<String> = BTreeSet::new();
    // Enabled policies only, as readiness counts them: a disabled policy protects nobody.
    for p in t.policies.iter().filter(|p| p.enabled) {
        for g in &p.target_groups {
            let k = g.trim().to_lowercase();
            let by_name = || {
                t.groups
                    .iter()
                    .position(|g| g.display_name.trim().to_lowercase() == k)
                    .map(|i| i as GroupIx)
            };
            match by_id.get(&k).copied().or_else(by_name) {
                Some(gi) => {
                    targeted_groups.insert(gi);
                }
                None => {
                    unresolved.insert(g.clone());
                }
            }
        }
    }
    if !unresolved.is_empty() {
        let list: Vec<String> = unresolved.into_iter().collect();
        note(&mut notes, "policy.target_group_unknown", format!("BMS policies target {} groups that are not in the snapshot, so their members can't be planned: {}; import those groups", list.len(), list.join(", ")));
    }
    let roots: Vec<GroupIx> = targeted_groups.iter().copied().collect();
    let mut in_target = vec![false; n];
    direct.mark(&roots, &mut in_target);

    laps.mark("targets");
    // Pins: last one per user wins (sources are ordered); wave 0 pins need a pilot.
    let mut pin_of = vec![NONE; n];
    let mut pin_src: HashMap<UserIx, &str> = HashMap::new();
    for p in input.pins {
        let Some(slot) = pin_of.get_mut(p.user as usize) else {
            continue;
        };
        let upn = t
            .users
            .get(p.user as usize)
            .map(|u| u.upn.to_lowercase())
            .unwrap_or_default();
        if p.wave == 0 && o.no_pilot {
            violations.push(Violation {
                code: "pin.before_pilot".into(),
                message: format!("{upn} is pinned to wave 0 (the pilot) but the plan has no pilot (--no-pilot); planned like any other user"),
                upn: Some(upn),
                wave: Some(0),
                source: Some(p.source.clone()),
            });
            continue;
        }
        *slot = p.wave;
        pin_src.insert(p.user, &p.source);
    }

    // Pilot group members.
    let mut in_pilot = vec![false; n];
    if !o.no_pilot {
        let mut roots = Vec::new();
        for name in &o.pilot_groups {
            roots.push(resolve_group(t, &by_id, "pilot", name)?);
        }
        direct.mark(&roots, &mut in_pilot);
    }

    // Lower-case UPNs (borrowed when already lower-case) and the UPN order, for stable tie-breaks
    // and sorted output.
    let upns: Vec<Cow<str>> = t
        .users
        .iter()
        .map(|u| {
            if !u.upn.is_ascii() || u.upn.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(u.upn.to_lowercase())
            } else {
                Cow::Borrowed(u.upn.as_str())
            }
        })
        .collect();
    laps.mark("upns");
    let mut by_upn: Vec<UserIx> = (0..n as UserIx).collect();
    if !upns.windows(2).all(|w| w[0] <= w[1]) {
        by_upn.sort_unstable_by(|a, b| upns[*a as usize].cmp(&upns[*b as usize]).then(a.cmp(b)));
    }
    laps.mark("sort_upns");
    // Readiness facts per user: the sorted fact list walked along the users in UPN order (a
    // binary search per fact costs a cache miss per step over a million UPNs).
    let mut no_location = vec![false; n];
    let mut unsupported = vec![false; n];
    let mut unknown_facts = 0usize;
    for (list, flags) in [
        (&input.facts.no_usage_location, &mut no_location),
        (&input.facts.unsupported_only, &mut unsupported),
    ] {
        let mut sorted: Vec<&str> = list.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let mut at = 0usize;
        for f in sorted {
            while at < by_upn.len() && upns[by_upn[at] as usize].as_ref() < f {
                at += 1;
            }
            match by_upn.get(at) {
                Some(&u) if upns[u as usize].as_ref() == f => flags[u as usize] = true,
                _ => unknown_facts += 1,
            }
        }
    }
    if unknown_facts > 0 {
        note(&mut notes, "readiness.unknown_users", format!("readiness.json names {unknown_facts} users that are not in the tenant snapshot; run `bms2intune readiness` again after importing"));
    }

    // Status of every user.
    let mut status = vec![Status::Out; n];
    let mut pilot_not_bms = 0u64;
    let mut unsupported_planned = 0u64;
    for i in 0..n {
        let pinned = pin_of[i] != NONE;
        let bms = dev_count[i] > 0 || in_target[i] || pinned;
        if !bms {
            if in_pilot[i] {
                pilot_not_bms += 1;
            }
            continue;
        }
        status[i] = if licensed.get(i).copied().unwrap_or(false) {
            Status::Licensed
        } else if no_location[i] {
            Status::HeldNoUsageLocation
        } else if unsupported[i] {
            if o.skip_unsupported {
                Status::HeldUnsupported
            } else {
                unsupported_planned += 1;
                Status::Free
            }
        } else {
            Status::Free
        };
    }
    if pilot_not_bms > 0 {
        note(&mut notes, "pilot.members_not_bms", format!("{pilot_not_bms} pilot group members have no BMS device and are in no BMS-targeted group; they are not planned"));
    }
    if unsupported_planned > 0 {
        note(&mut notes, "users.unsupported_only_planned", format!("{unsupported_planned} users have only devices Intune does not support; they are planned anyway (pass --skip-unsupported to hold them back)"));
    }
    laps.mark("status");
    let mut upn_rank = vec![0u32; n];
    for (r, &u) in by_upn.iter().enumerate() {
        upn_rank[u as usize] = r as u32;
    }

    let (available, seat_source) = free_seats(t, o.seats);
    if available.is_none() {
        note(
            &mut notes,
            "seats.unknown",
            format!("free Intune seats are {seat_source}; waves are not limited by seats"),
        );
    }
    let wave_cap = o.wave_size;
    let dev_cap = o.max_devices.unwrap_or(u64::MAX);

    laps.mark("status_notes");
    // Place pinned users and the pilot, in wave then UPN order; they use seats first.
    let mut wave_of = vec![NONE; n];
    let mut pinned_flag = vec![false; n];
    let mut fixed: Vec<(u32, u32, UserIx)> = Vec::new(); // (wave, upn rank, user)
    for &u in &by_upn {
        let i = u as usize;
        let pin = pin_of[i];
        let wave = if pin != NONE {
            pin
        } else if in_pilot[i] {
            0
        } else {
            continue;
        };
        match status[i] {
            Status::Free => fixed.push((wave, upn_rank[i], u)),
            Status::HeldNoUsageLocation | Status::HeldUnsupported if pin != NONE => {
                violations.push(Violation {
                    code: "pin.held_back".into(),
                    message: format!("{} is pinned to wave {wave} but is held back ({}); fix that first, the user stays held back", upns[i], if status[i] == Status::HeldNoUsageLocation { "no usage location" } else { "only unsupported devices" }),
                    upn: Some(upns[i].to_string()),
                    wave: Some(wave),
                    source: pin_src.get(&u).map(|s| s.to_string()),
                });
            }
            Status::Licensed if pin != NONE => note(
                &mut notes,
                "pin.already_migrated",
                format!("{} is pinned to wave {wave} but already holds an Intune license; listed as already migrated", upns[i]),
            ),
            _ => {}
        }
    }
    fixed.sort_unstable();
    let max_fixed_wave = fixed.iter().map(|f| f.0).max().unwrap_or(0);
    let mut seats_used = 0u64;
    for &(w, _, u) in &fixed {
        status[u as usize] = Status::Placed(w);
        wave_of[u as usize] = w;
        pinned_flag[u as usize] = pin_of[u as usize] != NONE;
        seats_used += takes_seat(u) as u64;
    }
    let pilot_count = fixed.iter().filter(|f| f.0 == 0).count() as u64;
    if !o.no_pilot && pilot_count == 0 {
        let how = if o.pilot_groups.is_empty() {
            "no --pilot-group was given and no user is pinned to the pilot".to_string()
        } else {
            format!(
                "the pilot group(s) {} hold no user who still needs migrating",
                o.pilot_groups.join(", ")
            )
        };
        return Err(Error::input(
            "plan.pilot.empty",
            format!("the pilot (wave 0) is empty: {how}. Name a test group with --pilot-group NAME (its BMS users get Intune first), or pass --no-pilot to plan without a pilot (not recommended)"),
        )
        .with_detail(json!({ "path": "pilot_groups" })));
    }

    // Per-wave room after pins.
    let mut fixed_users: BTreeMap<u32, u64> = BTreeMap::new();
    let mut fixed_seats: BTreeMap<u32, u64> = BTreeMap::new();
    let mut fixed_devs: BTreeMap<u32, u64> = BTreeMap::new();
    for &(w, _, u) in &fixed {
        *fixed_users.entry(w).or_default() += 1;
        *fixed_seats.entry(w).or_default() += takes_seat(u) as u64;
        *fixed_devs.entry(w).or_default() += dev_count[u as usize] as u64;
    }
    for (&w, &c) in &fixed_users {
        if w == 0 {
            continue;
        }
        if c > wave_cap {
            violations.push(Violation {
                code: "pin.over_capacity".into(),
                message: format!("wave {w} has {c} pinned users, more than --wave-size {wave_cap}"),
                upn: None,
                wave: Some(w),
                source: None,
            });
        }
        let d = fixed_devs.get(&w).copied().unwrap_or(0);
        if d > dev_cap {
            violations.push(Violation {
                code: "pin.over_capacity".into(),
                message: format!(
                    "wave {w} has {d} devices of pinned users, more than --max-devices {dev_cap}"
                ),
                upn: None,
                wave: Some(w),
                source: None,
            });
        }
    }
    if let Some(avail) = available {
        let mut cum = 0u64;
        for (&w, &c) in &fixed_seats {
            cum += c;
            if cum > avail {
                violations.push(Violation {
                    code: "pin.over_seats".into(),
                    message: format!("pinned users up to wave {w} need {cum} Intune seats but only {avail} are free; buy seats or unpin users"),
                    upn: None,
                    wave: Some(w),
                    source: None,
                });
                break;
            }
        }
    }

    laps.mark("pins");
    // Cohesion units over the free users.
    let order = o
        .order
        .as_deref()
        .map(|s| parse_order(s, o.keep_together))
        .transpose()?;
    let mut rank = vec![0u32; n];
    let mut order_groups: Vec<GroupIx> = Vec::new();
    if let Some(spec) = &order {
        let unranked = spec.values.len() as u32;
        rank.iter_mut().for_each(|r| *r = unranked);
        let OrderKey::Attr(key) = spec.key;
        match key {
            KeepTogether::Group => {
                for (pos, v) in spec.values.iter().enumerate() {
                    let g = resolve_group(t, &by_id, "order", v)?;
                    order_groups.push(g);
                    direct.for_each_user(&[g], |u| {
                        if let Some(r) = rank.get_mut(u as usize) {
                            *r = (*r).min(pos as u32);
                        }
                    });
                }
            }
            _ => {
                let pos: HashMap<&str, u32> = spec
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_str(), i as u32))
                    .collect();
                for (i, u) in t.users.iter().enumerate() {
                    let v = match key {
                        KeepTogether::Department => u.department.as_deref(),
                        KeepTogether::Office => u.office.as_deref(),
                        _ => u.manager_upn.as_deref(),
                    };
                    if let Some(p) = v.and_then(|v| pos.get(v.trim().to_lowercase().as_str())) {
                        rank[i] = *p;
                    }
                }
            }
        }
    }

    // The unit key of every free user: None = on their own.
    let mut labels: Vec<String> = Vec::new();
    let mut unit_of = vec![NONE; n];
    let mut unit_group: Vec<Option<GroupIx>> = Vec::new();
    if let Some(k) = o.keep_together {
        match k {
            KeepTogether::Group => {
                // Smallest direct group (by free members), ties by group key.
                let mut size = vec![0u64; t.groups.len()];
                for m in &t.memberships {
                    if let Member::User(u) = m.member {
                        if status.get(u as usize) == Some(&Status::Free) {
                            if let Some(s) = size.get_mut(m.group as usize) {
                                *s += 1;
                            }
                        }
                    }
                }
                let mut best = vec![NONE; n];
                for m in &t.memberships {
                    let Member::User(u) = m.member else { continue };
                    let (ui, g) = (u as usize, m.group);
                    if status.get(ui) != Some(&Status::Free) || (g as usize) >= t.groups.len() {
                        continue;
                    }
                    let cur = best[ui];
                    let better = cur == NONE || {
                        let (a, b) = (size[g as usize], size[cur as usize]);
                        a < b
                            || (a == b && t.groups[g as usize].key() < t.groups[cur as usize].key())
                    };
                    if better {
                        best[ui] = g;
                    }
                }
                let mut label_of_group: HashMap<GroupIx, u32> = HashMap::new();
                for &u in &by_upn {
                    let g = best[u as usize];
                    if g == NONE {
                        continue;
                    }
                    let l = *label_of_group.entry(g).or_insert_with(|| {
                        labels.push(format!("group={}", t.groups[g as usize].display_name));
                        unit_group.push(Some(g));
                        (labels.len() - 1) as u32
                    });
                    unit_of[u as usize] = l;
                }
            }
            _ => {
                let mut label_of_key: HashMap<String, u32> = HashMap::new();
                // Most users share a handful of spellings: look those up without allocating.
                let mut label_of_raw: HashMap<&str, u32> = HashMap::new();
                for &u in &by_upn {
                    let i = u as usize;
                    if status[i] != Status::Free {
                        continue;
                    }
                    let user = &t.users[i];
                    let raw = match k {
                        KeepTogether::Department => user.department.as_deref(),
                        KeepTogether::Office => user.office.as_deref(),
                        _ => user.manager_upn.as_deref(),
                    };
                    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
                        continue;
                    };
                    if let Some(l) = label_of_raw.get(raw) {
                        unit_of[i] = *l;
                        continue;
                    }
                    let key = raw.to_lowercase();
                    let l = match label_of_key.get(&key) {
                        Some(l) => *l,
                        None => {
                            let shown = if k == KeepTogether::Manager {
                                key.clone()
                            } else {
                                raw.to_string()
                            };
                            labels.push(format!("{}={shown}", k.as_str()));
                            unit_group.push(None);
                            let l = (labels.len() - 1) as u32;
                            label_of_key.insert(key, l);
                            l
                        }
                    };
                    label_of_raw.insert(raw, l);
                    unit_of[i] = l;
                }
            }
        }
    }

    // Units as runs of one flat member array: singletons first come first, keyed units get a
    // reserved run each; members land in UPN order.
    struct Acc {
        rank: u32,
        len: usize,
        devices: u64,
        first: u32,
        start: usize,
    }
    let mut acc: Vec<Option<Acc>> = (0..labels.len()).map(|_| None).collect();
    let mut singles = 0usize;
    for &u in &by_upn {
        let i = u as usize;
        if status[i] != Status::Free {
            continue;
        }
        match unit_of[i] {
            NONE => singles += 1,
            l => {
                let slot = &mut acc[l as usize];
                let a = slot.get_or_insert(Acc {
                    rank: rank[i],
                    len: 0,
                    devices: 0,
                    first: upn_rank[i],
                    start: 0,
                });
                a.len += 1;
                a.devices += dev_count[i] as u64;
                a.rank = a.rank.min(rank[i]);
            }
        }
    }
    let mut next = singles;
    for a in acc.iter_mut().flatten() {
        a.start = next;
        next += a.len;
    }
    let mut flat: Vec<UserIx> = vec![0; next];
    let mut cursor: Vec<usize> = acc
        .iter()
        .map(|a| a.as_ref().map(|a| a.start).unwrap_or(0))
        .collect();
    let mut units: Vec<Unit> = Vec::with_capacity(singles + labels.len());
    let mut single_at = 0usize;
    for &u in &by_upn {
        let i = u as usize;
        if status[i] != Status::Free {
            continue;
        }
        match unit_of[i] {
            NONE => {
                flat[single_at] = u;
                units.push(Unit {
                    rank: rank[i],
                    start: single_at,
                    len: 1,
                    devices: dev_count[i] as u64,
                    first: upn_rank[i],
                    label: None,
                });
                single_at += 1;
            }
            l => {
                let c = &mut cursor[l as usize];
                flat[*c] = u;
                *c += 1;
            }
        }
    }
    for (l, a) in acc.iter().enumerate() {
        if let Some(a) = a {
            units.push(Unit {
                rank: a.rank,
                start: a.start,
                len: a.len,
                devices: a.devices,
                first: a.first,
                label: Some(l),
            });
        }
    }
    let members_of = |u: &Unit| -> &[UserIx] { flat.get(u.start..u.start + u.len).unwrap_or(&[]) };

    laps.mark("units");
    // Split units bigger than a wave: members in UPN order, cut when users or devices are full.
    let mut split_parts: Vec<(usize, Vec<usize>)> = Vec::new(); // (label, unit indexes)
    let mut all_units: Vec<Unit> = Vec::with_capacity(units.len());
    for unit in units {
        if (unit.len as u64) <= wave_cap && unit.devices <= dev_cap {
            all_units.push(unit);
            continue;
        }
        let mut idxs = Vec::new();
        let (mut part_start, mut part_len, mut part_dev) = (unit.start, 0usize, 0u64);
        let members = members_of(&unit);
        for (k, &u) in members.iter().enumerate() {
            let d = dev_count[u as usize] as u64;
            if part_len > 0 && ((part_len as u64) >= wave_cap || part_dev + d > dev_cap) {
                idxs.push(all_units.len());
                all_units.push(Unit {
                    rank: unit.rank,
                    start: part_start,
                    len: part_len,
                    devices: part_dev,
                    first: members
                        .get(part_start - unit.start)
                        .map(|u| upn_rank[*u as usize])
                        .unwrap_or(0),
                    label: unit.label,
                });
                part_start = unit.start + k;
                part_len = 0;
                part_dev = 0;
            }
            part_len += 1;
            part_dev += d;
        }
        if part_len > 0 {
            idxs.push(all_units.len());
            all_units.push(Unit {
                rank: unit.rank,
                start: part_start,
                len: part_len,
                devices: part_dev,
                first: members
                    .get(part_start - unit.start)
                    .map(|u| upn_rank[*u as usize])
                    .unwrap_or(0),
                label: unit.label,
            });
        }
        match unit.label {
            Some(l) => split_parts.push((l, idxs)),
            None => {
                // A single user with more devices than --max-devices: a wave of their own.
                if let Some(&u) = members.first() {
                    note(&mut notes, "wave.user_over_max_devices", format!("{} has {} devices, more than --max-devices {dev_cap}; placed in a wave of their own", upns[u as usize], unit.devices));
                }
            }
        }
    }

    laps.mark("splits");
    // First-fit decreasing in stable order: priority rank, then bigger units first.
    // The key (rank, bigger first, more devices first, first member's UPN rank) packed in one u128:
    // a flat sort with no access to the units. `first` is unique per unit (units are disjoint),
    // so the order is total and the unit comes back from it. Counts are below 2^32 (user and device
    // indexes are u32).
    let mut unit_by_first = vec![usize::MAX; n];
    let mut keys: Vec<u128> = Vec::with_capacity(all_units.len());
    for (i, u) in all_units.iter().enumerate() {
        if let Some(slot) = unit_by_first.get_mut(u.first as usize) {
            *slot = i;
        }
        let len = u32::MAX - u32::try_from(u.len).unwrap_or(u32::MAX);
        let dev = u32::MAX - u32::try_from(u.devices).unwrap_or(u32::MAX);
        keys.push(
            (u.rank as u128) << 96 | (len as u128) << 64 | (dev as u128) << 32 | u.first as u128,
        );
    }
    keys.sort_unstable();
    let order_ix: Vec<usize> = keys
        .iter()
        .filter_map(|k| unit_by_first.get(*k as u32 as usize).copied())
        .filter(|i| *i != usize::MAX)
        .collect();
    if order_ix.len() != all_units.len() {
        return Err(Error::internal(
            "plan.unit_order",
            "two cohesion units start with the same user",
        ));
    }
    // Start with about the waves the free users need and grow on demand: a small tree is fast.
    let hard_max = max_fixed_wave as usize + all_units.len() + 2;
    let free_users = flat.len() as u64;
    let slots = (max_fixed_wave as usize + 2 + 2 * free_users.div_ceil(wave_cap) as usize + 1)
        .min(hard_max);
    let mut room: Vec<u64> = vec![wave_cap; slots];
    let mut dev_room: Vec<u64> = vec![dev_cap; slots];
    if let Some(r) = room.first_mut() {
        *r = 0; // the pilot takes no free users
    }
    for (&w, &c) in &fixed_users {
        if let Some(r) = room.get_mut(w as usize) {
            *r = r.saturating_sub(c);
        }
    }
    for (&w, &d) in &fixed_devs {
        if let Some(r) = dev_room.get_mut(w as usize) {
            *r = r.saturating_sub(d);
        }
    }
    let mut tree = RoomTree::new(&room);
    let mut seats_left = available.map(|a| a.saturating_sub(seats_used));
    let mut unit_wave = vec![NONE; all_units.len()];
    let mut fit_hint = vec![1usize; wave_cap.min(1 << 16) as usize + 1];
    for &ui in &order_ix {
        let unit = &all_units[ui];
        let need = unit.len as u64;
        let need_seats = members_of(unit).iter().filter(|u| takes_seat(**u)).count() as u64;
        if let Some(left) = seats_left {
            if need_seats > left {
                for &u in members_of(unit) {
                    status[u as usize] = Status::NoSeat;
                }
                continue;
            }
        }
        // Rooms only shrink (new waves come at the end), so for a given size the first wave with
        // room only moves forward: start where the last unit of this size found it, and look at
        // that wave before descending the tree (most units are single users).
        let mut lo = fit_hint.get(need as usize).copied().unwrap_or(1);
        let mut hint_open = true;
        let placed = loop {
            let found = if lo < tree.len && tree.get(lo) >= need {
                Some(lo)
            } else {
                tree.first_at_least(lo, need)
            };
            if let (true, Some(w)) = (hint_open, found) {
                if let Some(h) = fit_hint.get_mut(need as usize) {
                    *h = w;
                }
                hint_open = false;
            }
            match found {
                Some(w) if dev_room.get(w).copied().unwrap_or(0) >= unit.devices => break Some(w),
                Some(w) => lo = w + 1,
                None if tree.len >= hard_max => break None,
                None => {
                    let new_len = (tree.len * 2).clamp(tree.len + 1, hard_max);
                    tree.grow(new_len, wave_cap);
                    dev_room.resize(new_len, dev_cap);
                }
            }
        };
        let Some(w) = placed else {
            // Cannot happen: a fresh wave always fits a unit no bigger than a wave.
            return Err(Error::internal(
                "plan.no_room",
                "no wave could take a unit that fits a wave",
            ));
        };
        tree.set(w, tree.get(w).saturating_sub(need));
        if let Some(r) = dev_room.get_mut(w) {
            *r = r.saturating_sub(unit.devices);
        }
        if let Some(l) = seats_left.as_mut() {
            *l -= need_seats;
        }
        unit_wave[ui] = w as u32;
        for &u in members_of(unit) {
            status[u as usize] = Status::Placed(w as u32);
            wave_of[u as usize] = w as u32;
        }
    }

    laps.mark("first_fit");
    // Splits report.
    let mut splits: Vec<Split> = split_parts
        .iter()
        .map(|(l, idxs)| {
            let mut waves: Vec<u32> = idxs
                .iter()
                .map(|&i| unit_wave[i])
                .filter(|w| *w != NONE)
                .collect();
            waves.sort_unstable();
            waves.dedup();
            Split {
                unit: labels.get(*l).cloned().unwrap_or_default(),
                users: idxs.iter().map(|&i| all_units[i].len as u64).sum(),
                waves,
            }
        })
        .collect();
    splits.sort_by(|a, b| a.unit.cmp(&b.unit));

    // Waves: 0 (pilot) when there is one, then 1..=last.
    let last = wave_of
        .iter()
        .filter(|w| **w != NONE)
        .max()
        .copied()
        .unwrap_or(0);
    let first = if o.no_pilot { 1 } else { 0 };
    let count = if last >= first {
        (last - first + 1) as usize
    } else {
        0
    };
    let mut members: Vec<Vec<UserIx>> = vec![Vec::new(); count];
    for &u in &by_upn {
        let w = wave_of[u as usize];
        if w != NONE && w >= first {
            if let Some(m) = members.get_mut((w - first) as usize) {
                m.push(u);
            }
        }
    }

    laps.mark("members");
    // Groups touched: policy targets, pilot groups, priority groups and cohesion groups.
    let mut tracked: BTreeSet<GroupIx> = targeted_groups.clone();
    if !o.no_pilot {
        for name in &o.pilot_groups {
            tracked.insert(resolve_group(t, &by_id, "pilot", name)?);
        }
    }
    tracked.extend(order_groups.iter().copied());
    let mut touched: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); count];
    for &g in &tracked {
        let name = t
            .groups
            .get(g as usize)
            .map(|g| g.display_name.as_str())
            .unwrap_or("");
        let mut hit = vec![false; count];
        direct.for_each_user(&[g], |u| {
            let w = wave_of.get(u as usize).copied().unwrap_or(NONE);
            if w != NONE && w >= first {
                if let Some(h) = hit.get_mut((w - first) as usize) {
                    *h = true;
                }
            }
        });
        for (i, h) in hit.iter().enumerate() {
            if *h {
                touched[i].insert(name);
            }
        }
    }
    for (ui, unit) in all_units.iter().enumerate() {
        let w = unit_wave[ui];
        if let (Some(l), true) = (unit.label, w != NONE && w >= first) {
            if let Some(Some(g)) = unit_group.get(l) {
                if let (Some(grp), Some(set)) = (
                    t.groups.get(*g as usize),
                    touched.get_mut((w - first) as usize),
                ) {
                    set.insert(grp.display_name.as_str());
                }
            }
        }
    }

    laps.mark("groups_touched");
    // Dates.
    let mut calendar = Calendar {
        business_days: !o.calendar_days,
        ..Default::default()
    };
    for h in &o.holidays {
        if let Some(d) = Date::parse(h) {
            calendar.holidays.insert(d);
        }
    }
    let date_pin: BTreeMap<u32, &DatePin> = input.date_pins.iter().map(|p| (p.wave, p)).collect();
    let start = o
        .start
        .as_deref()
        .and_then(Date::parse)
        .map(|d| calendar.roll_forward(d));
    if let (Some(s), Some(raw)) = (start, o.start.as_deref().and_then(Date::parse)) {
        if s != raw {
            note(
                &mut notes,
                "schedule.start_moved",
                format!(
                    "--start {raw} is not a working day ({}); the plan starts on {s}",
                    raw.weekday_name()
                ),
            );
        }
    }
    let mut dates: Vec<Option<Date>> = Vec::with_capacity(count);
    let mut gate: Option<Date> = None;
    let mut prev: Option<Date> = None;
    for i in 0..count {
        let w = first + i as u32;
        let computed = if w == 0 {
            start
        } else if w == 1 {
            gate = if o.no_pilot {
                start
            } else {
                prev.map(|p| calendar.after(p, o.soak_days as i64))
            };
            gate.map(|g| calendar.after(g, 1))
        } else {
            prev.map(|p| calendar.after(p, o.every as i64))
        };
        let d = match date_pin.get(&w) {
            Some(p) => {
                if !calendar.is_working(p.date) {
                    violations.push(Violation {
                        code: "wave.not_working_day".into(),
                        message: format!(
                            "wave {w} is dated {} ({}), not a working day in this calendar",
                            p.date,
                            p.date.weekday_name()
                        ),
                        upn: None,
                        wave: Some(w),
                        source: Some(p.source.clone()),
                    });
                }
                if w >= 1 && !o.no_pilot {
                    let gate_now = if w == 1 {
                        prev.map(|pr| calendar.after(pr, o.soak_days as i64))
                    } else {
                        gate
                    };
                    if let Some(g) = gate_now {
                        if p.date < g {
                            violations.push(Violation {
                                code: "wave.before_pilot".into(),
                                message: format!("wave {w} is dated {}, but the policy gate (pilot {} + {} days soak) is {g}; licensing before the gate moves users before the pilot is verified", p.date, prev.map(|d| d.to_string()).unwrap_or_default(), o.soak_days),
                                upn: None,
                                wave: Some(w),
                                source: Some(p.source.clone()),
                            });
                        }
                    }
                    if w == 1 {
                        gate = gate_now;
                    }
                }
                if let Some(pr) = prev {
                    if p.date < pr {
                        violations.push(Violation {
                            code: "wave.date_order".into(),
                            message: format!(
                                "wave {w} is dated {}, earlier than wave {} on {pr}",
                                p.date,
                                w.saturating_sub(1)
                            ),
                            upn: None,
                            wave: Some(w),
                            source: Some(p.source.clone()),
                        });
                    }
                }
                Some(p.date)
            }
            None => computed,
        };
        dates.push(d);
        if d.is_some() {
            prev = d;
        }
    }
    if count <= 1 && gate.is_none() {
        gate = if o.no_pilot {
            start
        } else {
            dates
                .first()
                .copied()
                .flatten()
                .map(|p| calendar.after(p, o.soak_days as i64))
        };
    }

    laps.mark("dates");
    // Build waves.
    let all_platforms = [
        Platform::Ios,
        Platform::Android,
        Platform::Windows,
        Platform::WindowsPhone,
        Platform::MacOs,
        Platform::Other,
    ];
    let mut waves = Vec::with_capacity(count);
    // Devices per wave and platform, in one pass over the devices.
    let slot = |p: Platform| all_platforms.iter().position(|x| *x == p).unwrap_or(0);
    let mut per_wave = vec![[0u64; 6]; count];
    for d in &t.devices {
        let w = d
            .owner
            .and_then(|o| wave_of.get(o as usize).copied())
            .unwrap_or(NONE);
        if w != NONE && w >= first {
            if let Some(c) = per_wave
                .get_mut((w - first) as usize)
                .and_then(|m| m.get_mut(slot(d.platform)))
            {
                *c += 1;
            }
        }
    }
    let wave_devices: Vec<BTreeMap<String, u64>> = per_wave
        .iter()
        .map(|c| {
            all_platforms
                .iter()
                .zip(c.iter())
                .map(|(p, n)| (p.as_str().to_string(), *n))
                .collect()
        })
        .collect();
    let mut devices_planned = 0u64;
    for (i, users) in members.iter().enumerate() {
        let w = first + i as u32;
        let devices = wave_devices.get(i).cloned().unwrap_or_default();
        let device_count: u64 = devices.values().sum();
        devices_planned += device_count;
        if users.is_empty() {
            note(
                &mut notes,
                "wave.empty",
                format!("wave {w} has no users (kept so pinned wave numbers stay as given)"),
            );
        }
        waves.push(Wave {
            number: w,
            pilot: w == 0,
            date: dates[i].map(|d| d.to_string()),
            date_pinned: date_pin.contains_key(&w),
            group: wave_group_name(&o.group_pattern, w),
            user_count: users.len() as u64,
            device_count,
            devices,
            groups_touched: touched[i].iter().map(|s| s.to_string()).collect(),
            pinned: users.iter().filter(|u| pinned_flag[**u as usize]).count() as u64,
            users: users
                .iter()
                .map(|u| upns[*u as usize].to_string())
                .collect(),
        });
    }

    laps.mark("waves");
    // Steps.
    let mut steps = Vec::new();
    let date_of = |w: u32| -> Option<String> {
        w.checked_sub(first)
            .and_then(|i| dates.get(i as usize).copied().flatten())
            .map(|d| d.to_string())
    };
    if !o.no_pilot {
        steps.push(PlanStep {
            kind: "pilot".into(),
            wave: Some(0),
            date: date_of(0),
            title: format!("Pilot: assign the converted Intune policies to the pilot group(s), turn on coexistence, license wave 0 ({})", wave_group_name(&o.group_pattern, 0)),
            requires: Some("Intune policies created (bms2intune convert) and unassigned".into()),
        });
    }
    steps.push(PlanStep {
        kind: "policy_gate".into(),
        wave: None,
        date: gate.map(|d| d.to_string()),
        title: "Assign policies to recommended groups".into(),
        requires: Some(if o.no_pilot {
            "Intune policies created; coexistence on".into()
        } else {
            format!(
                "pilot verified after {} days of soak (devices checked in, compliance reported)",
                o.soak_days
            )
        }),
    });
    for wv in waves.iter().filter(|w| w.number >= 1) {
        steps.push(PlanStep {
            kind: "wave".into(),
            wave: Some(wv.number),
            date: wv.date.clone(),
            title: format!(
                "License wave {} ({} users) through {}",
                wv.number, wv.user_count, wv.group
            ),
            requires: Some(if wv.number == 1 {
                "policy gate done".into()
            } else {
                format!("wave {} done", wv.number - 1)
            }),
        });
    }

    // Lists.
    let mut held_back = Vec::new();
    let mut already_migrated = Vec::new();
    let mut unplaced = Vec::new();
    let mut bms_users = 0u64;
    for &u in &by_upn {
        let i = u as usize;
        let upn = &upns[i];
        match status[i] {
            Status::Out => continue,
            Status::Licensed => already_migrated.push(upn.to_string()),
            Status::HeldNoUsageLocation => held_back.push(HeldBack {
                upn: upn.to_string(),
                code: "user.no_usage_location".into(),
                reason: "no usage location: an Intune license can't be assigned until usageLocation is set (readiness finding user.no_usage_location)".into(),
            }),
            Status::HeldUnsupported => held_back.push(HeldBack {
                upn: upn.to_string(),
                code: "device.unsupported_only".into(),
                reason: "every BMS device of this user is unsupported by Intune (--skip-unsupported); re-enroll or replace the devices first".into(),
            }),
            Status::NoSeat => unplaced.push(Unplaced {
                upn: upn.to_string(),
                code: "seats.exhausted".into(),
                reason: format!("no free Intune seat left ({} free); buy seats, then plan again with --seats N or a new licenses export", available.unwrap_or(0)),
            }),
            Status::Free => unplaced.push(Unplaced {
                upn: upn.to_string(),
                code: "plan.not_placed".into(),
                reason: "not placed".into(),
            }),
            Status::Placed(_) => {}
        }
        bms_users += 1;
    }

    let planned: u64 = waves.iter().map(|w| w.user_count).sum();
    // Same definition as readiness's seats.needed: BMS users not Intune-licensed, minus those who
    // only need the Intune plan enabled in a product they already hold.
    let (mut needed, mut seats_planned, mut enable_only) = (0u64, 0u64, 0u64);
    for (i, st) in status.iter().enumerate() {
        let counts = matches!(
            st,
            Status::Placed(_)
                | Status::NoSeat
                | Status::HeldNoUsageLocation
                | Status::HeldUnsupported
                | Status::Free
        );
        if !counts {
            continue;
        }
        let placed = matches!(st, Status::Placed(_));
        if plan_disabled[i] {
            enable_only += placed as u64;
        } else {
            needed += 1;
            seats_planned += placed as u64;
        }
    }
    let totals = PlanTotals {
        users_in_tenant: n as u64,
        bms_users,
        planned,
        pilot: pilot_count,
        waves: waves.iter().filter(|w| w.number >= 1).count() as u64,
        held_back: held_back.len() as u64,
        already_migrated: already_migrated.len() as u64,
        unplaced: unplaced.len() as u64,
        devices_planned,
        devices_without_user,
        plan_enable_only: enable_only,
    };
    laps.mark("lists");
    let plan = WavePlan {
        bms2intune: "plan".into(),
        version: 1,
        options: o.clone(),
        seats: SeatSummary {
            available,
            source: seat_source,
            planned: seats_planned,
            needed,
            shortfall: available
                .and_then(|a| needed.checked_sub(a))
                .filter(|s| *s > 0),
        },
        totals,
        steps,
        waves,
        held_back,
        already_migrated,
        unplaced,
        splits,
        violations,
        notes,
    };
    Ok((plan, members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        BmsPolicy, Device, Group, LicenseAssignment, Membership, PolicyKind, Product, ServicePlan,
        User,
    };

    /// `n` users u00..; departments cycle over `depts`; every user has one iOS device; group 0
    /// "Pilot" holds u00 and u01; group 1 "All" is targeted by a policy and nests group 2 "Staff"
    /// (all users) — so every user is a BMS user through nesting.
    fn tenant(n: usize, depts: &[&str]) -> Tenant {
        let mut t = Tenant::default();
        for i in 0..n {
            t.users.push(User {
                upn: format!("u{i:02}@contoso.com"),
                department: depts.get(i % depts.len().max(1)).map(|d| d.to_string()),
                usage_location: Some("US".into()),
                ..Default::default()
            });
        }
        for (i, name) in ["Pilot", "All", "Staff"].iter().enumerate() {
            t.groups.push(Group {
                id: Some(format!("00000000-0000-0000-0000-00000000000{i}")),
                display_name: name.to_string(),
                dynamic: false,
            });
        }
        t.memberships.push(Membership {
            group: 0,
            member: Member::User(0),
        });
        t.memberships.push(Membership {
            group: 0,
            member: Member::User(1),
        });
        t.memberships.push(Membership {
            group: 1,
            member: Member::Group(2),
        });
        for i in 0..n {
            t.memberships.push(Membership {
                group: 2,
                member: Member::User(i as u32),
            });
            t.devices.push(Device {
                id: Some(format!("ios{i}")),
                owner: Some(i as u32),
                owner_upn: None,
                platform: Platform::Ios,
                os: "iOS".into(),
                os_version: Some("17.1".into()),
                model: None,
                last_sync: None,
            });
        }
        t.policies.push(BmsPolicy {
            name: "Block".into(),
            comment: None,
            enabled: true,
            kind: PolicyKind::ConditionalAccess,
            target_groups: vec!["00000000-0000-0000-0000-000000000001".into()],
            settings: Default::default(),
        });
        t
    }

    fn with_seats(mut t: Tenant, enabled: u64, consumed: u64) -> Tenant {
        t.products.push(Product {
            part_number: "EMS".into(),
            enabled_units: Some(enabled),
            consumed_units: Some(consumed),
            service_plans: vec![ServicePlan {
                name: "INTUNE_A".into(),
                id: None,
            }],
            ..Default::default()
        });
        t
    }

    fn opts() -> PlanOptions {
        PlanOptions {
            pilot_groups: vec!["Pilot".into()],
            wave_size: 3,
            ..Default::default()
        }
    }

    fn run(t: &Tenant, o: &PlanOptions) -> Result<WavePlan> {
        run_with(t, o, &ReadinessFacts::default(), &[], &[])
    }

    fn run_with(
        t: &Tenant,
        o: &PlanOptions,
        f: &ReadinessFacts,
        pins: &[Pin],
        dates: &[DatePin],
    ) -> Result<WavePlan> {
        plan(&PlanInput {
            tenant: t,
            facts: f,
            options: o,
            pins,
            date_pins: dates,
        })
    }

    fn users_of(p: &WavePlan, w: u32) -> Vec<String> {
        p.waves
            .iter()
            .find(|x| x.number == w)
            .map(|x| x.users.clone())
            .unwrap_or_default()
    }

    #[test]
    fn pilot_is_wave_zero_and_waves_respect_size() {
        let t = tenant(8, &["A"]);
        let p = run(&t, &opts()).unwrap();
        assert_eq!(users_of(&p, 0), vec!["u00@contoso.com", "u01@contoso.com"]);
        assert!(p.waves[0].pilot);
        let sizes: Vec<u64> = p.waves.iter().map(|w| w.user_count).collect();
        assert_eq!(sizes, vec![2, 3, 3]);
        assert_eq!(
            p.steps.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(),
            vec!["pilot", "policy_gate", "wave", "wave"]
        );
        assert_eq!(p.waves[1].group, "BMS2Intune Wave 01");
        assert_eq!(p.waves[1].devices.get("ios"), Some(&3));
        assert!(p.waves[1].groups_touched.contains(&"All".to_string()));
        assert_eq!(p.totals.planned, 8);
        assert_eq!(p.seats.available, None);
        assert!(p.notes.iter().any(|n| n.code == "seats.unknown"));
    }

    #[test]
    fn empty_pilot_is_an_error_unless_no_pilot() {
        let t = tenant(4, &["A"]);
        let o = PlanOptions {
            pilot_groups: vec![],
            ..opts()
        };
        let e = run(&t, &o).unwrap_err();
        assert_eq!(e.code, "plan.pilot.empty");
        let o = PlanOptions {
            no_pilot: true,
            ..o
        };
        let p = run(&t, &o).unwrap();
        assert_eq!(p.waves.first().map(|w| w.number), Some(1));
        assert_eq!(
            p.steps.first().map(|s| s.kind.as_str()),
            Some("policy_gate")
        );
        let e = run(
            &t,
            &PlanOptions {
                pilot_groups: vec!["Nope".into()],
                ..opts()
            },
        )
        .unwrap_err();
        assert_eq!(e.code, "plan.pilot.group_not_found");
        // by id works too
        let p = run(
            &t,
            &PlanOptions {
                pilot_groups: vec!["00000000-0000-0000-0000-000000000000".into()],
                ..opts()
            },
        )
        .unwrap();
        assert_eq!(p.totals.pilot, 2);
    }

    #[test]
    fn seats_run_out_cumulatively() {
        let t = with_seats(tenant(8, &["A"]), 10, 5); // 5 free
        let p = run(&t, &opts()).unwrap();
        assert_eq!(p.seats.available, Some(5));
        assert_eq!(p.totals.planned, 5);
        assert_eq!(p.unplaced.len(), 3);
        assert!(p.unplaced.iter().all(|u| u.code == "seats.exhausted"));
        assert_eq!(p.seats.shortfall, Some(3));
        // unknown seat counts are not invented
        let mut t2 = tenant(3, &["A"]);
        t2.products.push(Product {
            part_number: "SPE_E3".into(),
            service_plans: vec![ServicePlan {
                name: "INTUNE_A".into(),
                id: None,
            }],
            ..Default::default()
        });
        let p = run(&t2, &opts()).unwrap();
        assert_eq!(p.seats.available, None);
        assert!(p.seats.source.contains("SPE_E3"));
    }

    #[test]
    fn enabling_a_disabled_intune_plan_takes_no_seat_and_disabled_policies_target_nobody() {
        let mut t = with_seats(tenant(8, &["A"]), 10, 5); // 5 free
        t.license_assignments.push(LicenseAssignment {
            user: 5,
            product: 0,
            disabled_plans: vec!["INTUNE_A".into()],
        });
        let p = run(&t, &opts()).unwrap();
        assert_eq!(p.totals.planned, 6);
        assert_eq!(p.totals.plan_enable_only, 1);
        assert_eq!(p.seats.planned, 5);
        assert_eq!(p.seats.needed, 7);
        assert_eq!(p.seats.shortfall, Some(2));
        let unplaced: Vec<&str> = p.unplaced.iter().map(|u| u.upn.as_str()).collect();
        assert_eq!(unplaced, vec!["u06@contoso.com", "u07@contoso.com"]);
        // u07 has no device: only the (now disabled) policy made it a BMS user
        t.devices.retain(|d| d.owner != Some(7));
        t.policies[0].enabled = false;
        let p = run(&t, &opts()).unwrap();
        assert!(p.unplaced.iter().all(|u| u.upn != "u07@contoso.com"));
        assert_eq!(p.totals.bms_users, 7);
    }

    #[test]
    fn cohesion_keeps_units_together_and_splits_big_ones() {
        // depts: A (u02,u05,u08 -> 3), B (u03,u06,u09 -> 3), C... with 12 users and 3 depts
        let t = tenant(12, &["X", "Y", "Z", "Big", "Big", "Big", "Big"]);
        let o = PlanOptions {
            keep_together: Some(KeepTogether::Department),
            wave_size: 4,
            ..opts()
        };
        let p = run(&t, &o).unwrap();
        let wave_of = |upn: &str| {
            p.waves
                .iter()
                .find(|w| w.users.iter().any(|u| u == upn))
                .map(|w| w.number)
        };
        // Big has u03,u04,u05,u06,u10,u11 minus none in pilot -> 6 users > 4: split
        assert_eq!(p.splits.len(), 1);
        assert_eq!(p.splits[0].unit, "department=Big");
        assert_eq!(p.splits[0].users, 6);
        assert_eq!(p.splits[0].waves.len(), 2);
        // X = u07 (u00 is pilot), Y = u08, Z = u02,u09: Z stays together
        assert_eq!(wave_of("u02@contoso.com"), wave_of("u09@contoso.com"));
        assert!(p.waves.iter().all(|w| w.pilot || w.user_count <= 4));
        assert_eq!(p.totals.planned, 12);
    }

    #[test]
    fn order_puts_priority_units_first() {
        let t = tenant(8, &["Sales", "IT"]);
        let o = PlanOptions {
            order: Some("department=IT".into()),
            wave_size: 3,
            ..opts()
        };
        let p = run(&t, &o).unwrap();
        // IT = odd users; u01 is pilot; u03,u05,u07 go first
        assert_eq!(
            users_of(&p, 1),
            vec!["u03@contoso.com", "u05@contoso.com", "u07@contoso.com"]
        );
        let e = run(
            &t,
            &PlanOptions {
                order: Some("colour=red".into()),
                ..opts()
            },
        )
        .unwrap_err();
        assert_eq!(e.code, "plan.order.invalid");
    }

    #[test]
    fn held_back_and_already_migrated_users() {
        let mut t = with_seats(tenant(6, &["A"]), 100, 0);
        t.license_assignments.push(LicenseAssignment {
            user: 5,
            product: 0,
            disabled_plans: vec![],
        });
        let mut f = ReadinessFacts::default();
        f.no_usage_location.insert("u02@contoso.com".into());
        f.unsupported_only.insert("u03@contoso.com".into());
        let p = run_with(&t, &opts(), &f, &[], &[]).unwrap();
        assert_eq!(p.already_migrated, vec!["u05@contoso.com"]);
        assert_eq!(p.held_back.len(), 1);
        assert_eq!(p.held_back[0].code, "user.no_usage_location");
        assert!(users_of(&p, 1).contains(&"u03@contoso.com".to_string()));
        let o = PlanOptions {
            skip_unsupported: true,
            ..opts()
        };
        let p = run_with(&t, &o, &f, &[], &[]).unwrap();
        let codes: Vec<&str> = p.held_back.iter().map(|h| h.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["user.no_usage_location", "device.unsupported_only"]
        );
        assert_eq!(p.totals.planned, 3);
    }

    #[test]
    fn pins_are_honoured_and_violations_reported() {
        let t = with_seats(tenant(10, &["A"]), 100, 0);
        let mut f = ReadinessFacts::default();
        f.no_usage_location.insert("u09@contoso.com".into());
        let pin = |u: u32, w: u32| Pin {
            user: u,
            wave: w,
            source: format!("test {u}"),
        };
        let pins = vec![
            pin(9, 1),
            pin(2, 3),
            pin(3, 2),
            pin(4, 2),
            pin(5, 2),
            pin(6, 2),
        ];
        let p = run_with(&t, &opts(), &f, &pins, &[]).unwrap();
        assert_eq!(
            users_of(&p, 3).first().map(String::as_str),
            Some("u02@contoso.com")
        );
        assert_eq!(users_of(&p, 2).len(), 4);
        let codes: Vec<&str> = p.violations.iter().map(|v| v.code.as_str()).collect();
        assert!(codes.contains(&"pin.held_back"), "{codes:?}");
        assert!(codes.contains(&"pin.over_capacity"), "{codes:?}");
        // the free users fill wave 1 first, then the room left in wave 3
        assert_eq!(users_of(&p, 1), vec!["u07@contoso.com", "u08@contoso.com"]);
        // pin to wave 0 with no pilot
        let o = PlanOptions {
            no_pilot: true,
            pilot_groups: vec![],
            ..opts()
        };
        let p = run_with(&t, &o, &f, &[pin(4, 0)], &[]).unwrap();
        assert_eq!(p.violations[0].code, "pin.before_pilot");
        // pins over the free seats
        let t2 = with_seats(tenant(10, &["A"]), 3, 0);
        let p = run_with(&t2, &opts(), &f, &[pin(3, 2), pin(4, 2)], &[]).unwrap();
        assert!(p.violations.iter().any(|v| v.code == "pin.over_seats"));
    }

    #[test]
    fn schedule_uses_business_days_soak_and_date_pins() {
        let t = tenant(8, &["A"]);
        // 2026-11-27 is a Friday
        let o = PlanOptions {
            start: Some("2026-11-27".into()),
            every: 7,
            soak_days: 3,
            ..opts()
        };
        let p = run(&t, &o).unwrap();
        let dates: Vec<Option<String>> = p.waves.iter().map(|w| w.date.clone()).collect();
        // pilot Fri 27; gate Mon 30 (27+3); wave 1 Tue Dec 1; wave 2 Tue Dec 8
        assert_eq!(
            dates,
            vec![
                Some("2026-11-27".into()),
                Some("2026-12-01".into()),
                Some("2026-12-08".into())
            ]
        );
        assert_eq!(p.steps[1].date.as_deref(), Some("2026-11-30"));
        let o2 = PlanOptions {
            start: Some("2026-11-28".into()),
            ..o.clone()
        };
        let p = run(&t, &o2).unwrap();
        assert_eq!(p.waves[0].date.as_deref(), Some("2026-11-30"));
        assert!(p.notes.iter().any(|n| n.code == "schedule.start_moved"));
        let dp = vec![DatePin {
            wave: 1,
            date: Date::parse("2026-11-28").unwrap(),
            source: "x".into(),
        }];
        let p = run_with(&t, &o, &ReadinessFacts::default(), &[], &dp).unwrap();
        let codes: Vec<&str> = p.violations.iter().map(|v| v.code.as_str()).collect();
        assert_eq!(codes, vec!["wave.not_working_day", "wave.before_pilot"]);
        assert_eq!(p.waves[2].date.as_deref(), Some("2026-12-07"));
    }

    #[test]
    fn plans_are_deterministic() {
        let t = with_seats(tenant(40, &["A", "B", "C", "D", "E"]), 30, 0);
        let o = PlanOptions {
            keep_together: Some(KeepTogether::Department),
            wave_size: 7,
            start: Some("2026-12-01".into()),
            ..opts()
        };
        let a = serde_json::to_vec_pretty(&run(&t, &o).unwrap()).unwrap();
        let b = serde_json::to_vec_pretty(&run(&t, &o).unwrap()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn keep_together_group_uses_the_smallest_direct_group() {
        let mut t = tenant(8, &["A"]);
        t.groups.push(Group {
            id: Some("g-team".into()),
            display_name: "Team".into(),
            dynamic: false,
        });
        for u in [2u32, 5, 7] {
            t.memberships.push(Membership {
                group: 3,
                member: Member::User(u),
            });
        }
        let o = PlanOptions {
            keep_together: Some(KeepTogether::Group),
            wave_size: 3,
            ..opts()
        };
        let p = run(&t, &o).unwrap();
        assert_eq!(
            users_of(&p, 1),
            vec!["u02@contoso.com", "u05@contoso.com", "u07@contoso.com"]
        );
        assert!(p.waves[1].groups_touched.contains(&"Team".to_string()));
    }

    #[test]
    fn max_devices_bounds_waves() {
        let mut t = tenant(6, &["A"]);
        for i in 0..6u32 {
            t.devices.push(Device {
                id: Some(format!("d{i}")),
                owner: Some(i),
                owner_upn: None,
                platform: Platform::Android,
                os: "Android".into(),
                os_version: None,
                model: None,
                last_sync: None,
            });
        }
        let o = PlanOptions {
            max_devices: Some(5),
            wave_size: 10,
            ..opts()
        };
        let p = run(&t, &o).unwrap();
        // every user has 2 devices; 4 free users, at most 5 devices (2 users) per wave
        assert!(p
            .waves
            .iter()
            .filter(|w| !w.pilot)
            .all(|w| w.device_count <= 5));
        assert_eq!(p.waves.iter().filter(|w| !w.pilot).count(), 2);
        assert_eq!(p.waves[1].devices.get("android"), Some(&2));
        assert_eq!(p.waves[1].devices.get("ios"), Some(&2));
    }
}

#[cfg(test)]
mod growth_tests {
    use super::*;
    use crate::model::{Device, User};

    #[test]
    fn device_bound_waves_grow_past_the_first_estimate() {
        let mut t = Tenant::default();
        for i in 0..9u32 {
            t.users.push(User {
                upn: format!("u{i}@x"),
                ..Default::default()
            });
            for k in 0..2 {
                t.devices.push(Device {
                    id: Some(format!("d{i}-{k}")),
                    owner: Some(i),
                    owner_upn: None,
                    platform: Platform::Ios,
                    os: "iOS".into(),
                    os_version: None,
                    model: None,
                    last_sync: None,
                });
            }
        }
        let o = PlanOptions {
            no_pilot: true,
            wave_size: 100,
            max_devices: Some(2),
            ..Default::default()
        };
        let p = plan(&PlanInput {
            tenant: &t,
            facts: &ReadinessFacts::default(),
            options: &o,
            pins: &[],
            date_pins: &[],
        })
        .unwrap();
        assert_eq!(p.waves.len(), 9);
        assert!(p
            .waves
            .iter()
            .all(|w| w.user_count == 1 && w.device_count == 2));
        let mut tree = RoomTree::new(&[0, 3, 1]);
        assert_eq!(tree.first_at_least(1, 2), Some(1));
        assert_eq!(tree.first_at_least(2, 2), None);
        tree.grow(5, 4);
        assert_eq!(tree.first_at_least(2, 2), Some(3));
        assert_eq!(tree.get(1), 3);
    }
}

#[cfg(test)]
mod members_tests {
    use super::*;
    use crate::model::{Group, Membership};

    #[test]
    fn nested_groups_with_cycles_are_walked_once() {
        let mut t = Tenant::default();
        for n in ["a", "b", "c"] {
            t.groups.push(Group {
                id: None,
                display_name: n.into(),
                dynamic: false,
            });
        }
        let m = |group, member| Membership { group, member };
        t.memberships = vec![
            m(0, Member::User(1)),
            m(0, Member::Group(1)),
            m(1, Member::Group(0)),
            m(1, Member::User(0)),
            m(2, Member::User(2)),
            m(7, Member::User(3)), // a group index past the end is ignored
        ];
        let mm = Members::new(&t);
        let mut seen = Vec::new();
        mm.for_each_user(&[0], |u| seen.push(u));
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1]);
        let mut mark = vec![false; 4];
        mm.mark(&[2, 9], &mut mark);
        assert_eq!(mark, vec![false, false, true, false]);
    }
}
