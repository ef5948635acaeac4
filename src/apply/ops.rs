//! From the workspace artefacts (intune/manifest.json and its bodies, plan.json, tenant.json) to
//! the exact list of Graph operations a step performs, each with a stable journal key. Pure apart
//! from reading those files; no network. The dry run prints this list as it is.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::workspace::{files, Workspace};

pub const MANIFEST: &str = "intune/manifest.json";

/// The steps `apply --step` runs, in the order an admin runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Create every object of intune/manifest.json (unassigned).
    Policies,
    /// Assign the created objects to the pilot (test) group.
    AssignPilot,
    /// The policy gate: assign the created objects to their recommended groups.
    Assign,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Policies => "policies",
            Step::AssignPilot => "assign-pilot",
            Step::Assign => "assign",
        }
    }
}

/// What an operation does, with everything needed to do it.
#[derive(Debug, Clone)]
pub enum Action {
    /// Find an Intune object by display name in `collection`, else POST `body` there.
    CreateObject {
        collection: String,
        display_name: String,
        odata_type: String,
        body: Value,
    },
    /// POST `{collection}/{id}/assign` with `body` (the complete assignment list; Graph replaces
    /// the existing set). `create_op` gives the object id; `group_targets` are group names whose
    /// ids are resolved at run time and added as include targets (`required` = fail if missing).
    Assign {
        create_op: String,
        collection: String,
        display_name: String,
        body: Value,
        group_targets: Vec<GroupTarget>,
    },
    /// Find a security group by display name, else create it.
    EnsureGroup {
        name: String,
        mail_nickname: String,
        description: String,
    },
    /// Add users (by UPN) to the group of `group_op`, skipping those already members.
    AddMembers {
        group_op: String,
        group_name: String,
        upns: Vec<String>,
    },
    /// Group-based licensing of the group of `group_op` with the SKU.
    AssignLicense {
        group_op: String,
        group_name: String,
        sku_part_number: String,
        users: usize,
    },
}

#[derive(Debug, Clone)]
pub struct GroupTarget {
    pub name: String,
    /// The journal key of the operation that creates the group.
    pub group_op: String,
    pub required: bool,
}

/// One Graph operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Stable key in the journal.
    pub key: String,
    pub method: &'static str,
    /// Path under the Graph root; `{...}` marks ids resolved at run time.
    pub path: String,
    /// Short description of the body.
    pub summary: String,
    pub action: Action,
}

/// One object of intune/manifest.json (the convert step's output; extra fields are ignored).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestObject {
    pub file: String,
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    pub display_name: String,
    #[serde(default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub assign_file: Option<String>,
    /// `false` when the BMS policy was disabled: the object is created but not assigned.
    #[serde(default)]
    pub source_policy_enabled: Option<bool>,
    #[serde(default)]
    pub source_policy: Option<String>,
    /// Optional ready-made assignment body for the pilot; without it the pilot wave's group is used.
    #[serde(default, alias = "testAssignFile")]
    pub pilot_assign_file: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub objects: Vec<ManifestObject>,
}

/// The parts of plan.json that apply reads (the planner writes more).
#[derive(Debug, Clone, Deserialize)]
pub struct PlanFile {
    pub waves: Vec<PlanWave>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlanWave {
    pub number: u32,
    #[serde(default)]
    pub pilot: bool,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    /// UPNs, or objects with a `upn` field.
    #[serde(default)]
    pub users: Vec<Value>,
}

impl PlanWave {
    pub fn group_name(&self) -> String {
        self.group
            .clone()
            .filter(|g| !g.trim().is_empty())
            .unwrap_or_else(|| format!("BMS2Intune Wave {:02}", self.number))
    }

