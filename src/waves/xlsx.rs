//! The plan as a spreadsheet (XLSX via our own writer, [`super::ooxml`]) and as CSV, and the re-import of an
//! admin's edited copy of either (calamine / csv).
//!
//! Workbook layout: `Summary` (one row per step), one `Wave NN` sheet per wave (one row per user),
//! `Held back`, `Unplaced`, `Already migrated`. To move a user, change the Wave cell of their row
//! (or move the row to another wave sheet and clear the cell). To fix a wave's date, change the
//! Date cell of its Summary row.

use std::collections::HashMap;
use std::path::Path;

use calamine::{Data, Reader};
use serde_json::json;

use super::ooxml::{self, SheetXml};
use super::planner::WavePlan;
use super::schedule::Date;
use crate::error::{Error, Result};
use crate::model::{Platform, Tenant, UserIx};

/// Excel's row limit per sheet (header included).
const MAX_ROWS: usize = 1_048_576;

pub use crate::cells::{csv_safe, formula_like};

/// Undoes [`csv_safe`] on re-import.
fn csv_unescape(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => s,
    }
}

const PLATFORMS: [Platform; 6] = [
    Platform::Ios,
    Platform::Android,
    Platform::Windows,
    Platform::WindowsPhone,
    Platform::MacOs,
    Platform::Other,
];

const SUMMARY_HEADERS: [&str; 14] = [
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
];
const WAVE_HEADERS: [&str; 10] = [
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
];
const SET_ASIDE_HEADERS: [&str; 4] = ["UPN", "Code", "Reason", "Wave"];

/// What the wave sheets need per user: the tenant user behind each UPN, device count and
/// platforms.
struct UserFacts<'a> {
    tenant: &'a Tenant,
    /// Per wave, the tenant user of each row (`None` = not in the tenant).
    rows: Vec<Vec<Option<usize>>>,
    /// Per user: devices owned and the platforms among them (bit i = `PLATFORMS[i]`).
    devices: Vec<(u32, u8)>,
    /// Platforms text per bit set: sorted names joined by ", ".
    platform_text: Vec<String>,
}

impl<'a> UserFacts<'a> {
    fn new(plan: &WavePlan, tenant: &'a Tenant, wave_users: Option<&[Vec<UserIx>]>) -> Self {
        let users = &tenant.users;
        let matches = |ix: usize, upn: &str| {
            users
                .get(ix)
                .is_some_and(|u| u.upn == upn || u.upn.to_lowercase() == upn)
        };
        // The planner's own user indexes when they match the plan, else a UPN lookup.
        let given = wave_users.filter(|wu| {
            wu.len() == plan.waves.len()
                && wu.iter().zip(&plan.waves).all(|(ix, w)| {
                    ix.len() == w.users.len()
                        && ix
                            .iter()
                            .zip(&w.users)
                            .all(|(i, upn)| matches(*i as usize, upn))
                })
        });
        let rows = match given {
            Some(wu) => wu
                .iter()
                .map(|ix| ix.iter().map(|i| Some(*i as usize)).collect())
                .collect(),
            None => {
                let index: HashMap<String, usize> = users
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (u.upn.to_lowercase(), i))
                    .rev() // the first user of a UPN wins
                    .collect();
                plan.waves
                    .iter()
                    .map(|w| w.users.iter().map(|u| index.get(u).copied()).collect())
                    .collect()
            }
        };
        let mut devices = vec![(0u32, 0u8); users.len()];
        for d in &tenant.devices {
            if let Some(slot) = d.owner.and_then(|o| devices.get_mut(o as usize)) {
                slot.0 += 1;
                let bit = PLATFORMS.iter().position(|p| *p == d.platform).unwrap_or(5);
                slot.1 |= 1 << bit;
            }
        }
        let platform_text = (0..64u8)
            .map(|mask| {
                let mut names: Vec<&str> = PLATFORMS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, p)| p.as_str())
                    .collect();
                names.sort_unstable();
                names.join(", ")
            })
            .collect();
        UserFacts {
            tenant,
            rows,
            devices,
            platform_text,
        }
    }
}

/// The sheets of the workbook, in order.
enum SheetKind {
    Summary,
    Wave(usize),
    HeldBack,
    Unplaced,
    AlreadyMigrated,
}

