//! BMS device security policies: the bms2intune bundle JSON (Export-BmsDevicePolicy), the four
//! `Get-Device*Policy`/`Get-Device*Rule | ConvertTo-Json` arrays as separate files, and a policy
//! spreadsheet (one row per policy). Policies and rules are collected across all inputs and
//! linked at the end (a rule's `Policy` names its policy by name, GUID or identity).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::licenses::member;
use super::recognise::Columns;
use super::report::{FileReport, Issue};
use super::rows::Row;
use super::snapshot::Builder;
use super::text::{clean, norm, opt, parse_bool, parse_guid, parse_timespan, timespan_from_secs};
use crate::model::{BmsPolicy, PolicyKind};

const SETTINGS_JSON: &str = include_str!("../../templates/import/bms-rule-settings.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    Bool,
    Int,
    TimeSpan,
    Enum,
    Str,
    Multi,
}

struct SettingTable {
    /// Lower-case name → (canonical name, type).
    settings: BTreeMap<String, (String, SettingType)>,
    ignore: Vec<String>,
}

fn settings() -> &'static SettingTable {
    static T: OnceLock<SettingTable> = OnceLock::new();
    T.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Raw {
            settings: BTreeMap<String, String>,
            ignore: Vec<String>,
        }
        let raw: Raw = serde_json::from_str(SETTINGS_JSON).unwrap_or(Raw {
            settings: BTreeMap::new(),
            ignore: Vec::new(),
        });
        SettingTable {
            settings: raw
                .settings
                .into_iter()
                .map(|(k, t)| {
                    let ty = match t.as_str() {
                        "bool" => SettingType::Bool,
                        "int" => SettingType::Int,
                        "timespan" => SettingType::TimeSpan,
                        "enum" => SettingType::Enum,
                        "multi" => SettingType::Multi,
                        _ => SettingType::Str,
                    };
                    (k.to_lowercase(), (k, ty))
                })
                .collect(),
            ignore: raw.ignore.into_iter().map(|s| s.to_lowercase()).collect(),
        }
    })
}

pub fn setting(name: &str) -> Option<(&'static str, SettingType)> {
    settings()
        .settings
        .get(&clean(name).to_lowercase())
        .map(|(n, t)| (n.as_str(), *t))
}

fn ignored(name: &str) -> bool {
    let l = name.to_lowercase();
    settings().ignore.contains(&l)
}

