//! Policy: converts BMS device security policies into Intune Graph JSON, driven by templates/policy data.
//!
//! Block (DeviceConditionalAccess) policies become compliance policies with the one block action
//! Graph requires; Allow (DeviceConfiguration) policies put the same requirements into
//! configuration profiles; configuration settings and the sign-in failures before wipe go to the
//! platform's configuration profile; email profile settings become beta-only EAS profiles. The
//! mapping report says, per setting and platform, what happened and why.

pub mod convert;
pub mod emit;
pub mod mapping;
pub mod values;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use convert::{AndroidTarget, MappingRow, Options, Status};

use crate::error::{Error, Result};
use crate::model::{BmsPolicy, Tenant};
use crate::protocol::{CommandOutput, Ctx};
use crate::workspace::Workspace;
use emit::{GroupRef, Planned};
use mapping::Target;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Android target: `device-admin` (Microsoft's migration target, the default) or
    /// `work-profile` (Android Enterprise; device administrator is unsupported on Google Mobile
    /// Services devices since 2024-12-31).
    #[serde(default)]
    pub android_target: Option<AndroidTarget>,
    /// Prefix put in front of every Intune object's display name.
    #[serde(default)]
    pub name_prefix: Option<String>,
    /// Test (pilot) groups, by display name or object id: each object also gets a pilot
    /// assignment body assigning it to these groups only.
    #[serde(default)]
    pub test_groups: Vec<String>,
}

/// One Intune object written by `convert`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConvertedObject {
    /// Path relative to the workspace's `intune/` folder.
    pub file: String,
    pub display_name: String,
    pub odata_type: String,
    /// `v1.0` or `beta`.
    pub api: String,
    pub source_policy: String,
    pub platform: String,
}

/// Something the admin should look at; nothing is dropped silently.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConvertWarning {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ConvertResult {
    /// BMS policies converted.
    pub policies: usize,
    pub compliance_policies: usize,
    pub configuration_profiles: usize,
    /// Email profiles (beta endpoint).
    pub email_profiles: usize,
    pub assignment_files: usize,
    pub objects: Vec<ConvertedObject>,
    /// Mapping-report rows per status (`exact`, `converted`, `clamped`, `manual`, `not_migrated`).
    pub status_counts: BTreeMap<String, usize>,
    /// Rows where something BMS enforced is lost or changed.
    pub rows_with_loss: usize,
    /// Those rows themselves (the admin's to-do list; the full report is in the CSV/JSON).
    pub needs_attention: Vec<MappingRow>,
    pub warnings: Vec<ConvertWarning>,
    /// Workspace-relative paths of the manifest and the mapping report.
    pub manifest: String,
    pub mapping_report_json: String,
    pub mapping_report_csv: String,
}

impl CommandOutput for ConvertResult {
    fn human(&self) -> String {
        let mut s = format!(
            "Converted {} BMS polic{} into {} compliance polic{}, {} configuration profile{} and {} email profile{} ({} assignment file{}).\n",
            self.policies,
            if self.policies == 1 { "y" } else { "ies" },
            self.compliance_policies,
            if self.compliance_policies == 1 { "y" } else { "ies" },
            self.configuration_profiles,
            if self.configuration_profiles == 1 { "" } else { "s" },
            self.email_profiles,
            if self.email_profiles == 1 { "" } else { "s" },
            self.assignment_files,
            if self.assignment_files == 1 { "" } else { "s" },
        );
        if !self.objects.is_empty() {
            let rows: Vec<Vec<String>> = self
                .objects
                .iter()
                .map(|o| {
                    vec![
                        o.display_name.clone(),
                        o.odata_type
                            .trim_start_matches("#microsoft.graph.")
                            .to_string(),
                        o.api.clone(),
                        o.file.clone(),
                    ]
                })
                .collect();
            s.push('\n');
            s.push_str(&crate::report::table(
                &["Name", "Type", "API", "File"],
                &rows,
            ));
        }
        if !self.needs_attention.is_empty() {
            const SHOWN: usize = 15;
            let rows: Vec<Vec<String>> = self
                .needs_attention
                .iter()
                .take(SHOWN)
                .map(|r| {
                    let mut rule = r.rule.clone();
                    if rule.chars().count() > 70 {
                        rule = format!("{}…", rule.chars().take(69).collect::<String>());
                    }
                    vec![
                        r.policy.clone(),
                        r.platform.clone(),
                        r.setting.clone(),
                        r.status.as_str().to_string(),
                        rule,
                    ]
                })
                .collect();
            s.push_str("\nNeeds attention:\n");
            s.push_str(&crate::report::table(
                &["Policy", "Platform", "Setting", "Status", "Rule"],
                &rows,
            ));
            if self.needs_attention.len() > SHOWN {
                s.push_str(&format!(
                    "... and {} more in the mapping report\n",
                    self.needs_attention.len() - SHOWN
                ));
            }
        }
        let counts: Vec<String> = self
            .status_counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        s.push_str(&format!(
            "\nMapping report: {} ({}; {} with loss) → {}\n",
            self.mapping_report_csv,
            counts.join(", "),
            self.rows_with_loss,
            self.manifest
        ));
        if !self.warnings.is_empty() {
            s.push_str(&format!(
                "{} warning{} (on stderr and in the --json result)\n",
                self.warnings.len(),
                if self.warnings.len() == 1 { "" } else { "s" }
            ));
        }
        s
    }
}

