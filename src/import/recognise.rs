//! Recognising what a file or sheet holds from its header row, with the header alias table kept
//! as data in `templates/import/header-aliases.json`.

use std::collections::HashMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::text::norm;

/// What a file or sheet holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Microsoft's product names and service plan identifiers CSV (extends the built-in copy).
    Reference,
    /// The tenant's products with seats (subscribedSkus).
    Products,
    Users,
    Groups,
    /// Group memberships (group → member user or group).
    Members,
    /// Per-user license assignments.
    Licenses,
    Devices,
    Policies,
    /// Wave pins (Wave / Pilot / BatchName / Collection per user).
    Plan,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reference => "reference",
            Kind::Products => "products",
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::Members => "members",
            Kind::Licenses => "licenses",
            Kind::Devices => "devices",
            Kind::Policies => "policies",
            Kind::Plan => "plan",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "reference" => Kind::Reference,
            "products" => Kind::Products,
            "users" => Kind::Users,
            "groups" => Kind::Groups,
            "members" => Kind::Members,
            "licenses" => Kind::Licenses,
            "devices" => Kind::Devices,
            "policies" => Kind::Policies,
            "plan" => Kind::Plan,
            _ => return None,
        })
    }

    /// Processing order: what later kinds refer to comes first.
    pub fn order(self) -> u8 {
        self as u8
    }
}

#[derive(Deserialize)]
struct AliasFile {
    kinds: Vec<KindSpecRaw>,
}

#[derive(Deserialize)]
struct KindSpecRaw {
    kind: String,
    signature: Vec<Vec<String>>,
    fields: serde_json::Map<String, serde_json::Value>,
}

pub struct KindSpec {
    pub kind: Kind,
    pub signature: Vec<Vec<String>>,
    /// Field name → normalised aliases in priority order.
    pub fields: Vec<(String, Vec<String>)>,
}

static SPECS: OnceLock<Vec<KindSpec>> = OnceLock::new();

const ALIASES_JSON: &str = include_str!("../../templates/import/header-aliases.json");

/// The alias table; a broken embedded file is a build-time bug caught by the unit tests, so here
/// it degrades to an empty table rather than panicking.
pub fn specs() -> &'static [KindSpec] {
    SPECS.get_or_init(|| {
        let raw: AliasFile = match serde_json::from_str(ALIASES_JSON) {
            Ok(r) => r,
            Err(_) => return Vec::new(),
        };
        raw.kinds
            .into_iter()
            .filter_map(|k| {
                let kind = Kind::parse(&k.kind)?;
                let fields = k
                    .fields
                    .into_iter()
                    .map(|(f, v)| {
                        let aliases = v
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str())
                                    .map(norm)
                                    .collect::<Vec<_>>()
                            })
                            .unwrap_or_default();
                        (f, aliases)
                    })
                    .collect();
                Some(KindSpec {
                    kind,
                    signature: k.signature,
                    fields,
                })
            })
            .collect()
    })
}

pub fn spec(kind: Kind) -> Option<&'static KindSpec> {
    specs().iter().find(|s| s.kind == kind)
}

/// Normalises one header cell: `Label [propertyName] Required` → `propertyname`.
pub fn norm_header(h: &str) -> String {
    if let (Some(open), Some(close)) = (h.find('['), h.rfind(']')) {
        if open < close {
            let label = norm(h.get(..open).unwrap_or(""));
            if label.starts_with("block sign in") {
                return "block sign in".into();
            }
            if let Some(inner) = h.get(open + 1..close) {
                let n = norm(inner);
                if !n.is_empty() {
                    return n;
                }
            }
        }
    }
    norm(h)
}

/// A header row mapped onto a kind's fields.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// Field → column index.
    map: HashMap<String, usize>,
    /// The header cells as given (for messages), by column index.
    pub headers: Vec<String>,
}

