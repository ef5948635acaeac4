//! Waves: plans license waves (pilot, policy gate, waves bounded by seats and size), writes the plan
//! as JSON, CSV and XLSX, and re-imports an admin's edited spreadsheet.
//!
//! - [`planner`]: the pure, deterministic planner.
//! - [`schedule`]: civil dates and the business-day calendar.
//! - [`xlsx`]: spreadsheet/CSV export and re-import of an edited plan.
//! - [`diff`]: what changed against the previous plan.json.

pub mod diff;
mod facts;
pub mod ooxml;
pub mod planner;
pub mod schedule;
pub mod xlsx;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};
use crate::report::table;
use crate::workspace::{files, Workspace};

pub use diff::PlanChanges;
pub use planner::{KeepTogether, PlanOptions, WavePlan};

/// Changes against the previous plan, written beside plan.json.
pub const PLAN_CHANGES: &str = "plan-changes.json";

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Pilot (test) groups for wave 0, by display name or object id; members resolved transitively.
    #[serde(default)]
    pub pilot_groups: Option<Vec<String>>,
    /// Plan without a pilot wave (not recommended). Without it an empty pilot is an error.
    #[serde(default)]
    pub no_pilot: Option<bool>,
    /// Maximum users per wave (default 500).
    #[serde(default)]
    pub wave_size: Option<u64>,
    /// Maximum BMS devices per wave (default: no limit).
    #[serde(default)]
    pub max_devices: Option<u64>,
    /// Free Intune seats to plan with, overriding the snapshot's enabled − consumed counts.
    #[serde(default)]
    pub seats: Option<u64>,
    /// Hold back users all of whose devices Intune does not support.
    #[serde(default)]
    pub skip_unsupported: Option<bool>,
    /// Keep users sharing this key in one wave where the unit fits: group, department, office or manager.
    #[serde(default)]
    pub keep_together: Option<KeepTogether>,
    /// Priority order `KEY=V1,V2` (KEY: department, office, manager or group), e.g. `department=Sales,IT`.
    #[serde(default)]
    pub order: Option<String>,
    /// Date of the pilot, `YYYY-MM-DD`. Without it waves carry no dates.
    #[serde(default)]
    pub start: Option<String>,
    /// Days between waves (default 7).
    #[serde(default)]
    pub every: Option<u32>,
    /// Days between the pilot and the policy gate (default 7).
    #[serde(default)]
    pub soak_days: Option<u32>,
    /// Allow waves on Saturdays and Sundays (default: business days only).
    #[serde(default)]
    pub calendar_days: Option<bool>,
    /// Dates no wave may fall on, `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Option<Vec<String>>,
    /// Name of the license group per wave; `{nn}` = two-digit wave number, `{n}` = wave number
    /// (default `BMS2Intune Wave {nn}`).
    #[serde(default)]
    pub group_pattern: Option<String>,
    /// Re-import an edited plan (.xlsx or .csv as written by plan), validate it and report the
    /// changes against the previous plan.json. Options not given are taken from the previous plan.
    #[serde(default)]
    pub from_edited: Option<String>,
}

impl PlanParams {
    /// Explicit params over `base` (the previous plan's options or the defaults).
    fn options(&self, base: PlanOptions) -> PlanOptions {
        // An explicit choice about the pilot replaces the inherited one as a whole.
        let (pilot_groups, no_pilot) = match (&self.pilot_groups, self.no_pilot) {
            (None, None) => (base.pilot_groups, base.no_pilot),
            (Some(g), None) => (g.clone(), false),
            (None, Some(true)) => (Vec::new(), true),
            (None, Some(false)) => (base.pilot_groups, false),
            (Some(g), Some(n)) => (g.clone(), n),
        };
        PlanOptions {
            pilot_groups,
            no_pilot,
            wave_size: self.wave_size.unwrap_or(base.wave_size),
            max_devices: self.max_devices.or(base.max_devices),
            seats: self.seats.or(base.seats),
            skip_unsupported: self.skip_unsupported.unwrap_or(base.skip_unsupported),
            keep_together: self.keep_together.or(base.keep_together),
            order: self.order.clone().or(base.order),
            start: self.start.clone().or(base.start),
            every: self.every.unwrap_or(base.every),
            soak_days: self.soak_days.unwrap_or(base.soak_days),
            calendar_days: self.calendar_days.unwrap_or(base.calendar_days),
            holidays: self.holidays.clone().unwrap_or(base.holidays),
            group_pattern: self.group_pattern.clone().unwrap_or(base.group_pattern),
        }
    }
}