    /// Lower-cased, sorted, de-duplicated UPNs.
    pub fn upns(&self) -> Result<Vec<String>> {
        let mut out = BTreeSet::new();
        for (i, u) in self.users.iter().enumerate() {
            let upn = match u {
                Value::String(s) => Some(s.as_str()),
                Value::Object(m) => m.get("upn").and_then(|v| v.as_str()),
                _ => None,
            };
            match upn.map(str::trim).filter(|s| s.contains('@')) {
                Some(s) => {
                    out.insert(s.to_lowercase());
                }
                None => {
                    return Err(Error::input(
                        "apply.plan.bad_user",
                        format!("plan.json wave {} user #{} is not a UPN ({u}); fix or regenerate the plan", self.number, i + 1),
                    )
                    .with_detail(json!({ "file": files::PLAN, "path": format!("waves[{}].users[{i}]", self.number) })))
                }
            }
        }
        Ok(out.into_iter().collect())
    }
}

pub fn load_manifest(ws: &Workspace) -> Result<Manifest> {
    let v: Value = ws.read_json(MANIFEST)?;
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(v, &mut track);
    Manifest::deserialize(de).map_err(|e| {
        let at = track.path().to_string();
        Error::input(
            "apply.manifest.invalid",
            format!("{MANIFEST}: {at}: {e}; regenerate it with `bms2intune convert`"),
        )
        .with_detail(json!({ "file": MANIFEST, "path": at }))
    })
}

pub fn load_plan(ws: &Workspace) -> Result<PlanFile> {
    let v: Value = ws.read_json(files::PLAN)?;
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(v, &mut track);
    PlanFile::deserialize(de).map_err(|e| {
        let at = track.path().to_string();
        Error::input(
            "apply.plan.invalid",
            format!(
                "{}: {at}: {e}; regenerate it with `bms2intune plan`",
                files::PLAN
            ),
        )
        .with_detail(json!({ "file": files::PLAN, "path": at }))
    })
}

fn manifest_error(i: usize, field: &str, msg: String) -> Error {
    Error::input(
        "apply.manifest.invalid",
        format!("{MANIFEST} objects[{i}].{field}: {msg}"),
    )
    .with_detail(json!({ "file": MANIFEST, "path": format!("objects[{i}].{field}") }))
}

/// A file named by the manifest, relative to `intune/` (or to the workspace when it starts with
/// `intune/`); absolute paths and `..` are refused.
fn artefact_path(i: usize, field: &str, file: &str) -> Result<String> {
    let f = file.replace('\\', "/");
    if f.starts_with('/') || f.contains(':') || f.split('/').any(|s| s == "..") || f.is_empty() {
        return Err(manifest_error(
            i,
            field,
            format!("{file:?} must be a relative path inside the workspace's intune folder"),
        ));
    }
    Ok(if f.starts_with("intune/") {
        f
    } else {
        format!("{}/{f}", files::INTUNE_DIR)
    })
}

/// `(api, collection path)` e.g. `("beta", "/beta/deviceManagement/deviceConfigurations")`.
fn collection_of(i: usize, o: &ManifestObject) -> Result<String> {
    let mut p = o.path.trim().to_string();
    for prefix in ["https://graph.microsoft.com", "http://graph.microsoft.com"] {
        if let Some(r) = p.strip_prefix(prefix) {
            p = r.to_string();
        }
    }
    let mut api = o.api.clone().unwrap_or_else(|| "v1.0".into());
    for v in ["v1.0", "beta"] {
        if let Some(r) = p.strip_prefix(&format!("/{v}/")) {
            api = v.into();
            p = format!("/{r}");
        }
    }
    if !p.starts_with('/') {
        p = format!("/{p}");
    }
    let p = p.trim_end_matches('/');
    if api != "v1.0" && api != "beta" {
        return Err(manifest_error(
            i,
            "api",
            format!("{api:?} is not v1.0 or beta"),
        ));
    }
    if let Some(m) = &o.method {
        if !m.eq_ignore_ascii_case("POST") {
            return Err(manifest_error(
                i,
                "method",
                format!("{m:?}: only POST (create) is applied"),
            ));
        }
    }
    let coll = ["/deviceManagement/deviceCompliancePolicies", "/deviceManagement/deviceConfigurations"]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(p))
        .ok_or_else(|| {
            manifest_error(
                i,
                "path",
                format!("{:?} is not a collection apply creates objects in (deviceManagement/deviceCompliancePolicies or deviceManagement/deviceConfigurations)", o.path),
            )
        })?;
    Ok(format!("/{api}{coll}"))
}

