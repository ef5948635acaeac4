//! A small, deterministic SpreadsheetML (XLSX) writer for the plan workbook.
//!
//! Why our own: a 1M-user plan is ~2000 sheets and ~1M rows; a general-purpose writer formats
//! every cell through `fmt::write`, keeps a cell table per sheet and deflates the parts one after
//! the other. Here each sheet's XML is pushed as bytes straight from borrowed `&str`s, and the
//! parts are built and deflated on several threads (each part on its own), then put in one ZIP
//! container in a fixed order, so the bytes don't depend on thread timing.
//!
//! What a sheet has: a bold header row with a fill (style 1), the header row frozen, an
//! autofilter over the header and data (with its `_xlnm._FilterDatabase` defined name), column
//! widths that fit the longest text (6..60 characters), inline strings, and text that a
//! spreadsheet program would take for a formula (`= + - @`, tab, CR) stored with the quote-prefix
//! style (style 2), so it is shown and read back as text. The document date is fixed
//! (2000-01-01), so the same plan gives the same bytes.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::error::{Error, Result};

/// Excel's cell text limit (UTF-16 code units).
pub const MAX_CELL_CHARS: usize = 32_767;

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const NS_MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const NS_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const THEME: &str = include_str!("theme1.xml");

/// Style index of the header cells (bold, light blue fill).
const XF_HEADER: u8 = 1;
/// Style index of text stored with a quote prefix.
const XF_QUOTED: u8 = 2;

/// Appends `s` as XML character data, escaped as Excel does: `& < >`, control characters as
/// `_xHHHH_` (tab and newline kept), U+FFFE/U+FFFF as `_xFFFE_`/`_xFFFF_`.
pub fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    // Branch-free over the bytes (vectorises): almost every text needs no escaping.
    let needs = b.iter().fold(false, |acc, &c| {
        acc | (c < 0x20 && c != b'\t' && c != b'\n')
            | (c == b'&')
            | (c == b'<')
            | (c == b'>')
            | (c == 0xEF)
    });
    if !needs {
        out.extend_from_slice(b);
        return;
    }
    for ch in s.chars() {
        match ch {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '\t' | '\n' => out.push(ch as u8),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "_x{:04X}_", c as u32);
            }
            c => {
                let mut tmp = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
}

fn escaped(s: &str) -> String {
    let mut v = Vec::with_capacity(s.len());
    push_escaped(&mut v, s);
    String::from_utf8(v).unwrap_or_default()
}

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Column letters of a zero-based column index: 0 → A, 25 → Z, 26 → AA.
pub fn col_name(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

pub use crate::cells::formula_like;

/// `s` cut to Excel's cell limit (on a character boundary), with a marker saying where the full
/// text is.
fn fit_cell(s: &str) -> std::borrow::Cow<'_, str> {
    // UTF-16 length ≤ byte length, so short texts need no counting.
    if s.len() <= MAX_CELL_CHARS || s.encode_utf16().count() <= MAX_CELL_CHARS {
        return std::borrow::Cow::Borrowed(s);
    }
    const MARK: &str = " … (cut to Excel's cell limit; the full text is in plan.json)";
    let room = MAX_CELL_CHARS - MARK.encode_utf16().count();
    let mut used = 0usize;
    let mut end = 0usize;
    for (i, ch) in s.char_indices() {
        if used + ch.len_utf16() > room {
            break;
        }
        used += ch.len_utf16();
        end = i + ch.len_utf8();
    }
    std::borrow::Cow::Owned(format!("{}{MARK}", s.get(..end).unwrap_or("")))
}

/// One worksheet being written: rows are pushed as XML into `body`; the head (dimension, frozen
/// pane, column widths) is made at the end, when the widths are known.
pub struct SheetXml {
    name: String,
    ncols: usize,
    cols: Vec<Vec<u8>>,
    widths: Vec<usize>,
    body: Vec<u8>,
    rows: u32,
    col: usize,
    row_ref: Vec<u8>,
    /// The first sheet of the workbook is the selected tab.
    selected: bool,
}

