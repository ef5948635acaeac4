//! Import: reads the admin's exports (CSV, Excel, BMS policy JSON) into the tenant snapshot.
//!
//! Two passes: first every file and workbook sheet is recognised from its header row (or taken
//! as `--as KIND`); then they are read in dependency order (products before the users whose
//! Licenses name them, users before memberships, groups before policies' target groups, ...),
//! streaming rows into [`snapshot::Builder`], which sorts and indexes the tenant at the end.

mod csv;
mod devices;
mod groups;
mod licenses;
mod plan;
mod policies;
mod recognise;
mod report;
mod rows;
mod snapshot;
mod text;
mod users;
mod xlsx;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::model::Tenant;
use crate::protocol::{CommandOutput, Ctx};
use crate::workspace::{files, Workspace};

pub use recognise::Kind;
pub use report::{FileReport, Issue};

use recognise::Columns;
use rows::{Format, Input, RowReader};
use snapshot::Builder;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Files to import: CSV/TXT/TSV, XLSX/XLSM/XLS/XLSB/ODS, JSON; `-` reads stdin (needs `as`).
    pub files: Vec<String>,
    /// Treat every file (and sheet) as this kind instead of recognising it from its headers.
    #[serde(default, rename = "as")]
    pub as_kind: Option<Kind>,
    /// Read only this sheet of each workbook.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Merge into the existing snapshot instead of replacing it.
    #[serde(default)]
    pub add: bool,
    /// Any rejected row fails the import (error `import.strict`, exit 1) and leaves the snapshot as it was.
    #[serde(default)]
    pub strict: bool,
}

