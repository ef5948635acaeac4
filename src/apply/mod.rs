//! Apply: carries the migration out through Microsoft Graph, one step at a time, in the order
//! Microsoft recommends: create the Intune policies (unassigned), assign them to the pilot group,
//! license the pilot wave, assign them to the recommended groups (the policy gate), then license
//! the remaining waves. Every operation is journaled (`journal.jsonl`); a rerun skips what
//! succeeded and looks objects up by name before creating them, so nothing is done twice.
//!
//! The core of bms2intune is synchronous; this module builds a current-thread tokio runtime for
//! the Graph calls only.

mod exec;
pub mod journal;
pub mod ops;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::graph::{AuthParams, GraphClient, TokenProvider};
use crate::protocol::{CommandOutput, Ctx};
use crate::workspace::{files, Workspace};

pub use ops::Step;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// The step to run: `policies` (create the Intune objects), `assign-pilot` (assign them to
    /// the pilot group), `assign` (the policy gate: assign them to the recommended groups).
    /// Give either `step` or `wave`.
    #[serde(default)]
    pub step: Option<Step>,
    /// The wave to license (0 = pilot): find or create its group, add its users, assign the license.
    #[serde(default)]
    pub wave: Option<u32>,
    /// List exactly the operations that would run (method, path, body summary) without any
    /// network call. PowerShell's -WhatIf maps to this.
    #[serde(default)]
    pub dry_run: bool,
    /// Run a wave although the policy gate or the previous wave is not done (not recommended).
    #[serde(default)]
    pub force: bool,
    /// SKU part number to license waves with (e.g. `EMSPREMIUM`); default: the one product in the
    /// tenant snapshot that includes Intune and has free seats.
    #[serde(default)]
    pub sku: Option<String>,
    /// How to authenticate to Graph; secrets may come from the environment instead
    /// (`BMS2INTUNE_CLIENT_SECRET`, `BMS2INTUNE_ACCESS_TOKEN`). Not needed for a dry run.
    #[serde(default)]
    pub auth: Option<AuthParams>,
    /// Microsoft Graph root (default `https://graph.microsoft.com`; national clouds differ).
    #[serde(default)]
    pub graph_url: Option<String>,
    /// Microsoft identity platform root (default `https://login.microsoftonline.com`).
    #[serde(default)]
    pub login_url: Option<String>,
    /// Pace of write requests (default 4 per second; Intune allows 100 writes per 20 s per app).
    #[serde(default)]
    pub writes_per_second: Option<f64>,
}

/// What happened to one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpOutcome {
    /// Dry run: would be done.
    Planned,
    /// Done in this run.
    Done,
    /// Not needed: done in an earlier run (journal) or already so in the tenant.
    Skipped,
    /// Failed; `reason` says why and what to do.
    Failed,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OperationResult {
    /// Stable key of the operation in the journal.
    pub op: String,
    pub method: String,
    pub path: String,
    /// What the body does.
    pub summary: String,
    pub outcome: OpOutcome,
    /// Id of the object created or found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Graph request id (give it to Microsoft support).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ApplyResult {
    /// `policies`, `assign-pilot`, `assign` or `wave`.
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    pub dry_run: bool,
    /// Operations in this step.
    pub planned: usize,
    pub done: usize,
    /// Already done (earlier run, or already so in the tenant).
    pub skipped: usize,
    pub failed: usize,
    pub operations: Vec<OperationResult>,
    /// SKU part number a wave is licensed with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// HTTP requests sent to Graph (0 for a dry run).
    pub requests: u64,
    /// Things the admin should know (gate overridden, gate not met in a dry run, ...).
    pub notes: Vec<String>,
    /// The journal file (relative to the workspace).
    pub journal: String,
}

impl CommandOutput for ApplyResult {
    fn has_blockers(&self) -> bool {
        self.failed > 0
    }
    fn human(&self) -> String {
        let what = match self.wave {
            Some(n) => format!("wave {n}"),
            None => self.step.clone(),
        };
        let mut s = if self.dry_run {
            format!(
                "apply {what} (dry run: nothing sent to Graph): {} operation(s)\n",
                self.planned
            )
        } else {
            format!(
                "apply {what}: {} done, {} skipped (already done), {} failed of {}\n",
                self.done, self.skipped, self.failed, self.planned
            )
        };
        let rows: Vec<Vec<String>> = self
            .operations
            .iter()
            .map(|o| {
                vec![
                    format!("{:?}", o.outcome).to_lowercase(),
                    o.method.clone(),
                    o.path.clone(),
                    match &o.reason {
                        Some(r) => format!("{} - {r}", o.summary),
                        None => o.summary.clone(),
                    },
                ]
            })
            .collect();
        s.push_str(&crate::report::table(
            &["outcome", "method", "path", "what"],
            &rows,
        ));
        for n in &self.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        if self.failed > 0 {
            s.push_str("Failed operations are listed with their reason; fix the cause and run the same command again: it continues where it stopped.\n");
        }
        s
    }
}

