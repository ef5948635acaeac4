//! The plan as a spreadsheet (XLSX via rust_xlsxwriter) and as CSV, and the re-import of an
//! admin's edited copy of either (calamine / csv).
//!
//! Workbook layout: `Summary` (one row per step), one `Wave NN` sheet per wave (one row per user),
//! `Held back`, `Unplaced`, `Already migrated`. To move a user, change the Wave cell of their row
//! (or move the row to another wave sheet and clear the cell). To fix a wave's date, change the
//! Date cell of its Summary row.

use std::collections::HashMap;
use std::path::Path;

use calamine::{Data, Reader};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};
use serde_json::json;

use super::planner::WavePlan;
use super::schedule::Date;
use crate::error::{Error, Result};
use crate::model::Tenant;

/// Excel's row limit per sheet (header included).
const MAX_ROWS: usize = 1_048_576;

#[derive(Debug, Clone)]
enum Cell {
    Str(String),
    Num(f64),
    Empty,
}

impl Cell {
    fn s(v: impl Into<String>) -> Cell {
        Cell::Str(v.into())
    }
    fn width(&self) -> usize {
        match self {
            Cell::Str(s) => s.chars().count(),
            Cell::Num(n) => format!("{n}").len(),
            Cell::Empty => 0,
        }
    }
}

struct Sheet {
    name: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

/// A text that a spreadsheet program would take for a formula.
pub fn formula_like(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// CSV cell text with formula-like values defused by a leading apostrophe.
pub fn csv_safe(s: &str) -> String {
    if formula_like(s) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Undoes [`csv_safe`] on re-import.
fn csv_unescape(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => s,
    }
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::internal("plan.xlsx.write", format!("cannot build plan.xlsx: {e}"))
}

fn sheets(plan: &WavePlan, tenant: &Tenant) -> Vec<Sheet> {
    let index: HashMap<String, usize> = tenant
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.upn.to_lowercase(), i))
        .collect();
    let dbu = tenant.devices_by_user();
    let platform_cols = [
        "ios",
        "android",
        "windows",
        "windows_phone",
        "macos",
        "other",
    ];
    let mut out = Vec::new();

    let mut summary = Sheet {
        name: "Summary".into(),
        headers: vec![
            "Step",
            "Wave",
            "Date",
            "Users",
            "Devices",
            "iOS",
            "Android",
            "Windows",
            "Windows Phone",
            "macOS",
            "Other",
            "License group",
            "Groups touched",
            "Requires",
        ],
        rows: Vec::new(),
    };
    for step in &plan.steps {
        let wave = step
            .wave
            .and_then(|n| plan.waves.iter().find(|w| w.number == n));
        let mut row = vec![
            Cell::s(match step.kind.as_str() {
                "pilot" => "Pilot".to_string(),
                "policy_gate" => "Policy gate: assign policies to recommended groups".to_string(),
                _ => format!("Wave {}", step.wave.unwrap_or(0)),
            }),
            step.wave
                .map(|w| Cell::Num(w as f64))
                .unwrap_or(Cell::Empty),
            step.date.clone().map(Cell::Str).unwrap_or(Cell::Empty),
        ];
        match wave {
            Some(w) => {
                row.push(Cell::Num(w.user_count as f64));
                row.push(Cell::Num(w.device_count as f64));
                for p in platform_cols {
                    row.push(Cell::Num(w.devices.get(p).copied().unwrap_or(0) as f64));
                }
                row.push(Cell::s(&w.group));
                row.push(Cell::s(w.groups_touched.join("; ")));
            }
            None => row.extend(std::iter::repeat(Cell::Empty).take(10)),
        }
        row.push(step.requires.clone().map(Cell::Str).unwrap_or(Cell::Empty));
        summary.rows.push(row);
    }
    out.push(summary);

