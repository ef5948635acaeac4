//! `bms2intune plan` through the real binary: pilot first, empty pilot, seats, cohesion, held-back
//! users, pins and violations, byte-identical reruns and the spreadsheet round trip.

use std::path::{Path, PathBuf};
use std::process::Command;

use bms2intune::model::{
    BmsPolicy, Device, Group, LicenseAssignment, Member, Membership, Platform, PolicyKind, Product,
    ServicePlan, Tenant, User, WavePin,
};
use bms2intune::workspace::Workspace;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plan");

/// 20 users u00..u19. Departments: Sales u00-u07, IT u08-u13, HR u14-u19. Group "BMS Pilot"
/// holds u00, u01 and the nested group "Pilot Extra" (u02). "All BMS" (targeted by a BMS policy)
/// holds u00-u17 directly. u18 only has a device; u19 has neither (not a BMS user). u17 already
/// holds an Intune license. Every user but u19 has one device (ios, android, windows in turn).
/// EMS E3: 30 enabled, 10 consumed = 20 free seats.
fn fixture_tenant() -> Tenant {
    let mut t = Tenant::default();
    for i in 0..20u32 {
        let dept = match i {
            0..=7 => "Sales",
            8..=13 => "IT",
            _ => "HR",
        };
        t.users.push(User {
            upn: format!("u{i:02}@contoso.com"),
            display_name: Some(format!("User {i:02}")),
            department: Some(dept.into()),
            office: Some(if i % 2 == 0 { "Paris" } else { "Oslo" }.into()),
            usage_location: Some("FR".into()),
            manager_upn: Some("boss@contoso.com".into()),
            ..Default::default()
        });
    }
    // A formula-like display name must come out defused.
    if let Some(u) = t.users.get_mut(9) {
        u.display_name = Some("=HYPERLINK(\"http://x\")".into());
    }
    for (id, name) in [
        ("g-pilot", "BMS Pilot"),
        ("g-extra", "Pilot Extra"),
        ("g-all", "All BMS"),
    ] {
        t.groups.push(Group {
            id: Some(id.into()),
            display_name: name.into(),
            dynamic: false,
        });
    }
    let m = |g: u32, member: Member| Membership { group: g, member };
    t.memberships.push(m(0, Member::User(0)));
    t.memberships.push(m(0, Member::User(1)));
    t.memberships.push(m(0, Member::Group(1)));
    t.memberships.push(m(1, Member::User(2)));
    for u in 0..18 {
        t.memberships.push(m(2, Member::User(u)));
    }
    let platforms = [Platform::Ios, Platform::Android, Platform::Windows];
    for i in 0..19u32 {
        let platform = platforms[i as usize % 3];
        t.devices.push(Device {
            id: Some(format!("dev-{i:02}")),
            owner: Some(i),
            owner_upn: Some(format!("u{i:02}@contoso.com")),
            platform,
            os: platform.as_str().into(),
            os_version: None,
            model: None,
            last_sync: None,
        });
    }
    t.products.push(Product {
        part_number: "EMS".into(),
        display_name: Some("Enterprise Mobility + Security E3".into()),
        enabled_units: Some(30),
        consumed_units: Some(10),
        service_plans: vec![ServicePlan {
            name: "INTUNE_A".into(),
            id: None,
        }],
        ..Default::default()
    });
    t.license_assignments.push(LicenseAssignment {
        user: 17,
        product: 0,
        disabled_plans: vec![],
    });
    t.policies.push(BmsPolicy {
        name: "Require PIN".into(),
        comment: None,
        enabled: true,
        kind: PolicyKind::ConditionalAccess,
        target_groups: vec!["g-all".into()],
        settings: Default::default(),
    });
    t
}

fn workspace(name: &str, tenant: &Tenant, readiness: Option<&str>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bms2intune-plan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ws = Workspace::open(dir.to_str(), true).unwrap();
    ws.save_tenant(tenant).unwrap();
    if let Some(r) = readiness {
        std::fs::copy(Path::new(FIXTURES).join(r), dir.join("readiness.json")).unwrap();
    }
    dir
}

fn plan(ws: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bms2intune"))
        .arg("--workspace")
        .arg(ws)
        .arg("--json")
        .arg("plan")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn plan_json(ws: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(ws.join("plan.json")).unwrap()).unwrap()
}