fn assign_key(step: Step, o: &ManifestObject) -> String {
    format!(
        "{}:{}",
        step.as_str(),
        o.file.replace('\\', "/").trim_start_matches("intune/")
    )
}

fn create_key(o: &ManifestObject) -> String {
    format!(
        "policies:{}",
        o.file.replace('\\', "/").trim_start_matches("intune/")
    )
}

/// Step `policies`: one create per manifest object, bodies read and checked.
pub fn policies(ws: &Workspace, m: &Manifest) -> Result<Vec<Operation>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, o) in m.objects.iter().enumerate() {
        let collection = collection_of(i, o)?;
        let file = artefact_path(i, "file", &o.file)?;
        let body: Value = ws.read_json(&file)?;
        let Value::Object(obj) = &body else {
            return Err(Error::input(
                "apply.body.invalid",
                format!("{file} must hold a JSON object (the POST body)"),
            )
            .with_detail(json!({ "file": file })));
        };
        for k in ["id", "createdDateTime", "lastModifiedDateTime", "version"] {
            if obj.contains_key(k) {
                return Err(Error::input(
                    "apply.body.invalid",
                    format!("{file} has {k:?}, which Graph sets itself; remove it or regenerate with `bms2intune convert`"),
                )
                .with_detail(json!({ "file": file, "path": k })));
            }
        }
        let odata_type = obj
            .get("@odata.type")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if odata_type.is_empty() {
            return Err(Error::input(
                "apply.body.invalid",
                format!("{file} has no \"@odata.type\"; Graph needs it to know the platform"),
            )
            .with_detail(json!({ "file": file, "path": "@odata.type" })));
        }
        let body_name = obj
            .get("displayName")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if body_name != o.display_name {
            return Err(Error::input(
                "apply.manifest.mismatch",
                format!("{file} displayName {body_name:?} differs from the manifest's {:?}; regenerate with `bms2intune convert`", o.display_name),
            )
            .with_detail(json!({ "file": file, "path": "displayName" })));
        }
        let coll_kind = collection.rsplit('/').next().unwrap_or("").to_string();
        if !seen.insert((coll_kind, o.display_name.to_lowercase())) {
            return Err(manifest_error(
                i,
                "displayName",
                format!("{:?} appears twice; apply finds existing objects by display name, so names must be unique", o.display_name),
            ));
        }
        out.push(Operation {
            key: create_key(o),
            method: "POST",
            path: collection.clone(),
            summary: format!(
                "create {} {:?} (skipped if an object of that name exists)",
                odata_type.trim_start_matches("#microsoft.graph."),
                o.display_name
            ),
            action: Action::CreateObject {
                collection,
                display_name: o.display_name.clone(),
                odata_type: odata_type.trim_start_matches('#').to_string(),
                body,
            },
        });
    }
    Ok(out)
}

fn read_assignments(ws: &Workspace, i: usize, field: &str, file: &str) -> Result<Vec<Value>> {
    let path = artefact_path(i, field, file)?;
    let v: Value = ws.read_json(&path)?;
    let list = v
        .get("assignments")
        .and_then(|a| a.as_array())
        .cloned()
        .ok_or_else(|| {
            Error::input(
                "apply.body.invalid",
                format!("{path} must be {{\"assignments\":[...]}}, the body of the assign action"),
            )
            .with_detail(json!({ "file": path }))
        })?;
    for (k, a) in list.iter().enumerate() {
        if a["target"]["@odata.type"].as_str().is_none() {
            return Err(Error::input(
                "apply.body.invalid",
                format!("{path} assignments[{k}] has no target.@odata.type"),
            )
            .with_detail(json!({ "file": path, "path": format!("assignments[{k}].target") })));
        }
    }
    Ok(list)
}