    for w in &plan.waves {
        let mut sheet = Sheet {
            name: format!("Wave {:02}", w.number),
            headers: vec![
                "UPN",
                "Wave",
                "Date",
                "License group",
                "Display name",
                "Department",
                "Office",
                "Manager",
                "Devices",
                "Platforms",
            ],
            rows: Vec::with_capacity(w.users.len()),
        };
        for upn in &w.users {
            let ix = index.get(upn).copied();
            let user = ix.and_then(|i| tenant.users.get(i));
            let opt = |v: Option<&String>| v.cloned().map(Cell::Str).unwrap_or(Cell::Empty);
            let devs: Vec<usize> = ix.and_then(|i| dbu.get(i)).cloned().unwrap_or_default();
            let mut plats: Vec<&str> = devs
                .iter()
                .filter_map(|d| tenant.devices.get(*d))
                .map(|d| d.platform.as_str())
                .collect();
            plats.sort_unstable();
            plats.dedup();
            sheet.rows.push(vec![
                Cell::s(upn),
                Cell::Num(w.number as f64),
                w.date.clone().map(Cell::Str).unwrap_or(Cell::Empty),
                Cell::s(&w.group),
                opt(user.and_then(|u| u.display_name.as_ref())),
                opt(user.and_then(|u| u.department.as_ref())),
                opt(user.and_then(|u| u.office.as_ref())),
                opt(user.and_then(|u| u.manager_upn.as_ref())),
                Cell::Num(devs.len() as f64),
                Cell::s(plats.join(", ")),
            ]);
        }
        out.push(sheet);
    }

    out.push(Sheet {
        name: "Held back".into(),
        headers: vec!["UPN", "Code", "Reason", "Wave"],
        rows: plan
            .held_back
            .iter()
            .map(|h| {
                vec![
                    Cell::s(&h.upn),
                    Cell::s(&h.code),
                    Cell::s(&h.reason),
                    Cell::Empty,
                ]
            })
            .collect(),
    });
    out.push(Sheet {
        name: "Unplaced".into(),
        headers: vec!["UPN", "Code", "Reason", "Wave"],
        rows: plan
            .unplaced
            .iter()
            .map(|h| {
                vec![
                    Cell::s(&h.upn),
                    Cell::s(&h.code),
                    Cell::s(&h.reason),
                    Cell::Empty,
                ]
            })
            .collect(),
    });
    out.push(Sheet {
        name: "Already migrated".into(),
        headers: vec!["UPN"],
        rows: plan
            .already_migrated
            .iter()
            .map(|u| vec![Cell::s(u)])
            .collect(),
    });
    out
}

fn write_sheet(ws: &mut Worksheet, sheet: &Sheet, header: &Format, quoted: &Format) -> Result<()> {
    ws.set_name(&sheet.name).map_err(xerr)?;
    // Widths first: constant-memory worksheets stream rows to disk and take column settings
    // only before the data.
    let mut widths: Vec<usize> = sheet.headers.iter().map(|h| h.len()).collect();
    for row in &sheet.rows {
        for (c, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(cell.width());
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, ((*w).clamp(6, 60) + 2) as f64)
            .map_err(xerr)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    let last_col = sheet.headers.len().saturating_sub(1) as u16;
    ws.autofilter(0, 0, sheet.rows.len() as u32, last_col)
        .map_err(xerr)?;
    for (c, h) in sheet.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, header)
            .map_err(xerr)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Str(s) if formula_like(s) => {
                    ws.write_string_with_format(r, c, s, quoted).map_err(xerr)?;
                }
                Cell::Str(s) => {
                    ws.write_string(r, c, s).map_err(xerr)?;
                }
                Cell::Num(n) => {
                    ws.write_number(r, c, *n).map_err(xerr)?;
                }
                Cell::Empty => {}
            }
        }
    }
    Ok(())
}