fn wave_users(p: &Value, n: u64) -> Vec<String> {
    p["waves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["number"] == n)
        .map(|w| {
            w["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn wave_of(p: &Value, upn: &str) -> Option<u64> {
    p["waves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["users"].as_array().unwrap().iter().any(|u| u == upn))
        .and_then(|w| w["number"].as_u64())
}

#[test]
fn missing_readiness_report_is_a_clear_error() {
    let ws = workspace("noready", &fixture_tenant(), None);
    let (code, v, stderr) = plan(&ws, &["--pilot-group", "BMS Pilot"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.no_readiness");
    assert!(stderr.contains("run `bms2intune readiness"), "{stderr}");
    assert!(!ws.join("plan.json").exists());
}

#[test]
fn pilot_comes_first_then_gate_then_waves() {
    let ws = workspace("pilot", &fixture_tenant(), Some("readiness.json"));
    let (code, v, stderr) = plan(
        &ws,
        &[
            "--pilot-group",
            "bms pilot",
            "--wave-size",
            "5",
            "--start",
            "2026-12-01",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let p = plan_json(&ws);
    // the shape
    for k in [
        "options",
        "steps",
        "waves",
        "held_back",
        "already_migrated",
        "unplaced",
    ] {
        assert!(p.get(k).is_some(), "plan.json lacks {k}");
    }
    let w0 = &p["waves"][0];
    assert_eq!(w0["number"], 0);
    assert_eq!(w0["pilot"], true);
    assert_eq!(w0["date"], "2026-12-01");
    assert_eq!(w0["group"], "BMS2Intune Wave 00");
    // nested "Pilot Extra" member u02 is in the pilot
    assert_eq!(
        wave_users(&p, 0),
        vec!["u00@contoso.com", "u01@contoso.com", "u02@contoso.com"]
    );
    assert_eq!(w0["devices"]["ios"], 1);
    assert_eq!(w0["devices"]["android"], 1);
    assert_eq!(w0["devices"]["windows"], 1);
    let kinds: Vec<&str> = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[..2], ["pilot", "policy_gate"]);
    assert_eq!(
        p["steps"][1]["title"],
        "Assign policies to recommended groups"
    );
    // 2026-12-01 (Tue) + 7 days soak = Tue 12-08 gate; wave 1 Wed 12-09; wave 2 Wed 12-16
    assert_eq!(p["steps"][1]["date"], "2026-12-08");
    assert_eq!(p["waves"][1]["date"], "2026-12-09");
    assert_eq!(p["waves"][2]["date"], "2026-12-16");
    for w in p["waves"].as_array().unwrap().iter().skip(1) {
        assert!(w["user_count"].as_u64().unwrap() <= 5);
    }
    assert_eq!(
        p["already_migrated"],
        serde_json::json!(["u17@contoso.com"])
    );
    // u19 is not a BMS user; u18 is (device only)
    assert!(wave_of(&p, "u19@contoso.com").is_none());
    assert!(wave_of(&p, "u18@contoso.com").is_some());
    assert_eq!(v["totals"]["planned"], 16);
    assert!(v["timings_ms"]["plan"].is_u64());
    for f in ["plan.json", "plan.csv", "plan.xlsx"] {
        assert!(ws.join(f).exists(), "{f}");
    }
    let csv = std::fs::read_to_string(ws.join("plan.csv")).unwrap();
    assert!(csv.starts_with("upn,wave,date,group,status,code,reason\n"));
    assert!(csv.contains("u00@contoso.com,0,2026-12-01,BMS2Intune Wave 00,pilot,,"));
    assert_eq!(csv.lines().count(), 1 + 19);
}

#[test]
fn empty_pilot_is_an_error_unless_no_pilot() {
    let ws = workspace("nopilot", &fixture_tenant(), Some("readiness.json"));
    let (code, v, stderr) = plan(&ws, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.pilot.empty");
    assert!(stderr.contains("--no-pilot"), "{stderr}");
    let (code, v, _) = plan(&ws, &["--pilot-group", "No Such Group"]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.pilot.group_not_found");
    let (code, _, stderr) = plan(&ws, &["--no-pilot"]);
    assert_eq!(code, 0, "{stderr}");
    let p = plan_json(&ws);
    assert_eq!(p["waves"][0]["number"], 1);
    assert_eq!(p["steps"][0]["kind"], "policy_gate");
}

#[test]
fn seats_run_out_and_the_rest_is_unplaced() {
    let mut t = fixture_tenant();
    t.products[0].enabled_units = Some(18); // 8 free
    let ws = workspace("seats", &t, Some("readiness.json"));
    let (code, v, _) = plan(&ws, &["--pilot-group", "BMS Pilot", "--wave-size", "4"]);
    assert_eq!(code, 3, "unplaced users are blockers");
    assert_eq!(v["seats"]["available"], 8);
    assert_eq!(v["seats"]["planned"], 8);
    let p = plan_json(&ws);
    let unplaced = p["unplaced"].as_array().unwrap();
    assert_eq!(unplaced.len(), 8);
    assert!(unplaced
        .iter()
        .all(|u| u["code"] == "seats.exhausted" && u["reason"].as_str().unwrap().contains("seat")));
    // --seats overrides the snapshot
    let (code, v, _) = plan(&ws, &["--pilot-group", "BMS Pilot", "--seats", "100"]);
    assert_eq!(code, 0);
    assert_eq!(v["seats"]["source"], "--seats");
    assert_eq!(v["totals"]["unplaced"], 0);
}

#[test]
fn cohesion_keeps_departments_together_and_reports_splits() {
    let ws = workspace(
        "cohesion",
        &fixture_tenant(),
        Some("readiness-no-findings.json"),
    );
    let (code, v, stderr) = plan(
        &ws,
        &[
            "--pilot-group",
            "BMS Pilot",
            "--wave-size",
            "6",
            "--keep-together",
            "department",
            "--order",
            "department=HR,IT",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let p = plan_json(&ws);
    // HR (u14-u16, u18; u17 migrated, u19 out) first, all together
    let hr: Vec<Option<u64>> = ["u14", "u15", "u16", "u18"]
        .iter()
        .map(|u| wave_of(&p, &format!("{u}@contoso.com")))
        .collect();
    assert!(hr.iter().all(|w| *w == Some(1)), "{hr:?}");
    // IT (u08-u13, 6 users) fits a wave: together
    let it: Vec<Option<u64>> = (8..14)
        .map(|i| wave_of(&p, &format!("u{i:02}@contoso.com")))
        .collect();
    assert!(it.windows(2).all(|w| w[0] == w[1]), "{it:?}");
    // Sales minus the pilot (u03-u07, 5 users) fits too; with --wave-size 3 it must split
    let (code, v2, _) = plan(
        &ws,
        &[
            "--pilot-group",
            "BMS Pilot",
            "--wave-size",
            "3",
            "--keep-together",
            "department",
        ],
    );
    assert_eq!(code, 0);
    let splits = v2["splits"].as_array().unwrap();
    let units: Vec<&str> = splits.iter().map(|s| s["unit"].as_str().unwrap()).collect();
    assert_eq!(
        units,
        vec!["department=HR", "department=IT", "department=Sales"]
    );
    assert_eq!(splits[2]["users"], 5);
    assert_eq!(splits[2]["waves"].as_array().unwrap().len(), 2);
    assert!(v["splits"].as_array().unwrap().is_empty());
}

#[test]
fn held_back_users_come_from_readiness() {
    let ws = workspace("held", &fixture_tenant(), Some("readiness.json"));
    let (code, _, _) = plan(&ws, &["--pilot-group", "BMS Pilot"]);
    assert_eq!(code, 0);
    let p = plan_json(&ws);
    let held: Vec<(&str, &str)> = p["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["upn"].as_str().unwrap(), h["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        held,
        vec![
            ("u05@contoso.com", "user.no_usage_location"),
            ("u06@contoso.com", "user.no_usage_location")
        ]
    );
    assert!(p["held_back"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("usage location"));
    // unsupported-only u07 is planned unless --skip-unsupported
    assert!(wave_of(&p, "u07@contoso.com").is_some());
    let (code, _, _) = plan(&ws, &["--pilot-group", "BMS Pilot", "--skip-unsupported"]);
    assert_eq!(code, 0);
    let p = plan_json(&ws);
    assert!(wave_of(&p, "u07@contoso.com").is_none());
    assert!(p["held_back"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["upn"] == "u07@contoso.com" && h["code"] == "device.unsupported_only"));
}

#[test]
fn tenant_pins_are_honoured_and_violations_reported() {
    let mut t = fixture_tenant();
    let pin = |user: u32, wave: Option<u32>, pilot: bool| WavePin {
        user,
        wave,
        pilot,
        source: Some(format!("users.xlsx row {}", user + 2)),
    };
    t.pins = vec![
        pin(3, None, true),      // into the pilot
        pin(12, Some(3), false), // a later wave
        pin(5, Some(1), false),  // held back: violation
        pin(8, Some(2), false),
        pin(9, Some(2), false),
        pin(10, Some(2), false), // wave 2 gets 3 pins > --wave-size 2: violation
    ];
    let ws = workspace("pins", &t, Some("readiness.json"));
    let (code, v, stderr) = plan(&ws, &["--pilot-group", "BMS Pilot", "--wave-size", "2"]);
    assert_eq!(code, 3, "violations exit 3: {stderr}");
    let p = plan_json(&ws);
    assert!(wave_users(&p, 0).contains(&"u03@contoso.com".to_string()));
    assert_eq!(wave_of(&p, "u12@contoso.com"), Some(3));
    assert_eq!(
        wave_users(&p, 2),
        vec!["u08@contoso.com", "u09@contoso.com", "u10@contoso.com"]
    );
    let codes: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"pin.held_back"), "{codes:?}");
    assert!(codes.contains(&"pin.over_capacity"), "{codes:?}");
    assert!(stderr.contains("pin.over_capacity"));
    let held = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "pin.held_back")
        .unwrap();
    assert_eq!(held["upn"], "u05@contoso.com");
    assert_eq!(held["source"], "users.xlsx row 7");
    assert_eq!(p["waves"][2]["pinned"], 3);
}

#[test]
fn reruns_are_byte_identical() {
    let a = workspace("det-a", &fixture_tenant(), Some("readiness.json"));
    let b = workspace("det-b", &fixture_tenant(), Some("readiness.json"));
    let args = [
        "--pilot-group",
        "BMS Pilot",
        "--wave-size",
        "4",
        "--keep-together",
        "office",
        "--start",
        "2026-12-01",
    ];
    assert_eq!(plan(&a, &args).0, 0);
    assert_eq!(plan(&b, &args).0, 0);
    let first: Vec<Vec<u8>> = ["plan.json", "plan.csv", "plan.xlsx"]
        .iter()
        .map(|f| std::fs::read(a.join(f)).unwrap())
        .collect();
    assert_eq!(plan(&a, &args).0, 0);
    for (i, f) in ["plan.json", "plan.csv", "plan.xlsx"].iter().enumerate() {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            first[i],
            "{f} changed on rerun"
        );
        assert_eq!(
            std::fs::read(b.join(f)).unwrap(),
            first[i],
            "{f} differs between workspaces"
        );
    }
    // a rerun reports no changes
    let (_, v, _) = plan(&a, &args);
    assert_eq!(v["changes"]["users"].as_array().unwrap().len(), 0);
    assert_eq!(v["changes"]["waves"].as_array().unwrap().len(), 0);
}

/// Reads every sheet of an XLSX into rows of cells.
fn read_xlsx(path: &Path) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(path).unwrap();
    let names = wb.sheet_names();
    names
        .into_iter()
        .map(|n| {
            let r = wb.worksheet_range(&n).unwrap();
            (n, r.rows().map(|row| row.to_vec()).collect())
        })
        .collect()
}

/// Writes sheets back as an XLSX the way an admin's Excel would save it.
fn write_xlsx(path: &Path, sheets: &[(String, Vec<Vec<calamine::Data>>)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    calamine::Data::String(s) => {
                        ws.write_string(r, c, s).unwrap();
                    }
                    calamine::Data::Float(f) => {
                        ws.write_number(r, c, *f).unwrap();
                    }
                    calamine::Data::Int(i) => {
                        ws.write_number(r, c, *i as f64).unwrap();
                    }
                    calamine::Data::Empty => {}
                    other => {
                        ws.write_string(r, c, other.to_string()).unwrap();
                    }
                }
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn xlsx_round_trip_reports_every_change() {
    let ws = workspace("roundtrip", &fixture_tenant(), Some("readiness.json"));
    let (code, _, stderr) = plan(
        &ws,
        &[
            "--pilot-group",
            "BMS Pilot",
            "--wave-size",
            "4",
            "--start",
            "2026-12-01",
            "--every",
            "7",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let before = plan_json(&ws);
    let mut sheets = read_xlsx(&ws.join("plan.xlsx"));
    let names: Vec<&str> = sheets.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names[0], "Summary");
    assert_eq!(names[1], "Wave 00");
    assert!(
        names.contains(&"Held back")
            && names.contains(&"Unplaced")
            && names.contains(&"Already migrated")
    );
    // the formula-like display name was written as text, not a formula
    let w_of_u09 = wave_of(&before, "u09@contoso.com").unwrap();
    let sheet = sheets
        .iter()
        .find(|s| s.0 == format!("Wave {w_of_u09:02}"))
        .unwrap();
    let row = sheet
        .1
        .iter()
        .find(|r| r[0] == calamine::Data::String("u09@contoso.com".into()))
        .unwrap();
    assert_eq!(
        row[4],
        calamine::Data::String("=HYPERLINK(\"http://x\")".into())
    );

    // The admin moves the first user of wave 1 to wave 2 (Wave cell), moves the first user of
    // wave 2 into the pilot by cutting the row into "Wave 00" with the Wave cell cleared,
    // and moves wave 3 two weeks later (Summary Date cell).
    let moved = wave_users(&before, 1)[0].clone();
    let to_pilot = wave_users(&before, 2)[0].clone();
    let w1 = sheets.iter_mut().find(|s| s.0 == "Wave 01").unwrap();
    let wave_col = w1.1[0]
        .iter()
        .position(|h| h == &calamine::Data::String("Wave".into()))
        .unwrap();
    w1.1[1][wave_col] = calamine::Data::Float(2.0);
    let w2 = sheets.iter_mut().find(|s| s.0 == "Wave 02").unwrap();
    let mut cut = w2.1.remove(1);
    cut[wave_col] = calamine::Data::Empty;
    sheets
        .iter_mut()
        .find(|s| s.0 == "Wave 00")
        .unwrap()
        .1
        .push(cut);
    let summary = sheets.iter_mut().find(|s| s.0 == "Summary").unwrap();
    let date_col = summary.1[0]
        .iter()
        .position(|h| h == &calamine::Data::String("Date".into()))
        .unwrap();
    let w3row = summary
        .1
        .iter_mut()
        .find(|r| r[1] == calamine::Data::Float(3.0))
        .unwrap();
    let old_w3 = w3row[date_col].to_string();
    w3row[date_col] = calamine::Data::String("2026-12-30".into());
    let edited = ws.join("edited.xlsx");
    write_xlsx(&edited, &sheets);

    let (code, v, stderr) = plan(&ws, &["--from-edited", edited.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let after = plan_json(&ws);
    assert_eq!(wave_of(&after, &moved), Some(2));
    assert_eq!(wave_of(&after, &to_pilot), Some(0));
    // options came from the previous plan
    assert_eq!(after["options"]["wave_size"], 4);
    assert_eq!(after["options"]["start"], "2026-12-01");
    let ch = &v["changes"];
    let users = ch["users"].as_array().unwrap();
    assert_eq!(users.len(), 2, "{users:?}");
    let m = users.iter().find(|u| u["upn"] == moved.as_str()).unwrap();
    assert_eq!(
        (
            m["change"].as_str(),
            m["from_wave"].as_u64(),
            m["to_wave"].as_u64()
        ),
        (Some("moved"), Some(1), Some(2))
    );
    let pl = users
        .iter()
        .find(|u| u["upn"] == to_pilot.as_str())
        .unwrap();
    assert_eq!(
        (pl["from_wave"].as_u64(), pl["to_wave"].as_u64()),
        (Some(2), Some(0))
    );
    let waves = ch["waves"].as_array().unwrap();
    let resized: Vec<(u64, u64, u64)> = waves
        .iter()
        .filter(|w| w["change"] == "resized")
        .map(|w| {
            (
                w["wave"].as_u64().unwrap(),
                w["from_users"].as_u64().unwrap(),
                w["to_users"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(resized, vec![(0, 3, 4), (1, 4, 3)]);
    let dated: Vec<(u64, &str, &str)> = waves
        .iter()
        .filter(|w| w["change"] == "date")
        .map(|w| {
            (
                w["wave"].as_u64().unwrap(),
                w["from_date"].as_str().unwrap(),
                w["to_date"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        dated.contains(&(3, old_w3.as_str(), "2026-12-30")),
        "{dated:?}"
    );
    assert!(v["violations"].as_array().unwrap().is_empty());
    assert!(ws.join("plan-changes.json").exists());
    // re-importing the new plan.xlsx unedited changes nothing (the edited date stays pinned)
    let unedited = ws.join("unedited.xlsx");
    std::fs::copy(ws.join("plan.xlsx"), &unedited).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bms2intune"))
        .arg("--workspace")
        .arg(&ws)
        .args(["plan", "--from-edited", unedited.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No changes against the previous plan"),
        "{text}"
    );
    assert_eq!(plan_json(&ws), after);
}

#[test]
fn edited_xlsx_with_unknown_sheets_or_duplicate_rows_is_refused() {
    let ws = workspace("xlsxbad", &fixture_tenant(), Some("readiness.json"));
    assert_eq!(
        plan(&ws, &["--pilot-group", "BMS Pilot", "--wave-size", "4"]).0,
        0
    );
    let sheets = read_xlsx(&ws.join("plan.xlsx"));
    let mut renamed = sheets.clone();
    if let Some(s) = renamed.iter_mut().find(|s| s.0 == "Wave 01") {
        s.0 = "Wave one".into();
    }
    let f = ws.join("renamed.xlsx");
    write_xlsx(&f, &renamed);
    let (code, v, _) = plan(&ws, &["--from-edited", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.edited.unknown_sheet");
    assert_eq!(v["error"]["details"][0]["sheet"], "Wave one");
    let mut dup = sheets.clone();
    let row = dup.iter().find(|s| s.0 == "Wave 01").unwrap().1[1].clone();
    dup.iter_mut()
        .find(|s| s.0 == "Wave 02")
        .unwrap()
        .1
        .push(row);
    let f = ws.join("dup.xlsx");
    write_xlsx(&f, &dup);
    let (code, v, _) = plan(&ws, &["--from-edited", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.edited.duplicate_user");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Wave 01 row 2"));
    // nothing was overwritten by the refused imports
    assert_eq!(read_xlsx(&ws.join("plan.xlsx")), sheets);
}

#[test]
fn edited_csv_and_bad_cells() {
    let ws = workspace("csvedit", &fixture_tenant(), Some("readiness.json"));
    assert_eq!(
        plan(&ws, &["--pilot-group", "BMS Pilot", "--wave-size", "4"]).0,
        0
    );
    let csv = std::fs::read_to_string(ws.join("plan.csv")).unwrap();
    // pin a held-back user into wave 1 and an unknown user into wave 2
    let edited: String = csv
        .lines()
        .map(|l| {
            if l.starts_with("u05@contoso.com,") {
                "u05@contoso.com,1,,,held_back,,".to_string()
            } else {
                l.to_string()
            }
        })
        .chain(std::iter::once(
            "ghost@contoso.com,2,,,planned,,".to_string(),
        ))
        .collect::<Vec<_>>()
        .join("\n");
    let f = ws.join("edited.csv");
    std::fs::write(&f, edited).unwrap();
    let (code, v, _) = plan(&ws, &["--from-edited", f.to_str().unwrap()]);
    assert_eq!(code, 3);
    let codes: Vec<&str> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["pin.held_back", "pin.unknown_user"]);
    // a bad wave cell names file, row and column
    let bad: String = csv
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            if cells[0] == "u08@contoso.com" {
                cells[1] = "soon";
            }
            cells.join(",") + "\n"
        })
        .collect();
    let f2 = ws.join("bad.csv");
    std::fs::write(&f2, bad).unwrap();
    let (code, v, _) = plan(&ws, &["--from-edited", f2.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.edited.bad_cell");
    assert_eq!(v["error"]["details"][0]["column"], "wave");
    // re-import needs a previous plan
    let fresh = workspace("csvedit-fresh", &fixture_tenant(), Some("readiness.json"));
    let (code, v, _) = plan(&fresh, &["--from-edited", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "plan.no_previous_plan");
}

#[test]
fn protocol_params_are_checked() {
    let ws = workspace("rpc", &fixture_tenant(), Some("readiness.json"));
    let req = serde_json::json!({"protocol":1,"id":"1","command":"plan","params":{"workspace": ws, "pilot_groups":["BMS Pilot"], "keep_together":"office", "wave_size": 4}});
    let bad = serde_json::json!({"protocol":1,"id":"2","command":"plan","params":{"workspace": ws, "wave_sise": 4}});
    let mut child = Command::new(env!("CARGO_BIN_EXE_bms2intune"))
        .arg("rpc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{req}\n{bad}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let results: Vec<&Value> = lines.iter().filter(|l| l["event"] == "result").collect();
    assert_eq!(results[0]["ok"], true, "{:?}", results[0]);
    assert_eq!(results[0]["result"]["options"]["keep_together"], "office");
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "protocol.params.unknown");
}

/// CPU time of this process in ms (Linux /proc/self/stat utime+stime; 0 elsewhere): wall-clock
/// time is meaningless on a loaded machine.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // fields after the comm: state is [0], utime is [11], stime is [12]; clock ticks of 10 ms
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10
}

/// 1M users / 100k groups / 3M memberships / 1M devices. `cargo test --release --test plan -- --ignored --nocapture bench`
#[test]
#[ignore]
fn bench_plan_1m_users_100k_groups() {
    use bms2intune::waves::planner::{self, KeepTogether, PlanOptions, ReadinessFacts};
    use std::time::Instant;
    let n = 1_000_000u32;
    let g = 100_000u32;
    let t0 = Instant::now();
    let mut t = Tenant::default();
    for i in 0..n {
        t.users.push(User {
            upn: format!("user{i:07}@contoso.com"),
            department: Some(format!("Dept {}", i % 500)),
            office: Some(format!("Office {}", i % 97)),
            manager_upn: Some(format!("user{:07}@contoso.com", (i / 8) * 8)),
            usage_location: Some("US".into()),
            ..Default::default()
        });
        t.devices.push(Device {
            id: Some(format!("d{i}")),
            owner: Some(i),
            owner_upn: None,
            platform: [Platform::Ios, Platform::Android, Platform::Windows][(i % 3) as usize],
            os: "x".into(),
            os_version: None,
            model: None,
            last_sync: None,
        });
    }
    for j in 0..g {
        t.groups.push(Group {
            id: Some(format!("g{j:06}")),
            display_name: format!("Group {j}"),
            dynamic: false,
        });
    }
    for i in 0..n {
        for k in 0..3u32 {
            t.memberships.push(Membership {
                group: (i.wrapping_mul(7919).wrapping_add(k * 33_331)) % g,
                member: Member::User(i),
            });
        }
    }
    for j in 0..100 {
        t.memberships.push(Membership {
            group: 0,
            member: Member::Group(j + 1),
        });
    }
    t.policies.push(BmsPolicy {
        name: "p".into(),
        comment: None,
        enabled: true,
        kind: PolicyKind::ConditionalAccess,
        target_groups: vec!["g000000".into()],
        settings: Default::default(),
    });
    t.products.push(Product {
        part_number: "EMS".into(),
        enabled_units: Some(2_000_000),
        consumed_units: Some(0),
        service_plans: vec![ServicePlan {
            name: "INTUNE_A".into(),
            id: None,
        }],
        ..Default::default()
    });
    let build = t0.elapsed();
    let mut facts = ReadinessFacts::default();
    for i in (0..n).step_by(100) {
        facts
            .no_usage_location
            .insert(format!("user{i:07}@contoso.com"));
    }
    for (label, keep) in [
        ("none", None),
        ("department", Some(KeepTogether::Department)),
        ("manager", Some(KeepTogether::Manager)),
        ("group", Some(KeepTogether::Group)),
    ] {
        let o = PlanOptions {
            pilot_groups: vec!["Group 5".into()],
            wave_size: 500,
            max_devices: Some(600),
            keep_together: keep,
            start: Some("2027-01-04".into()),
            ..Default::default()
        };
        let t1 = Instant::now();
        let mut laps = planner::Laps::default();
        let input = planner::PlanInput {
            tenant: &t,
            facts: &facts,
            options: &o,
            pins: &[],
            date_pins: &[],
        };
        let cpu0 = cpu_ms();
        let p = planner::plan_timed(&input, &mut laps).unwrap();
        let plan_ms = t1.elapsed().as_millis();
        eprintln!(
            "keep_together={label}: plan CPU time {} ms (user+system, from /proc/self/stat)",
            cpu_ms() - cpu0
        );
        eprintln!("  phases (ms): {:?}", laps.phases);
        let t2 = Instant::now();
        let json = serde_json::to_vec_pretty(&p).unwrap();
        let json_ms = t2.elapsed().as_millis();
        let t3 = Instant::now();
        let csv = bms2intune::waves::xlsx::to_csv(&p).unwrap();
        let csv_ms = t3.elapsed().as_millis();
        eprintln!("keep_together={label}: plan {plan_ms} ms, json {json_ms} ms ({} MB), csv {csv_ms} ms; waves {}, planned {}, held {}, splits {}", json.len() / 1_000_000, p.waves.len(), p.totals.planned, p.totals.held_back, p.splits.len());
        drop(csv);
    }
    let o = PlanOptions {
        pilot_groups: vec!["Group 5".into()],
        wave_size: 5000,
        ..Default::default()
    };
    let p = planner::plan(&planner::PlanInput {
        tenant: &t,
        facts: &facts,
        options: &o,
        pins: &[],
        date_pins: &[],
    })
    .unwrap();
    let t4 = Instant::now();
    let x = bms2intune::waves::xlsx::to_xlsx(&p, &t).unwrap();
    eprintln!(
        "xlsx (wave size 5000, {} sheets): {} ms, {} MB; tenant build {} ms",
        p.waves.len() + 4,
        t4.elapsed().as_millis(),
        x.len() / 1_000_000,
        build.as_millis()
    );
    drop(x);

    // End to end through the binary: load tenant.json + readiness.json, plan, write all three files.
    let dir = std::env::temp_dir().join(format!("bms2intune-plan-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ws = Workspace::open(dir.to_str(), true).unwrap();
    ws.save_tenant(&t).unwrap();
    let facts_list: Vec<&String> = facts.no_usage_location.iter().collect();
    let readiness = serde_json::json!({
        "summary": {"blocker": 1, "warning": 0, "info": 0, "seats": {"available": 2_000_000, "needed": 1_000_000, "shortfall": 0}},
        "findings": [{"code": "user.no_usage_location", "severity": "blocker", "message": "no usage location", "objects": facts_list, "remedy": "set it"}],
        "users_unsupported_only": []
    });
    ws.write_json("readiness.json", &readiness).unwrap();
    let tenant_mb = std::fs::metadata(dir.join("tenant.json"))
        .map(|m| m.len() / 1_000_000)
        .unwrap_or(0);
    drop(t);
    let t5 = Instant::now();
    let (code, v, stderr) = plan(
        &dir,
        &[
            "--pilot-group",
            "Group 5",
            "--wave-size",
            "500",
            "--keep-together",
            "department",
            "--start",
            "2027-01-04",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    eprintln!(
        "binary end to end ({tenant_mb} MB tenant.json): {} ms wall; timings_ms {}",
        t5.elapsed().as_millis(),
        v["timings_ms"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The parts of a ZIP archive, inflated, with sizes and CRCs checked against the directory.
fn unzip_parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u32_at =
        |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    let eocd = bytes.len() - 22;
    assert_eq!(u32_at(eocd), 0x0605_4b50, "end of central directory");
    let count = u16_at(eocd + 10);
    let mut at = u32_at(eocd + 16) as usize;
    let mut parts = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50, "central directory entry");
        let (method, crc) = (u16_at(at + 10), u32_at(at + 16));
        let (csize, size) = (u32_at(at + 20) as usize, u32_at(at + 24) as usize);
        let name_len = u16_at(at + 28);
        let skip = name_len + u16_at(at + 30) + u16_at(at + 32);
        let name = String::from_utf8(bytes[at + 46..at + 46 + name_len].to_vec()).unwrap();
        let local = u32_at(at + 42) as usize;
        assert_eq!(u32_at(local), 0x0403_4b50, "local header of {name}");
        assert_eq!(u32_at(local + 14), crc, "local CRC of {name}");
        let data_at = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        assert_eq!(method, 8, "{name} is deflated");
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&bytes[data_at..data_at + csize])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), size, "size of {name}");
        let mut c = flate2::Crc::new();
        c.update(&out);
        assert_eq!(c.sum(), crc, "CRC of {name}");
        parts.push((name, out));
        at += 46 + skip;
    }
    parts
}

/// LibreOffice's `soffice` on the PATH (checked when present, like openpyxl; not installed by CI).
fn soffice_available() -> bool {
    Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn xlsx_is_a_valid_workbook_holding_every_cell_of_the_plan() {
    let mut t = fixture_tenant();
    // Text Excel or XML would mangle: formula-like, markup, whitespace, control characters.
    let odd: [(usize, &str, &str); 6] = [
        (3, "display_name", "  spaced out  "),
        (4, "department", "R&D <Lab> \"West\""),
        (10, "office", "+33 Paris"),
        (11, "manager_upn", "@boss"),
        (7, "display_name", "bell\u{7}tab\tline\nend"),
        (8, "display_name", "Zoë Ünïcode ☃ -minus"),
    ];
    for (i, field, v) in odd {
        let u = &mut t.users[i];
        let slot = match field {
            "display_name" => &mut u.display_name,
            "department" => &mut u.department,
            "office" => &mut u.office,
            _ => &mut u.manager_upn,
        };
        *slot = Some(v.to_string());
    }
    let ws = workspace("xlsx-valid", &t, Some("readiness.json"));
    let args = [
        "--pilot-group",
        "BMS Pilot",
        "--wave-size",
        "3",
        "--start",
        "2026-12-01",
        "--group-pattern",
        "=Licence & <Wave> {nn}",
    ];
    let (code, _, stderr) = plan(&ws, &args);
    assert_eq!(code, 0, "{stderr}");
    let p = plan_json(&ws);
    let bytes = std::fs::read(ws.join("plan.xlsx")).unwrap();

    // The container and every XML part.
    let parts = unzip_parts(&bytes);
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    let waves = p["waves"].as_array().unwrap();
    let sheet_count = waves.len() + 4;
    for fixed in [
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/app.xml",
        "docProps/core.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/theme/theme1.xml",
    ] {
        assert!(names.contains(&fixed), "{fixed} missing: {names:?}");
    }
    let part =
        |n: &str| String::from_utf8(parts.iter().find(|(p, _)| p == n).unwrap().1.clone()).unwrap();
    let types = part("[Content_Types].xml");
    let rels = part("xl/_rels/workbook.xml.rels");
    let workbook = part("xl/workbook.xml");
    for i in 1..=sheet_count {
        let sheet = format!("xl/worksheets/sheet{i}.xml");
        assert!(names.contains(&sheet.as_str()), "{sheet} missing");
        assert!(types.contains(&format!("PartName=\"/{sheet}\"")));
        assert!(rels.contains(&format!("Target=\"worksheets/sheet{i}.xml\"")));
    }
    assert_eq!(parts.len(), 8 + sheet_count, "{names:?}");
    assert_eq!(
        workbook.matches("_xlnm._FilterDatabase").count(),
        sheet_count,
        "one autofilter name per sheet"
    );
    let styles = part("xl/styles.xml");
    assert!(styles.contains("<cellXfs count=\"3\">") && styles.contains("quotePrefix=\"1\""));
    // Formula-like text carries the quote-prefix style; others don't.
    let wave_sheets: String = (2..sheet_count - 2)
        .map(|i| part(&format!("xl/worksheets/sheet{i}.xml")))
        .collect();
    for text in [
        "=HYPERLINK(",
        "+33 Paris",
        "@boss",
        "=Licence &amp; &lt;Wave&gt;",
    ] {
        assert!(
            wave_sheets.contains(&format!("s=\"2\" t=\"inlineStr\"><is><t>{text}")),
            "{text} not quote-prefixed"
        );
    }
    assert!(wave_sheets.contains("<t xml:space=\"preserve\">  spaced out  </t>"));
    assert!(wave_sheets.contains("bell_x0007_tab\tline\nend"));
    assert!(part("xl/worksheets/sheet1.xml").contains("<sheetView tabSelected=\"1\""));
    assert!(wave_sheets.contains(
        "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
    ));

    // Strict XML: every part parses.
    if python_has("xml.dom.minidom") {
        let dir = ws.join("parts");
        for (n, data) in &parts {
            let f = dir.join(n);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, data).unwrap();
        }
        let out = Command::new("python3")
            .args(["-c", "import sys, os, xml.dom.minidom as m\nfor r, _, fs in os.walk(sys.argv[1]):\n    for f in fs: m.parse(os.path.join(r, f))\nprint('ok')"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // openpyxl (when installed) opens it as Excel would: names, styles, frozen panes, filters.
    if python_has("openpyxl") {
        let out = Command::new("python3")
            .args(["-c", "import sys, openpyxl\nwb = openpyxl.load_workbook(sys.argv[1])\nfor ws in wb.worksheets:\n    assert ws.freeze_panes == 'A2', ws.title\n    assert ws.auto_filter.ref, ws.title\n    assert ws['A1'].font.b, ws.title\nprint(len(wb.sheetnames))"])
            .arg(ws.join("plan.xlsx"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            sheet_count.to_string()
        );
    }

    // LibreOffice (when installed) opens it as a spreadsheet application would: every sheet
    // exported to CSV; the UPN, department, office and manager cells read as calamine reads them
    // (markup, quotes and formula-like text intact, as text).
    if soffice_available() {
        let out_dir = ws.join("lo");
        let profile = ws.join("lo-profile");
        let out = Command::new("soffice")
            .arg(format!(
                "-env:UserInstallation=file://{}",
                profile.display()
            ))
            .args([
                "--headless",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                "--outdir",
            ])
            .arg(&out_dir)
            .arg(ws.join("plan.xlsx"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exported = std::fs::read_dir(&out_dir).unwrap().count();
        assert_eq!(exported, sheet_count, "one CSV per sheet");
        let calamine_sheets = read_xlsx(&ws.join("plan.xlsx"));
        for (name, rows) in &calamine_sheets {
            if !name.starts_with("Wave ") {
                continue;
            }
            let csv_path = out_dir.join(format!("plan-{name}.csv"));
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_path(&csv_path)
                .unwrap();
            let lo: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
            assert_eq!(lo.len(), rows.len(), "{name}: rows");
            for (lo_row, cal_row) in lo.iter().zip(rows) {
                for c in [0usize, 5, 6, 7] {
                    let want = match &cal_row[c] {
                        calamine::Data::String(v) => v.clone(),
                        calamine::Data::Empty => String::new(),
                        other => panic!("{name}: column {c} is not text: {other:?}"),
                    };
                    assert_eq!(lo_row.get(c).unwrap_or(""), want, "{name} column {c}");
                }
            }
        }
    }

    // Every cell read back by calamine equals the plan.
    use calamine::Data;
    let s = |v: &str| Data::String(v.to_string());
    let opt = |v: &Option<String>| v.as_deref().map(s).unwrap_or(Data::Empty);
    let num = |v: u64| Data::Float(v as f64);
    let jstr = |v: &Value| v.as_str().map(s).unwrap_or(Data::Empty);
    let sheets = read_xlsx(&ws.join("plan.xlsx"));
    let sheet_names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    let mut want_names = vec!["Summary".to_string()];
    want_names.extend(
        waves
            .iter()
            .map(|w| format!("Wave {:02}", w["number"].as_u64().unwrap())),
    );
    want_names.extend(["Held back", "Unplaced", "Already migrated"].map(String::from));
    assert_eq!(sheet_names, want_names);
    let by_upn = |upn: &str| t.users.iter().position(|u| u.upn == upn).unwrap();
    for (w, (_, rows)) in waves.iter().zip(&sheets[1..]) {
        assert_eq!(
            rows[0],
            [
                "UPN",
                "Wave",
                "Date",
                "License group",
                "Display name",
                "Department",
                "Office",
                "Manager",
                "Devices",
                "Platforms"
            ]
            .map(s)
        );
        let users = w["users"].as_array().unwrap();
        assert_eq!(rows.len(), users.len() + 1);
        for (row, upn) in rows[1..].iter().zip(users) {
            let upn = upn.as_str().unwrap();
            let i = by_upn(upn);
            let u = &t.users[i];
            let devs: Vec<&Device> = t
                .devices
                .iter()
                .filter(|d| d.owner == Some(i as u32))
                .collect();
            let mut plats: Vec<&str> = devs.iter().map(|d| d.platform.as_str()).collect();
            plats.sort();
            plats.dedup();
            let plats = plats.join(", ");
            let want = vec![
                s(upn),
                num(w["number"].as_u64().unwrap()),
                jstr(&w["date"]),
                jstr(&w["group"]),
                opt(&u.display_name),
                opt(&u.department),
                opt(&u.office),
                opt(&u.manager_upn),
                num(devs.len() as u64),
                if plats.is_empty() {
                    Data::Empty
                } else {
                    s(&plats)
                },
            ];
            assert_eq!(row, &want, "row of {upn}");
        }
    }
    let n = sheets.len();
    for (sheet, list) in [(&sheets[n - 3], "held_back"), (&sheets[n - 2], "unplaced")] {
        let items = p[list].as_array().unwrap();
        assert_eq!(sheet.1[0], ["UPN", "Code", "Reason", "Wave"].map(s));
        assert_eq!(sheet.1.len(), items.len() + 1, "{list}");
        for (row, h) in sheet.1[1..].iter().zip(items) {
            let mut want = vec![jstr(&h["upn"]), jstr(&h["code"]), jstr(&h["reason"])];
            // calamine trims trailing empty cells of a row only when the range ends there.
            want.push(Data::Empty);
            assert_eq!(row, &want);
        }
    }
    let migrated: Vec<Vec<Data>> = p["already_migrated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| vec![jstr(u)])
        .collect();
    assert_eq!(sheets[n - 1].1[1..], migrated[..]);
    assert!(!migrated.is_empty() && !p["held_back"].as_array().unwrap().is_empty());
    // Summary: one row per step; wave rows carry counts, group and groups touched.
    let steps = p["steps"].as_array().unwrap();
    let summary = &sheets[0].1;
    assert_eq!(summary.len(), steps.len() + 1);
    for (row, st) in summary[1..].iter().zip(steps) {
        assert_eq!(row[2], jstr(&st["date"]));
        assert_eq!(row[13], jstr(&st["requires"]));
        if let Some(wn) = st["wave"].as_u64() {
            let w = waves.iter().find(|w| w["number"] == wn).unwrap();
            assert_eq!(row[1], num(wn));
            assert_eq!(row[3], num(w["user_count"].as_u64().unwrap()));
            assert_eq!(row[4], num(w["device_count"].as_u64().unwrap()));
            assert_eq!(row[5], num(w["devices"]["ios"].as_u64().unwrap()));
            assert_eq!(row[11], jstr(&w["group"]));
            let touched: Vec<&str> = w["groups_touched"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap())
                .collect();
            let touched = touched.join("; ");
            // Empty text is an empty cell.
            let want = if touched.is_empty() {
                Data::Empty
            } else {
                s(&touched)
            };
            assert_eq!(row[12], want);
        }
    }
    // And the unchanged workbook re-imports as no change at all.
    let edited = ws.join("edited.xlsx");
    std::fs::copy(ws.join("plan.xlsx"), &edited).unwrap();
    let mut args2 = args.to_vec();
    let e = edited.to_str().unwrap();
    args2.extend(["--from-edited", e]);
    let (code, v, stderr) = plan(&ws, &args2);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["changes"]["users"].as_array().unwrap().len(), 0, "{v}");
    let _ = std::fs::remove_dir_all(&ws);
}
