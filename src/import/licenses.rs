//! Licensing: Microsoft's product/service-plan reference, the tenant's products with seats
//! (CSV or subscribedSkus JSON), per-user assignments and the admin center `Licenses` column.

use serde_json::Value;

use super::recognise::Columns;
use super::report::FileReport;
use super::rows::Row;
use super::snapshot::Builder;
use super::text::{clean, norm, opt, parse_count, parse_guid, split_list, split_plus, FastMap};
use crate::model::{Product, ProductIx, ServicePlan};

const REFERENCE_CSV: &str =
    include_str!("../../templates/licensing/licensing-service-plan-reference.csv");

#[derive(Debug, Clone)]
pub struct RefProduct {
    pub display_name: String,
    pub part_number: String,
    pub sku_id: String,
    pub plans: Vec<ServicePlan>,
}

/// Product names ↔ part numbers ↔ SKU ids ↔ service plans.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    products: Vec<RefProduct>,
    by_sku: FastMap<String, usize>,
    by_part: FastMap<String, usize>,
    by_name: FastMap<String, usize>,
}

/// Whitespace-normalised (incl. NBSP and tabs) upper-case part number.
fn part_key(s: &str) -> String {
    norm(s).to_uppercase()
}

impl Reference {
    /// The copy embedded from `templates/licensing/` (parsed once per process).
    pub fn builtin() -> Reference {
        static BUILTIN: std::sync::OnceLock<Reference> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(Self::parse_builtin).clone()
    }

    fn parse_builtin() -> Reference {
        let mut r = Reference::default();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(REFERENCE_CSV.as_bytes());
        let mut rec = csv::StringRecord::new();
        while let Ok(true) = rdr.read_record(&mut rec) {
            r.add_row(
                rec.get(0).unwrap_or(""),
                rec.get(1).unwrap_or(""),
                rec.get(2).unwrap_or(""),
                rec.get(3).unwrap_or(""),
                rec.get(4).unwrap_or(""),
            );
        }
        r
    }

    /// Adds one (product, service plan) row; `false` when the row has no usable product GUID.
    pub fn add_row(
        &mut self,
        display: &str,
        part: &str,
        guid: &str,
        plan: &str,
        plan_id: &str,
    ) -> bool {
        let Some(sku) = parse_guid(guid) else {
            return false;
        };
        let part = clean(part).replace(['\u{a0}', '\t'], " ");
        let ix = match self.by_sku.get(&sku) {
            Some(&i) => i,
            None => {
                let i = self.products.len();
                self.products.push(RefProduct {
                    display_name: clean(display).replace('\u{a0}', " "),
                    part_number: part.clone(),
                    sku_id: sku.clone(),
                    plans: Vec::new(),
                });
                self.by_sku.insert(sku, i);
                // One part number can appear under several display names: keep the first.
                self.by_part.entry(part_key(&part)).or_insert(i);
                self.by_name.entry(norm(display)).or_insert(i);
                i
            }
        };
        let plan = clean(plan).replace('\u{a0}', " ");
        if !plan.is_empty() {
            if let Some(p) = self.products.get_mut(ix) {
                if !p.plans.iter().any(|x| x.name.eq_ignore_ascii_case(&plan)) {
                    p.plans.push(ServicePlan {
                        name: plan,
                        id: parse_guid(plan_id),
                    });
                }
            }
        }
        true
    }

    pub fn find(&self, key: &str) -> Option<&RefProduct> {
        let ix = match parse_guid(key) {
            Some(id) => self.by_sku.get(&id),
            None => self
                .by_part
                .get(&part_key(key))
                .or_else(|| self.by_name.get(&norm(key))),
        }?;
        self.products.get(*ix)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.products.len()
    }
}