impl SheetXml {
    pub fn new(name: &str, headers: &[&str], rows_hint: usize) -> SheetXml {
        let ncols = headers.len().max(1);
        let mut s = SheetXml {
            name: name.to_string(),
            ncols,
            cols: (0..ncols).map(|c| col_name(c).into_bytes()).collect(),
            widths: headers.iter().map(|h| h.chars().count()).collect(),
            body: Vec::with_capacity(64 + rows_hint * 48 * ncols),
            rows: 0,
            col: 0,
            row_ref: Vec::new(),
            selected: false,
        };
        s.widths.resize(ncols, 0);
        s.row();
        for h in headers {
            s.cell_str(h, Some(XF_HEADER));
        }
        s
    }

    /// Starts the next row (closing the previous one).
    pub fn row(&mut self) {
        if self.rows > 0 {
            self.body.extend_from_slice(b"</row>");
        }
        self.rows += 1;
        self.col = 0;
        self.row_ref.clear();
        push_u64(&mut self.row_ref, self.rows as u64);
        self.body.extend_from_slice(b"<row r=\"");
        self.body.extend_from_slice(&self.row_ref);
        self.body.extend_from_slice(b"\">");
    }

    fn cell_open(&mut self) {
        self.body.extend_from_slice(b"<c r=\"");
        if let Some(c) = self.cols.get(self.col) {
            self.body.extend_from_slice(c);
        }
        self.body.extend_from_slice(&self.row_ref);
        self.body.push(b'"');
    }

    fn cell_str(&mut self, s: &str, style: Option<u8>) {
        if s.is_empty() {
            self.col += 1;
            return;
        }
        let s = fit_cell(s);
        let s = s.as_ref();
        if let Some(w) = self.widths.get_mut(self.col) {
            let n = if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            };
            *w = (*w).max(n);
        }
        let style = style.or(formula_like(s).then_some(XF_QUOTED));
        self.cell_open();
        if let Some(x) = style {
            self.body.extend_from_slice(b" s=\"");
            push_u64(&mut self.body, x as u64);
            self.body.push(b'"');
        }
        let ws = |c: Option<u8>| matches!(c, Some(b' ' | b'\t' | b'\n'));
        if ws(s.as_bytes().first().copied()) || ws(s.as_bytes().last().copied()) {
            self.body
                .extend_from_slice(b" t=\"inlineStr\"><is><t xml:space=\"preserve\">");
        } else {
            self.body.extend_from_slice(b" t=\"inlineStr\"><is><t>");
        }
        push_escaped(&mut self.body, s);
        self.body.extend_from_slice(b"</t></is></c>");
        self.col += 1;
    }

    /// A text cell; empty text leaves the cell empty.
    pub fn str(&mut self, s: &str) {
        self.cell_str(s, None);
    }

    /// A text cell or an empty one.
    pub fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.empty(),
        }
    }

    /// A number cell.
    pub fn num(&mut self, n: u64) {
        let start = self.body.len();
        self.cell_open();
        self.body.extend_from_slice(b"><v>");
        let digits_at = self.body.len();
        push_u64(&mut self.body, n);
        let digits = self.body.len() - digits_at;
        self.body.extend_from_slice(b"</v></c>");
        debug_assert!(self.body.len() > start);
        if let Some(w) = self.widths.get_mut(self.col) {
            *w = (*w).max(digits);
        }
        self.col += 1;
    }

    pub fn empty(&mut self) {
        self.col += 1;
    }

    /// Data rows written so far (the header not counted).
    pub fn data_rows(&self) -> u32 {
        self.rows.saturating_sub(1)
    }

    fn last_ref(&self) -> String {
        format!(
            "{}{}",
            col_name(self.ncols.saturating_sub(1)),
            self.rows.max(1)
        )
    }

    /// The full worksheet XML, as the pieces to deflate in order.
    fn finish(mut self) -> (String, [Vec<u8>; 3]) {
        if self.rows > 0 {
            self.body.extend_from_slice(b"</row>");
        }
        let last = self.last_ref();
        let mut head = String::with_capacity(1024);
        head.push_str(XML_DECL);
        head.push_str(&format!(
            "<worksheet xmlns=\"{NS_MAIN}\" xmlns:r=\"{NS_REL}\"><dimension ref=\"A1:{last}\"/><sheetViews><sheetView{} workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/><cols>",
            if self.selected { " tabSelected=\"1\"" } else { "" }
        ));
        // Adjacent columns of the same width share one <col> element.
        let widths: Vec<usize> = self.widths.iter().map(|w| (*w).clamp(6, 60) + 2).collect();
        let mut c = 0usize;
        while c < widths.len() {
            let w = widths[c];
            let mut end = c;
            while end + 1 < widths.len() && widths[end + 1] == w {
                end += 1;
            }
            head.push_str(&format!(
                "<col min=\"{}\" max=\"{}\" width=\"{w}.7109375\" customWidth=\"1\"/>",
                c + 1,
                end + 1
            ));
            c = end + 1;
        }
        head.push_str("</cols><sheetData>");
        let tail = format!("</sheetData><autoFilter ref=\"A1:{last}\"/><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>");
        (self.name, [head.into_bytes(), self.body, tail.into_bytes()])
    }
}