/// The plan as XLSX bytes. Deterministic: a fixed document date, no clock.
pub fn to_xlsx(plan: &WavePlan, tenant: &Tenant) -> Result<Vec<u8>> {
    let sheets = sheets(plan, tenant);
    for s in &sheets {
        if s.rows.len() >= MAX_ROWS {
            return Err(Error::input(
                "plan.xlsx.too_many_rows",
                format!("sheet {:?} would have {} rows, more than Excel's {} limit; use plan.csv/plan.json or a smaller --wave-size", s.name, s.rows.len(), MAX_ROWS - 1),
            ));
        }
    }
    let mut wb = Workbook::new();
    // Big plans: fast deflate (a slightly larger file, several times faster to save) and
    // constant-memory worksheets (rows streamed to a temporary file instead of held in memory).
    let big = sheets.iter().map(|s| s.rows.len()).sum::<usize>() > 100_000;
    if big {
        wb.set_zip_compression_level(1);
    }
    let when = ExcelDateTime::from_ymd(2000, 1, 1).map_err(xerr)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("bms2intune migration plan")
            .set_creation_datetime(&when),
    );
    let header = Format::new().set_bold().set_background_color("#DDEBF7");
    let quoted = Format::new().set_quote_prefix();
    for s in &sheets {
        if big {
            write_sheet(
                wb.add_worksheet_with_constant_memory().map_err(xerr)?,
                s,
                &header,
                &quoted,
            )?;
        } else {
            write_sheet(wb.add_worksheet(), s, &header, &quoted)?;
        }
    }
    wb.save_to_buffer().map_err(xerr)
}

/// The plan as CSV: one row per user (waves, then held back, unplaced, already migrated).
pub fn to_csv(plan: &WavePlan) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err =
        |e: csv::Error| Error::internal("plan.csv.write", format!("cannot build plan.csv: {e}"));
    w.write_record(["upn", "wave", "date", "group", "status", "code", "reason"])
        .map_err(err)?;
    for wave in &plan.waves {
        let n = wave.number.to_string();
        let date = wave.date.clone().unwrap_or_default();
        let status = if wave.pilot { "pilot" } else { "planned" };
        for u in &wave.users {
            w.write_record([
                csv_safe(u),
                n.clone(),
                date.clone(),
                csv_safe(&wave.group),
                status.into(),
                String::new(),
                String::new(),
            ])
            .map_err(err)?;
        }
    }
    let set_aside = plan
        .held_back
        .iter()
        .map(|h| ("held_back", &h.upn, &h.code, &h.reason))
        .chain(
            plan.unplaced
                .iter()
                .map(|h| ("unplaced", &h.upn, &h.code, &h.reason)),
        );
    for (status, upn, code, reason) in set_aside {
        w.write_record([
            csv_safe(upn),
            String::new(),
            String::new(),
            String::new(),
            status.into(),
            code.clone(),
            csv_safe(reason),
        ])
        .map_err(err)?;
    }
    for u in &plan.already_migrated {
        w.write_record([
            csv_safe(u),
            String::new(),
            String::new(),
            String::new(),
            "already_migrated".into(),
            String::new(),
            String::new(),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::internal("plan.csv.write", format!("cannot build plan.csv: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Re-import

/// A user row of an edited plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedPin {
    pub upn: String,
    pub wave: u32,
    pub source: String,
}

/// A wave date read from the Summary sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedDate {
    pub wave: u32,
    pub date: Date,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct EditedPlan {
    pub pins: Vec<EditedPin>,
    pub dates: Vec<EditedDate>,
    /// Rows read (users).
    pub rows: u64,
}

fn bad_cell(file: &str, sheet: &str, row: usize, column: &str, msg: String) -> Error {
    Error::input(
        "plan.edited.bad_cell",
        format!("{file}, sheet {sheet:?}, row {row}, column {column}: {msg}"),
    )
    .with_detail(json!({ "file": file, "sheet": sheet, "row": row, "column": column }))
}

/// Parses a Wave cell: `3`, `3.0`, `03`, `Wave 3`; `None` for empty.
fn parse_wave_text(s: &str) -> std::result::Result<Option<u32>, ()> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let lower = t.to_ascii_lowercase();
    let digits = lower.strip_prefix("wave").map(str::trim).unwrap_or(&lower);
    if let Ok(n) = digits.parse::<u32>() {
        return Ok(Some(n));
    }
    match digits.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && (0.0..=1e6).contains(&f) => Ok(Some(f as u32)),
        _ => Err(()),
    }
}

fn cell_wave(d: &Data) -> std::result::Result<Option<u32>, ()> {
    match d {
        Data::Empty => Ok(None),
        Data::Int(i) if (0..=1_000_000).contains(i) => Ok(Some(*i as u32)),
        Data::Float(f) if f.fract() == 0.0 && (0.0..=1e6).contains(f) => Ok(Some(*f as u32)),
        Data::String(s) => parse_wave_text(s),
        _ => Err(()),
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string().trim().to_string(),
    }
}

fn cell_date(d: &Data) -> std::result::Result<Option<Date>, ()> {
    match d {
        Data::Empty => Ok(None),
        Data::String(s) if s.trim().is_empty() => Ok(None),
        Data::String(s) | Data::DateTimeIso(s) => Date::parse(s).map(Some).ok_or(()),
        Data::DateTime(dt) => {
            let (y, m, day, ..) = dt.to_ymd_hms_milli();
            Date::from_ymd(y as i64, m as u32, day as u32)
                .map(Some)
                .ok_or(())
        }
        Data::Float(f) => Date::from_excel_serial(*f).map(Some).ok_or(()),
        Data::Int(i) => Date::from_excel_serial(*i as f64).map(Some).ok_or(()),
        _ => Err(()),
    }
}

fn sheet_wave(name: &str) -> Option<u32> {
    let t = name.trim().to_ascii_lowercase();
    t.strip_prefix("wave").and_then(|r| r.trim().parse().ok())
}

struct Seen {
    first: HashMap<String, String>,
}

impl Seen {
    fn check(&mut self, file: &str, upn: &str, here: String) -> Result<()> {
        if let Some(prev) = self.first.get(upn) {
            return Err(Error::input(
                "plan.edited.duplicate_user",
                format!("{file}: {upn} appears twice ({prev} and {here}); keep one row per user"),
            )
            .with_detail(json!({ "file": file, "upn": upn, "first": prev, "second": here })));
        }
        self.first.insert(upn.to_string(), here);
        Ok(())
    }
}

/// Reads an edited plan (XLSX or CSV).
pub fn read_edited(path: &Path) -> Result<EditedPlan> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => read_edited_csv(path),
        "xlsx" | "xlsm" | "xls" | "ods" => read_edited_xlsx(path),
        _ => Err(Error::input(
            "plan.edited.unknown_format",
            format!(
                "{}: an edited plan must be .xlsx or .csv (as bms2intune plan wrote it)",
                path.display()
            ),
        )
        .with_detail(json!({ "file": path.display().to_string() }))),
    }
}

