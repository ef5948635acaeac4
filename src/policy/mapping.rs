//! The BMS → Intune mapping table and the policy skeletons, loaded from `templates/policy/`
//! (compiled in). Adding a setting means adding rows there, not code here.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

const MAPPING_JSON: &str = include_str!("../../templates/policy/mapping.json");
const SKELETONS_JSON: &str = include_str!("../../templates/policy/skeletons.json");

/// Where an access requirement or setting lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Compliance,
    Configuration,
    Email,
    None,
}

/// Which BMS policy kinds a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindSel {
    /// DeviceConditionalAccess* ("Block access").
    Block,
    /// DeviceConfiguration* ("Allow access and report").
    Allow,
    Any,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformDef {
    /// Platform name in reports: `ios`, `android`, `windows`.
    pub report_platform: String,
    pub label: String,
    /// Display-name suffix (`_O365_i`, ...).
    pub suffix: String,
    pub compliance: String,
    pub configuration: String,
    pub email: String,
    #[serde(default)]
    pub inferred: bool,
}

impl PlatformDef {
    pub fn odata_type(&self, t: Target) -> Option<&str> {
        match t {
            Target::Compliance => Some(&self.compliance),
            Target::Configuration => Some(&self.configuration),
            Target::Email => Some(&self.email),
            Target::None => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingDef {
    pub name: String,
    pub label: String,
    /// `bool`, `int`, `timespan`, `string`, `list`, `enum` or `enum:<Table>`.
    #[serde(rename = "type")]
    pub value_type: String,
    /// Where BMS applied it: `ios`, `android`, `wp81`, `rt` (empty = not documented).
    pub bms_platforms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub setting: String,
    /// Key into `platforms` (`ios`, `android`, `android_wp`, `windows`).
    pub platform: String,
    pub kind: KindSel,
    pub target: Target,
    #[serde(default)]
    pub property: Option<String>,
    pub conversion: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    /// For target `none`: `manual` or `not_migrated`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub inferred: bool,
    /// Not carried over, but nothing is lost (e.g. iOS always encrypts).
    #[serde(default)]
    pub no_loss: bool,
}

impl Rule {
    pub fn applies_to(&self, kind: crate::model::PolicyKind) -> bool {
        use crate::model::PolicyKind;
        matches!(
            (self.kind, kind),
            (KindSel::Any, _)
                | (KindSel::Block, PolicyKind::ConditionalAccess)
                | (KindSel::Allow, PolicyKind::Configuration)
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub format: String,
    pub source: String,
    pub platforms: BTreeMap<String, PlatformDef>,
    pub email_suffix: String,
    pub bms_platform_labels: BTreeMap<String, String>,
    pub android_password_type_order: Vec<String>,
    pub enums: BTreeMap<String, BTreeMap<String, i64>>,
    pub not_settings: Vec<String>,
    pub settings: Vec<SettingDef>,
    pub rules: Vec<Rule>,
}

impl Mapping {
    pub fn setting(&self, name: &str) -> Option<&SettingDef> {
        self.settings.iter().find(|s| s.name == name).or_else(|| {
            self.settings
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
        })
    }

    pub fn is_not_setting(&self, name: &str) -> bool {
        self.not_settings
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    }

    pub fn rules_for<'a>(
        &'a self,
        setting: &'a str,
        platform: &'a str,
        kind: crate::model::PolicyKind,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.setting == setting && r.platform == platform && r.applies_to(kind))
    }

    pub fn type_rank(&self, t: &str) -> Option<usize> {
        self.android_password_type_order.iter().position(|x| x == t)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skeleton {
    /// `v1.0` or `beta`.
    pub api: String,
    /// Collection the body is POSTed to, e.g. `/deviceManagement/deviceCompliancePolicies`.
    pub path: String,
    #[serde(default)]
    pub inferred: bool,
    pub body: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skeletons {
    pub format: String,
    pub note: String,
    pub types: BTreeMap<String, Skeleton>,
}

/// Conversions the engine implements; the data may name only these.
pub const CONVERSIONS: &[&str] = &[
    "copy_bool",
    "invert_bool",
    "when_value",
    "truthy_const",
    "int_range",
    "inactivity",
    "value_map",
    "android_password_type",
    "copy_string",
    "email_profile",
    "none",
];

/// Checks the table's internal consistency (run by a unit test so a bad row never ships).
pub fn validate(m: &Mapping, s: &Skeletons) -> Vec<String> {
    let mut errs = Vec::new();
    for p in m.platforms.values() {
        for t in [&p.compliance, &p.configuration, &p.email] {
            if !s.types.contains_key(t) {
                errs.push(format!("platform {}: no skeleton for {t}", p.label));
            }
        }
    }
    for (i, r) in m.rules.iter().enumerate() {
        let at = format!("rule {i} ({} / {})", r.setting, r.platform);
        if m.setting(&r.setting).is_none() {
            errs.push(format!("{at}: setting not in `settings`"));
        }
        if !m.platforms.contains_key(&r.platform) {
            errs.push(format!("{at}: unknown platform"));
        }
        if !CONVERSIONS.contains(&r.conversion.as_str()) {
            errs.push(format!("{at}: unknown conversion {}", r.conversion));
        }
        let needs_property =
            !matches!(r.target, Target::None) && !matches!(r.conversion.as_str(), "email_profile");
        if needs_property != r.property.is_some() {
            errs.push(format!("{at}: property presence does not match target"));
        }
        if matches!(r.target, Target::None) {
            match r.status.as_deref() {
                Some("manual") | Some("not_migrated") => {}
                _ => errs.push(format!(
                    "{at}: target none needs status manual|not_migrated"
                )),
            }
            if r.note.is_none() {
                errs.push(format!("{at}: target none needs a note saying why"));
            }
        }
        if r.conversion == "android_password_type" {
            let mut names: Vec<String> = Vec::new();
            if let Some(Value::Object(map)) = r.params.get("map") {
                for v in map.values() {
                    names.push(entry_value(v).as_str().unwrap_or_default().to_string());
                }
            }
            for k in ["when_set", "truthy", "above"] {
                if let Some(v) = r.params.get(k) {
                    names.push(entry_value(v).as_str().unwrap_or_default().to_string());
                }
            }
            for n in names {
                if m.type_rank(&n).is_none() {
                    errs.push(format!("{at}: {n:?} not in android_password_type_order"));
                }
            }
        }
        if let Some(Value::String(e)) = r.params.get("enum") {
            if !m.enums.contains_key(e) {
                errs.push(format!("{at}: unknown enum table {e}"));
            }
        }
    }
    for st in &m.settings {
        if let Some(t) = st.value_type.strip_prefix("enum:") {
            if !m.enums.contains_key(t) {
                errs.push(format!("setting {}: unknown enum table {t}", st.name));
            }
        }
    }
    errs
}

/// A map entry is either the value itself or `{"value":..,"lossy":..,"note":..}`.
pub fn entry_value(v: &Value) -> &Value {
    match v {
        Value::Object(o) if o.contains_key("value") => o.get("value").unwrap_or(v),
        _ => v,
    }
}

pub fn entry_lossy(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.get("lossy") == Some(&Value::Bool(true)))
}

pub fn entry_note(v: &Value) -> Option<&str> {
    match v {
        Value::Object(o) => o.get("note").and_then(Value::as_str),
        _ => None,
    }
}

pub struct Tables {
    pub mapping: Mapping,
    pub skeletons: Skeletons,
}

/// The compiled-in tables. They are checked by unit tests; should they ever fail to parse, the
/// error says which file.
pub fn tables() -> Result<&'static Tables, crate::Error> {
    static T: OnceLock<Result<Tables, String>> = OnceLock::new();
    T.get_or_init(|| {
        let mapping: Mapping = serde_json::from_str(MAPPING_JSON)
            .map_err(|e| format!("templates/policy/mapping.json: {e}"))?;
        let skeletons: Skeletons = serde_json::from_str(SKELETONS_JSON)
            .map_err(|e| format!("templates/policy/skeletons.json: {e}"))?;
        Ok(Tables { mapping, skeletons })
    })
    .as_ref()
    .map_err(|e| crate::Error::internal("policy.mapping_invalid", e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_tables_parse_and_are_consistent() {
        let t = tables().expect("tables parse");
        assert_eq!(t.mapping.format, "bms2intune policy mapping 1");
        let errs = validate(&t.mapping, &t.skeletons);
        assert!(errs.is_empty(), "{errs:#?}");
        assert!(t.mapping.rules.len() > 100);
    }

    #[test]
    fn every_rule_property_exists_on_its_graph_type() {
        // Property names checked against the Graph schema snapshot when it is available.
        let shared = std::env::var_os("BMS2INTUNE_SHARED")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
        let schema_dir = shared.join("graph-schema");
        let t = tables().expect("tables parse");
        for api in ["v1.0", "beta"] {
            let path = schema_dir.join(format!("intune-{api}.json"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                eprintln!("skipping: {} not found", path.display());
                return;
            };
            let schema: Value = serde_json::from_str(&text).expect("schema json");
            let types = &schema["types"];
            let has_prop = |odata: &str, prop: &str| -> bool {
                let mut name = odata.trim_start_matches('#').to_string();
                while let Some(ty) = types.get(&name) {
                    if ty["properties"].get(prop).is_some() {
                        return true;
                    }
                    match ty["baseType"].as_str() {
                        Some(b) => name = b.to_string(),
                        None => break,
                    }
                }
                false
            };
            for r in &t.mapping.rules {
                let (Some(prop), Some(p)) = (&r.property, t.mapping.platforms.get(&r.platform))
                else {
                    continue;
                };
                let Some(odata) = p.odata_type(r.target) else {
                    continue;
                };
                let sk_api = &t.skeletons.types[odata].api;
                if sk_api != api {
                    continue;
                }
                assert!(
                    has_prop(odata, prop),
                    "{odata} has no property {prop} ({} / {})",
                    r.setting,
                    r.platform
                );
            }
        }
    }
}