fn usage(msg: &str) -> Error {
    Error::new(
        crate::error::ErrorKind::Usage,
        "apply.params.step_or_wave",
        msg,
    )
}

pub fn run(p: ApplyParams, ctx: &mut Ctx) -> Result<ApplyResult> {
    let (step, wave) = match (p.step, p.wave) {
        (Some(s), None) => (Some(s), None),
        (None, Some(w)) => (None, Some(w)),
        (Some(_), Some(_)) => return Err(usage("give either a step (--step policies|assign-pilot|assign) or a wave (--wave N), not both")),
        (None, None) => return Err(usage("say what to apply: --step policies, --step assign-pilot, --step assign, or --wave N")),
    };
    let ws = Workspace::open(p.workspace.as_deref(), false)?;
    let journal = journal::Journal::load(&ws)?;
    let mut notes = Vec::new();

    // Build the operation list (no network).
    let (ops, sku, wave_users) = match (step, wave) {
        (Some(Step::Policies), _) => (ops::policies(&ws, &ops::load_manifest(&ws)?)?, None, 0),
        (Some(s), _) => {
            let m = ops::load_manifest(&ws)?;
            let plan = if ws.exists(files::PLAN) {
                Some(ops::load_plan(&ws)?)
            } else {
                None
            };
            let (list, left_out) = ops::assign(&ws, &m, plan.as_ref(), s == Step::AssignPilot)?;
            for n in &left_out {
                ctx.warn("apply.not_assigned", n);
            }
            notes.extend(left_out);
            (list, None, 0)
        }
        (None, Some(n)) => {
            let plan = ops::load_plan(&ws)?;
            let Some(w) = plan.waves.iter().find(|w| w.number == n) else {
                let have: Vec<String> = plan.waves.iter().map(|w| w.number.to_string()).collect();
                return Err(Error::input(
                    "apply.wave.unknown",
                    format!("plan.json has no wave {n} (waves: {})", have.join(", ")),
                ));
            };
            if let Some(blocked) = gate(&ws, &journal, &plan, w)? {
                if p.force {
                    notes.push(format!("--force: running wave {n} although {blocked}"));
                    ctx.warn(
                        "apply.gate.forced",
                        &format!("running wave {n} although {blocked}"),
                    );
                } else if p.dry_run {
                    notes.push(format!("a real run would be refused now: {blocked}"));
                } else {
                    return Err(Error::input(
                        "apply.gate.not_met",
                        format!("wave {n} must wait: {blocked}; run that first (or --force, not recommended)"),
                    ));
                }
            }
            let tenant = ws.load_tenant()?;
            let sku = choose_sku(&tenant, p.sku.as_deref())?;
            let users = w.upns()?.len();
            (ops::wave(w, &sku.0)?, Some(sku), users)
        }
        (None, None) => return Err(usage("say what to apply")),
    };

    let mut result = ApplyResult {
        step: step
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "wave".into()),
        wave,
        dry_run: p.dry_run,
        planned: ops.len(),
        sku: sku.as_ref().map(|s| s.0.clone()),
        journal: files::JOURNAL.into(),
        notes,
        ..Default::default()
    };

    if p.dry_run {
        if let (Some((part, free)), Some(n)) = (&sku, wave) {
            if journal.succeeded(&format!("wave:{n}:license")).is_none() {
                if let Some(free) = free {
                    if wave_users as u64 > *free {
                        result.notes.push(format!(
                            "the snapshot shows {free} free {part} seat(s) for {wave_users} user(s); a real run checks the live count and refuses if it is short"
                        ));
                    }
                }
            }
        }
        for op in &ops {
            let done = journal.succeeded(&op.key);
            result.operations.push(OperationResult {
                op: op.key.clone(),
                method: op.method.into(),
                path: op.path.clone(),
                summary: op.summary.clone(),
                outcome: if done.is_some() {
                    OpOutcome::Skipped
                } else {
                    OpOutcome::Planned
                },
                object_id: done.and_then(|e| e.object_id.clone()),
                reason: done.map(|_| "done in an earlier run (journal)".to_string()),
                request_id: None,
            });
        }
        result.skipped = result
            .operations
            .iter()
            .filter(|o| o.outcome == OpOutcome::Skipped)
            .count();
        return Ok(result);
    }

    let auth = AuthParams::resolve(p.auth)?;
    let graph_url = p
        .graph_url
        .as_deref()
        .unwrap_or(crate::graph::DEFAULT_GRAPH_URL);
    let login_url = p
        .login_url
        .as_deref()
        .unwrap_or(crate::graph::DEFAULT_LOGIN_URL);
    check_url("graph_url", graph_url)?;
    check_url("login_url", login_url)?;
    let provider = TokenProvider::new(auth, login_url, graph_url)?;
    let _lock = journal::Lock::acquire(&ws)?;
    // Read again under the lock: a run that just finished may have added to it.
    let journal = journal::Journal::load(&ws)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Error::internal(
                "apply.runtime",
                format!("cannot start the async runtime: {e}"),
            )
        })?;
    let client = GraphClient::new(graph_url, provider, p.writes_per_second.unwrap_or(4.0))?;
    let step_name = match wave {
        Some(n) => format!("wave {n}"),
        None => result.step.clone(),
    };
    let mut ex = exec::Executor::new(client, journal, ctx, step_name);
    let outcome = rt.block_on(ex.run_all(&ops, sku.as_ref().map(|s| s.0.as_str()), wave_users));
    result.requests = ex.client.sent;
    let ops_done = std::mem::take(&mut ex.results);
    drop(ex);
    outcome?;
    result.done = ops_done
        .iter()
        .filter(|o| o.outcome == OpOutcome::Done)
        .count();
    result.skipped = ops_done
        .iter()
        .filter(|o| o.outcome == OpOutcome::Skipped)
        .count();
    result.failed = ops_done
        .iter()
        .filter(|o| o.outcome == OpOutcome::Failed)
        .count();
    result.operations = ops_done;
    Ok(result)
}

