//! Writing the converted policies into the workspace: bodies, assignment bodies, the manifest
//! and the mapping report (JSON + CSV). Everything sorted, so two runs give identical bytes.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};

use super::convert::{IntuneObject, MappingRow};
use super::mapping::Target;
use crate::error::{Error, Result};
use crate::workspace::{files, Workspace};

/// A group as the manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct GroupRef {
    pub id: String,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}

/// One object ready to write, with where its files go.
#[derive(Debug, Clone)]
pub struct Planned {
    pub object: IntuneObject,
    pub source_policy: String,
    pub source_kind: String,
    pub source_enabled: bool,
    pub file: String,
    pub assign_file: Option<String>,
    pub pilot_assign_file: Option<String>,
    pub include: Vec<GroupRef>,
    pub exclude: Vec<GroupRef>,
    pub test: Vec<GroupRef>,
}

pub fn category_dir(t: Target) -> &'static str {
    match t {
        Target::Compliance => "compliance",
        _ => "configuration",
    }
}

/// A file-name-safe stem: letters, digits, `-`, `_`, `.`; everything else becomes `_`.
pub fn file_stem(display_name: &str) -> String {
    let s: String = display_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('.').to_string();
    if s.is_empty() {
        "policy".into()
    } else {
        s
    }
}

/// Gives each object a unique file name (`-2`, `-3` on collisions, in input order).
pub fn assign_files(objects: &mut [Planned]) {
    let mut used: BTreeSet<String> = BTreeSet::new();
    for p in objects.iter_mut() {
        let dir = category_dir(p.object.target);
        let stem = file_stem(&p.object.display_name);
        let mut candidate = stem.clone();
        let mut n = 2;
        while used.contains(&format!("{dir}/{}", candidate.to_lowercase())) {
            candidate = format!("{stem}-{n}");
            n += 1;
        }
        used.insert(format!("{dir}/{}", candidate.to_lowercase()));
        p.file = format!("{dir}/{candidate}.json");
        if !p.include.is_empty() {
            p.assign_file = Some(format!("assignments/{dir}-{candidate}.json"));
        }
        if !p.test.is_empty() {
            p.pilot_assign_file = Some(format!("assignments/{dir}-{candidate}.pilot.json"));
        }
    }
}

/// The `assign` action body: include targets, then the tenant-wide exclusions.
pub fn assignment_body(include: &[GroupRef], exclude: &[GroupRef]) -> Value {
    let mut list = Vec::new();
    for g in include {
        list.push(json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": g.id}}));
    }
    for g in exclude {
        list.push(json!({"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": g.id}}));
    }
    json!({ "assignments": list })
}

fn rel(name: &str) -> String {
    format!("{}/{name}", files::INTUNE_DIR)
}

/// Removes the JSON files a previous run left in the output folders, so the folders hold exactly
/// what the manifest lists.
fn clear_previous(ws: &Workspace) -> Result<()> {
    for dir in ["compliance", "configuration", "assignments"] {
        let path = ws.path(&rel(dir));
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                std::fs::remove_file(&p).map_err(|err| {
                    Error::input(
                        "workspace.write_failed",
                        format!("cannot remove stale {}: {err}", p.display()),
                    )
                    .with_detail(json!({"file": p.display().to_string()}))
                })?;
            }
        }
    }
    Ok(())
}

pub const CSV_COLUMNS: &[&str] = &[
    "policy",
    "policy_kind",
    "platform",
    "setting",
    "label",
    "source_value",
    "intune_type",
    "property",
    "value",
    "status",
    "rule",
    "loss",
    "inferred",
];