fn is_exclusion(a: &Value) -> bool {
    a["target"]["@odata.type"]
        .as_str()
        .is_some_and(|t| t.ends_with("exclusionGroupAssignmentTarget"))
}

/// The pilot wave of the plan (the first wave marked `pilot`), if any.
pub fn pilot_wave(plan: &PlanFile) -> Option<&PlanWave> {
    plan.waves
        .iter()
        .filter(|w| w.pilot)
        .min_by_key(|w| w.number)
}

pub fn group_op_key(wave: u32) -> String {
    format!("wave:{wave}:group")
}

fn ensure_group_op(w: &PlanWave) -> Operation {
    let name = w.group_name();
    Operation {
        key: group_op_key(w.number),
        method: "POST",
        path: "/v1.0/groups".into(),
        summary: format!("create security group {name:?} (skipped if a group of that name exists)"),
        action: Action::EnsureGroup {
            mail_nickname: mail_nickname(&name),
            description: format!(
                "bms2intune migration wave {}{}: members get the Intune license",
                w.number,
                if w.pilot { " (pilot)" } else { "" }
            ),
            name,
        },
    }
}

/// Steps `assign-pilot` and `assign`.
/// Why an object is left out of an assign step (`None`: it is assigned).
fn not_assigned(o: &ManifestObject, pilot: bool) -> Option<String> {
    if o.source_policy_enabled == Some(false) {
        return Some(format!(
            "{:?} is not assigned: its BMS policy {:?} is disabled, so assigning it would enforce what BMS did not (it was created; assign it in Intune if you want it)",
            o.display_name,
            o.source_policy.as_deref().unwrap_or("")
        ));
    }
    if !pilot && o.assign_file.is_none() {
        return Some(format!(
            "{:?} is not assigned: convert found no group it can be assigned to (see convert.group.unresolved in the mapping report); assign it in Intune by hand",
            o.display_name
        ));
    }
    None
}

/// Steps `assign-pilot` and `assign`: the operations, and notes on objects left out.
pub fn assign(
    ws: &Workspace,
    m: &Manifest,
    plan: Option<&PlanFile>,
    pilot: bool,
) -> Result<(Vec<Operation>, Vec<String>)> {
    let step = if pilot {
        Step::AssignPilot
    } else {
        Step::Assign
    };
    let pw = plan.and_then(pilot_wave);
    let mut out = Vec::new();
    if pilot {
        match pw {
            Some(w) => out.push(ensure_group_op(w)),
            None if m.objects.iter().all(|o| o.pilot_assign_file.is_some()) => {}
            None => {
                return Err(Error::input(
                    "apply.pilot.none",
                    "plan.json has no pilot wave to assign the policies to; plan with --pilot-group, or skip --step assign-pilot",
                ))
            }
        }
    }
    let mut notes = Vec::new();
    for (i, o) in m.objects.iter().enumerate() {
        let collection = collection_of(i, o)?;
        if let Some(n) = not_assigned(o, pilot) {
            notes.push(n);
            continue;
        }
        let mut group_targets = Vec::new();
        let assignments = if pilot {
            if let Some(f) = &o.pilot_assign_file {
                read_assignments(ws, i, "pilotAssignFile", f)?
            } else {
                // The pilot group as include target; keep the tenant-wide exclusions.
                let excl = match &o.assign_file {
                    Some(f) => read_assignments(ws, i, "assignFile", f)?
                        .into_iter()
                        .filter(is_exclusion)
                        .collect(),
                    None => Vec::new(),
                };
                if let Some(w) = pw {
                    group_targets.push(GroupTarget {
                        name: w.group_name(),
                        group_op: group_op_key(w.number),
                        required: true,
                    });
                }
                excl
            }
        } else {
            let Some(f) = &o.assign_file else {
                continue;
            };
            let list = read_assignments(ws, i, "assignFile", f)?;
            // Assign replaces the whole set: keep the pilot group so pilot users keep their policies.
            if let Some(w) = pw {
                group_targets.push(GroupTarget {
                    name: w.group_name(),
                    group_op: group_op_key(w.number),
                    required: false,
                });
            }
            list
        };
        let from_file = assignments.iter().filter(|a| !is_exclusion(a)).count();
        let excludes = assignments.iter().filter(|a| is_exclusion(a)).count();
        if from_file == 0 && !group_targets.iter().any(|g| g.required) {
            return Err(Error::input(
                "apply.body.invalid",
                format!(
                    "the assignment file of {:?} includes no group, so assigning it would reach nobody; regenerate it with `bms2intune convert` or add the groups",
                    o.display_name
                ),
            )
            .with_detail(json!({ "file": MANIFEST, "path": format!("objects[{i}]") })));
        }
        let mut targets = Vec::new();
        if from_file > 0 {
            targets.push(format!(
                "{from_file} {} group(s)",
                if pilot { "pilot" } else { "recommended" }
            ));
        }
        for g in &group_targets {
            targets.push(format!(
                "{:?}{}",
                g.name,
                if g.required { "" } else { " (if it exists)" }
            ));
        }
        let mut summary = format!("assign {:?} to {}", o.display_name, targets.join(" + "));
        if excludes > 0 {
            summary.push_str(&format!(", excluding {excludes} group(s)"));
        }
        out.push(Operation {
            key: assign_key(step, o),
            method: "POST",
            path: format!("{collection}/{{id of {:?}}}/assign", o.display_name),
            summary,
            action: Action::Assign {
                create_op: create_key(o),
                collection,
                display_name: o.display_name.clone(),
                body: json!({ "assignments": assignments }),
                group_targets,
            },
        });
    }
    Ok((out, notes))
}

