//! Readiness: checks over the tenant that tell the admin what will go wrong before anything changes.
//!
//! [`assess`] is pure (tenant in, findings out); [`run`] loads the snapshot, runs it and writes
//! `readiness.json`, `readiness.csv` and the proposed split groups into the workspace.

pub mod checks;
pub mod finding;
pub mod output;
pub mod reference;
pub mod scope;

use std::collections::BTreeMap;
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Tenant;
use crate::protocol::{CommandOutput, Ctx};
use crate::workspace::{files, Workspace};

pub use checks::{Assessment, Seats, SplitGroup};
pub use finding::{Finding, Severity};
pub use reference::Reference;
pub use scope::Scope;

/// Proposed split groups (JSON), relative to the workspace.
pub const SPLIT_GROUPS_JSON: &str = "readiness/split-groups.json";
/// Proposed split groups (CSV: one row per group and member), relative to the workspace.
pub const SPLIT_GROUPS_CSV: &str = "readiness/split-groups.csv";

/// Which findings make the command finish with exit code 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Any blocker.
    Blocker,
    /// Any blocker or warning.
    Warning,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Report "done with blockers" (CLI exit code 3) when a finding of this severity or worse
    /// exists: `blocker` or `warning`. Without it the command succeeds whatever it finds.
    #[serde(default)]
    pub fail_on: Option<FailOn>,
}

/// Counts by severity and the seat balance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub blocker: usize,
    pub warning: usize,
    pub info: usize,
    pub seats: Seats,
}

/// The content of `readiness.json` (read by `plan`). Deterministic: same tenant, same bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadinessReport {
    pub summary: Summary,
    /// Every finding, most severe first, then by code and objects.
    pub findings: Vec<Finding>,
    /// Users all of whose BMS devices Intune does not support (lower-case UPNs, sorted).
    pub users_unsupported_only: Vec<String>,
}

impl ReadinessReport {
    /// The report of an assessment, and the split groups it proposes.
    pub fn from_assessment(a: Assessment) -> (ReadinessReport, Vec<SplitGroup>) {
        let count = |s: Severity| a.findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            blocker: count(Severity::Blocker),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            seats: a.seats,
        };
        (
            ReadinessReport {
                summary,
                findings: a.findings,
                users_unsupported_only: a.users_unsupported_only,
            },
            a.split_groups,
        )
    }
}

