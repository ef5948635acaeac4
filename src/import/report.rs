//! Per-file accounting: rows read, kept, rejected, and every warning and rejection with its
//! stable code, row, column and value.

use schemars::JsonSchema;
use serde::Serialize;

use super::text::defuse;

/// At most this many warnings/rejections per file are listed in the result JSON; all rejections
/// go to `rejected-rows.csv`.
pub const LIST_LIMIT: usize = 1000;

/// A rejected row or a doubtful value.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Issue {
    /// Stable dotted code, e.g. `import.users.missing_upn`.
    pub code: String,
    /// 1-based row as the admin sees it in Excel (0 = the file as a whole).
    pub row: u32,
    /// The column header as the file spells it (empty when not about one column).
    pub column: String,
    /// The offending value.
    pub value: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// What happened to one file (or one workbook sheet).
#[derive(Debug, Clone, Serialize, JsonSchema, Default)]
pub struct FileReport {
    pub path: String,
    /// Workbook sheet name; `null` for CSV and JSON files.
    pub sheet: Option<String>,
    /// Kind recognised (or given with `--as`).
    pub kind: String,
    /// Row of the header (1-based); 0 for JSON.
    pub header_row: u32,
    /// Data rows read (JSON: objects); always `kept + rejected`.
    pub rows_read: u64,
    pub kept: u64,
    pub rejected: u64,
    /// Empty rows below the header, skipped (not counted in rows_read).
    pub blank_rows: u64,
    pub warnings: Vec<Issue>,
    pub rejections: Vec<Issue>,
    /// Warnings beyond the listed ones.
    pub warnings_omitted: u64,
    /// Rejections beyond the listed ones (all are in rejected-rows.csv).
    pub rejections_omitted: u64,
}

impl FileReport {
    pub fn new(path: &str, sheet: Option<&str>, kind: &str, header_row: u32) -> FileReport {
        FileReport {
            path: path.to_string(),
            sheet: sheet.map(|s| s.to_string()),
            kind: kind.to_string(),
            header_row,
            ..Default::default()
        }
    }

    pub fn keep(&mut self) {
        self.rows_read += 1;
        self.kept += 1;
    }

    pub fn reject(&mut self, row: u32, code: &str, column: &str, value: &str, message: String) {
        self.rows_read += 1;
        self.rejected += 1;
        self.rejections.push(Issue {
            code: code.into(),
            row,
            column: column.into(),
            value: value.into(),
            message,
        });
    }

    pub fn warn(&mut self, row: u32, code: &str, column: &str, value: &str, message: String) {
        if self.warnings.len() >= LIST_LIMIT {
            self.warnings_omitted += 1;
            return;
        }
        self.warnings.push(Issue {
            code: code.into(),
            row,
            column: column.into(),
            value: value.into(),
            message,
        });
    }

    /// Caps the rejection list for the JSON result (after rejected-rows.csv was written).
    pub fn truncate_lists(&mut self) {
        if self.rejections.len() > LIST_LIMIT {
            self.rejections_omitted = (self.rejections.len() - LIST_LIMIT) as u64;
            self.rejections.truncate(LIST_LIMIT);
        }
    }
}

/// `rejected-rows.csv`: one line per rejected row of every file.
pub fn rejected_rows_csv(files: &[FileReport]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record([
        "file", "sheet", "kind", "row", "code", "column", "value", "message",
    ]);
    for f in files {
        for r in &f.rejections {
            let row = r.row.to_string();
            let _ = w.write_record([
                defuse(&f.path).as_str(),
                defuse(f.sheet.as_deref().unwrap_or("")).as_str(),
                f.kind.as_str(),
                row.as_str(),
                r.code.as_str(),
                defuse(&r.column).as_str(),
                defuse(&r.value).as_str(),
                defuse(&r.message).as_str(),
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}
