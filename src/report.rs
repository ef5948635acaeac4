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
    let import = read_optional(&ws, files::IMPORT_REPORT)?;
    artifacts.push(Artifact {
        name: "tenant".into(),
        file: files::TENANT.into(),
        present: ws.exists(files::TENANT),
        summary: import
            .as_ref()
            .and_then(|v| v.get("totals").cloned())
            .unwrap_or(Value::Null),
    });
    let readiness = read_optional(&ws, files::READINESS)?;
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
    let manifest = read_optional(&ws, &manifest_file)?;
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
    let plan = read_optional(&ws, files::PLAN)?;
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
    let journal = crate::apply::journal_summary(&ws)?;
    artifacts.push(Artifact {
        name: "journal".into(),
        file: files::JOURNAL.into(),
        present: journal.is_some(),
        summary: journal.unwrap_or(Value::Null),
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
pub struct ReportResult {
    /// The HTML report written.
    pub html: String,
    /// Sections included (those whose artefact exists in the workspace).
    pub sections: Vec<String>,
    /// Sections skipped because their step has not run yet.
    pub missing: Vec<String>,
}

impl CommandOutput for ReportResult {
    fn human(&self) -> String {
        let mut s = format!(
            "report written to {}\nsections: {}\n",
            self.html,
            self.sections.join(", ")
        );
        if !self.missing.is_empty() {
            s.push_str(&format!(
                "not yet available (run those steps first): {}\n",
                self.missing.join(", ")
            ));
        }
        s
    }
}

/// HTML-escapes text; the report shows admins' data verbatim and must never execute it.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// An HTML table of an array of objects, columns in first-seen key order (or the given ones).
fn html_table(rows: &[Value], columns: Option<&[&str]>) -> String {
    let cols: Vec<String> = match columns {
        Some(c) => c.iter().map(|s| s.to_string()).collect(),
        None => {
            let mut cols: Vec<String> = Vec::new();
            for r in rows {
                if let Some(o) = r.as_object() {
                    for k in o.keys() {
                        if !cols.contains(k) {
                            cols.push(k.clone());
                        }
                    }
                }
            }
            cols
        }
    };
    let mut s = String::from("<table><thead><tr>");
    for c in &cols {
        s.push_str(&format!("<th>{}</th>", esc(c)));
    }
    s.push_str("</tr></thead><tbody>\n");
    for r in rows {
        s.push_str("<tr>");
        for c in &cols {
            s.push_str(&format!("<td>{}</td>", esc(&cell(&r[c.as_str()]))));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
    s
}

fn read_optional(ws: &Workspace, rel: &str) -> Result<Option<Value>> {
    if ws.exists(rel) {
        ws.read_json(rel).map(Some)
    } else {
        Ok(None)
    }
}

pub fn run(p: ReportParams, ctx: &mut Ctx) -> Result<ReportResult> {
    let ws = Workspace::open(p.workspace.as_deref(), false)?;
    let mut sections = Vec::new();
    let mut missing = Vec::new();
    let mut body = String::new();

    match read_optional(&ws, files::IMPORT_REPORT)? {
        Some(v) => {
            sections.push("import".to_string());
            body.push_str("<h2>Imported data</h2>\n");
            let totals = v.get("totals").cloned().unwrap_or(Value::Null);
            if let Some(o) = totals.as_object() {
                let rows: Vec<Value> = o
                    .iter()
                    .map(|(k, n)| serde_json::json!({ "entity": k, "count": n }))
                    .collect();
                body.push_str(&html_table(&rows, Some(&["entity", "count"])));
            }
            let files_rows = v
                .get("files")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default();
            body.push_str(&html_table(
                &files_rows,
                Some(&["path", "sheet", "kind", "rows_read", "kept", "rejected"]),
            ));
        }
        None => missing.push("import".to_string()),
    }
    match read_optional(&ws, files::READINESS)? {
        Some(v) => {
            sections.push("readiness".to_string());
            let sum = &v["summary"];
            body.push_str(&format!(
                "<h2>Readiness</h2>\n<p class=\"counts\"><span class=\"blocker\">{} blockers</span> <span class=\"warning\">{} warnings</span> <span class=\"info\">{} info</span>; Intune seats available {}, needed {}, shortfall {}</p>\n",
                esc(&cell(&sum["blocker"])),
                esc(&cell(&sum["warning"])),
                esc(&cell(&sum["info"])),
                esc(&cell(&sum["seats"]["available"])),
                esc(&cell(&sum["seats"]["needed"])),
                esc(&cell(&sum["seats"]["shortfall"])),
            ));
            let findings = v
                .get("findings")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default();
            body.push_str(&html_table(
                &findings,
                Some(&["severity", "code", "message", "objects", "remedy"]),
            ));
        }
        None => missing.push("readiness".to_string()),
    }
    let manifest_file = format!("{}/manifest.json", files::INTUNE_DIR);
    match read_optional(&ws, &manifest_file)? {
        Some(v) => {
            sections.push("policies".to_string());
            body.push_str("<h2>Intune policies to create</h2>\n");
            let objects = v
                .get("objects")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default();
            body.push_str(&html_table(
                &objects,
                Some(&[
                    "displayName",
                    "odataType",
                    "api",
                    "sourcePolicy",
                    "recommendedGroups",
                ]),
            ));
            let mapping_file = format!("{}/mapping-report.json", files::INTUNE_DIR);
            if let Some(m) = read_optional(&ws, &mapping_file)? {
                let rows = m
                    .get("rows")
                    .and_then(|r| r.as_array())
                    .or_else(|| m.as_array())
                    .cloned()
                    .unwrap_or_default();
                body.push_str("<h3>Setting by setting</h3>\n");
                body.push_str(&html_table(&rows, None));
            }
        }
        None => missing.push("policies".to_string()),
    }
    match read_optional(&ws, files::PLAN)? {
        Some(v) => {
            sections.push("plan".to_string());
            body.push_str("<h2>Wave plan</h2>\n");
            let waves: Vec<Value> = v
                .get("waves")
                .and_then(|w| w.as_array())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|w| {
                    let users = w.get("users").and_then(|u| u.as_array()).map(|a| a.len()).unwrap_or(0);
                    serde_json::json!({
                        "wave": w["number"], "pilot": w["pilot"], "date": w["date"], "group": w["group"],
                        "users": users, "devices": w["devices"],
                    })
                })
                .collect();
            body.push_str(&html_table(
                &waves,
                Some(&["wave", "pilot", "date", "group", "users", "devices"]),
            ));
            let held = v
                .get("held_back")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default();
            if !held.is_empty() {
                body.push_str("<h3>Held back</h3>\n");
                body.push_str(&html_table(&held, Some(&["upn", "code", "reason"])));
            }
        }
        None => missing.push("plan".to_string()),
    }
    if sections.is_empty() {
        return Err(Error::input(
            "report.empty_workspace",
            format!(
                "workspace {} holds nothing to report yet; run `bms2intune import` first",
                ws.root().display()
            ),
        ));
    }
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bms2intune migration report</title>\n<style>body{{font-family:Segoe UI,Arial,sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}th{{background:#f0f0f0}}.blocker{{color:#b00020}}.warning{{color:#a06000}}</style></head>\n<body><h1>BMS to Intune migration report</h1>\n<p>Workspace: {}</p>\n{}</body></html>\n",
        esc(&ws.root().display().to_string()),
        body
    );
    let rel = match &p.out {
        Some(dir) => {
            let path = std::path::Path::new(dir).join("report.html");
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::input("report.write_failed", format!("cannot create {dir}: {e}"))
            })?;
            let tmp = path.with_extension("html.tmp");
            std::fs::write(&tmp, html.as_bytes())
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| {
                    Error::input(
                        "report.write_failed",
                        format!("cannot write {}: {e}", path.display()),
                    )
                })?;
            path
        }
        None => ws.write_bytes("report/report.html", html.as_bytes())?,
    };
    ctx.info(
        "report.written",
        &format!("report written to {}", rel.display()),
    );
    Ok(ReportResult {
        html: rel.display().to_string(),
        sections,
        missing,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_aligns_columns() {
        let t = super::table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\n---  --\nxxx  y\n");
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;
    use crate::protocol::{EventSink, Level};

    struct Quiet;
    impl EventSink for Quiet {
        fn progress(&mut self, _: &str, _: u64, _: u64) {}
        fn log(&mut self, _: Level, _: &str, _: &str) {}
    }

    #[test]
    fn report_escapes_admin_data_and_lists_missing_steps() {
        let dir = std::env::temp_dir().join(format!("bms2intune-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ws = Workspace::open(Some(dir.to_str().unwrap()), true).unwrap();
        ws.write_json(
            files::READINESS,
            &serde_json::json!({"summary":{"blocker":1,"warning":0,"info":0,"seats":{"available":1,"needed":2,"shortfall":1}},
              "findings":[{"code":"seats.short","severity":"blocker","message":"<script>x</script>","objects":["a@x"],"remedy":"buy"}]}),
        )
        .unwrap();
        let mut q = Quiet;
        let mut ctx = Ctx { events: &mut q };
        let r = run(
            ReportParams {
                workspace: Some(dir.to_str().unwrap().into()),
                out: None,
            },
            &mut ctx,
        )
        .unwrap();
        assert_eq!(r.sections, vec!["readiness"]);
        assert_eq!(r.missing, vec!["import", "policies", "plan"]);
        let html = std::fs::read_to_string(&r.html).unwrap();
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>x"));
        assert!(html.contains("1 blockers"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn empty_workspace_is_a_clear_error() {
        let dir =
            std::env::temp_dir().join(format!("bms2intune-report-empty-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Workspace::open(Some(dir.to_str().unwrap()), true).unwrap();
        let mut q = Quiet;
        let mut ctx = Ctx { events: &mut q };
        let e = run(
            ReportParams {
                workspace: Some(dir.to_str().unwrap().into()),
                out: None,
            },
            &mut ctx,
        )
        .unwrap_err();
        assert_eq!(e.code, "report.empty_workspace");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