/// One deflated ZIP entry.
struct Entry {
    name: String,
    crc: u32,
    size: u64,
    data: Vec<u8>,
}

fn deflate(name: String, pieces: &[&[u8]], level: u32) -> Result<Entry> {
    let raw: usize = pieces.iter().map(|p| p.len()).sum();
    let mut enc = DeflateEncoder::new(Vec::with_capacity(raw / 6 + 64), Compression::new(level));
    let mut crc = crc32fast::Hasher::new();
    for p in pieces {
        crc.update(p);
        enc.write_all(p).map_err(zip_err)?;
    }
    let data = enc.finish().map_err(zip_err)?;
    Ok(Entry {
        name,
        crc: crc.finalize(),
        size: raw as u64,
        data,
    })
}

fn zip_err(e: std::io::Error) -> Error {
    Error::internal("plan.xlsx.write", format!("cannot build plan.xlsx: {e}"))
}

/// A workbook: sheets are produced by `make(i)` for `i in 0..sheets`, possibly on several threads.
pub struct Book<'a> {
    /// Sheet names, in order (≤ 31 characters, none of `[]:*?/\`).
    pub names: Vec<String>,
    pub title: &'a str,
    /// Deflate level (1 fast .. 9 small).
    pub level: u32,
    pub threads: usize,
}