/// Resolves a product name/part number/SKU id to a tenant product, creating it from the reference
/// (seats unknown) when the tenant's products don't have it. `(ix, created)`.
pub fn resolve_product(b: &mut Builder, key: &str) -> Option<(ProductIx, bool)> {
    if clean(key).is_empty() {
        return None;
    }
    if let Some(ix) = b.find_product(key) {
        return Some((ix, false));
    }
    let rp = b.reference().find(key)?.clone();
    if let Some(ix) = b
        .find_product(&rp.sku_id)
        .or_else(|| b.find_product(&rp.part_number))
    {
        // Known under another name: remember this one too.
        b.product_by_name.entry(norm(key)).or_insert(ix);
        return Some((ix, false));
    }
    let ix = b.add_product(
        Product {
            part_number: rp.part_number,
            sku_id: Some(rp.sku_id),
            display_name: Some(rp.display_name),
            enabled_units: None,
            consumed_units: None,
            service_plans: rp.plans,
        },
        false,
    );
    b.product_by_name.entry(norm(key)).or_insert(ix);
    Some((ix, true))
}

/// Resolved `Licenses` cell: products and the names that matched nothing.
#[derive(Clone, Default)]
pub struct LicenseCell {
    pub products: Vec<ProductIx>,
    pub unknown: Vec<String>,
    pub created: Vec<ProductIx>,
}

/// Splits and resolves an admin center `Licenses` value (cached per distinct value by the caller).
pub fn resolve_license_cell(b: &mut Builder, cell: &str) -> LicenseCell {
    let mut out = LicenseCell::default();
    let c = clean(cell);
    if c.is_empty()
        || c.eq_ignore_ascii_case("unlicensed")
        || c.eq_ignore_ascii_case("nicht lizenziert")
    {
        return out;
    }
    let pieces = split_plus(c);
    let mut i = 0;
    while i < pieces.len() {
        // Greedy: the longest run of pieces re-joined with `+` that names a product (a product
        // name could contain a `+` without spaces).
        let mut matched = false;
        for j in (i + 1..=pieces.len()).rev() {
            let cand = pieces.get(i..j).map(|p| p.join("+")).unwrap_or_default();
            if let Some((ix, created)) = resolve_product(b, &cand) {
                out.products.push(ix);
                if created {
                    out.created.push(ix);
                }
                i = j;
                matched = true;
                break;
            }
        }
        if !matched {
            if let Some(p) = pieces.get(i) {
                out.unknown.push(clean(p).to_string());
            }
            i += 1;
        }
    }
    out.products.sort_unstable();
    out.products.dedup();
    out
}

pub fn warn_created(
    b: &Builder,
    rep: &mut FileReport,
    row: u32,
    column: &str,
    created: &[ProductIx],
) {
    for &ix in created {
        if let Some(p) = b.t.products.get(ix as usize) {
            rep.warn(
                row,
                "import.products.seats_unknown",
                column,
                p.display_name.as_deref().unwrap_or(&p.part_number),
                format!(
                    "product {} ({}) is assigned but no products/seats file lists it: created from Microsoft's reference with unknown seat counts; import the products (Get-MgSubscribedSku) to check seats",
                    p.part_number,
                    p.display_name.as_deref().unwrap_or("")
                ),
            );
        }
    }
}

/// Rows of Microsoft's reference CSV given as an input: they extend the built-in copy.
pub struct ReferenceRows {
    c: [Option<usize>; 5],
}

impl ReferenceRows {
    pub fn new(cols: &Columns) -> Self {
        ReferenceRows {
            c: [
                cols.get("display_name"),
                cols.get("part_number"),
                cols.get("sku_id"),
                cols.get("plan_name"),
                cols.get("plan_id"),
            ],
        }
    }
    pub fn row(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
    ) {
        let get = |i: usize| {
            self.c
                .get(i)
                .copied()
                .flatten()
                .map(|c| r.cell(c))
                .unwrap_or("")
        };
        let guid = get(2);
        let ok = b.reference().add_row(get(0), get(1), guid, get(3), get(4));
        if ok {
            rep.keep();
        } else {
            rep.reject(
                row_no,
                "import.guid.malformed",
                cols.header_of("sku_id"),
                guid,
                "the product GUID is not a GUID; the reference row cannot be used".into(),
            );
        }
    }
}

/// The tenant's products with seats.
pub struct ProductRows {
    part: Option<usize>,
    sku: Option<usize>,
    name: Option<usize>,
    enabled: Option<usize>,
    consumed: Option<usize>,
    plans: Option<usize>,
}