/// One wave in the command result (the user lists are in plan.json).
#[derive(Debug, Serialize, JsonSchema)]
pub struct WaveSummary {
    pub number: u32,
    pub pilot: bool,
    pub date: Option<String>,
    pub group: String,
    pub user_count: u64,
    pub device_count: u64,
    pub devices: BTreeMap<String, u64>,
    pub pinned: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanResult {
    pub workspace: String,
    /// Files written, relative to the workspace.
    pub files: Vec<String>,
    /// The edited plan re-imported, when `from_edited` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_edited: Option<String>,
    pub options: PlanOptions,
    pub seats: planner::SeatSummary,
    pub totals: planner::PlanTotals,
    pub steps: Vec<planner::PlanStep>,
    pub waves: Vec<WaveSummary>,
    pub splits: Vec<planner::Split>,
    pub violations: Vec<planner::Violation>,
    pub notes: Vec<planner::Note>,
    /// Changes against the previous plan.json (`null` when there was none).
    pub changes: Option<PlanChanges>,
    /// Wall-clock milliseconds per phase: load, plan (and `plan.<phase>` inside the planner),
    /// write_json, write_csv, write_xlsx, total.
    pub timings_ms: BTreeMap<String, u64>,
}

impl CommandOutput for PlanResult {
    fn has_blockers(&self) -> bool {
        !self.violations.is_empty() || self.totals.unplaced > 0
    }

