//! The conversion engine: one BMS policy → Intune bodies per platform plus one mapping-report
//! row per setting, target and platform. Everything platform-specific comes from the mapping
//! table; this file implements only the named conversions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::mapping::{entry_lossy, entry_note, entry_value, Mapping, Rule, Skeletons, Target};
use super::values::{self, SourceValue};
use crate::model::{BmsPolicy, PolicyKind};

/// Outcome of one setting on one platform, as the mapping report states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Copied as is.
    Exact,
    /// Translated by a documented rule (inversion, bucketing, folding); `loss` says if it is lossy.
    Converted,
    /// Outside Intune's range: set to the nearest allowed value.
    Clamped,
    /// Needs the admin: no automatic equivalent.
    Manual,
    /// Does not carry over (no Intune equivalent, or not applicable to the platform).
    NotMigrated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exact => "exact",
            Status::Converted => "converted",
            Status::Clamped => "clamped",
            Status::Manual => "manual",
            Status::NotMigrated => "not_migrated",
        }
    }
}

/// Android target for `--android-target`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AndroidTarget {
    /// Android device administrator (Microsoft's migration target; unsupported on Google Mobile
    /// Services devices since 2024-12-31).
    #[default]
    DeviceAdmin,
    /// Android Enterprise work profile.
    WorkProfile,
}

impl AndroidTarget {
    pub fn platform_key(self) -> &'static str {
        match self {
            AndroidTarget::DeviceAdmin => "android",
            AndroidTarget::WorkProfile => "android_wp",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub android_target: AndroidTarget,
    pub name_prefix: String,
}

/// One row of the mapping report.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MappingRow {
    pub policy: String,
    /// `block` (DeviceConditionalAccess) or `allow` (DeviceConfiguration).
    pub policy_kind: String,
    /// `ios`, `android`, `windows` (or `all` for an unknown setting).
    pub platform: String,
    pub setting: String,
    pub label: String,
    pub source_value: String,
    /// Target @odata.type.
    pub intune_type: Option<String>,
    pub property: Option<String>,
    pub value: Option<Value>,
    pub status: Status,
    /// The rule applied, or why the setting does not carry over.
    pub rule: String,
    /// True when something the BMS setting enforced is lost or changed (lossy conversion,
    /// clamp, manual work, or not migrated where BMS applied it).
    pub loss: bool,
    /// The mapping rests on an [inferred] fact (see templates/policy/SOURCE.md).
    pub inferred: bool,
}

/// A Graph body ready to POST.
#[derive(Debug, Clone, PartialEq)]
pub struct IntuneObject {
    /// Compliance, Configuration or Email.
    pub target: Target,
    /// Mapping platform key (`ios`, `android`, `android_wp`, `windows`).
    pub platform: String,
    pub report_platform: String,
    pub odata_type: String,
    pub api: String,
    pub path: String,
    pub display_name: String,
    pub body: Value,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyConversion {
    pub objects: Vec<IntuneObject>,
    pub rows: Vec<MappingRow>,
}

pub fn kind_str(k: PolicyKind) -> &'static str {
    match k {
        PolicyKind::ConditionalAccess => "block",
        PolicyKind::Configuration => "allow",
    }
}

/// What a conversion does to the bodies.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Set(Value),
    /// Configured in BMS but means "not configured" in Intune.
    Unset,
    /// Android: raises the minimum `passwordRequiredType` to this canonical name.
    MinType(String),
    /// Email profile wanted (true) or not.
    Email(bool),
    Nothing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub effect: Effect,
    pub status: Status,
    pub rule: String,
    pub loss: bool,
    pub inferred: bool,
}

fn step(effect: Effect, status: Status, rule: impl Into<String>) -> Step {
    let loss = matches!(status, Status::Clamped | Status::Manual);
    Step {
        effect,
        status,
        rule: rule.into(),
        loss,
        inferred: false,
    }
}

fn param_i64_list(rule: &Rule, key: &str) -> Vec<i64> {
    rule.params
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn need_bool(v: &SourceValue) -> Result<bool, String> {
    match v {
        SourceValue::Bool(b) => Ok(*b),
        other => Err(format!("expected true/false, got {}", other.display())),
    }
}

fn need_int(v: &SourceValue) -> Result<i64, String> {
    v.as_int()
        .ok_or_else(|| format!("expected a number, got {}", v.display()))
}

/// Looks the value up in a `map` param, with `above` for numbers beyond the largest numeric key.
fn lookup<'a>(rule: &'a Rule, v: &SourceValue) -> Option<&'a Value> {
    let map = rule.params.get("map").and_then(Value::as_object);
    if let Some(hit) = map.and_then(|m| m.get(&v.key())) {
        return Some(hit);
    }
    if let (Some(n), Some(above)) = (v.as_int(), rule.params.get("above")) {
        let max_key = map
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|k| k.parse::<i64>().ok())
            .max();
        if max_key.is_some_and(|mx| n > mx) {
            return Some(above);
        }
    }
    None
}

