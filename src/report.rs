//! Report: views of what the other steps produced (status summary now; HTML/CSV/XLSX report
//! later). Never recomputes a result: reads the workspace artefacts as they are.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};
use crate::workspace::{files, Workspace};

/// Renders rows as a plain left-aligned text table (for terminal summaries).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(headers.to_vec(), &mut out);
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(|s| s.as_str())
            .collect(),
        &mut out,
    );
    for r in rows {
        line(r.iter().map(|s| s.as_str()).collect(), &mut out);
    }
    out
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Artifact {
    /// What the artefact is: tenant, readiness, intune, plan, journal.
    pub name: String,
    /// Path relative to the workspace.
    pub file: String,
    pub present: bool,
    /// A few headline numbers from the artefact, when present.
    pub summary: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusResult {
    pub workspace: String,
    pub format_version: u32,
    pub artifacts: Vec<Artifact>,
}

impl CommandOutput for StatusResult {
    fn human(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .artifacts
            .iter()
            .map(|a| {
                vec![
                    a.name.clone(),
                    a.file.clone(),
                    if a.present { "yes".into() } else { "no".into() },
                    if a.summary.is_null() {
                        String::new()
                    } else {
                        a.summary.to_string()
                    },
                ]
            })
            .collect();
        format!(
            "workspace {}\n{}",
            self.workspace,
            table(&["artefact", "file", "present", "summary"], &rows)
        )
    }
}

fn pick(v: &Value, keys: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            out.insert((*k).to_string(), x.clone());
        }
    }
    Value::Object(out)
}

pub fn status(p: StatusParams, _ctx: &mut Ctx) -> Result<StatusResult> {
    let ws = Workspace::open(p.workspace.as_deref(), false)?;
    let mut artifacts = Vec::new();
    let import: Option<Value> = ws
        .exists(files::IMPORT_REPORT)
        .then(|| ws.read_json(files::IMPORT_REPORT))
        .transpose()?;
    artifacts.push(Artifact {
        name: "tenant".into(),
        file: files::TENANT.into(),
        present: ws.exists(files::TENANT),
        summary: import
            .as_ref()
            .and_then(|v| v.get("totals").cloned())
            .unwrap_or(Value::Null),
    });
    let readiness: Option<Value> = ws
        .exists(files::READINESS)
        .then(|| ws.read_json(files::READINESS))
        .transpose()?;
    artifacts.push(Artifact {
        name: "readiness".into(),
        file: files::READINESS.into(),
        present: readiness.is_some(),
        summary: readiness
            .as_ref()
            .and_then(|v| {
                v.get("summary")
                    .map(|s| pick(s, &["blocker", "warning", "info"]))
            })
            .unwrap_or(Value::Null),
    });
    let manifest_file = format!("{}/manifest.json", files::INTUNE_DIR);
    let manifest: Option<Value> = ws
        .exists(&manifest_file)
        .then(|| ws.read_json(&manifest_file))
        .transpose()?;
    artifacts.push(Artifact {
        name: "intune".into(),
        file: manifest_file,
        present: manifest.is_some(),
        summary: manifest
            .as_ref()
            .and_then(|v| {
                v.get("objects")
                    .and_then(|o| o.as_array())
                    .map(|a| serde_json::json!({ "objects": a.len() }))
            })
            .unwrap_or(Value::Null),
    });
    let plan: Option<Value> = ws
        .exists(files::PLAN)
        .then(|| ws.read_json(files::PLAN))
        .transpose()?;
    artifacts.push(Artifact {
        name: "plan".into(),
        file: files::PLAN.into(),
        present: plan.is_some(),
        summary: plan
            .as_ref()
            .map(|v| {
                serde_json::json!({
                    "waves": v.get("waves").and_then(|w| w.as_array()).map(|a| a.len()).unwrap_or(0),
                    "held_back": v.get("held_back").and_then(|w| w.as_array()).map(|a| a.len()).unwrap_or(0),
                })
            })
            .unwrap_or(Value::Null),
    });
    let journal_lines = if ws.exists(files::JOURNAL) {
        let text = std::fs::read_to_string(ws.path(files::JOURNAL)).map_err(|e| {
            Error::input(
                "workspace.unreadable",
                format!("cannot read {}: {e}", ws.path(files::JOURNAL).display()),
            )
        })?;
        Some(text.lines().filter(|l| !l.trim().is_empty()).count())
    } else {
        None
    };
    artifacts.push(Artifact {
        name: "journal".into(),
        file: files::JOURNAL.into(),
        present: journal_lines.is_some(),
        summary: journal_lines
            .map(|n| serde_json::json!({ "entries": n }))
            .unwrap_or(Value::Null),
    });
    Ok(StatusResult {
        workspace: ws.root().display().to_string(),
        format_version: crate::workspace::FORMAT_VERSION,
        artifacts,
    })
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Directory to write the report into (default: `<workspace>/report`).
    #[serde(default)]
    pub out: Option<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ReportResult {}

impl CommandOutput for ReportResult {}

pub fn run(_p: ReportParams, _ctx: &mut Ctx) -> Result<ReportResult> {
    Err(Error::input("report.not_available", "the HTML/CSV migration report is not built yet; the workspace's readiness.csv, intune/ and plan.xlsx hold the same data"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_aligns_columns() {
        let t = super::table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\n---  --\nxxx  y\n");
    }
}
