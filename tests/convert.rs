//! Integration tests for `bms2intune convert`: drive the real binary over a tenant snapshot built
//! from tests/fixtures/convert/tenant.json, compare with golden files, run graph-validate.
//!
//! Regenerate the golden files after a reviewed change with
//! `BMS2INTUNE_UPDATE_GOLDEN=1 cargo test --test convert`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use bms2intune::model::Tenant;
use bms2intune::workspace::Workspace;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bms2intune");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/convert")
}

/// A fresh workspace under the temp dir holding the fixture tenant.
fn workspace(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("bms2intune-convert-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let text = fs::read_to_string(fixtures().join("tenant.json")).expect("fixture");
    let tenant: Tenant = serde_json::from_str(&text).expect("fixture is a model::Tenant");
    let ws = Workspace::open(Some(dir.to_str().expect("utf-8 path")), true).expect("workspace");
    ws.save_tenant(&tenant).expect("save tenant");
    dir
}

fn convert(ws: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--workspace")
        .arg(ws)
        .arg("convert")
        .args(extra)
        .output()
        .expect("run bms2intune")
}

fn convert_ok(ws: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = Command::new(BIN)
        .arg("--workspace")
        .arg(ws)
        .arg("convert")
        .args(&args)
        .output()
        .expect("run bms2intune");
    assert!(
        out.status.success(),
        "convert failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json result")
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn check_golden(case: &str, produced: &Path) {
    let golden = fixtures().join("golden").join(case);
    let got = tree(produced);
    if std::env::var("BMS2INTUNE_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        let _ = fs::remove_dir_all(&golden);
        for (rel, bytes) in &got {
            let p = golden.join(rel);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, bytes).expect("write golden");
        }
        eprintln!("updated golden files in {}", golden.display());
        return;
    }
    let want = tree(&golden);
    assert!(
        !want.is_empty(),
        "no golden files in {}; run with BMS2INTUNE_UPDATE_GOLDEN=1",
        golden.display()
    );
    let got_names: Vec<_> = got.keys().collect();
    let want_names: Vec<_> = want.keys().collect();
    assert_eq!(
        got_names,
        want_names,
        "file set differs from {}",
        golden.display()
    );
    for (rel, bytes) in &want {
        assert!(
            got.get(rel) == Some(bytes),
            "{rel} differs from the golden file {}; review and regenerate with BMS2INTUNE_UPDATE_GOLDEN=1\n--- got ---\n{}",
            golden.join(rel).display(),
            String::from_utf8_lossy(got.get(rel).map(Vec::as_slice).unwrap_or_default())
        );
    }
}

#[test]
fn golden_device_admin_conversion() {
    let ws = workspace("golden-da");
    convert_ok(&ws, &["--test-group", "BMS Pilot"]);
    check_golden("device-admin", &ws.join("intune"));
    let _ = fs::remove_dir_all(&ws);
}

#[test]
fn golden_work_profile_conversion_with_prefix() {
    let ws = workspace("golden-wp");
    convert_ok(
        &ws,
        &["--android-target", "work-profile", "--name-prefix", "MIG "],
    );
    check_golden("work-profile", &ws.join("intune"));
    let _ = fs::remove_dir_all(&ws);
}

#[test]
fn output_is_deterministic_and_stale_files_are_removed() {
    let ws = workspace("determinism");
    convert_ok(
        &ws,
        &["--test-group", "0b1c2d3e-0000-4000-8000-000000000003"],
    );
    let first = tree(&ws.join("intune"));
    fs::write(ws.join("intune/compliance/Old_O365_i.json"), "{}").expect("stale file");
    convert_ok(
        &ws,
        &["--test-group", "0b1c2d3e-0000-4000-8000-000000000003"],
    );
    let second = tree(&ws.join("intune"));
    assert_eq!(first, second);
    let _ = fs::remove_dir_all(&ws);
}

#[test]
fn manifest_lists_every_object_with_endpoint_groups_and_assignments() {
    let ws = workspace("manifest");
    let result = convert_ok(&ws, &["--test-group", "BMS Pilot"]);
    assert_eq!(result["policies"], 3);
    assert_eq!(result["compliance_policies"], 6);
    assert_eq!(result["email_profiles"], 6);
    let codes: Vec<&str> = result["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"convert.policy.disabled"), "{codes:?}");
    assert!(codes.contains(&"convert.group.unresolved"), "{codes:?}");
    assert!(codes.contains(&"convert.group.unknown"), "{codes:?}");

    let intune = ws.join("intune");
    let manifest: Value =
        serde_json::from_slice(&fs::read(intune.join("manifest.json")).expect("manifest"))
            .expect("json");
    let objects = manifest["objects"].as_array().expect("objects");
    assert_eq!(
        objects.len(),
        result["objects"].as_array().map(Vec::len).unwrap_or(0)
    );
    let files: Vec<&str> = objects.iter().filter_map(|o| o["file"].as_str()).collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted, "manifest objects sorted by file");
    for o in objects {
        let body: Value = serde_json::from_slice(
            &fs::read(intune.join(o["file"].as_str().expect("file"))).expect("body"),
        )
        .expect("json");
        assert_eq!(body["@odata.type"], o["odataType"]);
        assert_eq!(body["displayName"], o["displayName"]);
        assert_eq!(o["method"], "POST");
        let email = o["odataType"]
            .as_str()
            .is_some_and(|t| t.contains("EasEmail") || t.contains("GmailEas"));
        assert_eq!(o["api"], if email { "beta" } else { "v1.0" });
        let expected_path = if o["category"] == "compliance" {
            "/deviceManagement/deviceCompliancePolicies"
        } else {
            "/deviceManagement/deviceConfigurations"
        };
        assert_eq!(o["path"], expected_path);
        for k in ["id", "createdDateTime", "lastModifiedDateTime", "version"] {
            assert!(body.get(k).is_none());
        }
        // Assignment bodies: include groups + tenant-wide exclusion; pilot: test group + exclusion.
        let assign: Value = serde_json::from_slice(
            &fs::read(intune.join(o["assignFile"].as_str().expect("assignFile"))).expect("assign"),
        )
        .expect("json");
        let targets: Vec<(String, String)> = assign["assignments"]
            .as_array()
            .expect("list")
            .iter()
            .map(|a| {
                (
                    a["target"]["@odata.type"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    a["target"]["groupId"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert!(targets.contains(&(
            "#microsoft.graph.exclusionGroupAssignmentTarget".into(),
            "0b1c2d3e-0000-4000-8000-000000000004".into()
        )));
        assert!(targets.iter().all(|(_, id)| id != "Name only group"));
        let pilot: Value = serde_json::from_slice(
            &fs::read(intune.join(o["pilotAssignFile"].as_str().expect("pilot"))).expect("pilot"),
        )
        .expect("json");
        assert_eq!(
            pilot["assignments"][0]["target"]["groupId"],
            "0b1c2d3e-0000-4000-8000-000000000003"
        );
    }
    let secure = objects
        .iter()
        .find(|o| o["displayName"] == "Secure Email_O365_i" && o["category"] == "compliance")
        .expect("Secure Email iOS");
    assert_eq!(secure["sourcePolicy"], "Secure Email");
    assert_eq!(secure["recommendedGroups"][0]["displayName"], "Sales");
    assert_eq!(secure["recommendedGroups"][1]["displayName"], "Executives");
    let exec = objects
        .iter()
        .find(|o| o["displayName"] == "Exec Phones_O365_W")
        .expect("Exec Phones Windows");
    assert_eq!(exec["sourcePolicyEnabled"], false);
    assert!(exec["recommendedGroups"]
        .as_array()
        .expect("groups")
        .iter()
        .any(|g| g["id"] == "0b1c2d3e-0000-4000-8000-0000000000ff" && g["displayName"].is_null()));

    // Mapping report: JSON and CSV carry the same rows.
    let report: Value =
        serde_json::from_slice(&fs::read(intune.join("mapping-report.json")).expect("report"))
            .expect("json");
    let rows = report["rows"].as_array().expect("rows");
    let csv = fs::read_to_string(intune.join("mapping-report.csv")).expect("csv");
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rdr.records().count(), rows.len());
    assert!(rows
        .iter()
        .any(|r| r["setting"] == "MaxPasswordAttemptsBeforeWipe"
            && r["status"] == "clamped"
            && r["platform"] == "ios"));
    assert!(rows.iter().any(|r| r["setting"] == "WLANEnabled"
        && r["status"] == "not_migrated"
        && r["platform"] == "windows"));
    assert!(rows.iter().any(|r| r["inferred"] == true));
    let _ = fs::remove_dir_all(&ws);
}

#[test]
fn unknown_test_group_is_an_input_error() {
    let ws = workspace("badgroup");
    let out = convert(&ws, &["--json", "--test-group", "No Such Group"]);
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("convert.test_group.unknown"), "{all}");
    let _ = fs::remove_dir_all(&ws);
}

#[test]
fn without_a_tenant_snapshot_convert_says_to_import_first() {
    let dir = std::env::temp_dir().join(format!("bms2intune-convert-empty-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    Workspace::open(Some(dir.to_str().expect("utf-8")), true).expect("workspace");
    let out = convert(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace.no_tenant"));
    let _ = fs::remove_dir_all(&dir);
}

/// Runs ../shared/tools/graph-validate over every body (v1.0; beta for email profiles) and every
/// assignment body of both conversions.
#[test]
fn every_emitted_body_passes_graph_validate() {
    let shared = std::env::var_os("BMS2INTUNE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let tool = shared.join("tools/graph-validate");
    if !tool.exists() {
        eprintln!(
            "SKIPPED: graph-validate not found at {} (CI has it at ../shared/tools/graph-validate)",
            tool.display()
        );
        return;
    }
    for (case, args) in [
        ("da", vec!["--test-group", "BMS Pilot"]),
        (
            "wp",
            vec![
                "--android-target",
                "work-profile",
                "--test-group",
                "BMS Pilot",
            ],
        ),
    ] {
        let ws = workspace(&format!("validate-{case}"));
        convert_ok(&ws, &args);
        let intune = ws.join("intune");
        let manifest: Value =
            serde_json::from_slice(&fs::read(intune.join("manifest.json")).expect("manifest"))
                .expect("json");
        let mut v1 = Vec::new();
        let mut beta = Vec::new();
        for o in manifest["objects"].as_array().expect("objects") {
            let f = intune.join(o["file"].as_str().expect("file"));
            if o["api"] == "beta" {
                beta.push(f)
            } else {
                v1.push(f)
            }
            for k in ["assignFile", "pilotAssignFile"] {
                if let Some(a) = o[k].as_str() {
                    v1.push(intune.join(a));
                }
            }
        }
        assert!(!v1.is_empty() && !beta.is_empty());
        for (api, files) in [("v1.0", &v1), ("beta", &beta)] {
            let out = Command::new(&tool)
                .arg("--api")
                .arg(api)
                .arg("--strict")
                .args(files)
                .output()
                .expect("run graph-validate");
            assert!(
                out.status.success(),
                "graph-validate --api {api} failed ({case}):\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let _ = fs::remove_dir_all(&ws);
    }
}

/// The protocol front door takes the same params (snake_case) and gives the same files as the CLI.
#[test]
fn rpc_convert_matches_the_cli() {
    use std::io::Write;
    use std::process::Stdio;
    let cli_ws = workspace("rpc-cli");
    convert_ok(
        &cli_ws,
        &[
            "--android-target",
            "work-profile",
            "--test-group",
            "BMS Pilot",
            "--name-prefix",
            "X-",
        ],
    );
    let rpc_ws = workspace("rpc-rpc");
    let req = serde_json::json!({
        "protocol": 1, "id": "c1", "command": "convert",
        "params": {"workspace": rpc_ws, "android_target": "work-profile", "test_groups": ["BMS Pilot"], "name_prefix": "X-"}
    });
    let mut child = Command::new(BIN)
        .arg("rpc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rpc");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{req}\n").as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    let result = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "result")
        .unwrap_or_else(|| panic!("no result event: {text}"));
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["result"]["policies"], 3);
    assert!(
        text.lines().any(|l| l.contains("convert.policy.disabled")),
        "warnings are logged as events: {text}"
    );
    assert_eq!(tree(&cli_ws.join("intune")), tree(&rpc_ws.join("intune")));
    // Bad enum value is refused with the field named.
    let bad = serde_json::json!({"protocol": 1, "id": "c2", "command": "convert", "params": {"workspace": rpc_ws, "android_target": "knox"}});
    let mut child = Command::new(BIN)
        .arg("rpc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rpc");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{bad}\n").as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"ok\":false") && text.contains("android_target"),
        "{text}"
    );
    let _ = fs::remove_dir_all(&cli_ws);
    let _ = fs::remove_dir_all(&rpc_ws);
}
