//! Workbook reading via calamine: .xlsx/.xlsm (streamed cell by cell), .xls/.xlsb/.ods (whole
//! sheet). Every cell becomes the text the admin sees: integers without `.0`, dates as ISO 8601,
//! durations as `[d.]hh:mm:ss`, booleans `TRUE`/`FALSE`; text cells are never converted.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{Data, DataRef, ExcelDateTime, Reader};
use serde_json::json;

use super::rows::{Row, RowReader};
use super::text::{duration_days_to_timespan, number_text};
use crate::error::{Error, Result};

/// Excel's last column; cells beyond it are ignored (guards against hostile files).
const MAX_COLS: u32 = 16_384;

type Rs<'a> = Cursor<&'a [u8]>;

pub enum Workbook<'a> {
    Xlsx(calamine::Xlsx<Rs<'a>>),
    Other(calamine::Sheets<Rs<'a>>),
}

fn unreadable(file: &str, what: impl std::fmt::Display) -> Error {
    Error::input(
        "import.xlsx.unreadable",
        format!(
            "{file}: cannot read the workbook: {what}; open it in Excel and save it again as .xlsx"
        ),
    )
    .with_detail(json!({ "file": file }))
}

/// Runs calamine code, turning a panic inside the parser into an input error.
fn guarded<T>(file: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(unreadable(file, "the file is damaged (the reader gave up)")),
    }
}

impl<'a> Workbook<'a> {
    pub fn open(bytes: &'a [u8], file: &str) -> Result<Workbook<'a>> {
        guarded(file, || {
            let lower = file.to_ascii_lowercase();
            if bytes.starts_with(b"PK") {
                if lower.ends_with(".ods") {
                    let o =
                        calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(Cursor::new(bytes))
                            .map_err(|e| unreadable(file, e))?;
                    return Ok(Workbook::Other(calamine::Sheets::Ods(o)));
                }
                if lower.ends_with(".xlsb") {
                    let o =
                        calamine::open_workbook_from_rs::<calamine::Xlsb<_>, _>(Cursor::new(bytes))
                            .map_err(|e| unreadable(file, e))?;
                    return Ok(Workbook::Other(calamine::Sheets::Xlsb(o)));
                }
                match calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes)) {
                    Ok(x) => Ok(Workbook::Xlsx(x)),
                    Err(xe) => {
                        match calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(Cursor::new(
                            bytes,
                        )) {
                            Ok(o) => Ok(Workbook::Other(calamine::Sheets::Ods(o))),
                            Err(_) => Err(unreadable(file, xe)),
                        }
                    }
                }
            } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
                let x = calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(Cursor::new(bytes))
                    .map_err(|e| unreadable(file, e))?;
                Ok(Workbook::Other(calamine::Sheets::Xls(x)))
            } else {
                Err(unreadable(
                    file,
                    "it is not an Excel or OpenDocument workbook (no zip or OLE signature)",
                ))
            }
        })
    }

    pub fn sheet_names(&self) -> Vec<String> {
        match self {
            Workbook::Xlsx(x) => x.sheet_names(),
            Workbook::Other(o) => o.sheet_names(),
        }
    }

    /// Streams one sheet's rows into `f`.
    pub fn with_rows(
        &mut self,
        file: &str,
        sheet: &str,
        f: &mut dyn FnMut(&mut dyn RowReader) -> Result<()>,
    ) -> Result<()> {
        guarded(file, || match self {
            Workbook::Xlsx(x) => {
                let cells = x
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| unreadable(file, e))?;
                let mut r = XlsxStream {
                    cells,
                    pending: None,
                    row: Vec::new(),
                    row_no: 0,
                    done: false,
                    file: file.to_string(),
                };
                f(&mut r)
            }
            Workbook::Other(o) => {
                let range = o.worksheet_range(sheet).map_err(|e| unreadable(file, e))?;
                let mut r = RangeRows {
                    start_row: range.start().map(|s| s.0).unwrap_or(0),
                    range,
                    next: 0,
                    row: Vec::new(),
                    row_no: 0,
                };
                f(&mut r)
            }
        })
    }
}