/// Entity counts of the snapshot after the import.
#[derive(Debug, Default, Clone, Serialize, JsonSchema)]
pub struct Totals {
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    pub license_assignments: u64,
    pub products: u64,
    pub devices: u64,
    pub policies: u64,
    /// Users pinned to a wave or the pilot.
    pub pins: u64,
    pub exclusion_groups: u64,
    /// Over all files: rows read, kept, rejected and warnings.
    pub rows_read: u64,
    pub kept: u64,
    pub rejected: u64,
    pub warnings: u64,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ImportResult {
    /// One entry per CSV/JSON file and per workbook sheet (per array for the policy bundle).
    pub files: Vec<FileReport>,
    pub totals: Totals,
    /// Snapshot-wide warnings: nested group cycles, skipped sheets, ...
    pub warnings: Vec<Issue>,
    pub workspace: String,
    /// Where the snapshot was written (not written under --strict with rejections).
    pub tenant_file: String,
    /// All rejected rows with code, row, column and value.
    pub rejected_rows_file: String,
    /// True when merged into the existing snapshot (--add).
    pub added: bool,
}

impl CommandOutput for ImportResult {
    fn human(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .files
            .iter()
            .map(|f| {
                vec![
                    match &f.sheet {
                        Some(s) => format!("{} [{s}]", f.path),
                        None => f.path.clone(),
                    },
                    f.kind.clone(),
                    f.rows_read.to_string(),
                    f.kept.to_string(),
                    f.rejected.to_string(),
                    (f.warnings.len() as u64 + f.warnings_omitted).to_string(),
                ]
            })
            .collect();
        let mut s = crate::report::table(
            &["file", "kind", "read", "kept", "rejected", "warnings"],
            &rows,
        );
        let t = &self.totals;
        s.push_str(&format!(
            "\nsnapshot: {} users, {} groups, {} memberships, {} products, {} license assignments, {} devices, {} policies, {} pinned users\n",
            t.users, t.groups, t.memberships, t.products, t.license_assignments, t.devices, t.policies, t.pins
        ));
        let mut shown = 0;
        for f in &self.files {
            for r in &f.rejections {
                if shown == 10 {
                    break;
                }
                shown += 1;
                s.push_str(&format!(
                    "rejected[{}] {}{} row {} {}: {:?}: {}\n",
                    r.code,
                    f.path,
                    f.sheet
                        .as_deref()
                        .map(|x| format!(" [{x}]"))
                        .unwrap_or_default(),
                    r.row,
                    r.column,
                    r.value,
                    r.message
                ));
            }
        }
        for w in &self.warnings {
            s.push_str(&format!("warning[{}]: {}\n", w.code, w.message));
        }
        if t.rejected > 0 {
            s.push_str(&format!(
                "{} rows rejected: all are listed in {}\n",
                t.rejected, self.rejected_rows_file
            ));
        }
        s.push_str(&format!("snapshot written to {}\n", self.tenant_file));
        s
    }
}

/// One recognised table: a CSV file, a workbook sheet or a JSON document/array.
struct Unit {
    input: usize,
    sheet: Option<String>,
    kind: Kind,
    header_row: u32,
    cols: Columns,
    json: Option<Value>,
    /// Position of the sheet in its workbook (stable order).
    sheet_pos: usize,
}

/// Phase timings on stderr when `BMS2INTUNE_TIMINGS` is set (for the benchmark harness).
pub(crate) struct Timer {
    on: bool,
    start: std::time::Instant,
    last: std::time::Instant,
}

impl Timer {
    pub(crate) fn new() -> Timer {
        let now = std::time::Instant::now();
        Timer {
            on: std::env::var_os("BMS2INTUNE_TIMINGS").is_some(),
            start: now,
            last: now,
        }
    }
    pub(crate) fn lap(&mut self, what: &str) {
        if self.on {
            let now = std::time::Instant::now();
            eprintln!(
                "timing: {what}: {:.3}s (total {:.3}s)",
                (now - self.last).as_secs_f64(),
                (now - self.start).as_secs_f64()
            );
            self.last = now;
        }
    }
}

/// How many rows above the header (title rows, `version:v1.0`, blank rows) are looked through.
const HEADER_SEARCH_ROWS: u32 = 30;

fn find_header(
    r: &mut dyn RowReader,
    as_kind: Option<Kind>,
) -> Result<Option<(u32, Kind, Columns)>> {
    while r.advance()? {
        if r.row_no() > HEADER_SEARCH_ROWS {
            break;
        }
        let row = r.row();
        if row.is_blank() {
            continue;
        }
        let headers = row.to_vec();
        match as_kind {
            Some(k) => {
                if let Some(c) = recognise::columns_for(k, &headers) {
                    return Ok(Some((r.row_no(), k, c)));
                }
            }
            None => {
                if let Some((k, c)) = recognise::recognise(&headers) {
                    return Ok(Some((r.row_no(), k, c)));
                }
            }
        }
    }
    Ok(None)
}

fn first_row(
    input: &Input,
    format: Format,
    bytes: Option<&[u8]>,
    sheet: Option<&str>,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut grab = |r: &mut dyn RowReader| -> Result<()> {
        while r.advance()? {
            if !r.row().is_blank() {
                seen = r.row().to_vec();
                break;
            }
        }
        Ok(())
    };
    match (format, bytes, sheet) {
        (Format::Csv, _, _) => {
            if let Ok(mut r) = csv::CsvRows::open(input) {
                let _ = grab(&mut r);
            }
        }
        (Format::Workbook, Some(b), Some(s)) => {
            if let Ok(mut wb) = xlsx::Workbook::open(b, &input.display()) {
                let _ = wb.with_rows(&input.display(), s, &mut grab);
            }
        }
        _ => {}
    }
    seen
}

fn unrecognised(
    path: &str,
    sheet: Option<&str>,
    headers: &[String],
    as_kind: Option<Kind>,
) -> Error {
    let shown: Vec<&str> = headers.iter().take(40).map(|s| s.as_str()).collect();
    let what = match sheet {
        Some(s) => format!("{path} [sheet {s}]"),
        None => path.to_string(),
    };
    let msg = match as_kind {
        Some(k) => format!(
            "{what}: no header row with any {} column in the first {HEADER_SEARCH_ROWS} rows (first row seen: {}); see docs/import.md for the accepted headers",
            k.as_str(),
            shown.join(", ")
        ),
        None => format!(
            "{what}: cannot tell what this file holds from its headers ({}); rename the columns as in docs/import.md or pass --as users|groups|members|licenses|products|devices|policies|plan",
            shown.join(", ")
        ),
    };
    Error::input("import.unrecognised", msg)
        .with_detail(json!({ "file": path, "sheet": sheet, "headers": shown }))
}

/// Options of one import run.
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub as_kind: Option<Kind>,
    pub sheet: Option<String>,
}

