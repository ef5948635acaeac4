//! Where rows come from: an input (file or stdin), its format, and a streaming row reader over a
//! CSV file or one workbook sheet.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::{Error, Result};

/// One input named on the command line.
#[derive(Debug, Clone)]
pub enum Input {
    Path(PathBuf),
    /// Stdin, read once into memory.
    Bytes {
        name: String,
        data: Vec<u8>,
    },
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }

    /// File name without extension (the group name of a members file without a group column).
    pub fn stem(&self) -> String {
        match self {
            Input::Path(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }

    pub fn read_all(&self) -> Result<Vec<u8>> {
        match self {
            Input::Path(p) => read_file(p),
            Input::Bytes { data, .. } => Ok(data.clone()),
        }
    }

    /// The first bytes, for format sniffing.
    pub fn head(&self, n: usize) -> Result<Vec<u8>> {
        match self {
            Input::Path(p) => {
                use std::io::Read;
                let f = open_file(p)?;
                let mut buf = Vec::with_capacity(n);
                f.take(n as u64)
                    .read_to_end(&mut buf)
                    .map_err(|e| io_err(p, e))?;
                Ok(buf)
            }
            Input::Bytes { data, .. } => Ok(data.iter().take(n).copied().collect()),
        }
    }
}

pub fn io_err(p: &Path, e: std::io::Error) -> Error {
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        "import.file.not_found"
    } else {
        "import.file.unreadable"
    };
    Error::input(code, format!("cannot read {}: {e}", p.display()))
        .with_detail(json!({ "file": p.display().to_string() }))
}

pub fn open_file(p: &Path) -> Result<std::fs::File> {
    std::fs::File::open(p).map_err(|e| io_err(p, e))
}

pub fn read_file(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| io_err(p, e))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Workbook,
    Json,
}

/// Decides the format from the extension, else from the first bytes.
pub fn detect_format(input: &Input) -> Result<Format> {
    let name = match input {
        Input::Path(p) => p.clone(),
        Input::Bytes { name, .. } => PathBuf::from(name),
    };
    {
        let ext = name
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => return Ok(Format::Csv),
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => return Ok(Format::Workbook),
            "json" => return Ok(Format::Json),
            _ => {}
        }
    }
    let head = input.head(64)?;
    Ok(sniff_format(&head))
}

pub fn sniff_format(head: &[u8]) -> Format {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Format::Workbook;
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Format::Json,
        _ => Format::Csv,
    }
}

/// One row's cells.
pub trait Row {
    fn len(&self) -> usize;
    fn cell(&self, col: usize) -> &str;
    fn is_blank(&self) -> bool {
        (0..self.len()).all(|i| super::text::clean(self.cell(i)).is_empty())
    }
    fn to_vec(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.cell(i).to_string()).collect()
    }
}

impl Row for csv::StringRecord {
    fn len(&self) -> usize {
        csv::StringRecord::len(self)
    }
    fn cell(&self, col: usize) -> &str {
        self.get(col).unwrap_or("")
    }
}

impl Row for Vec<String> {
    fn len(&self) -> usize {
        <[String]>::len(self)
    }
    fn cell(&self, col: usize) -> &str {
        self.get(col).map(|s| s.as_str()).unwrap_or("")
    }
}

/// A lending iterator over rows: `advance` then look at `row`/`row_no`.
pub trait RowReader {
    /// Moves to the next row; `Ok(false)` at the end.
    fn advance(&mut self) -> Result<bool>;
    fn row(&self) -> &dyn Row;
    /// 1-based row number as the admin sees it in Excel.
    fn row_no(&self) -> u32;
}