pub struct ProductFacts<'a> {
    pub part: Option<&'a str>,
    pub sku: Option<&'a str>,
    pub name: Option<&'a str>,
    pub enabled: Option<u64>,
    pub consumed: Option<u64>,
    pub plans: Option<Vec<ServicePlan>>,
}

/// Creates or updates a product from a seats row/object. `Err((code, column field, value, message))`.
pub fn upsert_product(
    b: &mut Builder,
    f: ProductFacts<'_>,
) -> Result<Vec<String>, (String, &'static str, String, String)> {
    let mut notes = Vec::new();
    let sku = match f.sku {
        Some(s) => Some(parse_guid(s).ok_or_else(|| {
            (
                "import.guid.malformed".to_string(),
                "sku_id",
                s.to_string(),
                "the SKU id is not a GUID".to_string(),
            )
        })?),
        None => None,
    };
    let key = sku
        .clone()
        .or_else(|| f.part.map(|s| s.to_string()))
        .or_else(|| f.name.map(|s| s.to_string()));
    let Some(key) = key else {
        return Err((
            "import.products.missing_sku".into(),
            "part_number",
            String::new(),
            "the row names no product (part number, SKU id or product name)".into(),
        ));
    };
    let reference = b.reference();
    let rp = reference
        .find(&key)
        .or_else(|| f.part.and_then(|p| reference.find(p)))
        .cloned();
    let part = f
        .part
        .map(|s| clean(s).to_string())
        .or_else(|| rp.as_ref().map(|r| r.part_number.clone()));
    let Some(part) = part else {
        return Err((
            "import.products.unknown_product".into(),
            if f.name.is_some() { "display_name" } else { "sku_id" },
            key,
            "the product is not in Microsoft's product reference and the row has no part number; add a SkuPartNumber column".into(),
        ));
    };
    if rp.is_none() {
        notes.push(format!(
            "product {part} is not in Microsoft's product reference (templates/licensing/); its service plans are known only if the file lists them"
        ));
    }
    let plans = match f.plans {
        Some(p) if !p.is_empty() => p,
        _ => rp.as_ref().map(|r| r.plans.clone()).unwrap_or_default(),
    };
    let existing = b
        .find_product(&part)
        .or_else(|| sku.as_deref().and_then(|s| b.find_product(s)));
    let product = Product {
        part_number: part,
        sku_id: sku.or_else(|| rp.as_ref().map(|r| r.sku_id.clone())),
        display_name: f
            .name
            .map(|s| clean(s).to_string())
            .or_else(|| rp.as_ref().map(|r| r.display_name.clone())),
        enabled_units: f.enabled,
        consumed_units: f.consumed,
        service_plans: plans,
    };
    match existing {
        Some(ix) => {
            if let Some(p) = b.t.products.get_mut(ix as usize) {
                *p = product;
            }
            if let Some(s) = b.product_has_seats.get_mut(ix as usize) {
                *s = true;
            }
            b.reindex_product(ix);
        }
        None => {
            b.add_product(product, true);
        }
    }
    Ok(notes)
}

fn plans_from_cell(s: &str) -> Option<Vec<ServicePlan>> {
    let s = clean(s);
    // `Export-Csv` of Get-MgSubscribedSku writes the .NET type name instead of the list.
    if s.is_empty() || s.contains("Microsoft.Graph") || s.starts_with("System.") {
        return None;
    }
    Some(
        split_list(s)
            .map(|n| ServicePlan {
                name: n.to_string(),
                id: None,
            })
            .collect(),
    )
}

impl ProductRows {
    pub fn new(cols: &Columns) -> Self {
        ProductRows {
            part: cols.get("part_number"),
            sku: cols.get("sku_id"),
            name: cols.get("display_name"),
            enabled: cols.get("enabled_units"),
            consumed: cols.get("consumed_units"),
            plans: cols.get("service_plans"),
        }
    }