fn datetime_text(d: &ExcelDateTime) -> String {
    if d.is_duration() {
        return duration_days_to_timespan(d.as_f64());
    }
    let v = d.as_f64();
    if (0.0..1.0).contains(&v) {
        return duration_days_to_timespan(v);
    }
    let (y, m, day, h, mi, s, _) = d.to_ymd_hms_milli();
    if h == 0 && mi == 0 && s == 0 {
        format!("{y:04}-{m:02}-{day:02}")
    } else {
        format!("{y:04}-{m:02}-{day:02}T{h:02}:{mi:02}:{s:02}")
    }
}

pub fn data_text(d: &Data, out: &mut String) {
    out.clear();
    match d {
        Data::Empty => {}
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => out.push_str(s),
        Data::Int(i) => out.push_str(&i.to_string()),
        Data::Float(f) => out.push_str(&number_text(*f)),
        Data::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Data::DateTime(dt) => out.push_str(&datetime_text(dt)),
        Data::Error(e) => out.push_str(&e.to_string()),
    }
}

fn dataref_text(d: &DataRef<'_>, out: &mut String) {
    out.clear();
    match d {
        DataRef::Empty => {}
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => out.push_str(s),
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::Int(i) => out.push_str(&i.to_string()),
        DataRef::Float(f) => out.push_str(&number_text(*f)),
        DataRef::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(dt) => out.push_str(&datetime_text(dt)),
        DataRef::Error(e) => out.push_str(&e.to_string()),
    }
}

struct XlsxStream<'a, RS: std::io::Read + std::io::Seek> {
    cells: calamine::XlsxCellReader<'a, RS>,
    pending: Option<calamine::Cell<DataRef<'a>>>,
    row: Vec<String>,
    row_no: u32,
    done: bool,
    file: String,
}

impl<RS: std::io::Read + std::io::Seek> XlsxStream<'_, RS> {
    fn place(&mut self, col: u32, v: &DataRef<'_>) {
        if col >= MAX_COLS {
            return;
        }
        let c = col as usize;
        if self.row.len() <= c {
            self.row.resize(c + 1, String::new());
        }
        if let Some(slot) = self.row.get_mut(c) {
            dataref_text(v, slot);
        }
    }
}

impl<RS: std::io::Read + std::io::Seek> RowReader for XlsxStream<'_, RS> {
    fn advance(&mut self) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        for s in self.row.iter_mut() {
            s.clear();
        }
        let first = match self.pending.take() {
            Some(c) => c,
            None => match self
                .cells
                .next_cell()
                .map_err(|e| unreadable(&self.file, e))?
            {
                Some(c) => c,
                None => {
                    self.done = true;
                    return Ok(false);
                }
            },
        };
        let (r, c) = first.get_position();
        self.place(c, first.get_value());
        loop {
            match self
                .cells
                .next_cell()
                .map_err(|e| unreadable(&self.file, e))?
            {
                Some(cell) => {
                    let (r2, c2) = cell.get_position();
                    if r2 == r {
                        self.place(c2, cell.get_value());
                    } else {
                        self.pending = Some(cell);
                        break;
                    }
                }
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        self.row_no = r.saturating_add(1);
        Ok(true)
    }
    fn row(&self) -> &dyn Row {
        &self.row
    }
    fn row_no(&self) -> u32 {
        self.row_no
    }
}

struct RangeRows {
    range: calamine::Range<Data>,
    start_row: u32,
    next: usize,
    row: Vec<String>,
    row_no: u32,
}

impl RowReader for RangeRows {
    fn advance(&mut self) -> Result<bool> {
        let width = self.range.width().min(MAX_COLS as usize);
        if self.next >= self.range.height() {
            return Ok(false);
        }
        self.row.resize(width, String::new());
        for (i, slot) in self.row.iter_mut().enumerate() {
            match self.range.get((self.next, i)) {
                Some(d) => data_text(d, slot),
                None => slot.clear(),
            }
        }
        self.row_no = self
            .start_row
            .saturating_add(self.next as u32)
            .saturating_add(1);
        self.next += 1;
        Ok(true)
    }
    fn row(&self) -> &dyn Row {
        &self.row
    }
    fn row_no(&self) -> u32 {
        self.row_no
    }
}