/// Wall-clock milliseconds per phase (for the bench harness; not written to readiness.json so
/// reruns stay byte-identical).
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Timings {
    /// Reading and parsing tenant.json.
    pub load: f64,
    /// Building the indexes and running every check.
    pub checks: f64,
    /// Writing readiness.json, readiness.csv and the split groups.
    pub write: f64,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ReadinessResult {
    pub workspace: String,
    pub summary: Summary,
    /// Every finding, as in readiness.json.
    pub findings: Vec<Finding>,
    pub users_unsupported_only: Vec<String>,
    /// Groups proposed to split mixed groups (details in readiness/split-groups.json).
    pub split_groups: usize,
    /// Files written, relative to the workspace.
    pub files: Vec<String>,
    pub fail_on: Option<FailOn>,
    pub timings_ms: Timings,
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Runs every check over a tenant: pure, no I/O.
pub fn assess(tenant: &Tenant, reference: &Reference) -> Assessment {
    let scope = Scope::new(tenant, reference);
    checks::assess(&scope)
}

/// Writes readiness.json, readiness.csv and the split groups. The first two (65 MB and 136 MB at
/// a million users) are written on two threads; the split groups follow the JSON.
pub fn write_artifacts(
    ws: &Workspace,
    report: &ReadinessReport,
    split_groups: &[SplitGroup],
) -> Result<()> {
    let (json, csv, split) = std::thread::scope(|s| {
        let csv = s.spawn(|| {
            ws.write_with(files::READINESS_CSV, |w| {
                finding::write_findings_csv(&report.findings, w)
            })
        });
        let json = ws.write_with(files::READINESS, |w| output::write_report_json(report, w));
        let split = write_split_groups(ws, split_groups);
        let csv = match csv.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (json, csv, split)
    });
    json?;
    csv?;
    split?;
    Ok(())
}

/// Writes the split groups (always, possibly empty, so a stale proposal from an earlier run never
/// lingers).
fn write_split_groups(ws: &Workspace, split_groups: &[SplitGroup]) -> Result<()> {
    ws.write_json(SPLIT_GROUPS_JSON, split_groups)?;
    let split_csv = checks::groups::split_groups_csv(split_groups).map_err(|e| {
        Error::internal(
            "readiness.csv",
            format!("cannot write {SPLIT_GROUPS_CSV}: {e}"),
        )
    })?;
    ws.write_bytes(SPLIT_GROUPS_CSV, &split_csv)?;
    Ok(())
}

pub fn run(p: ReadinessParams, ctx: &mut Ctx) -> Result<ReadinessResult> {
    let ws = Workspace::open(p.workspace.as_deref(), false)?;
    let reference = Reference::builtin()?;

    let t0 = Instant::now();
    let tenant = ws.load_tenant_fields(crate::workspace::Fields {
        device_ids: true,
        device_os: true,
        ..crate::workspace::Fields::MINIMAL
    })?;
    let load = ms(t0);

    let t1 = Instant::now();
    let assessment = assess(&tenant, &reference);
    let checks = ms(t1);
    ctx.progress("readiness", 1, 1);

    let t2 = Instant::now();
    let (report, split_groups) = ReadinessReport::from_assessment(assessment);
    write_artifacts(&ws, &report, &split_groups)?;
    let write = ms(t2);
    crate::workspace::drop_in_background(tenant);

    if report.summary.blocker > 0 {
        ctx.warn(
            "readiness.blockers",
            &format!(
                "{} blockers found; see {}",
                report.summary.blocker,
                ws.path(files::READINESS_CSV).display()
            ),
        );
    }

    Ok(ReadinessResult {
        workspace: ws.root().display().to_string(),
        summary: report.summary,
        findings: report.findings,
        users_unsupported_only: report.users_unsupported_only,
        split_groups: split_groups.len(),
        files: vec![
            files::READINESS.into(),
            files::READINESS_CSV.into(),
            SPLIT_GROUPS_JSON.into(),
            SPLIT_GROUPS_CSV.into(),
        ],
        fail_on: p.fail_on,
        timings_ms: Timings {
            load,
            checks,
            write,
        },
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The seat balance in one line.
pub fn seats_line(s: &Seats) -> String {
    let needs = format!(
        "{} still to migrate need a new Intune seat",
        plural(s.needed as usize, "user", "users")
    );
    let extra = if s.enable_plan_only > 0 {
        format!(
            " ({} more only need their disabled Intune plan enabled)",
            s.enable_plan_only
        )
    } else {
        String::new()
    };
    match (s.available, s.shortfall) {
        (Some(a), Some(0)) => format!("Seats: {needs}{extra}; {a} free: enough"),
        (Some(a), Some(short)) => {
            format!("Seats: {needs}{extra}; {a} free: SHORT BY {short}")
        }
        (None, Some(_)) => format!(
            "Seats: {needs}{extra}; at least {} free (counts unknown for {}): enough",
            s.available_known,
            s.unknown_products.join(", ")
        ),
        (_, None) => format!(
            "Seats: {needs}{extra}; free seats UNKNOWN ({} known free{})",
            s.available_known,
            if s.unknown_products.is_empty() {
                ", no products imported".to_string()
            } else {
                format!(", no counts for {}", s.unknown_products.join(", "))
            }
        ),
    }
}

fn preview(objects: &[String], n: usize) -> String {
    let shown: Vec<&str> = objects.iter().take(n).map(String::as_str).collect();
    let more = objects.len().saturating_sub(n);
    if more > 0 {
        format!("{} (+{more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// How many findings the terminal summary details.
const TOP: usize = 12;

impl CommandOutput for ReadinessResult {
    fn has_blockers(&self) -> bool {
        match self.fail_on {
            None => false,
            Some(FailOn::Blocker) => self.summary.blocker > 0,
            Some(FailOn::Warning) => self.summary.blocker + self.summary.warning > 0,
        }
    }

    fn human(&self) -> String {
        let s = &self.summary;
        let mut out = format!(
            "Readiness of {}: {}, {}, {}\n{}\n",
            self.workspace,
            plural(s.blocker, "blocker", "blockers"),
            plural(s.warning, "warning", "warnings"),
            plural(s.info, "info", "info"),
            seats_line(&s.seats)
        );
        if self.findings.is_empty() {
            out.push_str("No findings: nothing in the imported data stands in the way.\n");
        } else {
            let mut by_code: BTreeMap<(Severity, &str), (usize, usize)> = BTreeMap::new();
            for f in &self.findings {
                let e = by_code.entry((f.severity, f.code.as_str())).or_default();
                e.0 += 1;
                e.1 += f.objects.len();
            }
            let rows: Vec<Vec<String>> = by_code
                .iter()
                .map(|((sev, code), (n, o))| {
                    vec![
                        sev.as_str().to_string(),
                        (*code).to_string(),
                        n.to_string(),
                        o.to_string(),
                    ]
                })
                .collect();
            out.push('\n');
            out.push_str(&crate::report::table(
                &["severity", "code", "findings", "objects"],
                &rows,
            ));
            // The first finding of each code, most severe first: one example per kind of problem.
            let mut shown_codes = std::collections::HashSet::new();
            let top: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| shown_codes.insert(f.code.as_str()))
                .take(TOP)
                .collect();
            out.push_str(&format!(
                "\nTop findings (the first of each code, {} of {}):\n",
                top.len(),
                self.findings.len()
            ));
            for f in top {
                out.push_str(&format!(
                    "\n{} {}: {}\n",
                    f.severity.as_str().to_uppercase(),
                    f.code,
                    f.message
                ));
                if !f.objects.is_empty() {
                    out.push_str(&format!("  objects: {}\n", preview(&f.objects, 5)));
                }
                out.push_str(&format!("  do: {}\n", f.remedy));
            }
        }
        if self.split_groups > 0 {
            out.push_str(&format!(
                "\n{} proposed in {}/{}\n",
                plural(self.split_groups, "split group", "split groups"),
                self.workspace,
                SPLIT_GROUPS_CSV
            ));
        }
        out.push_str(&format!(
            "\nAll findings: {}/{} and {}/{}\n",
            self.workspace,
            files::READINESS_CSV,
            self.workspace,
            files::READINESS
        ));
        out
    }
}