    pub fn row(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
    ) {
        let cell = |c: Option<usize>| c.map(|c| r.cell(c)).unwrap_or("");
        let count = |c: Option<usize>, field: &str, rep: &mut FileReport| -> Option<u64> {
            let v = opt(cell(c))?;
            match parse_count(v) {
                Some(n) => Some(n),
                None => {
                    rep.warn(
                        row_no,
                        "import.products.bad_count",
                        cols.header_of(field),
                        v,
                        "not a whole number of seats; treated as unknown".into(),
                    );
                    None
                }
            }
        };
        let enabled = count(self.enabled, "enabled_units", rep);
        let consumed = count(self.consumed, "consumed_units", rep);
        let facts = ProductFacts {
            part: opt(cell(self.part)),
            sku: opt(cell(self.sku)),
            name: opt(cell(self.name)),
            enabled,
            consumed,
            plans: self.plans.and_then(|c| plans_from_cell(r.cell(c))),
        };
        match upsert_product(b, facts) {
            Ok(notes) => {
                rep.keep();
                for n in notes {
                    rep.warn(
                        row_no,
                        "import.products.not_in_reference",
                        cols.header_of("part_number"),
                        cell(self.part),
                        n,
                    );
                }
            }
            Err((code, field, value, msg)) => {
                rep.reject(row_no, &code, cols.header_of(field), &value, msg)
            }
        }
    }
}

/// Case-insensitive object member lookup (Graph camelCase vs PowerShell PascalCase).
pub fn member<'a>(o: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn json_count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => parse_count(s),
        _ => None,
    }
}

/// Graph `subscribedSkus` / `Get-MgSubscribedSku | ConvertTo-Json` objects.
pub fn product_from_json(
    o: &serde_json::Map<String, Value>,
    index: u32,
    rep: &mut FileReport,
    b: &mut Builder,
) {
    let s = |k: &str| member(o, k).and_then(|v| v.as_str());
    let enabled = member(o, "prepaidUnits")
        .and_then(|p| p.as_object())
        .and_then(|p| json_count(member(p, "enabled")));
    let plans = member(o, "servicePlans")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_object())
                .filter_map(|p| {
                    let name = member(p, "servicePlanName")?.as_str()?.to_string();
                    Some(ServicePlan {
                        name,
                        id: member(p, "servicePlanId")
                            .and_then(|v| v.as_str())
                            .and_then(parse_guid),
                    })
                })
                .collect::<Vec<_>>()
        });
    let facts = ProductFacts {
        part: s("skuPartNumber"),
        sku: s("skuId"),
        name: None,
        enabled,
        consumed: json_count(member(o, "consumedUnits")),
        plans,
    };
    match upsert_product(b, facts) {
        Ok(notes) => {
            rep.keep();
            for n in notes {
                rep.warn(
                    index,
                    "import.products.not_in_reference",
                    "skuPartNumber",
                    s("skuPartNumber").unwrap_or(""),
                    n,
                );
            }
        }
        Err((code, field, value, msg)) => rep.reject(index, &code, field, &value, msg),
    }
}

/// Per-user assignments: one row per user and product (or a `+`-joined Licenses cell).
pub struct LicenseRows {
    upn: Option<usize>,
    user_id: Option<usize>,
    part: Option<usize>,
    sku: Option<usize>,
    name: Option<usize>,
    disabled: Option<usize>,
    cache: FastMap<String, LicenseCell>,
}

impl LicenseRows {
    pub fn new(cols: &Columns) -> Self {
        LicenseRows {
            upn: cols.get("upn"),
            user_id: cols.get("user_id"),
            part: cols.get("part_number"),
            sku: cols.get("sku_id"),
            name: cols.get("product_name"),
            disabled: cols.get("disabled_plans"),
            cache: FastMap::default(),
        }
    }