fn check_url(name: &str, url: &str) -> Result<()> {
    let local = url.strip_prefix("http://").is_some_and(|rest| {
        let authority = rest.split('/').next().unwrap_or("");
        let host = match authority.strip_prefix("[::1]") {
            Some(_) => "[::1]",
            None => authority.split(':').next().unwrap_or(""),
        };
        matches!(host, "127.0.0.1" | "localhost" | "[::1]")
    });
    if url.starts_with("https://") || local {
        Ok(())
    } else {
        Err(Error::input(
            "apply.params.url",
            format!(
                "{name} {url:?} must be an https:// URL (plain http only for a local simulator)"
            ),
        ))
    }
}

/// Why a wave may not run yet, from the journal; `None` when it may.
fn gate(
    ws: &Workspace,
    j: &journal::Journal,
    plan: &ops::PlanFile,
    w: &ops::PlanWave,
) -> Result<Option<String>> {
    let m = ops::load_manifest(ws)?;
    if w.pilot {
        let keys = ops::assign_keys(&m, Some(plan), true);
        if !j.all_succeeded(keys.iter().map(|k| k.as_str())) {
            return Ok(Some(
                "the policies are not yet assigned to the pilot group (apply --step assign-pilot)"
                    .into(),
            ));
        }
        return Ok(None);
    }
    let keys = ops::assign_keys(&m, Some(plan), false);
    if !j.all_succeeded(keys.iter().map(|k| k.as_str())) {
        return Ok(Some("the policy gate is not passed: the policies are not yet assigned to the recommended groups (apply --step assign)".into()));
    }
    if let Some(prev) = plan
        .waves
        .iter()
        .filter(|x| x.number < w.number)
        .max_by_key(|x| x.number)
    {
        let keys = ops::wave(prev, "-")?;
        if !j.all_succeeded(keys.iter().map(|o| o.key.as_str())) {
            return Ok(Some(format!(
                "wave {} is not done (apply --wave {})",
                prev.number, prev.number
            )));
        }
    }
    Ok(None)
}