/// Applies one named conversion to one value.
pub fn apply(rule: &Rule, setting: &str, v: &SourceValue) -> Result<Step, String> {
    let prop = rule.property.as_deref().unwrap_or("");
    let unset = param_i64_list(rule, "unset_values");
    if let Some(n) = v.as_int() {
        if unset.contains(&n) && rule.conversion != "none" {
            return Ok(step(
                Effect::Unset,
                Status::Exact,
                format!("{n} means not configured in BMS → left not configured"),
            ));
        }
    }
    let s = match rule.conversion.as_str() {
        "copy_bool" => {
            let b = need_bool(v)?;
            step(Effect::Set(Value::Bool(b)), Status::Exact, "copied")
        }
        "invert_bool" => {
            let b = need_bool(v)?;
            step(
                Effect::Set(Value::Bool(!b)),
                Status::Converted,
                format!("inverted: {setting} = {b} → {prop} = {}", !b),
            )
        }
        "when_value" => {
            let when = rule.params.get("when").cloned().unwrap_or(Value::Null);
            let value = rule.params.get("value").cloned().unwrap_or(Value::Null);
            let as_json = match v {
                SourceValue::Bool(b) => Value::Bool(*b),
                SourceValue::Int(i) => Value::from(*i),
                other => Value::String(other.key()),
            };
            if as_json == when {
                step(
                    Effect::Set(value.clone()),
                    Status::Converted,
                    format!("{setting} = {when} → {prop} = {value}"),
                )
            } else {
                step(
                    Effect::Unset,
                    Status::Exact,
                    format!("{setting} = {as_json} → left not configured"),
                )
            }
        }
        "truthy_const" => {
            let value = rule.params.get("value").cloned().unwrap_or(Value::Null);
            if v.truthy() {
                step(
                    Effect::Set(value.clone()),
                    Status::Converted,
                    format!("set → {prop} = {value}"),
                )
            } else {
                step(
                    Effect::Unset,
                    Status::Exact,
                    "not set → left not configured",
                )
            }
        }
        "int_range" => {
            let n = need_int(v)?;
            let min = rule
                .params
                .get("min")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MIN);
            let max = rule
                .params
                .get("max")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX);
            let inferred = rule.params.get("range_inferred") == Some(&Value::Bool(true));
            let range = format!(
                "Intune accepts {min}-{max}{}",
                if inferred { " [inferred range]" } else { "" }
            );
            let mut st = if n < min {
                step(
                    Effect::Set(Value::from(min)),
                    Status::Clamped,
                    format!("raised from {n} to {min}: {range}"),
                )
            } else if n > max {
                step(
                    Effect::Set(Value::from(max)),
                    Status::Clamped,
                    format!("lowered from {n} to {max}: {range}"),
                )
            } else {
                step(Effect::Set(Value::from(n)), Status::Exact, "copied")
            };
            st.inferred = inferred && st.status == Status::Clamped;
            st
        }
        "inactivity" => inactivity(rule, v)?,
        "value_map" => match lookup(rule, v) {
            Some(entry) => {
                let out = entry_value(entry).clone();
                let same = match (v, &out) {
                    (SourceValue::Int(i), Value::Number(n)) => n.as_i64() == Some(*i),
                    _ => false,
                };
                let mut rule_text = format!("{} → {prop} = {out}", v.key());
                if let Some(n) = entry_note(entry) {
                    rule_text.push_str(&format!(" ({n})"));
                }
                let mut st = step(
                    Effect::Set(out),
                    if same {
                        Status::Exact
                    } else {
                        Status::Converted
                    },
                    if same {
                        "copied".to_string()
                    } else {
                        rule_text
                    },
                );
                st.loss = entry_lossy(entry);
                st
            }
            None => step(
                Effect::Nothing,
                Status::Manual,
                format!(
                    "value {} has no equivalent in the mapping table; set {prop} by hand",
                    v.display()
                ),
            ),
        },
        "android_password_type" => {
            let hit = lookup(rule, v)
                .or_else(|| rule.params.get("when_set"))
                .or_else(|| {
                    if v.truthy() {
                        rule.params.get("truthy")
                    } else {
                        None
                    }
                });
            match hit {
                Some(entry) => {
                    let name = entry_value(entry).as_str().unwrap_or_default().to_string();
                    let mut text = format!("requires at least {name}");
                    if let Some(n) = entry_note(entry) {
                        text.push_str(&format!(" ({n})"));
                    }
                    let mut st = step(Effect::MinType(name), Status::Converted, text);
                    st.loss = entry_lossy(entry);
                    st
                }
                None => step(
                    Effect::Nothing,
                    Status::Exact,
                    "does not raise the minimum password type",
                ),
            }
        }
        "copy_string" => match v {
            SourceValue::Text(t) | SourceValue::Name(t) => step(
                Effect::Set(Value::String(t.clone())),
                Status::Exact,
                "copied",
            ),
            other => return Err(format!("expected text, got {}", other.display())),
        },
        "email_profile" => {
            let b = need_bool(v)?;
            if b {
                step(
                    Effect::Email(true),
                    Status::Converted,
                    "email profile created with the values Microsoft's migration writes (host outlook.office365.com, UPN as user name and address, SSL)",
                )
            } else {
                step(
                    Effect::Email(false),
                    Status::Exact,
                    "not required → no email profile",
                )
            }
        }
        "none" => {
            let status = match rule.status.as_deref() {
                Some("manual") => Status::Manual,
                _ => Status::NotMigrated,
            };
            let mut st = step(
                Effect::Nothing,
                status,
                rule.note.clone().unwrap_or_default(),
            );
            st.loss = !rule.no_loss;
            st
        }
        other => return Err(format!("unknown conversion {other} in the mapping table")),
    };
    Ok(s)
}