impl Book<'_> {
    /// Builds the XLSX bytes. `make(i)` writes sheet `i` (its name must be `names[i]`).
    pub fn build<F>(&self, make: F) -> Result<Vec<u8>>
    where
        F: Fn(usize) -> Result<SheetXml> + Sync,
    {
        let mut out = Vec::new();
        self.write_to(&mut out, make)?;
        Ok(out)
    }

    /// Writes the XLSX to `out` as the sheets come: sheet `i` is written as soon as sheets
    /// `0..=i` are done, while the other threads keep building, so the file is mostly written
    /// when the last sheet is deflated. The bytes are the same as [`Book::build`]'s.
    pub fn write_to<W, F>(&self, out: &mut W, make: F) -> Result<()>
    where
        W: Write,
        F: Fn(usize) -> Result<SheetXml> + Sync,
    {
        let n = self.names.len();
        // The fixed parts, then one entry per sheet, then workbook.xml (which names every
        // sheet's autofilter range, known once the sheet is built).
        const FIXED: usize = 8;
        if n + FIXED > 65_535 {
            return Err(Error::input(
                "plan.xlsx.too_many_sheets",
                format!("the plan has {n} wave sheets, more than a workbook can hold; plan with a bigger --wave-size, or use plan.csv / plan.json"),
            ));
        }
        let level = self.level;
        let mut zip = ZipOut::new(out);
        let fixed: [(&str, String); FIXED - 1] = [
            ("[Content_Types].xml", self.content_types()),
            ("_rels/.rels", ROOT_RELS.to_string()),
            ("docProps/app.xml", self.app_xml()),
            ("docProps/core.xml", self.core_xml()),
            ("xl/_rels/workbook.xml.rels", self.workbook_rels()),
            ("xl/styles.xml", STYLES.to_string()),
            ("xl/theme/theme1.xml", THEME.to_string()),
        ];
        for (name, text) in fixed {
            zip.add(&deflate(name.to_string(), &[text.as_bytes()], level)?)?;
        }

        let next = AtomicUsize::new(0);
        let build = |i: usize| -> Result<(Entry, String)> {
            let mut sheet = make(i)?;
            sheet.selected = i == 0;
            let filter = sheet.last_ref();
            let (_, pieces) = sheet.finish();
            let refs: Vec<&[u8]> = pieces.iter().map(|p| p.as_slice()).collect();
            deflate(format!("xl/worksheets/sheet{}.xml", i + 1), &refs, level).map(|e| (e, filter))
        };
        let threads = self.threads.clamp(1, 8).min(n.max(1));
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<(Entry, String)>)>();
        let mut filters: Vec<String> = Vec::with_capacity(n);
        let outcome = std::thread::scope(|scope| -> Result<()> {
            for _ in 1..threads {
                let tx = tx.clone();
                let (next, build) = (&next, &build);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || tx.send((i, build(i))).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            // This thread builds sheets too, and writes every finished sheet in order.
            let mut pending: std::collections::BTreeMap<usize, Result<(Entry, String)>> =
                Default::default();
            let result = (|| -> Result<()> {
                while filters.len() < n {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i < n {
                        pending.insert(i, build(i));
                        pending.extend(rx.try_iter());
                    } else if !pending.contains_key(&filters.len()) {
                        match rx.recv() {
                            Ok((j, r)) => {
                                pending.insert(j, r);
                            }
                            Err(_) => {
                                return Err(Error::internal(
                                    "plan.xlsx.write",
                                    "a worksheet of plan.xlsx was not built",
                                ))
                            }
                        }
                    }
                    while let Some(r) = pending.remove(&filters.len()) {
                        let (entry, filter) = r?;
                        zip.add(&entry)?;
                        filters.push(filter);
                    }
                }
                Ok(())
            })();
            // On an error, stop the other threads from starting more sheets.
            next.store(n, Ordering::Relaxed);
            drop(rx);
            result
        });
        outcome?;
        zip.add(&deflate(
            "xl/workbook.xml".to_string(),
            &[self.workbook_xml(&filters).as_bytes()],
            level,
        )?)?;
        zip.finish()
    }

    fn content_types(&self) -> String {
        let mut s = String::with_capacity(1024 + self.names.len() * 140);
        s.push_str(XML_DECL);
        s.push_str("<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/><Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/><Override PartName=\"/xl/theme/theme1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.theme+xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>");
        for i in 1..=self.names.len() {
            s.push_str(&format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"));
        }
        s.push_str("</Types>");
        s
    }

    fn app_xml(&self) -> String {
        let n = self.names.len();
        let mut s = String::with_capacity(1024 + n * 40);
        s.push_str(XML_DECL);
        s.push_str(&format!("<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size=\"2\" baseType=\"variant\"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>{n}</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector size=\"{n}\" baseType=\"lpstr\">"));
        for name in &self.names {
            s.push_str("<vt:lpstr>");
            s.push_str(&escaped(name));
            s.push_str("</vt:lpstr>");
        }
        s.push_str("</vt:vector></TitlesOfParts><Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>");
        s
    }

    fn core_xml(&self) -> String {
        format!("{XML_DECL}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>{}</dc:title><dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy><dcterms:created xsi:type=\"dcterms:W3CDTF\">2000-01-01T00:00:00Z</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">2000-01-01T00:00:00Z</dcterms:modified></cp:coreProperties>", escaped(self.title))
    }

    fn workbook_xml(&self, filters: &[String]) -> String {
        let n = self.names.len();
        let mut s = String::with_capacity(1024 + n * 200);
        s.push_str(XML_DECL);
        s.push_str(&format!("<workbook xmlns=\"{NS_MAIN}\" xmlns:r=\"{NS_REL}\"><fileVersion appName=\"xl\" lastEdited=\"4\" lowestEdited=\"4\" rupBuild=\"4505\"/><workbookPr defaultThemeVersion=\"124226\"/><bookViews><workbookView xWindow=\"240\" yWindow=\"15\" windowWidth=\"16095\" windowHeight=\"9660\"/></bookViews><sheets>"));
        for (i, name) in self.names.iter().enumerate() {
            s.push_str(&format!(
                "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
                escaped(name).replace('"', "&quot;"),
                i + 1,
                i + 1
            ));
        }
        s.push_str("</sheets><definedNames>");
        for (i, (name, last)) in self.names.iter().zip(filters).enumerate() {
            // Autofilter ranges: 'Sheet name'!$A$1:$J$501 (quotes doubled inside the name).
            let (col, row) = split_ref(last);
            let quoted = format!("'{}'", name.replace('\'', "''"));
            s.push_str(&format!(
                "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"{i}\" hidden=\"1\">{}!$A$1:${col}${row}</definedName>",
                escaped(&quoted)
            ));
        }
        s.push_str("</definedNames><calcPr calcId=\"124519\" fullCalcOnLoad=\"1\"/></workbook>");
        s
    }

    fn workbook_rels(&self) -> String {
        let n = self.names.len();
        let mut s = String::with_capacity(512 + n * 150);
        s.push_str(XML_DECL);
        s.push_str("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">");
        for i in 1..=n {
            s.push_str(&format!("<Relationship Id=\"rId{i}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"));
        }
        s.push_str(&format!("<Relationship Id=\"rId{}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme\" Target=\"theme/theme1.xml\"/><Relationship Id=\"rId{}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>", n + 1, n + 2));
        s
    }
}

/// `J501` → (`J`, `501`).
fn split_ref(r: &str) -> (&str, &str) {
    let at = r.find(|c: char| c.is_ascii_digit()).unwrap_or(r.len());
    (r.get(..at).unwrap_or(""), r.get(at..).unwrap_or(""))
}

const ROOT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/><Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/></Relationships>";

/// Styles: 0 default, 1 header (bold, fill #DDEBF7), 2 quote prefix.
const STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><fonts count=\"2\"><font><sz val=\"11\"/><color theme=\"1\"/><name val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/></font><font><b/><sz val=\"11\"/><color theme=\"1\"/><name val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/></font></fonts><fills count=\"3\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill><fill><patternFill patternType=\"solid\"><fgColor rgb=\"FFDDEBF7\"/><bgColor indexed=\"64\"/></patternFill></fill></fills><borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs><cellXfs count=\"3\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/><xf numFmtId=\"0\" fontId=\"1\" fillId=\"2\" borderId=\"0\" xfId=\"0\" applyFont=\"1\" applyFill=\"1\"/><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" quotePrefix=\"1\"/></cellXfs><cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles><dxfs count=\"0\"/><tableStyles count=\"0\" defaultTableStyle=\"TableStyleMedium9\" defaultPivotStyle=\"PivotStyleLight16\"/></styleSheet>";

/// A ZIP container written as entries come (no ZIP64: every size and offset must fit 32 bits).
/// Entries are dated 1980-01-01 00:00.
struct ZipOut<'w, W: Write> {
    out: &'w mut W,
    offset: u64,
    /// (name, crc, compressed size, size, offset of the local header)
    dir: Vec<(String, u32, u32, u32, u32)>,
}

const DOS_DATE: u16 = 0x21; // 1980-01-01

fn too_big() -> Error {
    Error::input(
        "plan.xlsx.too_big",
        "plan.xlsx would be larger than 4 GB; plan with a bigger --wave-size, or use plan.csv / plan.json",
    )
}

impl<'w, W: Write> ZipOut<'w, W> {
    fn new(out: &'w mut W) -> Self {
        ZipOut {
            out,
            offset: 0,
            dir: Vec::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(zip_err)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn add(&mut self, e: &Entry) -> Result<()> {
        let end = self.offset + 30 + e.name.len() as u64 + e.data.len() as u64;
        if e.size >= u32::MAX as u64 || end >= u32::MAX as u64 || self.dir.len() >= 65_535 {
            return Err(too_big());
        }
        let (csize, size, at) = (e.data.len() as u32, e.size as u32, self.offset as u32);
        let mut h = Vec::with_capacity(30 + e.name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0 (deflate)
        h.extend_from_slice(&0u16.to_le_bytes()); // flags
        h.extend_from_slice(&8u16.to_le_bytes()); // deflate
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&e.crc.to_le_bytes());
        h.extend_from_slice(&csize.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // extra
        h.extend_from_slice(e.name.as_bytes());
        self.put(&h)?;
        self.put(&e.data)?;
        self.dir.push((e.name.clone(), e.crc, csize, size, at));
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        let cd_start = self.offset;
        let mut cd = Vec::with_capacity(self.dir.len() * 80 + 22);
        for (name, crc, csize, size, at) in &self.dir {
            cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            cd.extend_from_slice(&20u16.to_le_bytes()); // made by: MS-DOS, 2.0
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes());
            cd.extend_from_slice(&8u16.to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes());
            cd.extend_from_slice(&DOS_DATE.to_le_bytes());
            cd.extend_from_slice(&crc.to_le_bytes());
            cd.extend_from_slice(&csize.to_le_bytes());
            cd.extend_from_slice(&size.to_le_bytes());
            cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes()); // extra
            cd.extend_from_slice(&0u16.to_le_bytes()); // comment
            cd.extend_from_slice(&0u16.to_le_bytes()); // disk
            cd.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            cd.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            cd.extend_from_slice(&at.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_size = cd.len() as u64;
        if cd_start + cd_size + 22 >= u32::MAX as u64 {
            return Err(too_big());
        }
        let count = self.dir.len() as u16;
        cd.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes());
        cd.extend_from_slice(&count.to_le_bytes());
        cd.extend_from_slice(&count.to_le_bytes());
        cd.extend_from_slice(&(cd_size as u32).to_le_bytes());
        cd.extend_from_slice(&(cd_start as u32).to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes());
        self.put(&cd)?;
        self.out.flush().map_err(zip_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_excel() {
        let mut v = Vec::new();
        push_escaped(&mut v, "a&b<c>d\"e\u{1}\t\n\r\u{FFFE}é");
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "a&amp;b&lt;c&gt;d\"e_x0001_\t\n_x000D__xFFFE_é"
        );
        let mut v = Vec::new();
        push_escaped(&mut v, "plain text ünïcode \u{FEFF}");
        assert_eq!(String::from_utf8(v).unwrap(), "plain text ünïcode \u{FEFF}");
    }

    #[test]
    fn numbers_and_columns() {
        let mut v = Vec::new();
        for n in [0u64, 7, 10, 1_048_576, u64::MAX] {
            v.clear();
            push_u64(&mut v, n);
            assert_eq!(String::from_utf8(v.clone()).unwrap(), n.to_string());
        }
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(13), "N");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(701), "ZZ");
        assert_eq!(col_name(702), "AAA");
        assert_eq!(split_ref("AB1234"), ("AB", "1234"));
    }

    fn book(threads: usize) -> Vec<u8> {
        let names: Vec<String> = (0..40).map(|i| format!("S'{i:02} & <x>")).collect();
        Book {
            names: names.clone(),
            title: "t & <t>",
            level: 1,
            threads,
        }
        .build(|i| {
            let mut s = SheetXml::new(&names[i], &["Text", "Number"], i * 50);
            for r in 0..i * 50 {
                s.row();
                s.str(&format!("row {r} of =sheet {i}"));
                s.num(r as u64);
            }
            if i == 7 {
                s.row();
                s.str("=1+1");
                s.empty();
            }
            Ok(s)
        })
        .unwrap()
    }

    #[test]
    fn the_same_bytes_on_any_number_of_threads_and_calamine_reads_them() {
        use calamine::{Data, Reader};
        let one = book(1);
        assert_eq!(one, book(3));
        assert_eq!(one, book(8));
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(one)).unwrap();
        let names = wb.sheet_names();
        assert_eq!(names.len(), 40);
        assert_eq!(names[3], "S'03 & <x>");
        for (i, name) in names.iter().enumerate() {
            let range = wb.worksheet_range(name).unwrap();
            let rows: Vec<&[Data]> = range.rows().collect();
            assert_eq!(
                rows[0],
                [Data::String("Text".into()), Data::String("Number".into())]
            );
            assert_eq!(rows.len(), 1 + i * 50 + usize::from(i == 7), "{name}");
            for (r, row) in rows[1..].iter().take(i * 50).enumerate() {
                assert_eq!(row[0], Data::String(format!("row {r} of =sheet {i}")));
                assert_eq!(row[1], Data::Float(r as f64));
            }
        }
        let r = wb.worksheet_range("S'07 & <x>").unwrap();
        assert_eq!(r.get_value((351, 0)), Some(&Data::String("=1+1".into())));
    }

    #[test]
    fn long_cells_are_cut_to_excels_limit() {
        let s = "é".repeat(40_000);
        let c = fit_cell(&s);
        assert!(c.encode_utf16().count() <= MAX_CELL_CHARS);
        assert!(c.ends_with("plan.json)"));
        assert_eq!(fit_cell("short"), "short");
    }
}