/// A configured BMS setting of one policy that will not carry over one-to-one to Intune
/// (used by readiness check 9 and the mapping report).
#[derive(Debug, Clone, Serialize)]
pub struct SettingCaveat {
    /// BMS policy name.
    pub policy: String,
    /// BMS setting (cmdlet parameter name), e.g. `PasswordTimeout`.
    pub setting: String,
    /// `ios`, `android`, `windows` (or `all` for a setting the mapping does not know).
    pub platform: String,
    /// `converted_with_loss`, `clamped`, `manual` or `not_migrated`.
    pub status: String,
    /// Where the setting goes or why it does not.
    pub note: String,
}

/// The configured settings of `policy` that will NOT carry over one-to-one, driven by the same
/// mapping data as `convert` (Android as device administrator, Microsoft's default target).
pub fn caveats(policy: &BmsPolicy) -> Vec<SettingCaveat> {
    let t = match mapping::tables() {
        Ok(t) => t,
        Err(e) => {
            return vec![SettingCaveat {
                policy: policy.name.clone(),
                setting: String::new(),
                platform: "all".into(),
                status: "manual".into(),
                note: format!("policy mapping unavailable: {e}"),
            }]
        }
    };
    let conv = convert::convert_policy(&t.mapping, &t.skeletons, policy, &Options::default());
    let mut out: Vec<SettingCaveat> = conv
        .rows
        .iter()
        .filter(|r| r.loss)
        .map(|r| {
            let status = match r.status {
                Status::Converted | Status::Exact => "converted_with_loss",
                Status::Clamped => "clamped",
                Status::Manual => "manual",
                Status::NotMigrated => "not_migrated",
            };
            let target = match (&r.intune_type, &r.property, &r.value) {
                (Some(t), Some(p), Some(v)) => format!(
                    "{} → {}.{p} = {v}: ",
                    r.source_value,
                    t.trim_start_matches("#microsoft.graph.")
                ),
                _ => format!("{}: ", r.source_value),
            };
            let inferred = if r.inferred { " [inferred]" } else { "" };
            SettingCaveat {
                policy: r.policy.clone(),
                setting: r.setting.clone(),
                platform: r.platform.clone(),
                status: status.into(),
                note: format!("{target}{}{inferred}", r.rule),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.setting, &a.platform, &a.note).cmp(&(&b.setting, &b.platform, &b.note)));
    out.dedup_by(|a, b| a.setting == b.setting && a.platform == b.platform && a.note == b.note);
    out
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Resolves a group given by id or display name against the tenant's groups.
fn resolve_group(
    tenant: &Tenant,
    ix: &crate::model::TenantIndex,
    key: &str,
) -> std::result::Result<GroupRef, String> {
    let k = key.trim();
    let lower = k.trim_matches(|c| c == '{' || c == '}').to_lowercase();
    if let Some(g) = ix
        .group_by_id
        .get(&lower)
        .and_then(|i| tenant.groups.get(*i as usize))
    {
        return Ok(GroupRef {
            id: lower,
            display_name: Some(g.display_name.clone()),
        });
    }
    if is_guid(&lower) {
        return Ok(GroupRef {
            id: lower,
            display_name: None,
        });
    }
    match ix
        .group_by_name
        .get(&k.to_lowercase())
        .and_then(|i| tenant.groups.get(*i as usize))
    {
        Some(g) => match &g.id {
            Some(id) => Ok(GroupRef {
                id: id.to_lowercase(),
                display_name: Some(g.display_name.clone()),
            }),
            None => Err(format!(
                "group {k:?} is known only by name; import a groups export with object ids so it can be assigned"
            )),
        },
        None => Err(format!("no group with id or name {k:?} in the imported tenant")),
    }
}

pub fn run(p: ConvertParams, ctx: &mut Ctx) -> Result<ConvertResult> {
    let ws = Workspace::open(p.workspace.as_deref(), false)?;
    let tenant = ws.load_tenant()?;
    let tables = mapping::tables()?;
    let opts = Options {
        android_target: p.android_target.unwrap_or_default(),
        name_prefix: p.name_prefix.clone().unwrap_or_default(),
    };
    let ix = tenant.index();
    let mut warnings = Vec::new();

    let mut test = Vec::new();
    for key in &p.test_groups {
        match resolve_group(&tenant, &ix, key) {
            Ok(g) => {
                if g.display_name.is_none() {
                    warnings.push(ConvertWarning {
                        code: "convert.group.unknown".into(),
                        message: format!("test group {} is not in the imported tenant; its id is used as given", g.id),
                        policy: None,
                    });
                }
                test.push(g);
            }
            Err(msg) => {
                return Err(Error::input("convert.test_group.unknown", format!("--test-group {key}: {msg}; pass the group's object id or its exact display name"))
                    .with_detail(json!({"param": "test_groups", "value": key})))
            }
        }
    }
    test.sort();
    test.dedup();

    let resolve_list = |list: &[String],
                        what: &str,
                        policy: Option<&str>,
                        warnings: &mut Vec<ConvertWarning>| {
        let mut out = Vec::new();
        // Liberal about MultiValuedProperty shapes: "a,b" or "a; b" in one entry.
        let keys = list
            .iter()
            .flat_map(|k| k.split([',', ';']))
            .map(str::trim)
            .filter(|k| !k.is_empty());
        for key in keys {
            match resolve_group(&tenant, &ix, key) {
                Ok(g) => {
                    if g.display_name.is_none() {
                        warnings.push(ConvertWarning {
                            code: "convert.group.unknown".into(),
                            message: format!("{what} group {} is not in the imported tenant; it is kept by id (check it still exists)", g.id),
                            policy: policy.map(str::to_string),
                        });
                    }
                    out.push(g);
                }
                Err(msg) => warnings.push(ConvertWarning {
                    code: "convert.group.unresolved".into(),
                    message: format!("{what} group left out of the assignment: {msg}"),
                    policy: policy.map(str::to_string),
                }),
            }
        }
        out.sort();
        out.dedup();
        out
    };
    let exclude = resolve_list(&tenant.exclusion_groups, "exclusion", None, &mut warnings);

    let mut policies: Vec<&BmsPolicy> = tenant.policies.iter().collect();
    policies.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
    if policies.is_empty() {
        warnings.push(ConvertWarning {
            code: "convert.no_policies".into(),
            message: "the imported tenant holds no BMS policies; import the policy bundle (Export-BmsDevicePolicy) first".into(),
            policy: None,
        });
    }
    let mut planned = Vec::new();
    let mut rows = Vec::new();
    let total = policies.len() as u64;
    for (i, pol) in policies.iter().enumerate() {
        ctx.progress("convert", i as u64, total);
        if !pol.enabled {
            warnings.push(ConvertWarning {
                code: "convert.policy.disabled".into(),
                message: format!(
                    "BMS policy {:?} is disabled; converted anyway (the manifest marks it)",
                    pol.name
                ),
                policy: Some(pol.name.clone()),
            });
        }
        let include = resolve_list(&pol.target_groups, "target", Some(&pol.name), &mut warnings);
        let conv = convert::convert_policy(&tables.mapping, &tables.skeletons, pol, &opts);
        if include.is_empty() && !conv.objects.is_empty() {
            warnings.push(ConvertWarning {
                code: "convert.policy.no_groups".into(),
                message: format!("BMS policy {:?} targets no resolvable group: no assignment file written, assign its objects by hand", pol.name),
                policy: Some(pol.name.clone()),
            });
        }
        if conv.objects.is_empty() {
            warnings.push(ConvertWarning {
                code: "convert.policy.empty".into(),
                message: format!("BMS policy {:?} has no setting that produces an Intune object (see the mapping report)", pol.name),
                policy: Some(pol.name.clone()),
            });
        }
        for o in conv.objects {
            planned.push(Planned {
                object: o,
                source_policy: pol.name.clone(),
                source_kind: convert::kind_str(pol.kind).into(),
                source_enabled: pol.enabled,
                file: String::new(),
                assign_file: None,
                pilot_assign_file: None,
                include: include.clone(),
                exclude: exclude.clone(),
                test: test.clone(),
            });
        }
        rows.extend(conv.rows);
    }
    ctx.progress("convert", total, total);
    if opts.android_target == AndroidTarget::DeviceAdmin
        && planned.iter().any(|p| p.object.platform == "android")
    {
        warnings.push(ConvertWarning {
            code: "convert.android.device_admin".into(),
            message: "Android objects target device administrator, as Microsoft's migration does; Intune no longer supports device administrator on devices with Google Mobile Services since 2024-12-31: consider --android-target work-profile".into(),
            policy: None,
        });
    }
    emit::assign_files(&mut planned);
    let mut names: BTreeMap<(String, String), usize> = BTreeMap::new();
    for pl in &planned {
        *names
            .entry((
                pl.object.display_name.to_lowercase(),
                pl.object.path.clone(),
            ))
            .or_default() += 1;
    }
    for ((name, _), n) in names {
        if n > 1 {
            warnings.push(ConvertWarning {
                code: "convert.duplicate_name".into(),
                message: format!("{n} Intune objects of the same collection are named {name:?}; rename one BMS policy or use --name-prefix"),
                policy: None,
            });
        }
    }
    rows.sort_by(|a, b| {
        (
            &a.policy,
            &a.policy_kind,
            &a.platform,
            &a.setting,
            &a.property,
            &a.intune_type,
        )
            .cmp(&(
                &b.policy,
                &b.policy_kind,
                &b.platform,
                &b.setting,
                &b.property,
                &b.intune_type,
            ))
    });
    let mut status_counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        *status_counts
            .entry(r.status.as_str().to_string())
            .or_default() += 1;
    }
    let rows_with_loss = rows.iter().filter(|r| r.loss).count();
    let head = json!({
        "bms2intune": "intune-manifest",
        "version": 1,
        "androidTarget": opts.android_target,
        "namePrefix": opts.name_prefix,
        "mappingSource": tables.mapping.source,
    });
    let summary = json!({
        "policies": policies.len(),
        "rows": rows.len(),
        "statusCounts": status_counts,
        "rowsWithLoss": rows_with_loss,
        "inferredRows": rows.iter().filter(|r| r.inferred).count(),
    });
    let written = emit::write_all(&ws, &planned, &rows, head, summary)?;
    for w in &warnings {
        ctx.warn(&w.code, &w.message);
    }
    let count = |f: &dyn Fn(&Planned) -> bool| planned.iter().filter(|p| f(p)).count();
    Ok(ConvertResult {
        policies: policies.len(),
        compliance_policies: count(&|p| p.object.target == Target::Compliance),
        configuration_profiles: count(&|p| p.object.target == Target::Configuration),
        email_profiles: count(&|p| p.object.target == Target::Email),
        assignment_files: written.assignment_files,
        objects: planned
            .iter()
            .map(|p| ConvertedObject {
                file: p.file.clone(),
                display_name: p.object.display_name.clone(),
                odata_type: p.object.odata_type.clone(),
                api: p.object.api.clone(),
                source_policy: p.source_policy.clone(),
                platform: p.object.report_platform.clone(),
            })
            .collect(),
        status_counts,
        rows_with_loss,
        needs_attention: rows.iter().filter(|r| r.loss).cloned().collect(),
        warnings,
        manifest: written.manifest,
        mapping_report_json: written.report_json,
        mapping_report_csv: written.report_csv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Group;

    #[test]
    fn groups_resolve_by_id_or_name_and_unknown_guids_are_kept() {
        let t = Tenant {
            groups: vec![
                Group {
                    id: Some("0b1c2d3e-0000-4000-8000-000000000001".into()),
                    display_name: "Sales".into(),
                    dynamic: false,
                },
                Group {
                    id: None,
                    display_name: "Name only".into(),
                    dynamic: false,
                },
            ],
            ..Default::default()
        };
        let ix = t.index();
        let by_id = resolve_group(&t, &ix, "{0B1C2D3E-0000-4000-8000-000000000001}").expect("id");
        assert_eq!(by_id.display_name.as_deref(), Some("Sales"));
        let by_name = resolve_group(&t, &ix, "sales").expect("name");
        assert_eq!(by_name.id, "0b1c2d3e-0000-4000-8000-000000000001");
        let unknown = resolve_group(&t, &ix, "0b1c2d3e-0000-4000-8000-0000000000ff").expect("guid");
        assert_eq!(unknown.display_name, None);
        assert!(resolve_group(&t, &ix, "Name only").is_err());
        assert!(resolve_group(&t, &ix, "Nobody").is_err());
        assert!(is_guid("0b1c2d3e-0000-4000-8000-000000000001"));
        assert!(!is_guid("0b1c2d3e00004000800000000000000001"));
    }
}