fn sheet_list(plan: &WavePlan) -> Vec<(String, SheetKind, usize)> {
    let mut out = vec![("Summary".to_string(), SheetKind::Summary, plan.steps.len())];
    for (i, w) in plan.waves.iter().enumerate() {
        out.push((
            format!("Wave {:02}", w.number),
            SheetKind::Wave(i),
            w.users.len(),
        ));
    }
    out.push((
        "Held back".into(),
        SheetKind::HeldBack,
        plan.held_back.len(),
    ));
    out.push(("Unplaced".into(), SheetKind::Unplaced, plan.unplaced.len()));
    out.push((
        "Already migrated".into(),
        SheetKind::AlreadyMigrated,
        plan.already_migrated.len(),
    ));
    out
}

fn write_summary(plan: &WavePlan, name: &str) -> SheetXml {
    let mut s = SheetXml::new(name, &SUMMARY_HEADERS, plan.steps.len());
    for step in &plan.steps {
        s.row();
        let wave = step
            .wave
            .and_then(|n| plan.waves.iter().find(|w| w.number == n));
        match step.kind.as_str() {
            "pilot" => s.str("Pilot"),
            "policy_gate" => s.str("Policy gate: assign policies to recommended groups"),
            _ => s.str(&format!("Wave {}", step.wave.unwrap_or(0))),
        }
        match step.wave {
            Some(w) => s.num(w as u64),
            None => s.empty(),
        }
        s.opt(step.date.as_deref());
        match wave {
            Some(w) => {
                s.num(w.user_count);
                s.num(w.device_count);
                for p in PLATFORMS {
                    s.num(w.devices.get(p.as_str()).copied().unwrap_or(0));
                }
                s.str(&w.group);
                s.str(&w.groups_touched.join("; "));
            }
            None => (0..10).for_each(|_| s.empty()),
        }
        s.opt(step.requires.as_deref());
    }
    s
}

fn write_wave(plan: &WavePlan, facts: &UserFacts, i: usize, name: &str) -> SheetXml {
    let Some(w) = plan.waves.get(i) else {
        return SheetXml::new(name, &WAVE_HEADERS, 0);
    };
    let mut s = SheetXml::new(name, &WAVE_HEADERS, w.users.len());
    let rows = facts.rows.get(i);
    for (r, upn) in w.users.iter().enumerate() {
        s.row();
        let ix = rows.and_then(|r_| r_.get(r)).copied().flatten();
        let user = ix.and_then(|i| facts.tenant.users.get(i));
        let (count, mask) = ix
            .and_then(|i| facts.devices.get(i))
            .copied()
            .unwrap_or((0, 0));
        s.str(upn);
        s.num(w.number as u64);
        s.opt(w.date.as_deref());
        s.str(&w.group);
        s.opt(user.and_then(|u| u.display_name.as_deref()));
        s.opt(user.and_then(|u| u.department.as_deref()));
        s.opt(user.and_then(|u| u.office.as_deref()));
        s.opt(user.and_then(|u| u.manager_upn.as_deref()));
        s.num(count as u64);
        s.opt(facts.platform_text.get(mask as usize).map(String::as_str));
    }
    s
}

/// The plan as XLSX bytes. Deterministic: a fixed document date, no clock.
pub fn to_xlsx(plan: &WavePlan, tenant: &Tenant) -> Result<Vec<u8>> {
    to_xlsx_with(plan, tenant, None, 1)
}

/// [`to_xlsx`] with the planner's user indexes per wave (`wave_users[i]` = the tenant users of
/// `plan.waves[i].users`, same order; checked, and looked up by UPN when they don't match) and
/// the number of threads that build and deflate the sheets.
pub fn to_xlsx_with(
    plan: &WavePlan,
    tenant: &Tenant,
    wave_users: Option<&[Vec<UserIx>]>,
    threads: usize,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_xlsx(plan, tenant, wave_users, threads, &mut out)?;
    Ok(out)
}