fn inactivity(rule: &Rule, v: &SourceValue) -> Result<Step, String> {
    let (minutes, partial) = match v {
        SourceValue::Seconds(s) => (values::minutes_ceil(*s), s % 60 != 0),
        SourceValue::Int(i) => (*i, false),
        other => return Err(format!("expected a TimeSpan, got {}", other.display())),
    };
    let rounded = if partial {
        " (rounded up to whole minutes)"
    } else {
        ""
    };
    let buckets = rule
        .params
        .get("buckets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let max_doc = rule.params.get("max_documented").and_then(Value::as_i64);
    if let Some(mx) = max_doc {
        if minutes > mx {
            let mut st = step(
                Effect::Set(Value::from(mx)),
                Status::Clamped,
                format!("{minutes} min{rounded} is above the documented buckets: clamped to {mx}"),
            );
            st.inferred = true;
            return Ok(st);
        }
    }
    let from = |b: &Value| b.get("from").and_then(Value::as_i64);
    // The bucket with the largest `from` not above N (whatever order the data lists them in);
    // below the lowest bucket, the lowest.
    let chosen = buckets
        .iter()
        .filter(|b| from(b).is_some_and(|f| f <= minutes))
        .max_by_key(|b| from(b))
        .or_else(|| buckets.iter().min_by_key(|b| from(b)));
    let Some(b) = chosen else {
        return Err("the mapping table has no inactivity buckets for this platform".into());
    };
    let value = b.get("value").and_then(Value::as_i64).unwrap_or(minutes);
    let note = b.get("note").and_then(Value::as_str);
    let lossy_bucket = b.get("lossy") == Some(&Value::Bool(true));
    let mut text = if value == minutes {
        format!("{minutes} min{rounded} kept")
    } else {
        format!("{minutes} min{rounded} bucketed to {value}")
    };
    if let Some(n) = note {
        text.push_str(&format!(" ({n})"));
    }
    let mut st = step(
        Effect::Set(Value::from(value)),
        if value == minutes && !lossy_bucket && !partial {
            Status::Exact
        } else {
            Status::Converted
        },
        text,
    );
    st.loss = value != minutes || lossy_bucket;
    Ok(st)
}

/// Reads a raw setting value according to its declared type.
pub fn read_value(m: &Mapping, value_type: &str, raw: &Value) -> Result<SourceValue, String> {
    match value_type {
        "bool" => values::parse_bool(raw).map(SourceValue::Bool),
        "int" => values::parse_int(raw).map(SourceValue::Int),
        "timespan" => values::parse_timespan(raw).map(SourceValue::Seconds),
        "string" => values::parse_text(raw).map(SourceValue::Text),
        "list" => values::parse_list(raw).map(SourceValue::List),
        t if t == "enum" || t.starts_with("enum:") => {
            let table = t.strip_prefix("enum:").and_then(|n| m.enums.get(n));
            values::parse_enum(raw, table).map(SourceValue::Name)
        }
        other => Err(format!("unknown value type {other} in the mapping table")),
    }
}

fn platform_keys(opts: &Options) -> [&'static str; 3] {
    ["ios", opts.android_target.platform_key(), "windows"]
}

/// Contributions to one Android password-type property: (canonical type name, report row index,
/// the rule's enum map).
type TypeContribs = Vec<(String, usize, Option<Map<String, Value>>)>;

/// Per platform: the properties collected for each target body.
#[derive(Default)]
struct Bodies {
    props: BTreeMap<Target, Map<String, Value>>,
    /// (target, property) → contributions (canonical type name, row index, enum map).
    min_types: BTreeMap<(Target, String), TypeContribs>,
    email: bool,
    email_rows: Vec<usize>,
}

/// Converts one BMS policy. Never fails: unreadable values become `manual` rows.
pub fn convert_policy(
    m: &Mapping,
    sk: &Skeletons,
    policy: &BmsPolicy,
    opts: &Options,
) -> PolicyConversion {
    let mut out = PolicyConversion::default();
    let kind = kind_str(policy.kind);
    let row = |platform: &str, setting: &str, label: &str, src: &str| MappingRow {
        policy: policy.name.clone(),
        policy_kind: kind.to_string(),
        platform: platform.to_string(),
        setting: setting.to_string(),
        label: label.to_string(),
        source_value: src.to_string(),
        intune_type: None,
        property: None,
        value: None,
        status: Status::NotMigrated,
        rule: String::new(),
        loss: false,
        inferred: false,
    };
    for pkey in platform_keys(opts) {
        let Some(pdef) = m.platforms.get(pkey) else {
            continue;
        };
        let rp = pdef.report_platform.as_str();
        let mut bodies = Bodies::default();
        for (name, raw) in &policy.settings {
            if values::is_unset(raw) || m.is_not_setting(name) {
                continue;
            }
            let Some(def) = m.setting(name) else {
                if pkey == "ios" {
                    let mut r = row("all", name, "", &raw.to_string());
                    r.rule = "unknown BMS setting: not in the mapping table (templates/policy/mapping.json); check it by hand".into();
                    r.status = Status::Manual;
                    r.loss = true;
                    out.rows.push(r);
                }
                continue;
            };
            let sv = match read_value(m, &def.value_type, raw) {
                Ok(v) => v,
                Err(e) => {
                    let mut r = row(rp, &def.name, &def.label, &raw.to_string());
                    r.status = Status::Manual;
                    r.rule =
                        format!("value not understood ({e}); set it by hand or fix the export");
                    r.loss = true;
                    out.rows.push(r);
                    continue;
                }
            };
            let src = sv.display();
            let rules: Vec<&Rule> = m.rules_for(&def.name, pkey, policy.kind).collect();
            if rules.is_empty() {
                out.rows.push(fallback_row(
                    m,
                    def,
                    pdef,
                    rp,
                    row(rp, &def.name, &def.label, &src),
                ));
                continue;
            }
            for rule in rules {
                let mut r = row(rp, &def.name, &def.label, &src);
                r.intune_type = pdef.odata_type(rule.target).map(str::to_string);
                r.property = rule.property.clone();
                r.inferred = rule.inferred || pdef.inferred;
                let st = match apply(rule, &def.name, &sv) {
                    Ok(s) => s,
                    Err(e) => step(
                        Effect::Nothing,
                        Status::Manual,
                        format!("value not usable here ({e}); set it by hand"),
                    ),
                };
                r.status = st.status;
                r.loss = st.loss;
                r.inferred |= st.inferred;
                r.rule = st.rule;
                if let Some(n) = &rule.note {
                    if rule.target != Target::None {
                        r.rule.push_str(&format!("; {n}"));
                    }
                }
                let idx = out.rows.len();
                match st.effect {
                    Effect::Set(v) => {
                        r.value = Some(v.clone());
                        if let Some(p) = &rule.property {
                            let body = bodies.props.entry(rule.target).or_default();
                            match body.get(p) {
                                Some(prev) if *prev != v => {
                                    r.status = Status::Manual;
                                    r.loss = true;
                                    r.rule = format!(
                                        "conflicts with another setting that already set {p} = {prev}; kept that value, check by hand"
                                    );
                                }
                                _ => {
                                    body.insert(p.clone(), v);
                                }
                            }
                        }
                        if rule.target == Target::Email {
                            bodies.email_rows.push(idx);
                        }
                    }
                    Effect::MinType(name) => {
                        if let Some(p) = &rule.property {
                            let em = rule
                                .params
                                .get("enum_map")
                                .and_then(Value::as_object)
                                .cloned();
                            bodies
                                .min_types
                                .entry((rule.target, p.clone()))
                                .or_default()
                                .push((name, idx, em));
                        }
                    }
                    Effect::Email(b) => {
                        bodies.email |= b;
                        r.property = None;
                    }
                    Effect::Unset | Effect::Nothing => {}
                }
                out.rows.push(r);
            }
        }
        // Android passwordRequiredType: the maximum over every contributing rule.
        for ((target, prop), contribs) in &bodies.min_types {
            let best = contribs
                .iter()
                .filter_map(|(n, _, _)| m.type_rank(n).map(|r| (r, n)))
                .max_by_key(|(r, _)| *r)
                .map(|(_, n)| n.clone());
            let Some(best) = best else { continue };
            let enum_map = contribs.iter().find_map(|(_, _, e)| e.clone());
            let final_value = enum_map
                .as_ref()
                .and_then(|e| e.get(&best).cloned())
                .unwrap_or_else(|| Value::String(best.clone()));
            bodies
                .props
                .entry(*target)
                .or_default()
                .insert(prop.clone(), final_value.clone());
            for (_, idx, _) in contribs {
                if let Some(r) = out.rows.get_mut(*idx) {
                    r.value = Some(final_value.clone());
                    r.rule.push_str(&format!(
                        "; {prop} = {final_value} (the maximum over the rules)"
                    ));
                }
            }
        }
        // Email fields only travel inside an email profile.
        if !bodies.email {
            for idx in &bodies.email_rows {
                if let Some(r) = out.rows.get_mut(*idx) {
                    r.status = Status::NotMigrated;
                    r.value = None;
                    r.loss = false;
                    r.rule = "RequireEmailProfile is not set, so no email profile is created for this value".into();
                }
            }
            bodies.props.remove(&Target::Email);
        } else {
            bodies.props.entry(Target::Email).or_default();
        }
        for target in [Target::Compliance, Target::Configuration, Target::Email] {
            if target == Target::Compliance && policy.kind != PolicyKind::ConditionalAccess {
                continue;
            }
            let Some(props) = bodies.props.remove(&target) else {
                continue;
            };
            if props.is_empty() && target != Target::Email {
                continue;
            }
            let Some(odata) = pdef.odata_type(target) else {
                continue;
            };
            let Some(skel) = sk.types.get(odata) else {
                continue;
            };
            let mut name = format!("{}{}{}", opts.name_prefix, policy.name, pdef.suffix);
            if target == Target::Email {
                name.push_str(&m.email_suffix);
            }
            let mut body = skel.body.clone();
            for (k, v) in props {
                body.insert(k, v);
            }
            body.insert("@odata.type".into(), Value::String(odata.to_string()));
            body.insert("displayName".into(), Value::String(name.clone()));
            if let Some(c) = policy.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                body.insert("description".into(), Value::String(c.to_string()));
            }
            out.objects.push(IntuneObject {
                target,
                platform: pkey.to_string(),
                report_platform: rp.to_string(),
                odata_type: odata.to_string(),
                api: skel.api.clone(),
                path: skel.path.clone(),
                display_name: name,
                body: sort_keys(Value::Object(body)),
            });
        }
    }
    out
}