fn read_edited_xlsx(path: &Path) -> Result<EditedPlan> {
    let file = path.display().to_string();
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| {
        Error::input(
            "plan.edited.unreadable",
            format!("cannot read {file}: {e}; save it as .xlsx and try again"),
        )
        .with_detail(json!({ "file": file }))
    })?;
    let mut out = EditedPlan::default();
    let mut seen = Seen {
        first: HashMap::new(),
    };
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).map_err(|e| {
            Error::input(
                "plan.edited.unreadable",
                format!("cannot read sheet {name:?} of {file}: {e}"),
            )
            .with_detail(json!({ "file": file, "sheet": name }))
        })?;
        let mut rows = range.rows();
        let Some(header) = rows.next() else { continue };
        let col = |want: &str| {
            header
                .iter()
                .position(|h| cell_text(h).eq_ignore_ascii_case(want))
        };
        let lname = name.trim().to_ascii_lowercase();
        if lname == "summary" {
            let (Some(wc), Some(dc)) = (col("Wave"), col("Date")) else {
                continue;
            };
            for (r, row) in rows.enumerate() {
                let rownum = r + 2;
                let wave = cell_wave(row.get(wc).unwrap_or(&Data::Empty)).map_err(|_| {
                    bad_cell(&file, &name, rownum, "Wave", "not a wave number".into())
                })?;
                let date = cell_date(row.get(dc).unwrap_or(&Data::Empty)).map_err(|_| {
                    bad_cell(
                        &file,
                        &name,
                        rownum,
                        "Date",
                        "not a date; write YYYY-MM-DD".into(),
                    )
                })?;
                if let (Some(wave), Some(date)) = (wave, date) {
                    out.dates.push(EditedDate {
                        wave,
                        date,
                        source: format!("{file}!{name} row {rownum}"),
                    });
                }
            }
            continue;
        }
        let default_wave = sheet_wave(&name);
        let pinnable = default_wave.is_some() || lname == "held back" || lname == "unplaced";
        if !pinnable {
            if lname != "already migrated" && col("UPN").is_some() {
                // Rows on a sheet we don't know would be silently lost.
                return Err(Error::input(
                    "plan.edited.unknown_sheet",
                    format!("{file}: sheet {name:?} lists users but is not a plan sheet; name it \"Wave NN\" (e.g. \"Wave 07\"), move its rows to a wave sheet, or delete it"),
                )
                .with_detail(json!({ "file": file, "sheet": name })));
            }
            continue;
        }
        let Some(uc) = col("UPN") else {
            return Err(bad_cell(
                &file,
                &name,
                1,
                "UPN",
                "no UPN column header; keep the header row as bms2intune wrote it".into(),
            ));
        };
        let wc = col("Wave");
        for (r, row) in rows.enumerate() {
            let rownum = r + 2;
            let upn = cell_text(row.get(uc).unwrap_or(&Data::Empty)).to_lowercase();
            if upn.is_empty() {
                continue;
            }
            let here = format!("{file}!{name} row {rownum}");
            seen.check(&file, &upn, here.clone())?;
            out.rows += 1;
            let cell = wc.and_then(|c| row.get(c)).unwrap_or(&Data::Empty);
            let wave = cell_wave(cell).map_err(|_| {
                bad_cell(
                    &file,
                    &name,
                    rownum,
                    "Wave",
                    format!(
                        "{:?} is not a wave number; write a number such as 3, or leave it empty",
                        cell_text(cell)
                    ),
                )
            })?;
            if let Some(w) = wave.or(default_wave) {
                out.pins.push(EditedPin {
                    upn,
                    wave: w,
                    source: here,
                });
            }
        }
    }
    Ok(out)
}