/// Journal keys of the `assign-pilot` or `assign` step (what the wave gates check), without
/// reading the assignment files.
pub fn assign_keys(m: &Manifest, plan: Option<&PlanFile>, pilot: bool) -> Vec<String> {
    let step = if pilot {
        Step::AssignPilot
    } else {
        Step::Assign
    };
    let mut keys = Vec::new();
    if pilot {
        if let Some(w) = plan.and_then(pilot_wave) {
            keys.push(group_op_key(w.number));
        }
    }
    for o in m
        .objects
        .iter()
        .filter(|o| not_assigned(o, pilot).is_none())
    {
        keys.push(assign_key(step, o));
    }
    keys
}

/// A wave: find or create its group, add its users in batches of 20, license the group.
pub fn wave(w: &PlanWave, sku_part_number: &str) -> Result<Vec<Operation>> {
    let name = w.group_name();
    let upns = w.upns()?;
    let mut out = vec![ensure_group_op(w)];
    for (k, chunk) in upns.chunks(20).enumerate() {
        let shown: Vec<&str> = chunk.iter().take(3).map(|s| s.as_str()).collect();
        out.push(Operation {
            // The batch's content is part of the key: if the plan is edited between runs, a
            // batch whose users changed is a new operation (adding members is idempotent).
            key: format!("wave:{}:members:{}:{}", w.number, k + 1, fingerprint(chunk)),
            method: "PATCH",
            path: format!("/v1.0/groups/{{id of {name:?}}}"),
            summary: format!(
                "members@odata.bind: add {} user(s) ({}{}) not yet members",
                chunk.len(),
                shown.join(", "),
                if chunk.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            ),
            action: Action::AddMembers {
                group_op: group_op_key(w.number),
                group_name: name.clone(),
                upns: chunk.to_vec(),
            },
        });
    }
    out.push(Operation {
        key: format!("wave:{}:license", w.number),
        method: "POST",
        path: format!("/v1.0/groups/{{id of {name:?}}}/assignLicense"),
        summary: format!(
            "group-based license {sku_part_number} for {} user(s)",
            upns.len()
        ),
        action: Action::AssignLicense {
            group_op: group_op_key(w.number),
            group_name: name,
            sku_part_number: sku_part_number.to_string(),
            users: upns.len(),
        },
    });
    Ok(out)
}