/// Why a configured setting has no rule for this platform.
fn fallback_row(
    m: &Mapping,
    def: &super::mapping::SettingDef,
    pdef: &super::mapping::PlatformDef,
    rp: &str,
    mut r: MappingRow,
) -> MappingRow {
    let labels: Vec<String> = def
        .bms_platforms
        .iter()
        .map(|p| {
            m.bms_platform_labels
                .get(p)
                .cloned()
                .unwrap_or_else(|| p.clone())
        })
        .collect();
    let applied_here = def.bms_platforms.is_empty()
        || def.bms_platforms.iter().any(|p| match rp {
            "windows" => p == "wp81" || p == "rt",
            other => p == other,
        });
    r.status = Status::NotMigrated;
    r.loss = applied_here;
    r.rule = if rp == "windows" && applied_here && !def.bms_platforms.is_empty() {
        format!(
            "{} setting: only Windows 10/11 desktop gets Intune policy and it has no equivalent",
            labels.join(" / ")
        )
    } else if applied_here {
        format!("no Intune property for this setting on {}", pdef.label)
    } else {
        format!(
            "BMS applies this setting only to {}: nothing to migrate on {}",
            labels.join(", "),
            pdef.label
        )
    };
    r
}

/// Recursively sorts object keys so output is byte-for-byte deterministic.
pub fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut entries: Vec<(String, Value)> = o.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