impl Columns {
    pub fn get(&self, field: &str) -> Option<usize> {
        self.map.get(field).copied()
    }
    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }
    /// The header text of a column as the file spells it.
    pub fn header(&self, col: usize) -> &str {
        self.headers.get(col).map(|s| s.as_str()).unwrap_or("")
    }
    pub fn header_of<'a>(&'a self, field: &'a str) -> &'a str {
        self.get(field).map(|c| self.header(c)).unwrap_or(field)
    }
    pub fn fields(&self) -> impl Iterator<Item = (&str, usize)> {
        self.map.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// Maps a header row onto one kind's fields.
pub fn map_columns(kind: Kind, headers: &[String]) -> Columns {
    let normed: Vec<String> = headers.iter().map(|h| norm_header(h)).collect();
    let mut map = HashMap::new();
    if let Some(spec) = spec(kind) {
        for (field, aliases) in &spec.fields {
            if let Some(col) = aliases
                .iter()
                .find_map(|a| normed.iter().position(|h| h == a))
            {
                map.insert(field.clone(), col);
            }
        }
    }
    Columns {
        map,
        headers: headers.to_vec(),
    }
}

fn signature_matches(spec: &KindSpec, cols: &Columns) -> bool {
    !spec.signature.is_empty()
        && spec
            .signature
            .iter()
            .all(|group| group.iter().any(|f| cols.has(f)))
}

/// Recognises a header row: the first kind (in table order) whose signature matches.
pub fn recognise(headers: &[String]) -> Option<(Kind, Columns)> {
    for spec in specs() {
        let cols = map_columns(spec.kind, headers);
        if signature_matches(spec, &cols) {
            return Some((spec.kind, cols));
        }
    }
    None
}

/// With `--as KIND`: the header row is acceptable when it names at least one of the kind's fields.
pub fn columns_for(kind: Kind, headers: &[String]) -> Option<Columns> {
    let cols = map_columns(kind, headers);
    (!cols.map.is_empty()).then_some(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str, sep: char) -> Vec<String> {
        s.split(sep).map(|x| x.to_string()).collect()
    }

    #[test]
    fn alias_table_loads_every_kind() {
        assert_eq!(specs().len(), 9);
    }

    #[test]
    fn recognises_the_documented_exports() {
        let cases: &[(&str, char, Kind)] = &[
            ("Display name,DirSyncEnabled,User principal name,Object Id,First name,Last name,When created,Soft deletion time stamp,Title,Department,Preferred data location,City,CountryOrRegion,Office,StateOrProvince,Usage location,Last dirsync time,Block credential,Licenses,Password never expires", ',', Kind::Users),
            ("Benutzerprinzipalname;Anzeigename;Abteilung;Anmeldung blockiert;Lizenzen;Erstellungsdatum", ';', Kind::Users),
            ("userPrincipalName,displayName,surname,mail,givenName,id,userType,jobTitle,department,accountEnabled,usageLocation", ',', Kind::Users),
            ("Name [displayName] Required,User name [userPrincipalName] Required,Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] Required", ',', Kind::Users),
            ("Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names", ',', Kind::Reference),
            ("Device ID,Device name,Enrollment date,Last check-in,OS,OS version,Primary user UPN,Model", ',', Kind::Devices),
            ("FriendlyName,UserDisplayName,DeviceId,DeviceOS,DeviceType,DeviceModel,Identity,FirstSyncTime", ',', Kind::Devices),
            ("DeviceId,DeviceOSType,DeviceOSVersion,DeviceTrustLevel,DisplayName,IsCompliant,IsManaged,ApproximateLastLogonTimestamp,DeviceObjectId,RegisteredOwnerUpn", ',', Kind::Devices),
            ("Member object ID or user principal name [memberObjectIdOrUpn] Required", ',', Kind::Members),
            ("Group,Member UPN", ',', Kind::Members),
            ("BatchName,UserPrincipalName", ',', Kind::Plan),
            ("id,displayName,membershipType", ',', Kind::Groups),
            ("UserPrincipalName,SkuPartNumber,DisabledPlans", ',', Kind::Licenses),
            ("SkuPartNumber,SkuId,ConsumedUnits,PrepaidUnits.Enabled", ',', Kind::Products),
            ("Name,Type,Enabled,TargetGroups,PasswordRequired", ',', Kind::Policies),
        ];
        for (line, sep, kind) in cases {
            let got = recognise(&h(line, *sep)).map(|(k, _)| k);
            assert_eq!(got, Some(*kind), "{line}");
        }
    }

    #[test]
    fn block_sign_in_template_column_is_inverted() {
        let (k, c) = recognise(&h(
            "User name [userPrincipalName] Required,Block sign in (Yes/No) [accountEnabled] Required",
            ',',
        ))
        .unwrap();
        assert_eq!(k, Kind::Users);
        assert_eq!(c.get("sign_in_blocked"), Some(1));
        assert_eq!(c.get("account_enabled"), None);
    }
}

#[cfg(test)]
mod docs_tests {
    use super::*;

    /// docs/import.md lists every kind's accepted headers: it must not drift from the data.
    #[test]
    fn docs_list_every_alias() {
        let docs = include_str!("../../docs/import.md");
        let raw: serde_json::Value = serde_json::from_str(ALIASES_JSON).unwrap();
        for k in raw["kinds"].as_array().unwrap() {
            let kind = k["kind"].as_str().unwrap();
            let start = docs
                .find(&format!("### `{kind}`"))
                .unwrap_or_else(|| panic!("{kind}"));
            let section = &docs[start..];
            let end = section[4..]
                .find("\n### ")
                .map(|e| e + 4)
                .unwrap_or(section.len());
            let section = &section[..end];
            for (field, aliases) in k["fields"].as_object().unwrap() {
                let line = section
                    .lines()
                    .find(|l| l.starts_with(&format!("| `{field}` |")))
                    .unwrap_or_else(|| panic!("{kind}.{field} not in docs"));
                for a in aliases.as_array().unwrap() {
                    let a = a.as_str().unwrap();
                    assert!(
                        line.contains(&format!("`{a}`")),
                        "{kind}.{field}: {a} not in docs"
                    );
                }
            }
        }
    }
}
