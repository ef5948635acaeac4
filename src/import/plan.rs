//! Wave pins: a spreadsheet that already says who goes when (Wave / Pilot / BatchName /
//! Collection per user: Posh365, Quest ODM, EXO migration batch files, the planner's own plan.csv).

use super::recognise::Columns;
use super::report::FileReport;
use super::rows::Row;
use super::snapshot::Builder;
use super::text::{norm, opt, parse_bool};
use crate::model::WavePin;

pub struct PlanRows {
    upn: Option<usize>,
    user_id: Option<usize>,
    wave: Option<usize>,
    pilot: Option<usize>,
    batch: Option<usize>,
    /// Named batches get wave numbers in order of first appearance, after the numbered ones.
    named: Vec<String>,
    /// Pins with a named batch: (index in `pins`, position in `named`), numbered at the end.
    named_pins: Vec<(usize, usize)>,
    max_wave: u32,
    file: String,
    sheet: Option<String>,
}

/// What a wave/batch cell says.
enum WaveCell {
    Pilot,
    Number(u32),
    Name(String),
}

fn wave_cell(v: &str) -> Option<WaveCell> {
    let n = norm(v);
    if n.is_empty() {
        return None;
    }
    if n == "pilot" || n.starts_with("pilot") {
        return Some(WaveCell::Pilot);
    }
    let digits: String = n.chars().filter(|c| c.is_ascii_digit()).collect();
    let letters = n.chars().filter(|c| c.is_alphabetic()).count();
    // `3`, `Wave 3`, `Welle 3`, `W3`, `Batch-03`: a number with at most a word around it.
    if !digits.is_empty() && digits.len() <= 6 && letters <= 6 {
        if let Ok(x) = digits.parse::<u32>() {
            return Some(WaveCell::Number(x));
        }
    }
    Some(WaveCell::Name(n))
}

impl PlanRows {
    pub fn new(cols: &Columns, file: &str, sheet: Option<&str>) -> Self {
        PlanRows {
            upn: cols.get("upn"),
            user_id: cols.get("user_id"),
            wave: cols.get("wave"),
            pilot: cols.get("pilot"),
            batch: cols.get("batch"),
            named: Vec::new(),
            named_pins: Vec::new(),
            max_wave: 0,
            file: file.to_string(),
            sheet: sheet.map(|s| s.to_string()),
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
        let (field, key) = match (opt(cell(self.upn)), opt(cell(self.user_id))) {
            (Some(u), _) => ("upn", u),
            (None, Some(i)) => ("user_id", i),
            (None, None) => {
                rep.reject(
                    row_no,
                    "import.plan.missing_user",
                    cols.header_of("upn"),
                    "",
                    "the row names no user".into(),
                );
                return;
            }
        };
        let user = if field == "upn" {
            b.find_user(key)
        } else {
            b.find_user_by_id(key)
        };
        let Some(user) = user else {
            rep.reject(
                row_no,
                "import.plan.unknown_user",
                cols.header_of(field),
                key,
                "no imported user has this UPN/id; import the users file too".into(),
            );
            return;
        };
        let mut pilot = false;
        if let Some(v) = opt(cell(self.pilot)) {
            match parse_bool(v) {
                Some(p) => pilot = p,
                None => {
                    rep.reject(
                        row_no,
                        "import.plan.bad_pilot",
                        cols.header_of("pilot"),
                        v,
                        "Pilot must be yes/no (TRUE/FALSE, 1/0, x)".into(),
                    );
                    return;
                }
            }
        }
        let (wfield, wv) = match opt(cell(self.wave)) {
            Some(v) => ("wave", Some(v)),
            None => ("batch", opt(cell(self.batch))),
        };
        let mut wave = None;
        let mut named = None;
        match wv.and_then(wave_cell) {
            Some(WaveCell::Pilot) => pilot = true,
            Some(WaveCell::Number(n)) => {
                self.max_wave = self.max_wave.max(n);
                wave = Some(n)
            }
            Some(WaveCell::Name(n)) => {
                let pos = match self.named.iter().position(|x| *x == n) {
                    Some(p) => p,
                    None => {
                        self.named.push(n.clone());
                        rep.warn(row_no, "import.plan.named_batch", cols.header_of(wfield), wv.unwrap_or(""), format!("batch {n:?} has no number: named batches become the waves after the highest numbered wave of this file, in order of first appearance"));
                        self.named.len() - 1
                    }
                };
                named = Some(pos);
            }
            None => {}
        }
        if let Some(pos) = named {
            self.named_pins.push((b.t.pins.len(), pos));
            wave = Some(0);
        }
        if !pilot && wave.is_none() {
            // Listed without a wave: not pinned.
            rep.keep();
            return;
        }
        let source = match &self.sheet {
            Some(s) => format!("{} [{}] row {row_no}", self.file, s),
            None => format!("{} row {row_no}", self.file),
        };
        b.t.pins.push(WavePin {
            user,
            wave,
            pilot,
            source: Some(source),
        });
        rep.keep();
    }

    /// Numbers the named batches after the highest numbered wave.
    pub fn finish(&mut self, b: &mut Builder) {
        for &(pin, pos) in &self.named_pins {
            if let Some(p) = b.t.pins.get_mut(pin) {
                p.wave = Some(self.max_wave.saturating_add(1).saturating_add(pos as u32));
            }
        }
    }
}
