//! The workspace: a directory of plain files (JSON, JSONL, CSV, XLSX) holding every artefact of a
//! migration, readable and diffable by an admin. Every write is atomic (temp file in the same
//! directory, fsync, rename). The directory carries a format version in `workspace.json`; a
//! workspace of an unknown version is refused with a clear error.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, ErrorKind, Result};

mod snapbin;

/// Current workspace format version.
pub const FORMAT_VERSION: u32 = 1;
/// Default workspace directory when `--workspace` is not given.
pub const DEFAULT_DIR: &str = "bms2intune-work";

/// Well-known artefact paths, relative to the workspace root.
pub mod files {
    pub const MANIFEST: &str = "workspace.json";
    pub const TENANT: &str = "tenant.json";
    /// Binary cache of tenant.json for fast loading (see workspace/snapbin.rs).
    pub const TENANT_BIN: &str = "tenant.bin";
    pub const IMPORT_REPORT: &str = "import-report.json";
    pub const REJECTED_ROWS: &str = "rejected-rows.csv";
    pub const READINESS: &str = "readiness.json";
    pub const READINESS_CSV: &str = "readiness.csv";
    pub const INTUNE_DIR: &str = "intune";
    pub const PLAN: &str = "plan.json";
    pub const PLAN_CSV: &str = "plan.csv";
    pub const PLAN_XLSX: &str = "plan.xlsx";
    pub const JOURNAL: &str = "journal.jsonl";
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

fn io_error(code: &str, action: &str, path: &Path, e: std::io::Error) -> Error {
    Error::input(code, format!("cannot {action} {}: {e}", path.display()))
        .with_detail(json!({ "file": path.display().to_string() }))
}

impl Workspace {
    /// Opens the workspace at `dir` (default `./bms2intune-work`), creating it when `create`.
    pub fn open(dir: Option<&str>, create: bool) -> Result<Workspace> {
        let root = PathBuf::from(dir.unwrap_or(DEFAULT_DIR));
        let manifest = root.join(files::MANIFEST);
        if manifest.exists() {
            let text = fs::read_to_string(&manifest)
                .map_err(|e| io_error("workspace.unreadable", "read", &manifest, e))?;
            let m: Manifest = serde_json::from_str(&text).map_err(|e| {
                Error::input(
                    "workspace.corrupt",
                    format!("{} is not a bms2intune workspace manifest ({e}); move it away or choose another --workspace", manifest.display()),
                )
            })?;
            if m.format != "bms2intune-workspace" || m.version != FORMAT_VERSION {
                return Err(Error::input(
                    "workspace.unknown_version",
                    format!(
                        "workspace {} has format {:?} version {}, this bms2intune reads version {FORMAT_VERSION}; use the bms2intune release that wrote it or start a new workspace",
                        root.display(), m.format, m.version
                    ),
                )
                .with_detail(json!({ "file": manifest.display().to_string(), "version": m.version })));
            }
            return Ok(Workspace { root });
        }
        if !create {
            return Err(Error::input(
                "workspace.missing",
                format!(
                    "no workspace at {}; run `bms2intune import` first or pass --workspace DIR",
                    root.display()
                ),
            ));
        }
        fs::create_dir_all(&root)
            .map_err(|e| io_error("workspace.create_failed", "create", &root, e))?;
        let ws = Workspace { root };
        ws.write_json(
            files::MANIFEST,
            &Manifest {
                format: "bms2intune-workspace".into(),
                version: FORMAT_VERSION,
            },
        )?;
        Ok(ws)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Writes `bytes` to `rel` atomically: readers see the old file or the new one, never half.
    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf> {
        let target = self.path(rel);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| io_error("workspace.write_failed", "create", parent, e))?;
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &target)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("workspace.write_failed", "write", &target, e));
        }
        Ok(target)
    }

    /// Streams a file to `rel` atomically (temp file, fsync, rename) through a buffered writer.
    pub fn write_with(
        &self,
        rel: &str,
        write: impl FnOnce(&mut std::io::BufWriter<fs::File>) -> std::io::Result<()>,
    ) -> Result<PathBuf> {
        let target = self.path(rel);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| io_error("workspace.write_failed", "create", parent, e))?;
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let f = fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            write(&mut w)?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            fs::rename(&tmp, &target)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("workspace.write_failed", "write", &target, e));
        }
        Ok(target)
    }

    /// Pretty JSON with a trailing newline, so files diff well.
    pub fn write_json<T: Serialize + ?Sized>(&self, rel: &str, value: &T) -> Result<PathBuf> {
        // Streamed to the file (pretty, newline-terminated): a million-user plan is tens of MB.
        let mut failed = None;
        let written = self.write_with(rel, |w| {
            serde_json::to_writer_pretty(&mut *w, value).map_err(|e| {
                let io = std::io::Error::other(e.to_string());
                if !e.is_io() {
                    failed = Some(e);
                }
                io
            })?;
            w.write_all(b"\n")
        });
        match failed {
            Some(e) => Err(Error::internal(
                "workspace.serialize",
                format!("cannot serialize {rel}: {e}"),
            )),
            None => written,
        }
    }

    pub fn read_json<T: DeserializeOwned>(&self, rel: &str) -> Result<T> {
        let path = self.path(rel);
        let bytes = fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::input(
                    "workspace.missing_artifact",
                    format!(
                        "{} does not exist yet; run the step that produces it first",
                        path.display()
                    ),
                )
                .with_detail(json!({ "file": path.display().to_string() }))
            } else {
                io_error("workspace.unreadable", "read", &path, e)
            }
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::input("workspace.corrupt", format!("{} is damaged ({e}); regenerate it", path.display()))
                .with_detail(json!({ "file": path.display().to_string(), "line": e.line(), "column": e.column() }))
        })
    }

    /// Appends one JSON line and flushes it to disk (the apply journal).
    pub fn append_jsonl<T: Serialize>(&self, rel: &str, value: &T) -> Result<()> {
        let path = self.path(rel);
        let mut line = serde_json::to_vec(value).map_err(|e| {
            Error::internal(
                "workspace.serialize",
                format!("cannot serialize {rel}: {e}"),
            )
        })?;
        line.push(b'\n');
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("workspace.write_failed", "open", &path, e))?;
        f.write_all(&line)
            .and_then(|_| f.sync_data())
            .map_err(|e| io_error("workspace.write_failed", "append to", &path, e))
    }

    /// Loads the imported tenant snapshot, every field.
    pub fn load_tenant(&self) -> Result<crate::model::Tenant> {
        self.load_tenant_fields(Fields::ALL)
    }

    /// Loads the imported tenant snapshot; from `tenant.bin`, the optional fields that `fields`
    /// leaves out are `None` (less memory and time at a million users). Loaded from
    /// `tenant.json`, every field is there.
    pub fn load_tenant_fields(&self, fields: Fields) -> Result<crate::model::Tenant> {
        if !self.exists(files::TENANT) {
            return Err(Error::new(
                ErrorKind::Input,
                "workspace.no_tenant",
                format!("workspace {} holds no tenant snapshot yet; run `bms2intune import FILE...` first", self.root.display()),
            ));
        }
        if let Some(t) = self.load_tenant_bin(fields) {
            return Ok(t);
        }
        let snap: Snapshot = self.read_json(files::TENANT)?;
        if snap.snapshot_version != crate::model::SNAPSHOT_VERSION {
            return Err(Error::input(
                "workspace.unknown_version",
                format!(
                    "tenant snapshot version {} is not supported; import again",
                    snap.snapshot_version
                ),
            ));
        }
        // Rebuild the binary cache (missing, damaged or from an older build) so the next
        // command loads fast again; if it can't be written, the JSON stays the snapshot.
        let _ = self.write_tenant_bin(&snap.tenant);
        Ok(snap.tenant)
    }

    pub fn save_tenant(&self, tenant: &crate::model::Tenant) -> Result<PathBuf> {
        #[derive(Serialize)]
        struct SnapshotRef<'a> {
            snapshot_version: u32,
            tenant: &'a crate::model::Tenant,
        }
        // The binary cache is encoded on another thread while the JSON is streamed to its file
        // (compact and streamed: a ten-million-membership snapshot would otherwise be held twice
        // in memory), then written with the JSON's fingerprint. If the cache can't be written,
        // loading falls back to the JSON.
        let _ = std::fs::remove_file(self.path(files::TENANT_BIN));
        let (json, sections) = std::thread::scope(|s| {
            let sections = std::thread::Builder::new()
                .name("encode-bin".into())
                .spawn_scoped(s, || snapbin::encode_sections(tenant).ok());
            let mut fp = None;
            let json = self.write_with(files::TENANT, |w| {
                let mut fw = snapbin::FingerprintWriter::new(&mut *w);
                // serde_json writes token by token: buffer before the fingerprint.
                let mut bw = std::io::BufWriter::with_capacity(1 << 16, &mut fw);
                serde_json::to_writer(
                    &mut bw,
                    &SnapshotRef {
                        snapshot_version: crate::model::SNAPSHOT_VERSION,
                        tenant,
                    },
                )
                .map_err(std::io::Error::other)?;
                bw.write_all(b"\n")?;
                bw.flush()?;
                drop(bw);
                fp = Some(fw.fingerprint());
                Ok(())
            });
            // No thread or no cache: loading falls back to tenant.json and rebuilds it.
            let sections = sections.ok().and_then(|h| h.join().ok()).flatten();
            (json.map(|p| (p, fp)), sections)
        });
        let (json, fp) = json?;
        if let (Some(fp), Some(sections)) = (fp, sections) {
            self.write_with(files::TENANT_BIN, |w| sections.write_to(w, fp))?;
            crate::workspace::drop_in_background(sections);
        }
        Ok(json)
    }

    /// Writes `tenant.bin` for the current `tenant.json`.
    fn write_tenant_bin(&self, tenant: &crate::model::Tenant) -> Result<()> {
        if let Some(fp) = file_fingerprint(&self.path(files::TENANT)) {
            if let Ok(sections) = snapbin::encode_sections(tenant) {
                self.write_with(files::TENANT_BIN, |w| sections.write_to(w, fp))?;
            }
        }
        Ok(())
    }

    /// The tenant from `tenant.bin` when it was written for the current `tenant.json`.
    fn load_tenant_bin(&self, fields: Fields) -> Option<crate::model::Tenant> {
        let fp = file_fingerprint(&self.path(files::TENANT))?;
        let bin = self.path(files::TENANT_BIN);
        if !bin.exists() {
            return None;
        }
        match snapbin::decode_file(&bin, fp, fields) {
            Ok(t) => Some(t),
            Err(why) => {
                eprintln!(
                    "note: {} not used ({}); loading {}",
                    files::TENANT_BIN,
                    why.0,
                    files::TENANT
                );
                None
            }
        }
    }
}