pub fn report_csv(rows: &[MappingRow]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::internal("policy.csv", e.to_string());
    w.write_record(CSV_COLUMNS).map_err(err)?;
    for r in rows {
        let value = match &r.value {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        w.write_record([
            r.policy.as_str(),
            r.policy_kind.as_str(),
            r.platform.as_str(),
            r.setting.as_str(),
            r.label.as_str(),
            r.source_value.as_str(),
            r.intune_type.as_deref().unwrap_or(""),
            r.property.as_deref().unwrap_or(""),
            value.as_str(),
            r.status.as_str(),
            r.rule.as_str(),
            if r.loss { "true" } else { "false" },
            if r.inferred { "true" } else { "false" },
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::internal("policy.csv", e.to_string()))
}

pub struct Written {
    pub manifest: String,
    pub report_json: String,
    pub report_csv: String,
    pub assignment_files: usize,
}

/// Writes every artefact. `objects` must already carry their file names.
pub fn write_all(
    ws: &Workspace,
    objects: &[Planned],
    rows: &[MappingRow],
    manifest_head: Value,
    summary: Value,
) -> Result<Written> {
    clear_previous(ws)?;
    let mut assignment_files = 0;
    let mut entries = Vec::new();
    for p in objects {
        ws.write_json(&rel(&p.file), &p.object.body)?;
        if let Some(f) = &p.assign_file {
            ws.write_json(&rel(f), &assignment_body(&p.include, &p.exclude))?;
            assignment_files += 1;
        }
        if let Some(f) = &p.pilot_assign_file {
            ws.write_json(&rel(f), &assignment_body(&p.test, &p.exclude))?;
            assignment_files += 1;
        }
        entries.push(json!({
            "file": p.file,
            "api": p.object.api,
            "method": "POST",
            "path": p.object.path,
            "displayName": p.object.display_name,
            "odataType": p.object.odata_type,
            "platform": p.object.report_platform,
            "category": match p.object.target { Target::Compliance => "compliance", Target::Email => "email", _ => "configuration" },
            "sourcePolicy": p.source_policy,
            "sourcePolicyKind": p.source_kind,
            "sourcePolicyEnabled": p.source_enabled,
            "assignFile": p.assign_file,
            "pilotAssignFile": p.pilot_assign_file,
            "recommendedGroups": p.include,
            "excludedGroups": p.exclude,
            "testGroups": p.test,
        }));
    }
    entries.sort_by(|a, b| a["file"].as_str().cmp(&b["file"].as_str()));
    let mut manifest = manifest_head;
    if let Value::Object(m) = &mut manifest {
        m.insert("objects".into(), Value::Array(entries));
    }
    let manifest_rel = rel("manifest.json");
    ws.write_json(&manifest_rel, &super::convert::sort_keys(manifest))?;
    let report_json_rel = rel("mapping-report.json");
    ws.write_json(
        &report_json_rel,
        &super::convert::sort_keys(
            json!({"bms2intune": "mapping-report", "version": 1, "summary": summary, "rows": rows}),
        ),
    )?;
    let report_csv_rel = rel("mapping-report.csv");
    ws.write_bytes(&report_csv_rel, &report_csv(rows)?)?;
    Ok(Written {
        manifest: manifest_rel,
        report_json: report_json_rel,
        report_csv: report_csv_rel,
        assignment_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::convert::IntuneObject;

    fn planned(target: Target, name: &str, groups: usize) -> Planned {
        Planned {
            object: IntuneObject {
                target,
                platform: "ios".into(),
                report_platform: "ios".into(),
                odata_type: "#microsoft.graph.iosCompliancePolicy".into(),
                api: "v1.0".into(),
                path: "/deviceManagement/deviceCompliancePolicies".into(),
                display_name: name.into(),
                body: json!({}),
            },
            source_policy: "P".into(),
            source_kind: "block".into(),
            source_enabled: true,
            file: String::new(),
            assign_file: None,
            pilot_assign_file: None,
            include: (0..groups)
                .map(|i| GroupRef {
                    id: format!("g{i}"),
                    display_name: None,
                })
                .collect(),
            exclude: vec![],
            test: vec![],
        }
    }

    #[test]
    fn file_names_are_safe_and_unique_per_folder() {
        assert_eq!(file_stem("Secure Email_O365_i"), "Secure_Email_O365_i");
        assert_eq!(file_stem("a/b\\c:d*?"), "a_b_c_d__");
        assert_eq!(file_stem(".."), "policy");
        let mut v = vec![
            planned(Target::Compliance, "A b", 1),
            planned(Target::Compliance, "A/b", 0),
            planned(Target::Configuration, "A b", 1),
            planned(Target::Compliance, "a B", 1),
        ];
        assign_files(&mut v);
        let files: Vec<_> = v.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "compliance/A_b.json",
                "compliance/A_b-2.json",
                "configuration/A_b.json",
                "compliance/a_B-3.json"
            ]
        );
        assert_eq!(
            v[0].assign_file.as_deref(),
            Some("assignments/compliance-A_b.json")
        );
        assert_eq!(v[1].assign_file, None, "no groups, no assignment file");
        assert_eq!(
            v[0].pilot_assign_file, None,
            "no test groups, no pilot file"
        );
    }

    #[test]
    fn assignment_body_includes_then_excludes() {
        let g = |id: &str| GroupRef {
            id: id.into(),
            display_name: None,
        };
        let b = assignment_body(&[g("a")], &[g("x")]);
        assert_eq!(
            b["assignments"][0]["target"]["@odata.type"],
            "#microsoft.graph.groupAssignmentTarget"
        );
        assert_eq!(
            b["assignments"][1]["target"]["@odata.type"],
            "#microsoft.graph.exclusionGroupAssignmentTarget"
        );
        assert_eq!(b["assignments"][1]["target"]["groupId"], "x");
    }
}