/// Normalises one setting value; `Ok(None)` = not configured.
pub fn normalise(ty: SettingType, v: &Value) -> Result<Option<Value>, String> {
    if let Value::String(s) = v {
        if clean(s).is_empty() {
            return Ok(None);
        }
    }
    match (ty, v) {
        (_, Value::Null) => Ok(None),
        (SettingType::Bool, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
        (SettingType::Bool, Value::String(s)) => parse_bool(s)
            .map(|b| Some(Value::Bool(b)))
            .ok_or_else(|| "expected a boolean (True/False)".into()),
        (SettingType::Bool, Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(Some(Value::Bool(false))),
            Some(1) => Ok(Some(Value::Bool(true))),
            _ => Err("expected a boolean (True/False)".into()),
        },
        (SettingType::Int, Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(Value::from(i))),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9e15 => {
                Ok(Some(Value::from(f as i64)))
            }
            _ => Err("expected a whole number".into()),
        },
        (SettingType::Int, Value::String(s)) => {
            let t = clean(s);
            let t = t.strip_suffix(".0").unwrap_or(t);
            t.parse::<i64>()
                .map(|i| Some(Value::from(i)))
                .map_err(|_| "expected a whole number".into())
        }
        (SettingType::TimeSpan, Value::String(s)) => {
            if clean(s).eq_ignore_ascii_case("unlimited") {
                return Ok(Some(Value::String("Unlimited".into())));
            }
            parse_timespan(s)
                .map(|secs| Some(Value::String(timespan_from_secs(secs))))
                .ok_or_else(|| "expected a time span like 00:15:00 or 1.00:00:00".into())
        }
        (SettingType::TimeSpan, Value::Object(o)) => {
            let secs = if let Some(t) = member(o, "Ticks").and_then(|t| t.as_i64()) {
                Some(t / 10_000_000)
            } else if let Some(s) = member(o, "TotalSeconds").and_then(|t| t.as_f64()) {
                Some(s.round() as i64)
            } else if let Some(m) = member(o, "TotalMinutes").and_then(|t| t.as_f64()) {
                Some((m * 60.0).round() as i64)
            } else {
                let part = |k: &str| member(o, k).and_then(|t| t.as_i64()).unwrap_or(0);
                let any = ["Days", "Hours", "Minutes", "Seconds"]
                    .iter()
                    .any(|k| member(o, k).is_some());
                any.then(|| {
                    part("Days")
                        .saturating_mul(86_400)
                        .saturating_add(part("Hours").saturating_mul(3600))
                        .saturating_add(part("Minutes").saturating_mul(60))
                        .saturating_add(part("Seconds"))
                })
            };
            match secs {
                Some(s) if s >= 0 => Ok(Some(Value::String(timespan_from_secs(s)))),
                _ => Err(
                    "a TimeSpan object needs Ticks, TotalMinutes or Days/Hours/Minutes/Seconds"
                        .into(),
                ),
            }
        }
        (SettingType::Enum, Value::String(s)) => Ok(Some(Value::String(clean(s).to_string()))),
        (SettingType::Enum, Value::Number(n)) => Ok(Some(Value::Number(n.clone()))),
        (SettingType::Str, Value::String(s)) => Ok(Some(Value::String(clean(s).to_string()))),
        (SettingType::Str, Value::Number(n)) => Ok(Some(Value::String(n.to_string()))),
        (SettingType::Str, Value::Bool(b)) => Ok(Some(Value::String(b.to_string()))),
        (SettingType::Multi, Value::Array(a)) => Ok(Some(Value::Array(a.clone()))),
        (SettingType::Multi, Value::String(s)) => Ok(Some(Value::Array(
            s.split([',', ';'])
                .map(clean)
                .filter(|x| !x.is_empty())
                .map(|x| Value::String(x.to_string()))
                .collect(),
        ))),
        _ => Err(format!("unexpected JSON {}", kind_of(v))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A policy object (Get-Device*Policy) or a spreadsheet row's policy half.
#[derive(Debug, Clone)]
struct PolicyObj {
    name: String,
    comment: Option<String>,
    enabled: bool,
    kind: Option<PolicyKind>,
    /// Names it can be referred to by: name, Guid, Identity, ImmutableId, DistinguishedName.
    keys: Vec<String>,
}

#[derive(Debug, Clone)]
struct RuleObj {
    /// What the rule's `Policy` says (lower-case).
    policy_ref: Vec<String>,
    /// Rule identity `<PolicyName>{<GUID>}` (lower-case).
    identity: Option<String>,
    /// A name for a policy created from this rule when none matches (original spelling).
    fallback_name: String,
    kind: Option<PolicyKind>,
    target_groups: Vec<String>,
    settings: BTreeMap<String, Value>,
    /// Report index and row, for link warnings.
    at: (usize, u32),
}

/// Collects policies and rules from every input; linked in [`PolicyCollector::finish`].
#[derive(Default)]
pub struct PolicyCollector {
    policies: Vec<(PolicyObj, (usize, u32))>,
    rules: Vec<RuleObj>,
    /// Whether any policy input was seen (so that a re-import without policies keeps none).
    pub seen: bool,
}

/// Which cmdlet output an array/object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Policy(Option<PolicyKind>),
    Rule(Option<PolicyKind>),
    TenantRule,
}

pub fn shape_from_name(name: &str) -> Option<Shape> {
    let n = name.to_lowercase().replace([' ', '-', '_'], "");
    let kind = if n.contains("conditionalaccess") {
        Some(PolicyKind::ConditionalAccess)
    } else if n.contains("configuration") {
        Some(PolicyKind::Configuration)
    } else {
        None
    };
    if n.contains("tenantrule") || n.contains("tenantpolicy") {
        return Some(Shape::TenantRule);
    }
    if n.contains("rule") {
        return Some(Shape::Rule(kind));
    }
    if n.contains("policy") || n.contains("policies") {
        return Some(Shape::Policy(kind));
    }
    None
}

/// Guesses an object's shape from its properties (for separate cmdlet files).
pub fn shape_of(o: &Map<String, Value>, hint: Option<Shape>) -> Shape {
    if member(o, "ExclusionList").is_some() || member(o, "BlockUnsupportedDevices").is_some() {
        return Shape::TenantRule;
    }
    let hint_kind = match hint {
        Some(Shape::Policy(k)) | Some(Shape::Rule(k)) => k,
        _ => None,
    };
    if member(o, "TargetGroups").is_some() || member(o, "Policy").is_some() {
        let k = hint_kind
            .or_else(|| member(o, "AllowJailbroken").map(|_| PolicyKind::ConditionalAccess));
        return Shape::Rule(k);
    }
    Shape::Policy(hint_kind)
}

fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => opt(s).map(|s| s.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn kind_from_type(s: &str) -> Option<PolicyKind> {
    let n = norm(s).replace([' ', '_', '-'], "");
    if n.contains("block") || n.contains("conditionalaccess") || n == "ca" {
        Some(PolicyKind::ConditionalAccess)
    } else if n.contains("allow") || n.contains("configuration") || n.contains("report") {
        Some(PolicyKind::Configuration)
    } else {
        None
    }
}

/// Target group GUIDs from an array or a `,`/`;`-separated string; names of imported groups are
/// resolved to their ids. `Err(value)` names the first entry that is neither.
fn target_groups(v: Option<&Value>, b: &Builder) -> Result<Vec<String>, String> {
    let mut items: Vec<String> = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for x in a {
                match x {
                    Value::String(s) => items.push(s.clone()),
                    Value::Object(o) => {
                        // Some serialisations give {"Guid": ...} or {"ObjectGuid": ...}.
                        if let Some(s) = str_of(
                            member(o, "Guid")
                                .or_else(|| member(o, "ObjectGuid"))
                                .or_else(|| member(o, "Id")),
                        ) {
                            items.push(s);
                        }
                    }
                    other => items.push(other.to_string()),
                }
            }
        }
        Some(Value::String(s)) => items.extend(s.split([',', ';', '\n']).map(|x| x.to_string())),
        Some(other) => items.push(other.to_string()),
    }
    let mut out = Vec::new();
    for it in items {
        let it = clean(&it);
        if it.is_empty() {
            continue;
        }
        if let Some(g) = parse_guid(it) {
            out.push(g);
            continue;
        }
        match b.find_group(it) {
            Ok(Some(g)) => match b.t.groups.get(g as usize).and_then(|g| g.id.clone()) {
                Some(id) => out.push(id),
                None => return Err(it.to_string()),
            },
            _ => return Err(it.to_string()),
        }
    }
    Ok(out)
}

impl PolicyCollector {
    /// One JSON object of a cmdlet's output. `index` is its 1-based position in the array.
    #[allow(clippy::too_many_arguments)]
    pub fn object(
        &mut self,
        o: &Map<String, Value>,
        shape: Shape,
        rep_ix: usize,
        index: u32,
        rep: &mut FileReport,
        b: &mut Builder,
        unknown_seen: &mut Vec<String>,
    ) {
        self.seen = true;
        match shape {
            Shape::TenantRule => {
                match target_groups(member(o, "ExclusionList"), b) {
                    Ok(g) => {
                        b.t.exclusion_groups.extend(g);
                        rep.keep();
                    }
                    Err(v) => rep.reject(index, "import.guid.malformed", "ExclusionList", &v, "the exclusion list entry is not a group GUID nor the name of an imported group".into()),
                }
            }
            Shape::Policy(kind) => {
                let Some(name) = str_of(member(o, "Name")) else {
                    rep.reject(index, "import.policies.missing_name", "Name", "", "the policy has no Name".into());
                    return;
                };
                let enabled = match member(o, "Enabled") {
                    None | Some(Value::Null) => true,
                    Some(v) => match normalise(SettingType::Bool, v) {
                        Ok(Some(Value::Bool(x))) => x,
                        Ok(_) => true,
                        Err(e) => {
                            rep.reject(index, "import.policies.bad_value", "Enabled", &v.to_string(), e);
                            return;
                        }
                    },
                };
                let mut keys = vec![name.to_lowercase()];
                for k in ["Guid", "Identity", "ImmutableId", "DistinguishedName", "ExchangeObjectId", "Id"] {
                    if let Some(v) = str_of(member(o, k)) {
                        keys.push(v.to_lowercase());
                    }
                }
                let kind = kind.or_else(|| str_of(member(o, "Type")).and_then(|t| kind_from_type(&t)));
                self.policies.push((
                    PolicyObj { name, comment: str_of(member(o, "Comment")), enabled, kind, keys },
                    (rep_ix, index),
                ));
                rep.keep();
            }
            Shape::Rule(kind) => {
                let targets = match target_groups(member(o, "TargetGroups"), b) {
                    Ok(t) => t,
                    Err(v) => {
                        rep.reject(index, "import.guid.malformed", "TargetGroups", &v, "the target group is not a GUID nor the name of an imported group".into());
                        return;
                    }
                };
                let mut settings_map = BTreeMap::new();
                for (k, v) in o {
                    if let Some((name, ty)) = setting(k) {
                        match normalise(ty, v) {
                            Ok(Some(x)) => {
                                settings_map.insert(name.to_string(), x);
                            }
                            Ok(None) => {}
                            Err(e) => {
                                rep.reject(index, "import.policies.bad_value", k, &v.to_string(), format!("{name}: {e}"));
                                return;
                            }
                        }
                    } else if !ignored(k) && !unknown_seen.iter().any(|s| s == k) {
                        unknown_seen.push(k.clone());
                        rep.warn(index, "import.policies.unknown_setting", k, &v.to_string(), "not a BMS rule setting bms2intune knows; ignored".into());
                    }
                }
                let mut policy_ref = Vec::new();
                for k in ["Policy", "ParentPolicyName", "PolicyGuid"] {
                    if let Some(v) = str_of(member(o, k)) {
                        policy_ref.push(v.to_lowercase());
                    }
                }
                let kind = kind.or_else(|| member(o, "AllowJailbroken").map(|_| PolicyKind::ConditionalAccess));
                let ident = str_of(member(o, "Identity")).or_else(|| str_of(member(o, "Name")));
                let fallback_name = str_of(member(o, "Policy"))
                    .filter(|p| parse_guid(p).is_none())
                    .or_else(|| ident.as_deref().and_then(|i| i.split('{').next()).map(|s| clean(s).to_string()).filter(|s| !s.is_empty()))
                    .unwrap_or_else(|| format!("unnamed policy (rule {index})"));
                self.rules.push(RuleObj {
                    fallback_name,
                    policy_ref,
                    identity: str_of(member(o, "Identity")).or_else(|| str_of(member(o, "Name"))).map(|s| s.to_lowercase()),
                    kind,
                    target_groups: targets,
                    settings: settings_map,
                    at: (rep_ix, index),
                });
                rep.keep();
            }
        }
    }

    /// Links policies with their rules into the snapshot. Warnings go to the reports by index.
    pub fn finish(self, b: &mut Builder, reports: &mut [FileReport], top: &mut Vec<Issue>) {
        let mut used = vec![false; self.rules.len()];
        let mut out: Vec<BmsPolicy> = Vec::new();
        for (p, at) in &self.policies {
            let mut pol = BmsPolicy {
                name: p.name.clone(),
                comment: p.comment.clone(),
                enabled: p.enabled,
                kind: p.kind.unwrap_or(PolicyKind::Configuration),
                target_groups: Vec::new(),
                settings: BTreeMap::new(),
            };
            let mut kind = p.kind;
            let mut n = 0;
            for (i, r) in self.rules.iter().enumerate() {
                if used.get(i).copied().unwrap_or(true) {
                    continue;
                }
                let by_ref = r.policy_ref.iter().any(|x| p.keys.contains(x));
                let by_identity = r.identity.as_deref().is_some_and(|id| {
                    let name = p.name.to_lowercase();
                    id.strip_prefix(name.as_str())
                        .is_some_and(|rest| rest.starts_with('{'))
                });
                if !(by_ref || by_identity)
                    || (kind.is_some() && r.kind.is_some() && kind != r.kind)
                {
                    continue;
                }
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                n += 1;
                kind = kind.or(r.kind);
                pol.target_groups.extend(r.target_groups.iter().cloned());
                pol.settings.extend(r.settings.clone());
            }
            let rep = reports.get_mut(at.0);
            match (kind, rep) {
                (Some(k), _) => pol.kind = k,
                (None, Some(rep)) => rep.warn(at.1, "import.policies.kind_unknown", "Name", &p.name, "cannot tell whether this is a Block (conditional access) or an Allow (configuration) policy; assumed Allow and report: name the file after the cmdlet or use the bundle from Export-BmsDevicePolicy".into()),
                (None, None) => {}
            }
            if let Some(rep) = reports.get_mut(at.0) {
                if n == 0 {
                    rep.warn(at.1, "import.policies.no_rule", "Name", &p.name, "no rule of this policy was imported: it has no settings and no target groups; import the Get-Device*Rule output too".into());
                } else if n > 1 {
                    rep.warn(at.1, "import.policies.several_rules", "Name", &p.name, format!("{n} rules belong to this policy; their settings and target groups were merged"));
                }
            }
            out.push(pol);
        }
        for (i, r) in self.rules.iter().enumerate() {
            if used.get(i).copied().unwrap_or(true) {
                continue;
            }
            let name = r.fallback_name.clone();
            if let Some(rep) = reports.get_mut(r.at.0) {
                rep.warn(r.at.1, "import.policies.rule_without_policy", "Policy", &name, "no imported policy matches this rule's Policy; a policy was created from the rule (enabled); import the Get-Device*Policy output too".into());
            } else {
                top.push(Issue {
                    code: "import.policies.rule_without_policy".into(),
                    row: 0,
                    column: "Policy".into(),
                    value: name.clone(),
                    message: "rule without policy".into(),
                });
            }
            out.push(BmsPolicy {
                name,
                comment: None,
                enabled: true,
                kind: r.kind.unwrap_or(PolicyKind::Configuration),
                target_groups: r.target_groups.clone(),
                settings: r.settings.clone(),
            });
        }
        // New policies replace snapshot policies of the same name and kind (--add).
        b.t.policies.retain(|old| {
            !out.iter()
                .any(|n| n.kind == old.kind && n.name.eq_ignore_ascii_case(&old.name))
        });
        b.t.policies.extend(out);
    }
}

/// The policy spreadsheet: one row per policy, settings as columns named by parameter.
pub struct PolicyRows {
    name: Option<usize>,
    ptype: Option<usize>,
    enabled: Option<usize>,
    comment: Option<usize>,
    targets: Option<usize>,
    settings: Vec<(usize, &'static str, SettingType)>,
    rep_ix: usize,
}

impl PolicyRows {
    pub fn new(cols: &Columns, rep_ix: usize, rep: &mut FileReport, header_row: u32) -> Self {
        let known: Vec<usize> = cols.fields().map(|(_, c)| c).collect();
        let mut settings_cols = Vec::new();
        for (i, h) in cols.headers.iter().enumerate() {
            if known.contains(&i) || clean(h).is_empty() {
                continue;
            }
            match setting(h) {
                Some((name, ty)) => settings_cols.push((i, name, ty)),
                None if !ignored(clean(h)) => rep.warn(
                    header_row,
                    "import.policies.unknown_setting",
                    h,
                    "",
                    "this column is not a BMS rule setting bms2intune knows; ignored".into(),
                ),
                None => {}
            }
        }
        PolicyRows {
            name: cols.get("name"),
            ptype: cols.get("policy_type"),
            enabled: cols.get("enabled"),
            comment: cols.get("comment"),
            targets: cols.get("target_groups"),
            settings: settings_cols,
            rep_ix,
        }
    }

    pub fn row(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
        pc: &mut PolicyCollector,
    ) {
        pc.seen = true;
        let cell = |c: Option<usize>| c.map(|c| r.cell(c)).unwrap_or("");
        let Some(name) = opt(cell(self.name)).map(|s| s.to_string()) else {
            rep.reject(
                row_no,
                "import.policies.missing_name",
                cols.header_of("name"),
                "",
                "the policy row has no Name".into(),
            );
            return;
        };
        let kind = match opt(cell(self.ptype)) {
            Some(t) => match kind_from_type(t) {
                Some(k) => Some(k),
                None => {
                    rep.reject(
                        row_no,
                        "import.policies.bad_type",
                        cols.header_of("policy_type"),
                        t,
                        "Type must be Block (ConditionalAccess) or Allow (Configuration)".into(),
                    );
                    return;
                }
            },
            None => None,
        };
        let enabled = match opt(cell(self.enabled)) {
            None => true,
            Some(v) => match parse_bool(v) {
                Some(x) => x,
                None => {
                    rep.reject(
                        row_no,
                        "import.policies.bad_value",
                        cols.header_of("enabled"),
                        v,
                        "Enabled must be TRUE or FALSE".into(),
                    );
                    return;
                }
            },
        };
        let targets = match target_groups(Some(&Value::String(cell(self.targets).to_string())), b) {
            Ok(t) => t,
            Err(v) => {
                rep.reject(
                    row_no,
                    "import.guid.malformed",
                    cols.header_of("target_groups"),
                    &v,
                    "the target group is not a GUID nor the name of an imported group".into(),
                );
                return;
            }
        };
        let mut settings_map = BTreeMap::new();
        for &(c, sname, ty) in &self.settings {
            let v = r.cell(c);
            match normalise(ty, &Value::String(v.to_string())) {
                Ok(Some(x)) => {
                    settings_map.insert(sname.to_string(), x);
                }
                Ok(None) => {}
                Err(e) => {
                    rep.reject(
                        row_no,
                        "import.policies.bad_value",
                        cols.header(c),
                        v,
                        format!("{sname}: {e}"),
                    );
                    return;
                }
            }
        }
        let key = name.to_lowercase();
        pc.policies.push((
            PolicyObj {
                name,
                comment: opt(cell(self.comment)).map(|s| s.to_string()),
                enabled,
                kind,
                keys: vec![key.clone()],
            },
            (self.rep_ix, row_no),
        ));
        pc.rules.push(RuleObj {
            fallback_name: String::new(),
            policy_ref: vec![key],
            identity: None,
            kind,
            target_groups: targets,
            settings: settings_map,
            at: (self.rep_ix, row_no),
        });
        rep.keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_normalise_per_contract() {
        let n = |name: &str, v: Value| normalise(setting(name).unwrap().1, &v);
        assert_eq!(n("PasswordRequired", json!("True")), Ok(Some(json!(true))));
        assert_eq!(n("passwordminimumlength", json!("6")), Ok(Some(json!(6))));
        assert_eq!(
            n("PasswordTimeout", json!("0.00:15:00")),
            Ok(Some(json!("00:15:00")))
        );
        assert_eq!(
            n(
                "PasswordTimeout",
                json!({"Ticks": 9000000000i64, "TotalMinutes": 15.0})
            ),
            Ok(Some(json!("00:15:00")))
        );
        assert_eq!(
            n("MaxPasswordGracePeriod", json!("1.02:03:04")),
            Ok(Some(json!("1.02:03:04")))
        );
        assert_eq!(n("AppsRating", json!(600)), Ok(Some(json!(600))));
        assert_eq!(
            n("AppsRating", json!("Rating12plus")),
            Ok(Some(json!("Rating12plus")))
        );
        assert_eq!(n("PasswordRequired", Value::Null), Ok(None));
        assert!(n("PasswordMinimumLength", json!("six")).is_err());
    }

    #[test]
    fn shapes() {
        assert_eq!(
            shape_from_name("DeviceConditionalAccessRule"),
            Some(Shape::Rule(Some(PolicyKind::ConditionalAccess)))
        );
        assert_eq!(
            shape_from_name("DeviceConfigurationPolicy"),
            Some(Shape::Policy(Some(PolicyKind::Configuration)))
        );
        assert_eq!(shape_from_name("DeviceTenantRule"), Some(Shape::TenantRule));
    }
}