/// [`snapbin::fingerprint`] of a file, reading only its ends.
fn file_fingerprint(path: &Path) -> Option<(u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path).ok()?;
    let n = f.metadata().ok()?.len();
    let ends = snapbin::ENDS as u64;
    if n <= 2 * ends {
        let mut all = Vec::new();
        f.read_to_end(&mut all).ok()?;
        return Some(snapbin::fingerprint(&all));
    }
    let mut head = vec![0u8; snapbin::ENDS];
    let mut tail = vec![0u8; snapbin::ENDS];
    f.read_exact(&mut head).ok()?;
    f.seek(SeekFrom::Start(n - ends)).ok()?;
    f.read_exact(&mut tail).ok()?;
    Some(snapbin::fingerprint_parts(n, &head, &tail))
}

#[derive(Deserialize)]
struct Snapshot {
    snapshot_version: u32,
    tenant: crate::model::Tenant,
}

/// Which optional tenant fields a command needs (see [`Workspace::load_tenant_fields`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// `User::id` (object ids: Graph calls, matching by id).
    pub user_ids: bool,
    /// `User::display_name`, `department`, `office`, `manager_upn`.
    pub user_profile: bool,
    /// `User::city`, `country`.
    pub user_location: bool,
    /// `Device::id`.
    pub device_ids: bool,
    /// `Device::os` (empty when left out) and `os_version`.
    pub device_os: bool,
    /// `Device::model`, `last_sync`, and `owner_upn` of devices whose owner is a known user
    /// (an unresolved owner's UPN is always loaded).
    pub device_details: bool,
}

