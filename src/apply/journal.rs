//! The apply journal: `journal.jsonl` in the workspace, one JSON line per operation attempted,
//! succeeded or failed, each flushed to disk before the next request. It is what makes apply
//! resumable (an operation whose last line is `succeeded` is not done again) and what `status`
//! reads to say how far the migration has come. Secrets never reach it: lines carry operation
//! keys, paths, object ids, request ids and reasons only.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::workspace::{files, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Attempted,
    Succeeded,
    Failed,
}

/// One journal line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// UTC time, RFC 3339.
    pub time: String,
    /// Id of the apply run that wrote the line.
    pub run: String,
    /// `policies`, `assign-pilot`, `assign` or `wave N`.
    pub step: String,
    /// Stable operation key, e.g. `policies:compliance/x.json`, `wave:1:members:2`.
    pub op: String,
    pub state: State,
    pub method: String,
    pub path: String,
    /// What the operation is about (display name of the object or group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Id of the object created or found (policy, group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// True when the object already existed and was not created again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub found_existing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Counts and ids that help an admin follow up (members added, users not found).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}

/// The journal as read at the start of a run, plus what this run appends.
pub struct Journal {
    ws: Workspace,
    pub run: String,
    last: BTreeMap<String, Entry>,
    /// Lines read from disk.
    pub lines: usize,
}

impl Journal {
    /// Reads `journal.jsonl` (absent = empty). A torn last line (crash while writing) is
    /// ignored; a damaged line elsewhere is an error naming the line.
    pub fn load(ws: &Workspace) -> Result<Journal> {
        let path = ws.path(files::JOURNAL);
        let mut last: BTreeMap<String, Entry> = BTreeMap::new();
        let mut lines = 0;
        if path.exists() {
            let text = fs::read_to_string(&path).map_err(|e| {
                Error::input(
                    "workspace.unreadable",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let all: Vec<&str> = text.lines().collect();
            for (i, line) in all.iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Entry>(line) {
                    Ok(e) => {
                        lines += 1;
                        if e.state != State::Attempted {
                            last.insert(e.op.clone(), e);
                        }
                    }
                    Err(err) if i + 1 == all.len() && !text.ends_with('\n') => {
                        // Torn write at the end: the operation's outcome is unknown, which the
                        // next run handles by looking the object up before creating it.
                        let _ = err;
                    }
                    Err(err) => {
                        return Err(Error::input(
                            "apply.journal.corrupt",
                            format!(
                                "{} line {} is damaged ({err}); restore it from a backup or move it away (the next run then looks every object up before creating it)",
                                path.display(),
                                i + 1
                            ),
                        )
                        .with_detail(json!({ "file": path.display().to_string(), "row": i + 1 })));
                    }
                }
            }
        }
        Ok(Journal {
            ws: ws.clone(),
            run: run_id(),
            last,
            lines,
        })
    }

    /// The last outcome (succeeded or failed) recorded for an operation.
    pub fn last(&self, op: &str) -> Option<&Entry> {
        self.last.get(op)
    }

    pub fn succeeded(&self, op: &str) -> Option<&Entry> {
        self.last.get(op).filter(|e| e.state == State::Succeeded)
    }

    /// True when every key's last outcome is `succeeded`.
    pub fn all_succeeded<'a>(&self, mut ops: impl Iterator<Item = &'a str>) -> bool {
        ops.all(|k| self.succeeded(k).is_some())
    }

    /// Appends a line (flushed to disk) and remembers outcomes.
    pub fn record(&mut self, entry: Entry) -> Result<()> {
        self.ws.append_jsonl(files::JOURNAL, &entry)?;
        self.lines += 1;
        if entry.state != State::Attempted {
            self.last.insert(entry.op.clone(), entry);
        }
        Ok(())
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.last.values()
    }
}

/// Holds `journal.lock` while a run changes the tenant, so two runs never interleave.
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    pub fn acquire(ws: &Workspace) -> Result<Lock> {
        let path = ws.path("journal.lock");
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "pid {} since {}", std::process::id(), utc_now());
                Ok(Lock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                Err(Error::input(
                    "apply.locked",
                    format!(
                        "another bms2intune apply is using this workspace ({}); if it is no longer running, delete {} and run again",
                        holder.trim(),
                        path.display()
                    ),
                )
                .with_detail(json!({ "file": path.display().to_string() })))
            }
            Err(e) => Err(Error::input(
                "workspace.write_failed",
                format!("cannot create {}: {e}", path.display()),
            )),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn run_id() -> String {
    let t = utc_now().replace([':', '-'], "");
    format!("{t}-{}", std::process::id())
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

/// Formats Unix seconds as RFC 3339 UTC (civil-from-days, proleptic Gregorian).
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_736_096), "2026-11-26T23:34:56Z");
    }

    fn entry(op: &str, state: State) -> Entry {
        Entry {
            time: utc_now(),
            run: "r".into(),
            step: "policies".into(),
            op: op.into(),
            state,
            method: "POST".into(),
            path: "/x".into(),
            target: None,
            object_id: Some("id-1".into()),
            found_existing: false,
            status: None,
            request_id: None,
            reason: None,
            detail: Value::Null,
        }
    }

    #[test]
    fn last_outcome_wins_and_torn_tail_is_ignored() {
        let d = std::env::temp_dir().join(format!("bms2intune-journal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let ws = Workspace::open(d.to_str(), true).unwrap();
        let mut j = Journal::load(&ws).unwrap();
        j.record(entry("a", State::Attempted)).unwrap();
        j.record(entry("a", State::Failed)).unwrap();
        j.record(entry("a", State::Succeeded)).unwrap();
        j.record(entry("b", State::Attempted)).unwrap();
        // A crash mid-write leaves half a line.
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(ws.path(files::JOURNAL))
            .unwrap();
        f.write_all(b"{\"time\":\"2026").unwrap();
        let j = Journal::load(&ws).unwrap();
        assert!(j.succeeded("a").is_some());
        assert!(j.last("b").is_none());
        assert_eq!(j.lines, 4);
        // Damage in the middle is refused.
        fs::write(ws.path(files::JOURNAL), "garbage\n{}\n").unwrap();
        let err = Journal::load(&ws).err().unwrap();
        assert_eq!(err.code, "apply.journal.corrupt");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn lock_is_exclusive() {
        let d = std::env::temp_dir().join(format!("bms2intune-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let ws = Workspace::open(d.to_str(), true).unwrap();
        let l = Lock::acquire(&ws).unwrap();
        assert_eq!(Lock::acquire(&ws).err().unwrap().code, "apply.locked");
        drop(l);
        assert!(Lock::acquire(&ws).is_ok());
        let _ = fs::remove_dir_all(&d);
    }
}