/// The SKU to license with: `--sku` if given (must include Intune), else the one product in the
/// snapshot that includes Intune and has free seats. Returns (part number, free seats if known).
fn choose_sku(t: &crate::model::Tenant, wanted: Option<&str>) -> Result<(String, Option<u64>)> {
    if let Some(w) = wanted {
        let Some(p) = t
            .products
            .iter()
            .find(|p| p.part_number.eq_ignore_ascii_case(w))
        else {
            let known: Vec<&str> = t.products.iter().map(|p| p.part_number.as_str()).collect();
            return Err(Error::input(
                "apply.sku.not_found",
                format!(
                    "--sku {w}: the tenant snapshot has no such product (it has: {})",
                    known.join(", ")
                ),
            ));
        };
        if !p.includes_intune() {
            return Err(Error::input(
                "apply.sku.no_intune",
                format!("--sku {w}: this product has no Intune service plan, so licensing with it would not move devices to Intune"),
            ));
        }
        return Ok((p.part_number.clone(), p.free_units()));
    }
    let candidates: Vec<&crate::model::Product> = t
        .products
        .iter()
        .filter(|p| p.includes_intune() && p.free_units().map_or(true, |n| n > 0))
        .collect();
    match candidates.as_slice() {
        [one] => Ok((one.part_number.clone(), one.free_units())),
        [] => Err(Error::input(
            "apply.sku.none_free",
            "no product in the tenant snapshot includes Intune with free seats; buy seats or name the product with --sku PART_NUMBER",
        )),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|p| format!("{} ({} free)", p.part_number, p.free_units().map(|n| n.to_string()).unwrap_or_else(|| "?".into())))
                .collect();
            Err(Error::input(
                "apply.sku.ambiguous",
                format!("several products include Intune: {}; choose one with --sku PART_NUMBER", names.join(", ")),
            )
            .with_detail(json!({ "candidates": many.iter().map(|p| p.part_number.clone()).collect::<Vec<_>>() })))
        }
    }
}

/// How far the migration has come, from the journal (for `status` and the report).
pub fn journal_summary(ws: &Workspace) -> Result<Option<Value>> {
    if !ws.exists(files::JOURNAL) {
        return Ok(None);
    }
    let j = journal::Journal::load(ws)?;
    let mut steps = serde_json::Map::new();
    let mut waves_licensed = Vec::new();
    for e in j.entries() {
        let mut parts = e.op.split(':');
        let step = match (parts.next(), parts.next()) {
            (Some("wave"), Some(n)) => format!("wave {n}"),
            (Some(s), _) => s.to_string(),
            (None, _) => continue,
        };
        let s = steps
            .entry(step)
            .or_insert_with(|| json!({"succeeded": 0, "failed": 0}));
        let k = if e.state == journal::State::Succeeded {
            "succeeded"
        } else {
            "failed"
        };
        s[k] = json!(s[k].as_u64().unwrap_or(0) + 1);
        if e.state == journal::State::Succeeded && e.op.ends_with(":license") {
            if let Some(n) = e.op.split(':').nth(1).and_then(|n| n.parse::<u32>().ok()) {
                waves_licensed.push(n);
            }
        }
    }
    waves_licensed.sort_unstable();
    Ok(Some(
        json!({ "entries": j.lines, "steps": steps, "waves_licensed": waves_licensed }),
    ))
}

#[cfg(test)]
mod tests {
    use super::journal::{Entry, Journal, State};
    use super::*;

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(check_url("graph_url", "https://graph.microsoft.us").is_ok());
        assert!(check_url("graph_url", "http://127.0.0.1:8080").is_ok());
        assert!(check_url("graph_url", "http://localhost/x").is_ok());
        assert!(check_url("graph_url", "http://127.0.0.1.example.com").is_err());
        assert!(check_url("graph_url", "http://graph.microsoft.com").is_err());
    }

    #[test]
    fn journal_summary_counts_steps_and_licensed_waves() {
        let d = std::env::temp_dir().join(format!("bms2intune-summary-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let ws = Workspace::open(d.to_str(), true).unwrap();
        assert!(journal_summary(&ws).unwrap().is_none());
        let mut j = Journal::load(&ws).unwrap();
        for (op, state) in [
            ("policies:a.json", State::Succeeded),
            ("policies:b.json", State::Failed),
            ("wave:0:group", State::Succeeded),
            ("wave:0:license", State::Succeeded),
            ("wave:1:license", State::Failed),
        ] {
            j.record(Entry {
                time: journal::utc_now(),
                run: "r".into(),
                step: "x".into(),
                op: op.into(),
                state,
                method: "POST".into(),
                path: "/".into(),
                target: None,
                object_id: None,
                found_existing: false,
                status: None,
                request_id: None,
                reason: None,
                detail: Value::Null,
            })
            .unwrap();
        }
        let s = journal_summary(&ws).unwrap().unwrap();
        assert_eq!(s["entries"], 5);
        assert_eq!(s["steps"]["policies"], json!({"succeeded": 1, "failed": 1}));
        assert_eq!(s["steps"]["wave 0"], json!({"succeeded": 2, "failed": 0}));
        assert_eq!(s["waves_licensed"], json!([0]));
        let _ = std::fs::remove_dir_all(&d);
    }
}
