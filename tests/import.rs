//! Integration tests of `bms2intune import`: every real export format in tests/fixtures/import/,
//! workbooks generated here with rust_xlsxwriter, every rejection/warning code, --strict, --add,
//! stdin, and the fuzz regression corpus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

static N: AtomicUsize = AtomicUsize::new(0);

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "bms2intune-import-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

fn run_in(ws: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bms2intune"));
    cmd.arg("--json")
        .arg("--workspace")
        .arg(ws)
        .arg("import")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().unwrap();
    if let Some(data) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

fn import(ws: &Path, files: &[PathBuf], extra: &[&str]) -> Run {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(files.iter().map(|p| p.display().to_string()));
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    run_in(ws, &a, None)
}

/// `file name [sheet]` → the file report.
fn by_file(r: &Value) -> BTreeMap<String, Value> {
    r["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no files in {r}"))
        .iter()
        .map(|f| {
            let name = Path::new(f["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            let key = match f["sheet"].as_str() {
                Some(s) => format!("{name} [{s}]"),
                None => name,
            };
            (key, f.clone())
        })
        .collect()
}

/// `(kind, rows_read, kept, rejected)`.
fn counts(f: &Value) -> (String, u64, u64, u64) {
    (
        f["kind"].as_str().unwrap().to_string(),
        f["rows_read"].as_u64().unwrap(),
        f["kept"].as_u64().unwrap(),
        f["rejected"].as_u64().unwrap(),
    )
}

fn codes(f: &Value, list: &str) -> Vec<String> {
    let mut v: Vec<String> = f[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn tenant(ws: &Path) -> Value {
    let text = std::fs::read_to_string(ws.join("tenant.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["tenant"].clone()
}

fn all_fixtures() -> Vec<PathBuf> {
    [
        "m365-users-variant-a.csv",
        "m365-users-variant-b.csv",
        "m365-users-variant-c.csv",
        "m365-users-de.csv",
        "entra-users-documented.csv",
        "entra-users-real.csv",
        "entra-bulk-create.csv",
        "entra-groups.csv",
        "members.csv",
        "BMS Pilot.csv",
        "products.csv",
        "subscribed-skus.json",
        "licenses.csv",
        "intune-devices.csv",
        "get-mobiledevice.csv",
        "msol-device-compliance.csv",
        "policies.csv",
        "bms-policies.json",
        "DeviceConfigurationPolicy.json",
        "DeviceConfigurationRule.json",
        "waves.csv",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect()
}

#[test]
fn every_real_export_imports_with_the_right_counts_and_codes() {
    let ws = tmp("all");
    let r = import(&ws, &all_fixtures(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = by_file(&r.json);
    let expect: &[(&str, &str, u64, u64, u64)] = &[
        // file, kind, read, kept, rejected
        ("m365-users-variant-a.csv", "users", 7, 7, 0),
        ("m365-users-variant-b.csv", "users", 3, 2, 1),
        ("m365-users-variant-c.csv", "users", 2, 2, 0),
        ("m365-users-de.csv", "users", 3, 3, 0),
        ("entra-users-documented.csv", "users", 3, 3, 0),
        ("entra-users-real.csv", "users", 3, 2, 1),
        ("entra-bulk-create.csv", "users", 2, 2, 0),
        ("entra-groups.csv", "groups", 9, 7, 2),
        ("members.csv", "members", 10, 5, 5),
        ("BMS Pilot.csv", "members", 4, 3, 1),
        ("products.csv", "products", 5, 3, 2),
        ("subscribed-skus.json", "products", 3, 2, 1),
        ("licenses.csv", "licenses", 5, 2, 3),
        ("intune-devices.csv", "devices", 8, 6, 2),
        ("get-mobiledevice.csv", "devices", 4, 4, 0),
        ("msol-device-compliance.csv", "devices", 2, 2, 0),
        ("policies.csv", "policies", 6, 2, 4),
        (
            "bms-policies.json [DeviceConditionalAccessPolicy]",
            "policies",
            2,
            2,
            0,
        ),
        (
            "bms-policies.json [DeviceConditionalAccessRule]",
            "policies",
            3,
            2,
            1,
        ),
        (
            "bms-policies.json [DeviceConfigurationPolicy]",
            "policies",
            1,
            1,
            0,
        ),
        (
            "bms-policies.json [DeviceConfigurationRule]",
            "policies",
            3,
            2,
            1,
        ),
        ("bms-policies.json [DeviceTenantRule]", "policies", 1, 1, 0),
        ("DeviceConfigurationPolicy.json", "policies", 1, 1, 0),
        ("DeviceConfigurationRule.json", "policies", 1, 1, 0),
        ("waves.csv", "plan", 8, 6, 2),
    ];
    for (file, kind, read, kept, rejected) in expect {
        let rep = f
            .get(*file)
            .unwrap_or_else(|| panic!("{file} missing: {:?}", f.keys()));
        assert_eq!(
            counts(rep),
            (kind.to_string(), *read, *kept, *rejected),
            "{file}: {rep:#}"
        );
        assert_eq!(read, &(kept + rejected));
    }
    // Rejection codes per file (sorted).
    let rej = |file: &str| codes(f.get(file).unwrap(), "rejections");
    let warn = |file: &str| codes(f.get(file).unwrap(), "warnings");
    assert_eq!(rej("m365-users-variant-b.csv"), ["import.guid.malformed"]);
    assert_eq!(rej("entra-users-real.csv"), ["import.users.bad_upn"]);
    assert_eq!(
        rej("entra-groups.csv"),
        ["import.groups.missing_name", "import.guid.malformed"]
    );
    assert_eq!(
        rej("members.csv"),
        [
            "import.members.ambiguous_group",
            "import.members.missing_group",
            "import.members.missing_member",
            "import.members.unknown_group",
            "import.members.unknown_member"
        ]
    );
    assert_eq!(rej("BMS Pilot.csv"), ["import.members.template_example"]);
    assert_eq!(
        rej("products.csv"),
        ["import.guid.malformed", "import.products.missing_sku"]
    );
    assert_eq!(rej("subscribed-skus.json"), ["import.json.not_an_object"]);
    assert_eq!(
        rej("licenses.csv"),
        [
            "import.licenses.missing_user",
            "import.licenses.unknown_product",
            "import.licenses.unknown_user"
        ]
    );
    assert_eq!(
        rej("intune-devices.csv"),
        ["import.devices.missing_id", "import.devices.missing_os"]
    );
    assert_eq!(
        rej("policies.csv"),
        [
            "import.guid.malformed",
            "import.policies.bad_type",
            "import.policies.bad_value",
            "import.policies.missing_name"
        ]
    );
    assert_eq!(
        rej("bms-policies.json [DeviceConditionalAccessRule]"),
        ["import.policies.bad_value"]
    );
    assert_eq!(
        rej("bms-policies.json [DeviceConfigurationRule]"),
        ["import.guid.malformed"]
    );
    assert_eq!(
        rej("waves.csv"),
        ["import.plan.bad_pilot", "import.plan.unknown_user"]
    );

    assert!(warn("m365-users-variant-a.csv").contains(&"import.users.duplicate".to_string()));
    assert!(
        warn("m365-users-variant-a.csv").contains(&"import.users.bad_usage_location".to_string())
    );
    assert!(warn("m365-users-variant-a.csv").contains(&"import.products.seats_unknown".to_string()));
    assert!(
        warn("m365-users-variant-a.csv").contains(&"import.licenses.unknown_product".to_string())
    );
    assert_eq!(warn("m365-users-de.csv"), ["import.value.bad_bool"]);
    assert_eq!(warn("entra-groups.csv"), ["import.groups.duplicate"]);
    assert!(warn("products.csv").contains(&"import.products.bad_count".to_string()));
    assert!(warn("products.csv").contains(&"import.products.not_in_reference".to_string()));
    let dw = warn("intune-devices.csv");
    for c in [
        "import.devices.duplicate",
        "import.devices.unknown_os",
        "import.devices.unknown_owner",
    ] {
        assert!(dw.contains(&c.to_string()), "{c} in {dw:?}");
    }
    assert_eq!(
        warn("get-mobiledevice.csv"),
        ["import.devices.unknown_owner"]
    );
    assert_eq!(warn("policies.csv"), ["import.policies.unknown_setting"]);
    let pw = warn("bms-policies.json [DeviceConditionalAccessRule]");
    assert!(
        pw.contains(&"import.policies.unknown_setting".to_string()),
        "{pw:?}"
    );
    assert!(
        pw.contains(&"import.policies.rule_without_policy".to_string()),
        "{pw:?}"
    );
    assert_eq!(
        warn("bms-policies.json [DeviceConditionalAccessPolicy]"),
        ["import.policies.no_rule"]
    );
    assert_eq!(
        warn("bms-policies.json [DeviceConfigurationPolicy]"),
        ["import.policies.several_rules"]
    );
    assert_eq!(
        warn("bms-policies.json [SomethingElse]"),
        ["import.policies.unknown_array"]
    );
    assert_eq!(warn("waves.csv"), ["import.plan.named_batch"]);
    let top: Vec<&str> = r.json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["import.members.cycle"]);

    // Totals and the snapshot itself.
    let t = &r.json["totals"];
    let snap = tenant(&ws);
    assert_eq!(t["users"], snap["users"].as_array().unwrap().len());
    assert_eq!(t["users"], 20);
    assert_eq!(t["devices"], 11);
    assert_eq!(t["policies"], 7);
    assert_eq!(t["exclusion_groups"], 1);
    let users = snap["users"].as_array().unwrap();
    let upns: Vec<&str> = users.iter().map(|u| u["upn"].as_str().unwrap()).collect();
    let mut sorted = upns.clone();
    sorted.sort();
    assert_eq!(upns, sorted, "users sorted by UPN");
    assert!(upns.contains(&"guest_fabrikam.com#ext#@contoso.onmicrosoft.com"));
    let anna = users
        .iter()
        .find(|u| u["upn"] == "anna.schmidt@contoso.com")
        .unwrap();
    assert_eq!(anna["id"], "2c0b6c56-3d3a-4b8e-9a7e-0d5f2b1a1001");
    assert_eq!(anna["usage_location"], "DE");
    assert_eq!(anna["account_enabled"], true);
    let blocked = users
        .iter()
        .find(|u| u["upn"] == "blocked.hire@contoso.com")
        .unwrap();
    assert_eq!(blocked["account_enabled"], false, "Block sign in = Yes");
    let grete = users
        .iter()
        .find(|u| u["upn"] == "grete.huber@contoso.com")
        .unwrap();
    assert_eq!(grete["account_enabled"], false, "Anmeldung blockiert = Ja");
    let mia = users
        .iter()
        .find(|u| u["upn"] == "mia.wong@contoso.com")
        .unwrap();
    assert_eq!(
        mia["id"], "9e8d7c6b-0000-4000-8000-000000000003",
        "GUIDs lower-cased"
    );
    // Products: seats from products.csv and Graph JSON; created-from-reference ones have none.
    let products = snap["products"].as_array().unwrap();
    let p = |part: &str| {
        products
            .iter()
            .find(|p| p["part_number"] == part)
            .unwrap_or_else(|| panic!("{part}"))
    };
    assert_eq!(p("ENTERPRISEPACK")["enabled_units"], 200);
    assert_eq!(p("ENTERPRISEPACK")["consumed_units"], 180);
    assert!(
        p("ENTERPRISEPACK")["service_plans"]
            .as_array()
            .unwrap()
            .len()
            > 5,
        "plans from the reference"
    );
    assert_eq!(p("SPE_E3")["enabled_units"], 100);
    assert_eq!(p("FLOW_FREE")["service_plans"][0]["name"], "FLOW_P2_VIRAL");
    assert!(p("CONTOSO_CUSTOM_SKU")["enabled_units"].is_null());
    assert!(
        p("SPE_E5")["enabled_units"].is_null(),
        "Microsoft 365 E5 from a Licenses column"
    );
    // Devices: platforms, owners, dates.
    let devices = snap["devices"].as_array().unwrap();
    let d = |id: &str| {
        devices
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let iphone = d("d0000000-0000-4000-8000-000000000001");
    assert_eq!(iphone["platform"], "ios");
    assert_eq!(
        iphone["last_sync"], "2026-11-21T08:15:42",
        "later duplicate row wins"
    );
    assert!(
        d("d0000000-0000-4000-8000-000000000002")["last_sync"].is_null(),
        "0001-01-01 = never"
    );
    assert_eq!(
        d("d0000000-0000-4000-8000-000000000003")["platform"],
        "windows_phone"
    );
    assert_eq!(
        d("d0000000-0000-4000-8000-000000000004")["platform"],
        "other"
    );
    let left = d("d0000000-0000-4000-8000-000000000005");
    assert!(left["owner"].is_null());
    assert_eq!(left["owner_upn"], "former.employee@contoso.com");
    let ipad = d("ApplC39XX001");
    assert_eq!(ipad["os_version"], "17.1.2");
    assert_eq!(
        ipad["owner_upn"], "sara.lee@contoso.com",
        "owner from UserDisplayName"
    );
    assert_eq!(
        d("OUTLOOK123")["owner_upn"],
        "kim.park@contoso.com",
        "owner from the Identity alias"
    );
    assert_eq!(
        d("f1000000-0000-4000-8000-000000000002")["owner_upn"],
        "raj.patel@contoso.com",
        "owner from RegisteredOwnerObjectId"
    );
    // Policies per the bundle contract.
    let policies = snap["policies"].as_array().unwrap();
    let pol = |n: &str| {
        policies
            .iter()
            .find(|p| p["name"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let se = pol("Secure Email");
    assert_eq!(se["kind"], "conditional_access");
    assert_eq!(
        se["target_groups"],
        serde_json::json!(["a1b2c3d4-0000-4000-8000-000000000002"])
    );
    assert_eq!(se["settings"]["PasswordTimeout"], "00:15:00");
    assert_eq!(se["settings"]["MaxPasswordGracePeriod"], "1.00:00:00");
    assert_eq!(se["settings"]["PhoneMemoryEncrypted"], true);
    assert_eq!(se["settings"]["AppsRating"], 600);
    assert!(
        se["settings"].get("CameraEnabled").is_none(),
        "null = not configured"
    );
    assert!(se["settings"].get("MysteryProperty").is_none());
    let strict = pol("Strict mobile");
    assert_eq!(strict["kind"], "conditional_access");
    assert_eq!(strict["settings"]["PasswordMinimumLength"], 6);
    assert_eq!(
        strict["target_groups"],
        serde_json::json!([
            "a1b2c3d4-0000-4000-8000-000000000001",
            "a1b2c3d4-0000-4000-8000-000000000002"
        ]),
        "group names resolved to ids"
    );
    assert_eq!(pol("Report only (sheet)")["enabled"], false);
    assert_eq!(
        pol("Report only (sheet)")["settings"]["PasswordTimeout"],
        "1.00:00:00"
    );
    assert_eq!(pol("Report Only")["settings"]["ForceEncryptedBackup"], true);
    assert_eq!(pol("Separate Allow")["kind"], "configuration");
    assert_eq!(pol("Separate Allow")["settings"]["PasswordRequired"], false);
    assert_eq!(pol("Missing Policy")["kind"], "conditional_access");
    assert_eq!(
        snap["exclusion_groups"],
        serde_json::json!(["a1b2c3d4-0000-4000-8000-000000000001"])
    );
    // Pins: Pilot, numbered waves, named batch after the highest number, pilot flag.
    let pins = snap["pins"].as_array().unwrap();
    let pin = |upn: &str| {
        let ix = upns.iter().position(|u| *u == upn).unwrap();
        pins.iter().find(|p| p["user"] == ix).cloned()
    };
    assert_eq!(pin("anna.schmidt@contoso.com").unwrap()["pilot"], true);
    assert_eq!(pin("joerg.mueller@contoso.com").unwrap()["wave"], 1);
    assert_eq!(pin("claire.dubois@contoso.com").unwrap()["wave"], 3);
    assert_eq!(pin("lucia.garcia@contoso.com").unwrap()["pilot"], true);
    assert!(pin("tom.baker@contoso.com").is_none());
    // Licenses: Intune disabled for Tom, kept in disabled_plans.
    let tom = upns
        .iter()
        .position(|u| *u == "tom.baker@contoso.com")
        .unwrap();
    let la = snap["license_assignments"].as_array().unwrap();
    let tom_e3 = la
        .iter()
        .find(|a| {
            a["user"] == tom
                && products[a["product"].as_u64().unwrap() as usize]["part_number"] == "SPE_E3"
        })
        .unwrap();
    assert_eq!(
        tom_e3["disabled_plans"],
        serde_json::json!(["EXCHANGE_S_ENTERPRISE", "INTUNE_A"])
    );
    // Nested membership: Sales EMEA is a member group of Sales (and vice versa: the cycle).
    assert!(snap["memberships"]["groups"].as_array().unwrap().len() >= 2);

    // Artefacts beside the snapshot.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("import-report.json")).unwrap())
            .unwrap();
    assert_eq!(report, r.json);
    let rejected = std::fs::read_to_string(ws.join("rejected-rows.csv")).unwrap();
    assert_eq!(
        rejected.lines().count() as u64,
        1 + t["rejected"].as_u64().unwrap()
    );
    assert!(rejected.starts_with("file,sheet,kind,row,code,column,value,message"));
    assert!(rejected.contains(
        "members.csv,,members,8,import.members.unknown_member,Member UPN,nobody@contoso.com,"
    ));
    assert!(
        rejected.contains("'@raj.patel2@contoso.com"),
        "formula-like values are defused"
    );
}

#[test]
fn import_is_deterministic() {
    let files = all_fixtures();
    let a = tmp("order-a");
    assert_eq!(import(&a, &files, &[]).code, 0);
    let b = tmp("order-b");
    assert_eq!(import(&b, &files, &[]).code, 0);
    assert_eq!(
        std::fs::read(a.join("tenant.json")).unwrap(),
        std::fs::read(b.join("tenant.json")).unwrap()
    );
}

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[test]
fn utf16_unicode_text_exports_read_like_utf8() {
    let ws = tmp("utf16");
    let text = std::fs::read_to_string(fixture("m365-users-de.csv")).unwrap();
    let text = text.trim_start_matches('\u{feff}').replace(';', "\t");
    let le = ws.join("users-le.txt");
    let be = ws.join("users-be.csv");
    std::fs::write(&le, utf16(&text, true)).unwrap();
    std::fs::write(&be, utf16(&text, false)).unwrap();
    let r = import(&ws.join("w"), &[le], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.json["files"][0]), ("users".into(), 3, 3, 0));
    let r = import(&ws.join("w"), &[be], &[]);
    assert_eq!(counts(&r.json["files"][0]), ("users".into(), 3, 3, 0));
    let snap = tenant(&ws.join("w"));
    assert_eq!(snap["users"][0]["display_name"], "Grete Huber");
}

#[test]
fn bad_files_fail_with_clear_codes() {
    let ws = tmp("bad");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "ansi.csv",
            b"User principal name,Display name\nj@x.com,J\xf6rg\n".to_vec(),
            "import.csv.encoding",
        ),
        (
            "what.csv",
            b"Colour,Size\nred,3\n".to_vec(),
            "import.unrecognised",
        ),
        (
            "broken.json",
            b"{\"bms2intune\": ".to_vec(),
            "import.json.invalid",
        ),
        (
            "other.json",
            b"{\"hello\": 1}".to_vec(),
            "import.unrecognised",
        ),
        (
            "fake.xlsx",
            b"PK\x03\x04 this is not a zip".to_vec(),
            "import.xlsx.unreadable",
        ),
        (
            "odd-utf16.csv",
            vec![0xFF, 0xFE, b'a', 0, b'b'],
            "import.csv.encoding",
        ),
    ];
    for (name, data, code) in cases {
        let p = ws.join(name);
        std::fs::write(&p, data).unwrap();
        let r = import(&ws.join("w"), &[p], &[]);
        assert_eq!(r.code, 1, "{name}: {}", r.stderr);
        assert_eq!(r.json["error"]["code"], code, "{name}: {}", r.json);
    }
    let r = import(&ws.join("w"), &[ws.join("nope.csv")], &[]);
    assert_eq!(r.json["error"]["code"], "import.file.not_found");
    // stdin needs --as: a usage error (exit 2).
    let r = run_in(&ws.join("w"), &["-"], Some(b"UPN\na@b.c\n"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.json["error"]["code"], "import.stdin_needs_as");
}

#[test]
fn stdin_with_as() {
    let ws = tmp("stdin");
    let r = run_in(
        &ws,
        &["--as", "users", "-"],
        Some(b"UPN;Department\r\nA@B.C;X\r\n;\r\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.json["files"][0]), ("users".into(), 1, 1, 0));
    assert_eq!(r.json["files"][0]["blank_rows"], 1, "the `;` row is blank");
    assert_eq!(tenant(&ws)["users"][0]["upn"], "a@b.c");
}

#[test]
fn strict_rejections_leave_the_snapshot_unchanged() {
    let ws = tmp("strict");
    let good = import(&ws, &[fixture("m365-users-variant-c.csv")], &["--strict"]);
    assert_eq!(good.code, 0, "{}", good.stderr);
    let before = std::fs::read(ws.join("tenant.json")).unwrap();
    let r = import(&ws, &[fixture("m365-users-variant-b.csv")], &["--strict"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json["error"]["code"], "import.strict");
    assert_eq!(
        r.json["error"]["details"][0]["code"],
        "import.guid.malformed"
    );
    assert_eq!(std::fs::read(ws.join("tenant.json")).unwrap(), before);
    assert!(std::fs::read_to_string(ws.join("rejected-rows.csv"))
        .unwrap()
        .contains("not-a-guid"));
    // Without --strict the same file imports, replacing the snapshot.
    let r = import(&ws, &[fixture("m365-users-variant-b.csv")], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(r.json["totals"]["users"], 2);
}

#[test]
fn add_merges_into_the_existing_snapshot() {
    let ws = tmp("add");
    assert_eq!(
        import(&ws, &[fixture("m365-users-variant-a.csv")], &[]).code,
        0
    );
    let r = import(&ws, &[fixture("intune-devices.csv")], &["--add"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["added"], true);
    assert_eq!(r.json["totals"]["users"], 6);
    assert_eq!(r.json["totals"]["devices"], 5);
    let snap = tenant(&ws);
    let owned = snap["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["owner"].is_null())
        .count();
    assert_eq!(
        owned, 4,
        "owners resolved against the users already in the snapshot"
    );
    // Without --add the devices file alone replaces everything.
    let r = import(&ws, &[fixture("intune-devices.csv")], &[]);
    assert_eq!(r.json["totals"]["users"], 0);
}

fn workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let time = Format::new().set_num_format("hh:mm:ss");
    let s = wb.add_worksheet().set_name("Users").unwrap();
    s.write(0, 0, "Contoso users, exported 2026-11-20").unwrap();
    // row 2 blank
    let hdr = [
        "User principal name",
        "Display name",
        "Object Id",
        "Mobile Phone",
        "Usage location",
        "Licenses",
        "Block credential",
    ];
    for (c, h) in hdr.iter().enumerate() {
        s.write(2, c as u16, *h).unwrap();
    }
    s.write(3, 0, "xl.one@contoso.com").unwrap();
    s.write(3, 1, "XL One").unwrap();
    s.write(3, 2, "00000000-0000-4000-8000-00000000e001")
        .unwrap();
    s.write(3, 3, 4915112345678.0).unwrap();
    s.write(3, 4, "DE").unwrap();
    s.write(3, 5, "Office 365 E3").unwrap();
    s.write(3, 6, false).unwrap();
    s.write(4, 0, "xl.two@contoso.com").unwrap();
    s.write(4, 1, 12345.0).unwrap();
    s.write(4, 2, 12345.0).unwrap();
    s.write(4, 6, true).unwrap();
    s.write(6, 0, "").unwrap();
    s.write(7, 1, "No UPN").unwrap();
    let g = wb.add_worksheet().set_name("Groups").unwrap();
    g.write(0, 0, "id").unwrap();
    g.write(0, 1, "displayName").unwrap();
    g.write(1, 0, "a1b2c3d4-0000-4000-8000-00000000e001")
        .unwrap();
    g.write(1, 1, "XL Pilot").unwrap();
    let m = wb.add_worksheet().set_name("Members").unwrap();
    m.write(0, 0, "Group").unwrap();
    m.write(0, 1, "Member").unwrap();
    m.write(1, 0, "XL Pilot").unwrap();
    m.write(1, 1, "xl.one@contoso.com").unwrap();
    m.write(2, 0, "XL Pilot").unwrap();
    m.write(2, 1, "00000000-0000-4000-8000-00000000e001")
        .unwrap();
    let d = wb.add_worksheet().set_name("Devices").unwrap();
    for (c, h) in [
        "Device ID",
        "Device name",
        "OS",
        "OS version",
        "Primary user UPN",
        "Last check-in",
    ]
    .iter()
    .enumerate()
    {
        d.write(0, c as u16, *h).unwrap();
    }
    d.write(1, 0, "dev-xl-1").unwrap();
    d.write(1, 1, "XL phone").unwrap();
    d.write(1, 2, "iOS").unwrap();
    d.write(1, 3, 17.0).unwrap();
    d.write(1, 4, "XL.One@contoso.com").unwrap();
    d.write_with_format(
        1,
        5,
        ExcelDateTime::parse_from_str("2026-11-20 08:15").unwrap(),
        &date,
    )
    .unwrap();
    let p = wb.add_worksheet().set_name("Policies").unwrap();
    for (c, h) in [
        "Name",
        "Type",
        "Enabled",
        "TargetGroups",
        "PasswordRequired",
        "PasswordMinimumLength",
        "PasswordTimeout",
    ]
    .iter()
    .enumerate()
    {
        p.write(0, c as u16, *h).unwrap();
    }
    p.write(1, 0, "XL policy").unwrap();
    p.write(1, 1, "Block").unwrap();
    p.write(1, 2, true).unwrap();
    p.write(1, 3, "XL Pilot").unwrap();
    p.write(1, 4, true).unwrap();
    p.write(1, 5, 8.0).unwrap();
    p.write_with_format(
        1,
        6,
        ExcelDateTime::parse_from_str("00:15:00").unwrap(),
        &time,
    )
    .unwrap();
    let n = wb.add_worksheet().set_name("Notes").unwrap();
    n.write(0, 0, "Migration notes").unwrap();
    n.write(1, 0, "Call Jörg before wave 2").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn excel_workbook_with_title_rows_and_several_sheets() {
    let dir = tmp("xlsx");
    let book = dir.join("tenant.xlsx");
    workbook(&book);
    let ws = dir.join("w");
    let r = import(&ws, std::slice::from_ref(&book), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = by_file(&r.json);
    assert_eq!(counts(&f["tenant.xlsx [Users]"]), ("users".into(), 3, 1, 2));
    assert_eq!(f["tenant.xlsx [Users]"]["header_row"], 3);
    assert_eq!(
        codes(&f["tenant.xlsx [Users]"], "rejections"),
        ["import.guid.malformed", "import.users.missing_upn"]
    );
    assert_eq!(
        f["tenant.xlsx [Users]"]["rejections"][1]["row"], 8,
        "row as Excel shows it"
    );
    assert_eq!(
        counts(&f["tenant.xlsx [Groups]"]),
        ("groups".into(), 1, 1, 0)
    );
    assert_eq!(
        counts(&f["tenant.xlsx [Members]"]),
        ("members".into(), 2, 2, 0)
    );
    assert_eq!(
        counts(&f["tenant.xlsx [Devices]"]),
        ("devices".into(), 1, 1, 0)
    );
    assert_eq!(
        counts(&f["tenant.xlsx [Policies]"]),
        ("policies".into(), 1, 1, 0)
    );
    let top: Vec<&str> = r.json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["import.sheet.unrecognised"]);
    let snap = tenant(&ws);
    assert_eq!(
        snap["users"][0]["id"], "00000000-0000-4000-8000-00000000e001",
        "a GUID stays text"
    );
    assert_eq!(snap["users"][0]["account_enabled"], true);
    assert_eq!(
        snap["devices"][0]["last_sync"], "2026-11-20T08:15:00",
        "Excel date → ISO"
    );
    assert_eq!(
        snap["devices"][0]["os_version"], "17",
        "a number stays as typed"
    );
    assert_eq!(snap["devices"][0]["owner_upn"], "xl.one@contoso.com");
    assert!(!snap["devices"][0]["owner"].is_null());
    let pol = &snap["policies"][0];
    assert_eq!(
        pol["settings"]["PasswordTimeout"], "00:15:00",
        "Excel time → TimeSpan"
    );
    assert_eq!(pol["settings"]["PasswordMinimumLength"], 8);
    assert_eq!(
        pol["target_groups"],
        serde_json::json!(["a1b2c3d4-0000-4000-8000-00000000e001"])
    );
    // --sheet reads one sheet only; an unknown sheet is an error naming the sheets.
    let r = import(&ws, std::slice::from_ref(&book), &["--sheet", "users"]);
    assert_eq!(r.json["files"].as_array().unwrap().len(), 1);
    let r = import(&ws, std::slice::from_ref(&book), &["--sheet", "Nope"]);
    assert_eq!(r.json["error"]["code"], "import.xlsx.no_sheet");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Users, Groups, Members, Devices, Policies, Notes"));
    let r = import(&ws, &[book], &["--sheet", "Notes"]);
    assert_eq!(r.json["error"]["code"], "import.unrecognised");
}

#[test]
fn members_file_without_group_column_takes_the_group_from_its_name() {
    let dir = tmp("members-name");
    let members = dir.join("Unknown Group.csv");
    std::fs::copy(fixture("BMS Pilot.csv"), &members).unwrap();
    let r = import(
        &dir.join("w"),
        &[
            fixture("m365-users-variant-a.csv"),
            fixture("entra-groups.csv"),
            members,
        ],
        &["--as", "users"],
    );
    // --as users applies to every file: the members file is then a (bad) users file.
    assert_eq!(r.code, 1, "{}", r.json);
    let r = import(
        &dir.join("w"),
        &[
            fixture("m365-users-variant-a.csv"),
            fixture("entra-groups.csv"),
            dir.join("Unknown Group.csv"),
        ],
        &[],
    );
    let f = by_file(&r.json);
    let rep = &f["Unknown Group.csv"];
    assert_eq!(counts(rep), ("members".into(), 4, 0, 4));
    assert!(codes(rep, "rejections").contains(&"import.members.unknown_group".to_string()));
}

#[test]
fn fuzz_regression_corpus_never_panics() {
    let dir = fixture("corpus");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        bms2intune::import::fuzz_read_csv(&data);
        bms2intune::import::fuzz_read_xlsx(&data);
        bms2intune::import::fuzz_read_json(&data);
        n += 1;
    }
    assert!(n >= 10, "corpus has {n} files");
}

/// A small deterministic mutation fuzzer over the corpus and a generated workbook, so that the
/// no-panic property is exercised on every `cargo test` even where cargo-fuzz is not installed.
#[test]
fn mutated_inputs_never_panic() {
    let dir = fixture("corpus");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    let book = tmp("mutate").join("seed.xlsx");
    workbook(&book);
    let xlsx = std::fs::read(&book).unwrap();
    let tokens: &[&[u8]] = &[
        b",",
        b";",
        b"\t",
        b"\"",
        b"\n",
        b"\r\n",
        b"+",
        b" + ",
        b"@",
        "\u{a0}".as_bytes(),
        b"0001-01-01",
        b"{",
        b"[",
        b"#EXT#",
        b"PK\x03\x04",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"Unlicensed",
        b"00:15:00",
        b"a1b2c3d4-0000-4000-8000-000000000001",
        b"version:v1.0\n",
        b"[userPrincipalName]",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if n == 0 {
            0
        } else {
            (state % n as u64) as usize
        }
    };
    let start = std::time::Instant::now();
    let mut runs = 0;
    'outer: for round in 0..40 {
        for (i, seed) in seeds.iter().chain(std::iter::once(&xlsx)).enumerate() {
            if start.elapsed().as_secs() > 20 {
                break 'outer;
            }
            let mut d = seed.clone();
            for _ in 0..1 + rnd(4) {
                match rnd(6) {
                    0 if !d.is_empty() => {
                        let p = rnd(d.len());
                        d[p] ^= 1 << rnd(8);
                    }
                    1 => {
                        let p = rnd(d.len() + 1);
                        let t = tokens[rnd(tokens.len())];
                        d.splice(p..p, t.iter().copied());
                    }
                    2 if !d.is_empty() => {
                        let a = rnd(d.len());
                        let b = (a + rnd(64)).min(d.len());
                        d.drain(a..b);
                    }
                    3 if !d.is_empty() => {
                        let a = rnd(d.len());
                        let b = (a + rnd(128)).min(d.len());
                        let chunk: Vec<u8> = d[a..b].to_vec();
                        let p = rnd(d.len() + 1);
                        d.splice(p..p, chunk);
                    }
                    4 => d.truncate(rnd(d.len() + 1)),
                    _ => {
                        let p = rnd(d.len() + 1);
                        d.insert(p, rnd(256) as u8);
                    }
                }
            }
            let _ = (round, i);
            bms2intune::import::fuzz_read_csv(&d);
            bms2intune::import::fuzz_read_json(&d);
            if d.starts_with(b"PK") {
                bms2intune::import::fuzz_read_xlsx(&d);
            }
            runs += 1;
        }
    }
    assert!(runs > 0, "no mutated input was tried");
}

/// The blank templates in templates/import/blank/ are recognised as their kind; the workbook is
/// generated from the CSVs (set BMS2INTUNE_REGENERATE=1 to rewrite it).
#[test]
fn blank_templates_are_recognised() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/import/blank");
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    csvs.sort();
    assert_eq!(csvs.len(), 8);
    let ws = tmp("blank");
    for p in &csvs {
        let r = import(&ws, std::slice::from_ref(p), &[]);
        assert_eq!(r.code, 0, "{}: {}", p.display(), r.stderr);
        let kind = p.file_stem().unwrap().to_string_lossy().to_string();
        assert_eq!(
            counts(&r.json["files"][0]),
            (kind, 0, 0, 0),
            "{}",
            p.display()
        );
        assert!(
            r.json["files"][0]["warnings"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{}",
            r.json
        );
    }
    let book = dir.join("bms2intune-import-template.xlsx");
    if std::env::var_os("BMS2INTUNE_REGENERATE").is_some() || !book.exists() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for p in &csvs {
            let kind = p.file_stem().unwrap().to_string_lossy().to_string();
            let s = wb.add_worksheet().set_name(&kind).unwrap();
            let text = std::fs::read_to_string(p).unwrap();
            for (c, h) in text.trim_end().split(',').enumerate() {
                s.write_with_format(0, c as u16, h, &bold).unwrap();
                s.set_column_width(c as u16, (h.len() + 4) as f64).unwrap();
            }
        }
        wb.save(&book).unwrap();
    }
    let r = import(&ws, &[book], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = by_file(&r.json);
    for p in &csvs {
        let kind = p.file_stem().unwrap().to_string_lossy().to_string();
        let rep = &f[&format!("bms2intune-import-template.xlsx [{kind}]")];
        assert_eq!(counts(rep), (kind, 0, 0, 0));
    }
}

/// Not a test: writes a large users workbook for timing the XLSX path by hand
/// (`BMS2INTUNE_PERF_XLSX=/tmp/users.xlsx BMS2INTUNE_PERF_ROWS=200000 cargo test --release --test import perf_workbook -- --ignored`).
#[test]
#[ignore]
fn perf_workbook() {
    let Some(path) = std::env::var_os("BMS2INTUNE_PERF_XLSX") else {
        return;
    };
    let rows: u32 = std::env::var("BMS2INTUNE_PERF_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet();
    let hdr = [
        "Display name",
        "User principal name",
        "Object Id",
        "Department",
        "City",
        "Usage location",
        "Block credential",
        "Licenses",
    ];
    for (c, h) in hdr.iter().enumerate() {
        s.write(0, c as u16, *h).unwrap();
    }
    let lic = [
        "Office 365 E3",
        "Microsoft 365 E3",
        "Office 365 E3+ENTERPRISE MOBILITY + SECURITY E5",
        "Unlicensed",
    ];
    for i in 0..rows {
        let r = i + 1;
        s.write(r, 0, format!("User {i}")).unwrap();
        s.write(r, 1, format!("user{i}@contoso.com")).unwrap();
        s.write(r, 2, format!("{i:08x}-0000-4000-8000-{i:012x}"))
            .unwrap();
        s.write(r, 3, ["Sales", "IT", "Finance", "HR"][(i % 4) as usize])
            .unwrap();
        s.write(r, 4, format!("City{}", i % 50)).unwrap();
        s.write(r, 5, "DE").unwrap();
        s.write(r, 6, false).unwrap();
        s.write(r, 7, lic[(i % 4) as usize]).unwrap();
    }
    wb.save(Path::new(&path)).unwrap();
}