/// What an import run produced (before anything is written).
pub struct Outcome {
    pub tenant: Tenant,
    pub files: Vec<FileReport>,
    pub warnings: Vec<Issue>,
}

enum Proc {
    Reference(licenses::ReferenceRows),
    Products(licenses::ProductRows),
    Users(users::UserRows),
    Groups(groups::GroupRows),
    Members(groups::MemberRows),
    Licenses(licenses::LicenseRows),
    Devices(devices::DeviceRows),
    Policies(policies::PolicyRows),
    Plan(plan::PlanRows),
}

/// Reads the inputs into a snapshot (merged into `base` when given). Pure apart from reading.
pub fn import(
    inputs: &[Input],
    opts: &Options,
    base: Option<Tenant>,
    ctx: Option<&mut Ctx>,
) -> Result<Outcome> {
    let mut ctx = ctx;
    let mut timer = Timer::new();
    let mut b = Builder::new(base);
    timer.lap("load base snapshot");
    let mut top: Vec<Issue> = Vec::new();
    // Phase 0: formats, workbook bytes.
    let mut formats = Vec::with_capacity(inputs.len());
    let mut bytes: Vec<Option<Vec<u8>>> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let f = rows::detect_format(input)?;
        formats.push(f);
        bytes.push(if f == Format::Workbook {
            Some(input.read_all()?)
        } else {
            None
        });
    }
    let mut books: Vec<Option<xlsx::Workbook<'_>>> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        books.push(match bytes.get(i).and_then(|b| b.as_deref()) {
            Some(data) => Some(xlsx::Workbook::open(data, &input.display())?),
            None => None,
        });
    }
    // Phase 1: recognise.
    let mut units: Vec<Unit> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let path = input.display();
        match formats.get(i).copied().unwrap_or(Format::Csv) {
            Format::Csv => {
                let mut r = csv::CsvRows::open(input)?;
                match find_header(&mut r, opts.as_kind)? {
                    Some((header_row, kind, cols)) => units.push(Unit {
                        input: i,
                        sheet: None,
                        kind,
                        header_row,
                        cols,
                        json: None,
                        sheet_pos: 0,
                    }),
                    None => {
                        let seen = first_row(input, Format::Csv, None, None);
                        return Err(unrecognised(&path, None, &seen, opts.as_kind));
                    }
                }
            }
            Format::Json => {
                let data = input.read_all()?;
                let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
                let v: Value = serde_json::from_slice(data).map_err(|e| {
                    Error::input(
                        "import.json.invalid",
                        format!(
                            "{path}: not valid JSON at line {} column {}: {e}",
                            e.line(),
                            e.column()
                        ),
                    )
                    .with_detail(json!({ "file": path, "line": e.line(), "column": e.column() }))
                })?;
                let kind = match opts.as_kind {
                    Some(k @ (Kind::Products | Kind::Policies)) => k,
                    Some(k) => {
                        return Err(Error::input("import.json.unsupported", format!("{path}: JSON input can hold products (subscribedSkus) or policies, not {}", k.as_str())).with_detail(json!({ "file": path })))
                    }
                    None => json_kind(&v).ok_or_else(|| {
                        Error::input("import.unrecognised", format!("{path}: this JSON is neither a bms2intune policy bundle, Get-Device*Policy/Rule output nor subscribedSkus; see docs/import.md")).with_detail(json!({ "file": path }))
                    })?,
                };
                units.push(Unit {
                    input: i,
                    sheet: None,
                    kind,
                    header_row: 0,
                    cols: Columns::default(),
                    json: Some(v),
                    sheet_pos: 0,
                });
            }
            Format::Workbook => {
                let Some(Some(wb)) = books.get_mut(i) else {
                    continue;
                };
                let names = wb.sheet_names();
                let wanted: Vec<String> = match &opts.sheet {
                    Some(s) => {
                        let found = names
                            .iter()
                            .find(|n| *n == s)
                            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(s)));
                        match found {
                            Some(n) => vec![n.clone()],
                            None => {
                                return Err(Error::input(
                                    "import.xlsx.no_sheet",
                                    format!(
                                        "{path} has no sheet {s:?}; its sheets are: {}",
                                        names.join(", ")
                                    ),
                                )
                                .with_detail(json!({ "file": path, "sheet": s, "sheets": names })))
                            }
                        }
                    }
                    None => names.clone(),
                };
                for (pos, name) in wanted.iter().enumerate() {
                    let mut found = None;
                    wb.with_rows(&path, name, &mut |r| {
                        found = find_header(r, opts.as_kind)?;
                        Ok(())
                    })?;
                    match found {
                        Some((header_row, kind, cols)) => units.push(Unit {
                            input: i,
                            sheet: Some(name.clone()),
                            kind,
                            header_row,
                            cols,
                            json: None,
                            sheet_pos: pos,
                        }),
                        None => {
                            if opts.sheet.is_some() {
                                let seen = first_row(
                                    input,
                                    Format::Workbook,
                                    bytes.get(i).and_then(|b| b.as_deref()),
                                    Some(name),
                                );
                                return Err(unrecognised(&path, Some(name), &seen, opts.as_kind));
                            }
                            top.push(Issue {
                                code: "import.sheet.unrecognised".into(),
                                row: 0,
                                column: String::new(),
                                value: name.clone(),
                                message: format!("{path}: sheet {name:?} matches no import kind (or is empty) and was skipped; pass --sheet {name:?} --as KIND to read it"),
                            });
                        }
                    }
                }
            }
        }
    }
    units.sort_by_key(|u| (u.kind.order(), u.input, u.sheet_pos));
    timer.lap("recognise");

    // Phase 2: read rows in dependency order.
    let mut reports: Vec<FileReport> = Vec::with_capacity(units.len());
    let mut pc = policies::PolicyCollector::default();
    for unit in &units {
        let Some(input) = inputs.get(unit.input) else {
            continue;
        };
        let path = input.display();
        if let Some(v) = &unit.json {
            read_json(v, unit.kind, &path, input, &mut b, &mut pc, &mut reports);
            continue;
        }
        let rep_ix = reports.len();
        let mut rep = FileReport::new(
            &path,
            unit.sheet.as_deref(),
            unit.kind.as_str(),
            unit.header_row,
        );
        let cols = &unit.cols;
        let mut proc = match unit.kind {
            Kind::Reference => Proc::Reference(licenses::ReferenceRows::new(cols)),
            Kind::Products => Proc::Products(licenses::ProductRows::new(cols)),
            Kind::Users => Proc::Users(users::UserRows::new(cols)),
            Kind::Groups => Proc::Groups(groups::GroupRows::new(cols)),
            Kind::Members => {
                let name = unit.sheet.clone().unwrap_or_else(|| input.stem());
                Proc::Members(groups::MemberRows::new(cols, &name, &mut b))
            }
            Kind::Licenses => Proc::Licenses(licenses::LicenseRows::new(cols)),
            Kind::Devices => Proc::Devices(devices::DeviceRows::new(cols)),
            Kind::Policies => Proc::Policies(policies::PolicyRows::new(
                cols,
                rep_ix,
                &mut rep,
                unit.header_row,
            )),
            Kind::Plan => Proc::Plan(plan::PlanRows::new(cols, &path, unit.sheet.as_deref())),
        };
        let mut csv_rows = match &unit.sheet {
            None => Some(csv::CsvRows::open(input)?),
            Some(_) => None,
        };
        if let Some(n) = csv_rows.as_ref().and_then(|r| r.estimated_rows) {
            b.reserve(unit.kind, n);
        }
        let mut each = |r: &mut dyn RowReader| -> Result<()> {
            while r.advance()? {
                let n = r.row_no();
                if n <= unit.header_row {
                    continue;
                }
                let row = r.row();
                if row.is_blank() {
                    rep.blank_rows += 1;
                    continue;
                }
                match &mut proc {
                    Proc::Reference(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Products(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Users(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Groups(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Members(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Licenses(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Devices(p) => p.row(row, n, cols, &mut rep, &mut b),
                    Proc::Policies(p) => p.row(row, n, cols, &mut rep, &mut b, &mut pc),
                    Proc::Plan(p) => p.row(row, n, cols, &mut rep, &mut b),
                }
            }
            Ok(())
        };
        match &unit.sheet {
            None => {
                if let Some(r) = csv_rows.as_mut() {
                    each(r)?;
                }
            }
            Some(sheet) => {
                if let Some(Some(wb)) = books.get_mut(unit.input) {
                    wb.with_rows(&path, sheet, &mut each)?;
                }
            }
        }
        if let Proc::Plan(p) = &mut proc {
            p.finish(&mut b);
        }
        if let Some(c) = ctx.as_deref_mut() {
            let what = match &unit.sheet {
                Some(s) => format!("import {path} [{s}] ({})", unit.kind.as_str()),
                None => format!("import {path} ({})", unit.kind.as_str()),
            };
            c.progress(&what, rep.rows_read, rep.rows_read);
        }
        timer.lap(&format!(
            "read {path}{}",
            unit.sheet
                .as_deref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default()
        ));
        reports.push(rep);
    }
    pc.finish(&mut b, &mut reports, &mut top);
    let (tenant, mut warnings) = b.finish();
    timer.lap("sort and index");
    top.append(&mut warnings);
    Ok(Outcome {
        tenant,
        files: reports,
        warnings: top,
    })
}

/// Which kind a JSON document holds.
fn json_kind(v: &Value) -> Option<Kind> {
    let first = match v {
        Value::Object(o) => {
            if o.contains_key("bms2intune") {
                return Some(Kind::Policies);
            }
            if let Some(Value::Array(a)) = licenses::member(o, "value") {
                a.first()
                    .and_then(|x| x.as_object())
                    .cloned()
                    .unwrap_or_default()
            } else {
                o.clone()
            }
        }
        Value::Array(a) => a
            .first()
            .and_then(|x| x.as_object())
            .cloned()
            .unwrap_or_default(),
        _ => return None,
    };
    if licenses::member(&first, "skuPartNumber").is_some()
        || licenses::member(&first, "skuId").is_some()
    {
        return Some(Kind::Products);
    }
    let policyish = [
        "TargetGroups",
        "Policy",
        "ExclusionList",
        "Name",
        "Enabled",
        "Identity",
    ];
    if policyish
        .iter()
        .any(|k| licenses::member(&first, k).is_some())
    {
        return Some(Kind::Policies);
    }
    None
}

const BUNDLE_ARRAYS: [&str; 5] = [
    "DeviceConditionalAccessPolicy",
    "DeviceConditionalAccessRule",
    "DeviceConfigurationPolicy",
    "DeviceConfigurationRule",
    "DeviceTenantRule",
];

fn objects(v: &Value) -> Vec<Option<&serde_json::Map<String, Value>>> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_object()).collect(),
        Value::Object(o) => vec![Some(o)],
        Value::Null => Vec::new(),
        _ => vec![None],
    }
}

fn read_json(
    v: &Value,
    kind: Kind,
    path: &str,
    input: &Input,
    b: &mut Builder,
    pc: &mut policies::PolicyCollector,
    reports: &mut Vec<FileReport>,
) {
    match kind {
        Kind::Products => {
            let list = match v {
                Value::Object(o) => licenses::member(o, "value").unwrap_or(v),
                _ => v,
            };
            let mut rep = FileReport::new(path, None, "products", 0);
            for (i, o) in objects(list).into_iter().enumerate() {
                let n = (i as u32).saturating_add(1);
                match o {
                    Some(o) => licenses::product_from_json(o, n, &mut rep, b),
                    None => rep.reject(
                        n,
                        "import.json.not_an_object",
                        "",
                        "",
                        "expected a subscribedSku object".into(),
                    ),
                }
            }
            reports.push(rep);
        }
        _ => {
            let bundle = v.as_object().filter(|o| o.contains_key("bms2intune"));
            if let Some(o) = bundle {
                let tag = o.get("bms2intune").and_then(|x| x.as_str()).unwrap_or("");
                let version = o.get("version").and_then(|x| x.as_u64()).unwrap_or(1);
                if tag != "bms-policies" || version != 1 {
                    let mut rep = FileReport::new(path, None, "policies", 0);
                    rep.warn(0, "import.policies.unknown_bundle", "bms2intune", tag, format!("this is not a bms-policies bundle version 1 (found {tag:?} version {version}); nothing read"));
                    reports.push(rep);
                    return;
                }
                let mut unknown = Vec::new();
                for (k, arr) in o {
                    let Some(name) = BUNDLE_ARRAYS.iter().find(|n| n.eq_ignore_ascii_case(k))
                    else {
                        if k != "bms2intune" && k != "version" {
                            let mut rep = FileReport::new(path, Some(k), "policies", 0);
                            rep.warn(
                                0,
                                "import.policies.unknown_array",
                                k,
                                "",
                                "not one of the bundle's arrays; ignored".into(),
                            );
                            reports.push(rep);
                        }
                        continue;
                    };
                    let shape = policies::shape_from_name(name);
                    let rep_ix = reports.len();
                    let mut rep = FileReport::new(path, Some(name), "policies", 0);
                    for (i, obj) in objects(arr).into_iter().enumerate() {
                        let n = (i as u32).saturating_add(1);
                        match obj {
                            Some(obj) => {
                                let s = shape.unwrap_or_else(|| policies::shape_of(obj, None));
                                pc.object(obj, s, rep_ix, n, &mut rep, b, &mut unknown);
                            }
                            None => rep.reject(
                                n,
                                "import.json.not_an_object",
                                "",
                                "",
                                "expected a policy or rule object".into(),
                            ),
                        }
                    }
                    reports.push(rep);
                }
                pc.seen = true;
            } else {
                let hint = policies::shape_from_name(&input.stem());
                let rep_ix = reports.len();
                let mut rep = FileReport::new(path, None, "policies", 0);
                let mut unknown = Vec::new();
                for (i, obj) in objects(v).into_iter().enumerate() {
                    let n = (i as u32).saturating_add(1);
                    match obj {
                        Some(obj) => {
                            let s = policies::shape_of(obj, hint);
                            pc.object(obj, s, rep_ix, n, &mut rep, b, &mut unknown);
                        }
                        None => rep.reject(
                            n,
                            "import.json.not_an_object",
                            "",
                            "",
                            "expected a policy or rule object".into(),
                        ),
                    }
                }
                reports.push(rep);
            }
        }
    }
}

fn totals(t: &Tenant, files: &[FileReport], top: &[Issue]) -> Totals {
    let mut x = Totals {
        users: t.users.len() as u64,
        groups: t.groups.len() as u64,
        memberships: t.memberships.len() as u64,
        license_assignments: t.license_assignments.len() as u64,
        products: t.products.len() as u64,
        devices: t.devices.len() as u64,
        policies: t.policies.len() as u64,
        pins: t.pins.len() as u64,
        exclusion_groups: t.exclusion_groups.len() as u64,
        warnings: top.len() as u64,
        ..Default::default()
    };
    for f in files {
        x.rows_read += f.rows_read;
        x.kept += f.kept;
        x.rejected += f.rejected;
        x.warnings += f.warnings.len() as u64 + f.warnings_omitted;
    }
    x
}

pub fn run(p: ImportParams, ctx: &mut Ctx) -> Result<ImportResult> {
    if p.files.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            "import.no_files",
            "name at least one file to import (or `-` for stdin with --as KIND)",
        )
        .with_detail(json!({ "path": "params.files" })));
    }
    let mut inputs = Vec::with_capacity(p.files.len());
    let mut stdin_used = false;
    for f in &p.files {
        if f == "-" {
            if p.as_kind.is_none() {
                return Err(Error::new(ErrorKind::Usage, "import.stdin_needs_as", "reading stdin (`-`) needs --as KIND: there is no file name or extension to go by").with_detail(json!({ "path": "params.as" })));
            }
            if stdin_used {
                return Err(Error::new(
                    ErrorKind::Usage,
                    "import.stdin_twice",
                    "stdin (`-`) can be named only once",
                ));
            }
            stdin_used = true;
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut data).map_err(|e| {
                Error::input("import.file.unreadable", format!("cannot read stdin: {e}"))
            })?;
            inputs.push(Input::Bytes {
                name: "-".into(),
                data,
            });
        } else {
            let path = PathBuf::from(f);
            if !path.is_file() {
                return Err(Error::input(
                    "import.file.not_found",
                    format!("{f} does not exist or is not a file"),
                )
                .with_detail(json!({ "file": f })));
            }
            inputs.push(Input::Path(path));
        }
    }
    let mut timer = Timer::new();
    let ws = Workspace::open(p.workspace.as_deref(), true)?;
    let base = if p.add && ws.exists(files::TENANT) {
        Some(ws.load_tenant()?)
    } else {
        None
    };
    timer.lap("open workspace");
    let opts = Options {
        as_kind: p.as_kind,
        sheet: p.sheet.clone(),
    };
    let out = import(&inputs, &opts, base, Some(ctx))?;
    let mut files_rep = out.files;
    ws.write_bytes(files::REJECTED_ROWS, &report::rejected_rows_csv(&files_rep))?;
    for f in &mut files_rep {
        f.truncate_lists();
    }
    let totals = totals(&out.tenant, &files_rep, &out.warnings);
    for w in &out.warnings {
        ctx.warn(&w.code, &w.message);
    }
    let result = ImportResult {
        files: files_rep,
        totals,
        warnings: out.warnings,
        workspace: ws.root().display().to_string(),
        tenant_file: ws.path(files::TENANT).display().to_string(),
        rejected_rows_file: ws.path(files::REJECTED_ROWS).display().to_string(),
        added: p.add,
    };
    if p.strict && result.totals.rejected > 0 {
        ws.write_json(files::IMPORT_REPORT, &result)?;
        let mut e = Error::input(
            "import.strict",
            format!(
                "{} rows were rejected and --strict is set: the snapshot was not changed; see {}",
                result.totals.rejected, result.rejected_rows_file
            ),
        );
        for f in &result.files {
            for r in f.rejections.iter().take(20) {
                e = e.with_detail(json!({ "file": f.path, "sheet": f.sheet, "row": r.row, "column": r.column, "value": r.value, "code": r.code }));
            }
        }
        return Err(e);
    }
    timer.lap("import");
    ws.save_tenant(&out.tenant)?;
    timer.lap("save tenant.json");
    ws.write_json(files::IMPORT_REPORT, &result)?;
    crate::workspace::drop_in_background(out.tenant);
    timer.lap("write report, free");
    Ok(result)
}

/// Fuzzing entry: reads `data` as a CSV with recognition and every row importer; never panics.
pub fn fuzz_read_csv(data: &[u8]) {
    let input = Input::Bytes {
        name: "fuzz.csv".into(),
        data: data.to_vec(),
    };
    let _ = import(&[input], &Options::default(), None, None);
}

/// Fuzzing entry: reads `data` as a workbook; never panics.
pub fn fuzz_read_xlsx(data: &[u8]) {
    let input = Input::Bytes {
        name: "fuzz.xlsx".into(),
        data: data.to_vec(),
    };
    let _ = import(&[input], &Options::default(), None, None);
}

/// Fuzzing entry: reads `data` as JSON (policy bundle / cmdlet arrays / subscribedSkus).
pub fn fuzz_read_json(data: &[u8]) {
    let input = Input::Bytes {
        name: "fuzz.json".into(),
        data: data.to_vec(),
    };
    let _ = import(&[input], &Options::default(), None, None);
}