fn read_edited_csv(path: &Path) -> Result<EditedPlan> {
    let file = path.display().to_string();
    let unreadable = |e: String| {
        Error::input("plan.edited.unreadable", format!("cannot read {file}: {e}"))
            .with_detail(json!({ "file": file }))
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| unreadable(e.to_string()))?
        .clone();
    let col = |want: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(want))
    };
    let Some(uc) = col("upn") else {
        return Err(bad_cell(
            &file,
            "csv",
            1,
            "upn",
            "no upn column header; keep the header row as bms2intune wrote it".into(),
        ));
    };
    let wc = col("wave");
    let mut out = EditedPlan::default();
    let mut seen = Seen {
        first: HashMap::new(),
    };
    for (r, rec) in rdr.records().enumerate() {
        let rownum = r + 2;
        let rec = rec.map_err(|e| bad_cell(&file, "csv", rownum, "-", e.to_string()))?;
        let upn = csv_unescape(rec.get(uc).unwrap_or("").trim()).to_lowercase();
        if upn.is_empty() {
            continue;
        }
        let here = format!("{file} row {rownum}");
        seen.check(&file, &upn, here.clone())?;
        out.rows += 1;
        let text = wc.and_then(|c| rec.get(c)).unwrap_or("");
        let wave = parse_wave_text(text).map_err(|_| {
            bad_cell(
                &file,
                "csv",
                rownum,
                "wave",
                format!(
                    "{text:?} is not a wave number; write a number such as 3, or leave it empty"
                ),
            )
        })?;
        if let Some(w) = wave {
            out.pins.push(EditedPin {
                upn,
                wave: w,
                source: here,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wave_cells() {
        assert_eq!(parse_wave_text(" 3 "), Ok(Some(3)));
        assert_eq!(parse_wave_text("Wave 03"), Ok(Some(3)));
        assert_eq!(parse_wave_text("2.0"), Ok(Some(2)));
        assert_eq!(parse_wave_text(""), Ok(None));
        assert!(parse_wave_text("soon").is_err());
        assert!(parse_wave_text("-1").is_err());
        assert_eq!(cell_wave(&Data::Float(4.0)), Ok(Some(4)));
        assert!(cell_wave(&Data::Float(4.5)).is_err());
        assert_eq!(sheet_wave("Wave 12"), Some(12));
        assert_eq!(sheet_wave("Summary"), None);
    }

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(csv_safe("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_safe("alice@x.com"), "alice@x.com");
        assert_eq!(csv_unescape("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(csv_unescape("'quoted"), "'quoted");
    }
}