/// A short, stable fingerprint of a list of UPNs (FNV-1a 64, first 8 hex digits).
fn fingerprint(upns: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for u in upns {
        for b in u.bytes().chain(std::iter::once(b'\n')) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:08x}", h >> 32)
}

/// A mailNickname Graph accepts: ASCII letters, digits and `-`, at most 64 characters.
pub fn mail_nickname(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-');
    let s: String = s.chars().take(64).collect();
    if s.is_empty() {
        "bms2intune-wave".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_are_graph_safe() {
        assert_eq!(mail_nickname("BMS2Intune Wave 03"), "bms2intune-wave-03");
        assert_eq!(mail_nickname("Ünïcode  // wave"), "n-code-wave");
        assert_eq!(mail_nickname("!!!"), "bms2intune-wave");
    }

    #[test]
    fn wave_batches_of_twenty_with_stable_keys() {
        let users: Vec<Value> = (0..45)
            .map(|i| Value::String(format!("U{i:02}@Contoso.com")))
            .collect();
        let w = PlanWave {
            number: 2,
            pilot: false,
            group: None,
            date: None,
            users,
        };
        let ops = wave(&w, "EMS").unwrap();
        assert_eq!(ops.len(), 1 + 3 + 1);
        assert_eq!(ops[0].key, "wave:2:group");
        assert!(
            ops[3].key.starts_with("wave:2:members:3:"),
            "{}",
            ops[3].key
        );
        // Same users, same key; other users, other key.
        assert_eq!(ops[3].key, wave(&w, "EMS").unwrap()[3].key);
        let mut w2 = w.clone();
        w2.users.pop();
        assert_ne!(ops[3].key, wave(&w2, "EMS").unwrap()[3].key);
        match &ops[3].action {
            Action::AddMembers { upns, .. } => assert_eq!(upns.len(), 5),
            other => panic!("{other:?}"),
        }
        match &ops[1].action {
            Action::AddMembers { upns, .. } => assert_eq!(upns[0], "u00@contoso.com"),
            other => panic!("{other:?}"),
        }
        assert_eq!(ops[4].key, "wave:2:license");
    }

    #[test]
    fn bad_user_in_plan_is_named() {
        let w = PlanWave {
            number: 1,
            pilot: false,
            group: None,
            date: None,
            users: vec![json!(5)],
        };
        assert_eq!(wave(&w, "X").unwrap_err().code, "apply.plan.bad_user");
    }

    #[test]
    fn manifest_paths_are_normalised_and_checked() {
        let o = |path: &str, api: Option<&str>| ManifestObject {
            file: "a.json".into(),
            api: api.map(|s| s.into()),
            method: Some("POST".into()),
            path: path.into(),
            display_name: "x".into(),
            odata_type: None,
            assign_file: None,
            source_policy_enabled: None,
            source_policy: None,
            pilot_assign_file: None,
        };
        assert_eq!(
            collection_of(0, &o("/deviceManagement/deviceCompliancePolicies", None)).unwrap(),
            "/v1.0/deviceManagement/deviceCompliancePolicies"
        );
        assert_eq!(
            collection_of(0, &o("deviceManagement/deviceConfigurations", Some("beta"))).unwrap(),
            "/beta/deviceManagement/deviceConfigurations"
        );
        assert_eq!(
            collection_of(
                0,
                &o(
                    "https://graph.microsoft.com/beta/deviceManagement/deviceConfigurations",
                    None
                )
            )
            .unwrap(),
            "/beta/deviceManagement/deviceConfigurations"
        );
        assert!(collection_of(0, &o("/users", None)).is_err());
        assert!(artefact_path(0, "file", "../x.json").is_err());
        assert_eq!(
            artefact_path(0, "file", "compliance/a.json").unwrap(),
            "intune/compliance/a.json"
        );
        assert_eq!(
            artefact_path(0, "file", "intune/compliance/a.json").unwrap(),
            "intune/compliance/a.json"
        );
    }
}