    pub fn row(
        &mut self,
        r: &dyn Row,
        row_no: u32,
        cols: &Columns,
        rep: &mut FileReport,
        b: &mut Builder,
    ) {
        let cell = |c: Option<usize>| c.map(|c| r.cell(c)).unwrap_or("");
        let upn = opt(cell(self.upn));
        let uid = opt(cell(self.user_id));
        let user = match (upn, uid) {
            (Some(u), _) => b.find_user(u),
            (None, Some(id)) => b.find_user_by_id(id),
            (None, None) => {
                rep.reject(
                    row_no,
                    "import.licenses.missing_user",
                    cols.header_of("upn"),
                    "",
                    "the row names no user (UPN or object id)".into(),
                );
                return;
            }
        };
        let Some(user) = user else {
            let (field, v) = if let Some(u) = upn {
                ("upn", u)
            } else {
                ("user_id", uid.unwrap_or(""))
            };
            rep.reject(
                row_no,
                "import.licenses.unknown_user",
                cols.header_of(field),
                v,
                "no imported user has this UPN/id; import the users file too (or fix the UPN)"
                    .into(),
            );
            return;
        };
        if let Some(s) = opt(cell(self.sku)) {
            if parse_guid(s).is_none() {
                rep.reject(
                    row_no,
                    "import.guid.malformed",
                    cols.header_of("sku_id"),
                    s,
                    "the SKU id is not a GUID".into(),
                );
                return;
            }
        }
        let (field, key) = if let Some(p) = opt(cell(self.part)) {
            ("part_number", p)
        } else if let Some(s) = opt(cell(self.sku)) {
            ("sku_id", s)
        } else {
            ("product_name", opt(cell(self.name)).unwrap_or(""))
        };
        if key.is_empty() || key.eq_ignore_ascii_case("unlicensed") {
            rep.keep();
            return;
        }
        let resolved = match self.cache.get(key) {
            Some(c) => c.clone(),
            None => {
                let c = if field == "product_name" {
                    resolve_license_cell(b, key)
                } else {
                    let mut c = LicenseCell::default();
                    match resolve_product(b, key) {
                        Some((ix, created)) => {
                            c.products.push(ix);
                            if created {
                                c.created.push(ix);
                            }
                        }
                        None => c.unknown.push(key.to_string()),
                    }
                    c
                };
                self.cache.insert(
                    key.to_string(),
                    LicenseCell {
                        created: Vec::new(),
                        ..c.clone()
                    },
                );
                c
            }
        };
        warn_created(b, rep, row_no, cols.header_of(field), &resolved.created);
        if resolved.products.is_empty() {
            rep.reject(row_no, "import.licenses.unknown_product", cols.header_of(field), key, "matches no product of the tenant nor of Microsoft's product reference; check the spelling or import the products file".into());
            return;
        }
        for u in &resolved.unknown {
            rep.warn(row_no, "import.licenses.unknown_product", cols.header_of(field), u, "matches no product of the tenant nor of Microsoft's product reference; this part of the cell was ignored".into());
        }
        let disabled: Vec<String> = split_list(cell(self.disabled))
            .map(|s| s.to_string())
            .collect();
        for &p in &resolved.products {
            b.assign(user, p, disabled.clone());
        }
        rep.keep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_resolves_names_parts_and_ids() {
        let r = Reference::builtin();
        assert!(r.len() > 500, "{}", r.len());
        let e5 = r
            .find("ENTERPRISE MOBILITY + SECURITY E5")
            .expect("EMS E5 by name");
        assert_eq!(e5.part_number, "EMSPREMIUM");
        assert!(e5.plans.iter().any(|p| p.name == "INTUNE_A"));
        let by_part = r.find("emspremium").expect("by part");
        assert_eq!(by_part.sku_id, e5.sku_id);
        assert!(r.find(&e5.sku_id.to_uppercase()).is_some());
        assert!(r.find("Office 365 E3").is_some());
    }

    #[test]
    fn licenses_cell_splits_and_creates_from_reference() {
        let mut b = Builder::default();
        let c = resolve_license_cell(
            &mut b,
            "ENTERPRISE MOBILITY + SECURITY E5+Office 365 E3+Nonsense Product",
        );
        assert_eq!(c.products.len(), 2);
        assert_eq!(c.created.len(), 2);
        assert_eq!(c.unknown, vec!["Nonsense Product".to_string()]);
        assert!(b.t.products.iter().all(|p| p.enabled_units.is_none()));
        assert!(resolve_license_cell(&mut b, "Unlicensed")
            .products
            .is_empty());
    }
}