    fn human(&self) -> String {
        let t = &self.totals;
        let mut s = format!(
            "Plan: {} users to license in {} waves{}; {} held back; {} already migrated; {} unplaced\n",
            t.planned,
            t.waves,
            if self.options.no_pilot { " (no pilot)".to_string() } else { format!(" after a pilot of {}", t.pilot) },
            t.held_back,
            t.already_migrated,
            t.unplaced
        );
        match self.seats.available {
            Some(a) => s.push_str(&format!(
                "Intune seats: {a} free ({}); the plan uses {}\n",
                self.seats.source, self.seats.planned
            )),
            None => s.push_str(&format!("Intune seats: {}\n", self.seats.source)),
        }
        let rows: Vec<Vec<String>> = self
            .waves
            .iter()
            .map(|w| {
                let get = |k: &str| w.devices.get(k).copied().unwrap_or(0).to_string();
                vec![
                    if w.pilot {
                        "0 (pilot)".into()
                    } else {
                        w.number.to_string()
                    },
                    w.date.clone().unwrap_or_else(|| "-".into()),
                    w.user_count.to_string(),
                    w.device_count.to_string(),
                    get("ios"),
                    get("android"),
                    get("windows"),
                    w.group.clone(),
                ]
            })
            .collect();
        s.push_str(&table(
            &[
                "wave",
                "date",
                "users",
                "devices",
                "ios",
                "android",
                "windows",
                "license group",
            ],
            &rows,
        ));
        if let Some(gate) = self.steps.iter().find(|st| st.kind == "policy_gate") {
            s.push_str(&format!(
                "Policy gate{}: {} (before wave 1)\n",
                gate.date
                    .as_deref()
                    .map(|d| format!(" {d}"))
                    .unwrap_or_default(),
                gate.title
            ));
        }
        for sp in &self.splits {
            s.push_str(&format!(
                "split: {} ({} users) across waves {:?}\n",
                sp.unit, sp.users, sp.waves
            ));
        }
        if !self.violations.is_empty() {
            s.push_str(&format!("\n{} violations:\n", self.violations.len()));
            for v in &self.violations {
                s.push_str(&format!("  [{}] {}\n", v.code, v.message));
            }
        }
        for n in &self.notes {
            s.push_str(&format!("note[{}]: {}\n", n.code, n.message));
        }
        if let Some(c) = &self.changes {
            if c.is_empty() {
                s.push_str("No changes against the previous plan.\n");
            } else {
                s.push_str(&format!(
                    "\nChanges against the previous plan: {} moved, {} added, {} removed, {} other status changes; {} wave changes{}\n",
                    c.users_moved,
                    c.users_added,
                    c.users_removed,
                    c.users_status_changed,
                    c.waves.len(),
                    if c.options_changed { "; options changed" } else { "" }
                ));
                for w in &c.waves {
                    s.push_str(&match w.change.as_str() {
                        "date" => format!(
                            "  wave {} date {} -> {}\n",
                            w.wave,
                            w.from_date.as_deref().unwrap_or("-"),
                            w.to_date.as_deref().unwrap_or("-")
                        ),
                        other => format!(
                            "  wave {} {other}: {} -> {} users\n",
                            w.wave,
                            w.from_users.map(|n| n.to_string()).unwrap_or("-".into()),
                            w.to_users.map(|n| n.to_string()).unwrap_or("-".into())
                        ),
                    });
                }
                let place = |st: &str, w: Option<u32>| {
                    w.map(|w| format!("wave {w}"))
                        .unwrap_or_else(|| st.to_string())
                };
                for u in c.users.iter().take(50) {
                    s.push_str(&format!(
                        "  {} {}: {} -> {}\n",
                        u.change,
                        u.upn,
                        place(&u.from_status, u.from_wave),
                        place(&u.to_status, u.to_wave)
                    ));
                }
                if c.users.len() > 50 {
                    s.push_str(&format!(
                        "  ... {} more in {PLAN_CHANGES}\n",
                        c.users.len() - 50
                    ));
                }
            }
        }
        s.push_str(&format!(
            "Wrote {} in {}\n",
            self.files.join(", "),
            self.workspace
        ));
        s
    }
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Reads the readiness facts the planner uses from readiness.json.
fn readiness_facts(ws: &Workspace) -> Result<planner::ReadinessFacts> {
    if !ws.exists(files::READINESS) {
        return Err(Error::input(
            "plan.no_readiness",
            format!(
                "{} has no readiness report; run `bms2intune readiness --workspace {}` first (the plan holds back users readiness flags)",
                ws.root().display(),
                ws.root().display()
            ),
        )
        .with_detail(json!({ "file": ws.path(files::READINESS).display().to_string() })));
    }
    let file = ws.path(files::READINESS).display().to_string();
    let bytes = std::fs::read(ws.path(files::READINESS)).map_err(|e| {
        Error::input(
            "plan.readiness_unreadable",
            format!("cannot read {file}: {e}"),
        )
        .with_detail(json!({ "file": file }))
    })?;
    let facts = facts::parse(&bytes).map_err(|what| {
        Error::input(
            "plan.readiness_corrupt",
            format!("{file}: {what}; run `bms2intune readiness` again"),
        )
        .with_detail(json!({ "file": file }))
    })?;
    crate::workspace::drop_in_background(bytes);
    Ok(facts)
}

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

pub fn run(p: PlanParams, ctx: &mut Ctx) -> Result<PlanResult> {
    let total = Instant::now();
    let mut timings = BTreeMap::new();
    let ws = Workspace::open(p.workspace.as_deref(), false)?;

    let t_load = Instant::now();
    ctx.progress("load", 0, 1);
    // The plan and its workbook show names, departments, offices and managers and count devices
    // by platform; no ids, cities, OS versions or device details.
    let tenant = ws.load_tenant_fields(crate::workspace::Fields {
        user_profile: true,
        ..crate::workspace::Fields::MINIMAL
    })?;
    let facts = readiness_facts(&ws)?;
    if let (Some(r), Some(t)) = (
        modified(&ws.path(files::READINESS)),
        modified(&ws.path(files::TENANT)),
    ) {
        if r < t {
            ctx.warn("plan.readiness_stale", "readiness.json is older than tenant.json; run `bms2intune readiness` again so held-back users are current");
        }
    }
    let previous: Option<WavePlan> = if ws.exists(files::PLAN) {
        match ws.read_json::<WavePlan>(files::PLAN) {
            Ok(prev) => Some(prev),
            Err(e) if p.from_edited.is_some() => {
                return Err(Error::input(
                    "plan.previous_unreadable",
                    format!("the previous plan.json can't be read ({}), so the edited plan can't be compared; run `bms2intune plan` again first", e.message),
                ))
            }
            Err(e) => {
                ctx.warn("plan.previous_unreadable", &format!("the previous plan.json can't be read ({}); it is replaced and no changes are reported", e.message));
                None
            }
        }
    } else {
        None
    };
    let edited = match &p.from_edited {
        Some(f) => {
            if previous.is_none() {
                return Err(Error::input(
                    "plan.no_previous_plan",
                    format!("{} holds no plan.json to compare the edited plan with; run `bms2intune plan` first, edit its plan.xlsx, then re-import it", ws.root().display()),
                ));
            }
            let path = Path::new(f);
            if !path.exists() {
                return Err(Error::input(
                    "plan.edited.missing",
                    format!("edited plan {f} does not exist"),
                )
                .with_detail(json!({ "file": f })));
            }
            Some(xlsx::read_edited(path)?)
        }
        None => None,
    };
    ctx.progress("load", 1, 1);
    timings.insert("load".to_string(), ms(t_load));

    let base = match (&p.from_edited, &previous) {
        (Some(_), Some(prev)) => prev.options.clone(),
        _ => PlanOptions::default(),
    };
    let options = p.options(base);

    let t_plan = Instant::now();
    let mut pins: Vec<planner::Pin> = Vec::new();
    for pin in &tenant.pins {
        let wave = match (pin.pilot, pin.wave) {
            (true, _) => 0,
            (false, Some(w)) => w,
            (false, None) => continue,
        };
        pins.push(planner::Pin {
            user: pin.user,
            wave,
            source: pin.source.clone().unwrap_or_else(|| "tenant pin".into()),
        });
    }
    let mut unknown_pins = Vec::new();
    let mut date_pins = Vec::new();
    if let Some(e) = &edited {
        // UPN → user, only for the UPNs the edited plan names.
        let wanted: std::collections::HashSet<&str> =
            e.pins.iter().map(|p| p.upn.as_str()).collect();
        let mut user_by_upn: std::collections::HashMap<String, crate::model::UserIx> =
            std::collections::HashMap::new();
        for (i, u) in tenant.users.iter().enumerate() {
            let upn = u.upn.to_lowercase();
            if wanted.contains(upn.as_str()) {
                user_by_upn.entry(upn).or_insert(i as crate::model::UserIx);
            }
        }
        for pin in &e.pins {
            match user_by_upn.get(&pin.upn) {
                Some(&u) => pins.push(planner::Pin {
                    user: u,
                    wave: pin.wave,
                    source: pin.source.clone(),
                }),
                None => unknown_pins.push(planner::Violation {
                    code: "pin.unknown_user".into(),
                    message: format!(
                        "{} ({}) is not a user in the imported tenant; the row is ignored",
                        pin.upn, pin.source
                    ),
                    upn: Some(pin.upn.clone()),
                    wave: Some(pin.wave),
                    source: Some(pin.source.clone()),
                }),
            }
        }
        // A Summary date is a pin when the admin changed it, or when it was already pinned.
        let prev_dates: BTreeMap<u32, (Option<String>, bool)> = previous
            .iter()
            .flat_map(|p| {
                p.waves
                    .iter()
                    .map(|w| (w.number, (w.date.clone(), w.date_pinned)))
            })
            .collect();
        for d in &e.dates {
            let (prev_date, prev_pinned) = prev_dates.get(&d.wave).cloned().unwrap_or_default();
            let unchanged = prev_date.as_deref() == Some(d.date.to_string().as_str());
            if !unchanged || prev_pinned {
                date_pins.push(planner::DatePin {
                    wave: d.wave,
                    date: d.date,
                    source: d.source.clone(),
                });
            }
        }
    }
    ctx.progress("plan", 0, 1);
    let mut laps = planner::Laps::default();
    let input = planner::PlanInput {
        tenant: &tenant,
        facts: &facts,
        options: &options,
        pins: &pins,
        date_pins: &date_pins,
    };
    let (mut plan, wave_users) = planner::plan_with_users(&input, &mut laps)?;
    plan.violations.extend(unknown_pins);
    ctx.progress("plan", 1, 1);
    timings.insert("plan".to_string(), ms(t_plan));
    for (phase, t) in &laps.phases {
        timings.insert(format!("plan.{phase}"), *t);
    }

    let changes = previous.as_ref().map(|prev| diff::diff(prev, &plan));

    // The three files are independent: plan.json and plan.csv on one thread while plan.xlsx
    // builds and deflates its sheets on the others.
    let t_write = Instant::now();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    let (json_ms, csv_ms, xlsx_ms) = std::thread::scope(|s| {
        let side = s.spawn(|| {
            let t = Instant::now();
            let json = ws.write_json(files::PLAN, &plan).map(|_| ms(t));
            let t = Instant::now();
            let csv = ws
                .write_with(files::PLAN_CSV, |w| xlsx::write_csv(&plan, w))
                .map(|_| ms(t));
            (json, csv)
        });
        let t = Instant::now();
        // Streamed: sheets reach the file while later ones are still being built.
        let mut failed = None;
        let written = ws.write_with(files::PLAN_XLSX, |w| {
            xlsx::write_xlsx(&plan, &tenant, Some(&wave_users), threads, w).map_err(|e| {
                let io = std::io::Error::other(e.message.clone());
                failed = Some(e);
                io
            })
        });
        let book = match (written, failed) {
            (_, Some(e)) | (Err(e), None) => Err(e),
            (Ok(_), None) => Ok(ms(t)),
        };
        let (json, csv) = side.join().unwrap_or_else(|_| {
            let e = || Error::internal("plan.write", "writing plan.json/plan.csv failed");
            (Err(e()), Err(e()))
        });
        (json, csv, book)
    });
    timings.insert("write_json".to_string(), json_ms?);
    timings.insert("write_csv".to_string(), csv_ms?);
    timings.insert("write_xlsx".to_string(), xlsx_ms?);
    timings.insert("write".to_string(), ms(t_write));
    let mut written = vec![
        files::PLAN.to_string(),
        files::PLAN_CSV.to_string(),
        files::PLAN_XLSX.to_string(),
    ];
    if let Some(c) = &changes {
        ws.write_json(PLAN_CHANGES, c)?;
        written.push(PLAN_CHANGES.to_string());
    }
    for v in &plan.violations {
        ctx.warn(&v.code, &v.message);
    }
    timings.insert("total".to_string(), ms(total));

    let result = PlanResult {
        workspace: ws.root().display().to_string(),
        files: written,
        from_edited: p.from_edited.clone(),
        options: plan.options.clone(),
        seats: plan.seats.clone(),
        totals: plan.totals.clone(),
        steps: plan.steps.clone(),
        waves: plan
            .waves
            .iter()
            .map(|w| WaveSummary {
                number: w.number,
                pilot: w.pilot,
                date: w.date.clone(),
                group: w.group.clone(),
                user_count: w.user_count,
                device_count: w.device_count,
                devices: w.devices.clone(),
                pinned: w.pinned,
            })
            .collect(),
        splits: plan.splits.clone(),
        violations: plan.violations.clone(),
        notes: plan.notes.clone(),
        changes,
        timings_ms: timings,
    };
    // A million-user tenant and plan take a good part of a second to free: not on the way out.
    crate::workspace::drop_in_background((tenant, plan, wave_users, facts, previous));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_params_override_the_previous_options() {
        let prev = PlanOptions {
            pilot_groups: vec!["Pilot".into()],
            wave_size: 50,
            start: Some("2027-01-04".into()),
            ..Default::default()
        };
        let p = PlanParams {
            no_pilot: Some(true),
            every: Some(14),
            ..Default::default()
        };
        let o = p.options(prev.clone());
        assert!(o.no_pilot && o.pilot_groups.is_empty());
        assert_eq!(
            (o.wave_size, o.every, o.start.as_deref()),
            (50, 14, Some("2027-01-04"))
        );
        let p = PlanParams {
            pilot_groups: Some(vec!["Other".into()]),
            ..Default::default()
        };
        let o = p.options(PlanOptions {
            no_pilot: true,
            pilot_groups: vec![],
            ..prev
        });
        assert!(!o.no_pilot);
        assert_eq!(o.pilot_groups, vec!["Other".to_string()]);
        assert_eq!(
            PlanParams::default().options(PlanOptions::default()),
            PlanOptions::default()
        );
    }
}