/// [`to_xlsx_with`] streamed to `out`: each sheet is written as soon as it and the sheets before
/// it are built. Same bytes.
pub fn write_xlsx<W: std::io::Write>(
    plan: &WavePlan,
    tenant: &Tenant,
    wave_users: Option<&[Vec<UserIx>]>,
    threads: usize,
    out: &mut W,
) -> Result<()> {
    let list = sheet_list(plan);
    for (name, _, rows) in &list {
        if *rows >= MAX_ROWS {
            return Err(Error::input(
                "plan.xlsx.too_many_rows",
                format!("sheet {name:?} would have {rows} rows, more than Excel's {} limit; use plan.csv/plan.json or a smaller --wave-size", MAX_ROWS - 1),
            ));
        }
    }
    let facts = UserFacts::new(plan, tenant, wave_users);
    // Big plans: fast deflate (a slightly larger file, several times faster to save).
    let big = list.iter().map(|s| s.2).sum::<usize>() > 100_000;
    let book = ooxml::Book {
        names: list.iter().map(|s| s.0.clone()).collect(),
        title: "bms2intune migration plan",
        level: if big { 1 } else { 6 },
        threads,
    };
    book.write_to(out, |i| {
        let Some((name, kind, _)) = list.get(i) else {
            return Err(Error::internal("plan.xlsx.write", "no such sheet"));
        };
        let set_aside = |rows: &mut dyn Iterator<Item = (&str, &str, &str)>, n: usize| {
            let mut s = SheetXml::new(name, &SET_ASIDE_HEADERS, n);
            for (upn, code, reason) in rows {
                s.row();
                s.str(upn);
                s.str(code);
                s.str(reason);
                s.empty();
            }
            s
        };
        Ok(match kind {
            SheetKind::Summary => write_summary(plan, name),
            SheetKind::Wave(w) => write_wave(plan, &facts, *w, name),
            SheetKind::HeldBack => set_aside(
                &mut plan
                    .held_back
                    .iter()
                    .map(|h| (h.upn.as_str(), h.code.as_str(), h.reason.as_str())),
                plan.held_back.len(),
            ),
            SheetKind::Unplaced => set_aside(
                &mut plan
                    .unplaced
                    .iter()
                    .map(|h| (h.upn.as_str(), h.code.as_str(), h.reason.as_str())),
                plan.unplaced.len(),
            ),
            SheetKind::AlreadyMigrated => {
                let mut s = SheetXml::new(name, &["UPN"], plan.already_migrated.len());
                for u in &plan.already_migrated {
                    s.row();
                    s.str(u);
                }
                s
            }
        })
    })
}

fn push_csv_record(out: &mut Vec<u8>, fields: [&str; 7]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::cells::push_csv_plain(out, f);
    }
    out.push(b'\n');
}

/// The plan as CSV: one row per user (waves, then held back, unplaced, already migrated). Written
/// byte for byte as the `csv` crate would (a test checks), without its per-field overhead.
pub fn to_csv(plan: &WavePlan) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_csv(plan, &mut out)
        .map_err(|e| Error::internal("plan.csv.write", format!("cannot build plan.csv: {e}")))?;
    Ok(out)
}

/// Writes plan.csv to `w` through a 1 MB buffer (a million-row plan is never held whole).
pub fn write_csv(plan: &WavePlan, w: &mut impl std::io::Write) -> std::io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut out = Vec::with_capacity(CHUNK + 4096);
    push_csv_record(
        &mut out,
        ["upn", "wave", "date", "group", "status", "code", "reason"],
    );
    for wave in &plan.waves {
        let n = wave.number.to_string();
        let date = wave.date.as_deref().unwrap_or_default();
        let status = if wave.pilot { "pilot" } else { "planned" };
        let group = csv_safe(&wave.group);
        for u in &wave.users {
            push_csv_record(&mut out, [&csv_safe(u), &n, date, &group, status, "", ""]);
            if out.len() >= CHUNK {
                w.write_all(&out)?;
                out.clear();
            }
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
        push_csv_record(
            &mut out,
            [&csv_safe(upn), "", "", "", status, code, &csv_safe(reason)],
        );
        if out.len() >= CHUNK {
            w.write_all(&out)?;
            out.clear();
        }
    }
    for u in &plan.already_migrated {
        push_csv_record(
            &mut out,
            [&csv_safe(u), "", "", "", "already_migrated", "", ""],
        );
        if out.len() >= CHUNK {
            w.write_all(&out)?;
            out.clear();
        }
    }
    w.write_all(&out)
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
    fn csv_fields_are_written_as_the_csv_crate_writes_them() {
        let fields = [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            "\"",
            "line\nbreak",
            "cr\rhere",
            " spaced ",
            "'=quoted",
            "ünï,cödé\"",
            "tab\tin",
        ];
        for f in fields {
            let record = [f, "x", f, "", f, "y", f];
            let mut ours = Vec::new();
            push_csv_record(&mut ours, record);
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(record).unwrap();
            assert_eq!(ours, w.into_inner().unwrap(), "{f:?}");
        }
    }

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(csv_safe("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_safe("alice@x.com"), "alice@x.com");
        assert_eq!(csv_unescape("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(csv_unescape("'quoted"), "'quoted");
    }
}