impl Fields {
    pub const ALL: Fields = Fields {
        user_ids: true,
        user_profile: true,
        user_location: true,
        device_ids: true,
        device_os: true,
        device_details: true,
    };
    /// Only what every command needs: UPNs, usage location, account state, device owners and
    /// platforms, groups, memberships, products, licenses, policies, pins.
    pub const MINIMAL: Fields = Fields {
        user_ids: false,
        user_profile: false,
        user_location: false,
        device_ids: false,
        device_os: false,
        device_details: false,
    };
}

/// Set by the command line, whose process exits right after its one command.
static EXITS_AFTER_COMMAND: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Says that this process runs one command and exits (the CLI; not `rpc`): big values are then
/// left for the OS to reclaim at exit instead of being freed piece by piece.
pub fn exits_after_command() {
    EXITS_AFTER_COMMAND.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Disposes of a big value (a million-user tenant takes about a second to free). In a process
/// that exits after this command the memory is simply handed back to the OS at exit; a
/// long-lived `rpc` process frees it on another thread, so the command answers at once.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    if EXITS_AFTER_COMMAND.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
        return;
    }
    // If no thread can be started, the closure (and the value) is dropped right here instead.
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bms2intune-ws-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn creates_versioned_workspace_and_refuses_unknown_version() {
        let d = tmpdir("ver");
        let ws = Workspace::open(Some(d.to_str().unwrap()), true).unwrap();
        assert!(ws.exists(files::MANIFEST));
        fs::write(
            d.join(files::MANIFEST),
            r#"{"format":"bms2intune-workspace","version":99}"#,
        )
        .unwrap();
        let err = Workspace::open(Some(d.to_str().unwrap()), false).unwrap_err();
        assert_eq!(err.code, "workspace.unknown_version");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_workspace_is_an_error_unless_created() {
        let d = tmpdir("missing");
        let err = Workspace::open(Some(d.to_str().unwrap()), false).unwrap_err();
        assert_eq!(err.code, "workspace.missing");
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let d = tmpdir("atomic");
        let ws = Workspace::open(Some(d.to_str().unwrap()), true).unwrap();
        ws.write_json("a/b.json", &json!({"x": 1})).unwrap();
        ws.write_json("a/b.json", &json!({"x": 2})).unwrap();
        let v: serde_json::Value = ws.read_json("a/b.json").unwrap();
        assert_eq!(v["x"], 2);
        let names: Vec<_> = fs::read_dir(d.join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn tenant_bin_is_used_only_for_its_own_tenant_json() {
        use crate::model::{Tenant, User};
        let d = tmpdir("bin");
        let ws = Workspace::open(Some(d.to_str().unwrap()), true).unwrap();
        let mut t = Tenant::default();
        t.users.push(User {
            upn: "a@x".into(),
            ..Default::default()
        });
        ws.save_tenant(&t).unwrap();
        assert!(ws.exists(files::TENANT_BIN));
        assert_eq!(ws.load_tenant_bin(Fields::ALL).as_ref(), Some(&t));
        assert_eq!(ws.load_tenant().unwrap(), t);
        // tenant.json replaced by another snapshot: the stale cache is ignored.
        let json = fs::read_to_string(ws.path(files::TENANT))
            .unwrap()
            .replace("a@x", "b@x");
        fs::write(ws.path(files::TENANT), json).unwrap();
        assert!(ws.load_tenant_bin(Fields::ALL).is_none());
        assert_eq!(ws.load_tenant().unwrap().users[0].upn, "b@x");
        // A damaged cache falls back to the JSON too.
        ws.save_tenant(&t).unwrap();
        let mut bin = fs::read(ws.path(files::TENANT_BIN)).unwrap();
        bin.truncate(bin.len() - 3);
        fs::write(ws.path(files::TENANT_BIN), bin).unwrap();
        assert!(ws.load_tenant_bin(Fields::ALL).is_none());
        assert_eq!(ws.load_tenant().unwrap(), t);
        // ... and loading the JSON rebuilt the cache for the next command.
        assert_eq!(ws.load_tenant_bin(Fields::ALL).as_ref(), Some(&t));
        let _ = fs::remove_dir_all(&d);
    }
}
