//! What changed between the previous plan.json and the new plan: users moved between waves or
//! lists, waves resized, added or removed, dates changed.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::Serialize;

use super::planner::WavePlan;

/// Where a user stands in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Wave(u32),
    HeldBack,
    AlreadyMigrated,
    Unplaced,
}

impl Place {
    fn status(self) -> &'static str {
        match self {
            Place::Wave(_) => "planned",
            Place::HeldBack => "held_back",
            Place::AlreadyMigrated => "already_migrated",
            Place::Unplaced => "unplaced",
        }
    }
    fn wave(self) -> Option<u32> {
        match self {
            Place::Wave(w) => Some(w),
            _ => None,
        }
    }
}

fn places(p: &WavePlan) -> HashMap<&str, Place> {
    let mut m = HashMap::new();
    for w in &p.waves {
        for u in &w.users {
            m.insert(u.as_str(), Place::Wave(w.number));
        }
    }
    for h in &p.held_back {
        m.insert(h.upn.as_str(), Place::HeldBack);
    }
    for u in &p.already_migrated {
        m.insert(u.as_str(), Place::AlreadyMigrated);
    }
    for u in &p.unplaced {
        m.insert(u.upn.as_str(), Place::Unplaced);
    }
    m
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct UserChange {
    pub upn: String,
    /// `moved` (wave → other wave), `added` (into a wave), `removed` (out of every wave),
    /// `status` (between held back / unplaced / already migrated / not in the plan).
    pub change: String,
    /// `planned`, `held_back`, `already_migrated`, `unplaced` or `absent`.
    pub from_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_wave: Option<u32>,
    pub to_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_wave: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WaveChange {
    pub wave: u32,
    /// `resized`, `added`, `removed` or `date`.
    pub change: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_users: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_users: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct PlanChanges {
    pub users_moved: u64,
    pub users_added: u64,
    pub users_removed: u64,
    pub users_status_changed: u64,
    /// Every user whose place changed, sorted by UPN.
    pub users: Vec<UserChange>,
    /// Every wave that was resized, added, removed or re-dated, by wave number.
    pub waves: Vec<WaveChange>,
    /// True when the options differ from the previous plan's.
    pub options_changed: bool,
}

impl PlanChanges {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.waves.is_empty() && !self.options_changed
    }
}

/// Every change from `old` to `new`.
pub fn diff(old: &WavePlan, new: &WavePlan) -> PlanChanges {
    let a = places(old);
    let b = places(new);
    let mut users = Vec::new();
    let mut keys: Vec<&str> = a.keys().chain(b.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut out = PlanChanges::default();
    for upn in keys {
        let (pa, pb) = (a.get(upn).copied(), b.get(upn).copied());
        if pa == pb {
            continue;
        }
        let change = match (pa.and_then(Place::wave), pb.and_then(Place::wave)) {
            (Some(_), Some(_)) => {
                out.users_moved += 1;
                "moved"
            }
            (None, Some(_)) => {
                out.users_added += 1;
                "added"
            }
            (Some(_), None) => {
                out.users_removed += 1;
                "removed"
            }
            (None, None) => {
                out.users_status_changed += 1;
                "status"
            }
        };
        users.push(UserChange {
            upn: upn.to_string(),
            change: change.into(),
            from_status: pa.map(Place::status).unwrap_or("absent").into(),
            from_wave: pa.and_then(Place::wave),
            to_status: pb.map(Place::status).unwrap_or("absent").into(),
            to_wave: pb.and_then(Place::wave),
        });
    }
    out.users = users;

    let wa: BTreeMap<u32, (u64, Option<&String>)> = old
        .waves
        .iter()
        .map(|w| (w.number, (w.users.len() as u64, w.date.as_ref())))
        .collect();
    let wb: BTreeMap<u32, (u64, Option<&String>)> = new
        .waves
        .iter()
        .map(|w| (w.number, (w.users.len() as u64, w.date.as_ref())))
        .collect();
    let mut nums: Vec<u32> = wa.keys().chain(wb.keys()).copied().collect();
    nums.sort_unstable();
    nums.dedup();
    for w in nums {
        match (wa.get(&w), wb.get(&w)) {
            (Some(x), Some(y)) => {
                if x.0 != y.0 {
                    out.waves.push(WaveChange {
                        wave: w,
                        change: "resized".into(),
                        from_users: Some(x.0),
                        to_users: Some(y.0),
                        from_date: None,
                        to_date: None,
                    });
                }
                if x.1 != y.1 {
                    out.waves.push(WaveChange {
                        wave: w,
                        change: "date".into(),
                        from_users: None,
                        to_users: None,
                        from_date: x.1.cloned(),
                        to_date: y.1.cloned(),
                    });
                }
            }
            (None, Some(y)) => out.waves.push(WaveChange {
                wave: w,
                change: "added".into(),
                from_users: None,
                to_users: Some(y.0),
                from_date: None,
                to_date: y.1.cloned(),
            }),
            (Some(x), None) => out.waves.push(WaveChange {
                wave: w,
                change: "removed".into(),
                from_users: Some(x.0),
                to_users: None,
                from_date: x.1.cloned(),
                to_date: None,
            }),
            (None, None) => {}
        }
    }
    out.options_changed = old.options != new.options;
    out
}
