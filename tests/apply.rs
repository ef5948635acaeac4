//! `bms2intune apply` through the real binary against the Graph simulator started in this test
//! process on 127.0.0.1. Workspaces are built by hand in the shapes of issues 5 (intune/manifest.json)
//! and 6 (plan.json).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bms2intune::graph::sim::{Fault, FaultAction, SimConfig, SimSku, Simulator};
use bms2intune::model::{Product, ServicePlan, Tenant, User};
use bms2intune::workspace::Workspace;
use serde_json::{json, Value};

const SKU_ID: &str = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e";
const SECRET: &str = "S3cr3t~value-that-must-never-leak";

fn upn(i: usize) -> String {
    format!("user{i:03}@contoso.com")
}

fn user_id(i: usize) -> String {
    format!("00000000-0000-0000-0000-{i:012}")
}

fn sim(users: usize, free: u64) -> Simulator {
    sim_with(users, free, 100)
}

fn sim_with(users: usize, free: u64, page_size: usize) -> Simulator {
    let cfg = SimConfig {
        page_size,
        users: (0..users).map(|i| (user_id(i), upn(i))).collect(),
        skus: vec![SimSku {
            sku_id: SKU_ID.into(),
            part_number: "EMS".into(),
            enabled: 10 + free,
            consumed: 10,
            service_plans: vec!["INTUNE_A".into(), "AAD_PREMIUM".into()],
        }],
        ..SimConfig::default()
    };
    Simulator::start(cfg).expect("start simulator")
}

struct Ws {
    dir: PathBuf,
}

impl Drop for Ws {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Ws {
    fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }
    fn journal(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("journal.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn write(dir: &Path, rel: &str, v: &Value) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// A workspace with 4 Intune objects (2 compliance, 1 configuration, 1 beta email profile),
/// a pilot wave 0 of 3 users, wave 1 of `wave1` users and wave 2 of 5 users.
fn workspace(name: &str, wave1: usize, products: Vec<Product>) -> Ws {
    let dir = std::env::temp_dir().join(format!("bms2intune-apply-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ws = Workspace::open(dir.to_str(), true).unwrap();
    let total = 3 + wave1 + 5;
    let tenant = Tenant {
        users: (0..total)
            .map(|i| User {
                upn: upn(i),
                usage_location: Some("US".into()),
                ..Default::default()
            })
            .collect(),
        products,
        ..Default::default()
    };
    ws.save_tenant(&tenant).unwrap();
    let rec = json!([{"id": "11111111-1111-1111-1111-111111111111", "displayName": "Sales"}]);
    let objects = [
        (
            "compliance/Sales_O365_i.json",
            "v1.0",
            "/deviceManagement/deviceCompliancePolicies",
            "Sales_O365_i",
            "#microsoft.graph.iosCompliancePolicy",
        ),
        (
            "compliance/Sales_O365_A.json",
            "v1.0",
            "/deviceManagement/deviceCompliancePolicies",
            "Sales_O365_A",
            "#microsoft.graph.androidCompliancePolicy",
        ),
        (
            "configuration/Sales_O365_i.json",
            "v1.0",
            "/deviceManagement/deviceConfigurations",
            "Sales_O365_i",
            "#microsoft.graph.iosGeneralDeviceConfiguration",
        ),
        (
            "configuration/Sales_O365_i_Email.json",
            "beta",
            "/deviceManagement/deviceConfigurations",
            "Sales_O365_i_Email",
            "#microsoft.graph.iosEasEmailProfileConfiguration",
        ),
    ];
    let mut manifest = Vec::new();
    for (file, api, path, name, odata) in objects {
        let mut body = json!({"@odata.type": odata, "displayName": name, "description": "from BMS policy Sales"});
        if path.ends_with("deviceCompliancePolicies") {
            body["passcodeRequired"] = json!(true);
            body["scheduledActionsForRule"] = json!([{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [{"actionType": "block", "gracePeriodHours": 0, "notificationTemplateId": "", "notificationMessageCCList": []}]}]);
        }
        write(&dir, &format!("intune/{file}"), &body);
        let assign_file = format!("assignments/{}", file.replace('/', "-"));
        manifest.push(json!({
            "file": file, "api": api, "method": "POST", "path": path, "displayName": name,
            "odataType": odata, "sourcePolicy": "Sales", "assignFile": assign_file, "recommendedGroups": rec,
        }));
    }
    write(
        &dir,
        "intune/manifest.json",
        &json!({ "objects": manifest }),
    );
    let upns: Vec<String> = (0..total).map(upn).collect();
    write(
        &dir,
        "plan.json",
        &json!({
            "options": {"wave_size": 50},
            "steps": [{"step": "assign policies to recommended groups"}],
            "waves": [
                {"number": 0, "pilot": true, "date": "2026-12-01", "group": "BMS2Intune Wave 00", "users": upns[0..3], "devices": {"ios": 3}},
                {"number": 1, "pilot": false, "date": "2026-12-08", "group": "BMS2Intune Wave 01", "users": upns[3..3 + wave1], "devices": {}},
                {"number": 2, "pilot": false, "date": "2026-12-09", "group": "BMS2Intune Wave 02", "users": upns[3 + wave1..], "devices": {}},
            ],
            "held_back": [], "already_migrated": [], "unplaced": []
        }),
    );
    Ws { dir }
}

fn ems(free: u64) -> Vec<Product> {
    vec![Product {
        part_number: "EMS".into(),
        sku_id: Some(SKU_ID.into()),
        enabled_units: Some(10 + free),
        consumed_units: Some(10),
        service_plans: vec![ServicePlan {
            name: "INTUNE_A".into(),
            id: None,
        }],
        ..Default::default()
    }]
}

/// The assignment files need real group ids: the recommended group must exist in the simulator.
fn write_assign_files(ws: &Ws, sim: &Simulator) {
    let gid = sim.state().add_group("Sales");
    let excl = sim.state().add_group("BMS excluded");
    for f in [
        "compliance-Sales_O365_i.json",
        "compliance-Sales_O365_A.json",
        "configuration-Sales_O365_i.json",
        "configuration-Sales_O365_i_Email.json",
    ] {
        write(
            &ws.dir,
            &format!("intune/assignments/{f}"),
            &json!({"assignments": [
                {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": gid}},
                {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": excl}}
            ]}),
        );
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    json: Value,
}

fn apply(ws: &Ws, sim: &Simulator, args: &[&str]) -> Run {
    run_with(
        ws,
        sim,
        args,
        &[("BMS2INTUNE_ACCESS_TOKEN", "sim-static-token")],
        None,
    )
}

fn run_with(
    ws: &Ws,
    sim: &Simulator,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Run {
    let url = sim.url();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bms2intune"));
    cmd.args(["--workspace", ws.path(), "--json", "apply"])
        .args(args)
        .args([
            "--graph-url",
            &url,
            "--login-url",
            &url,
            "--writes-per-second",
            "200",
        ]);
    for k in [
        "BMS2INTUNE_ACCESS_TOKEN",
        "BMS2INTUNE_CLIENT_SECRET",
        "BMS2INTUNE_TENANT_ID",
        "BMS2INTUNE_CLIENT_ID",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn bms2intune");
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).unwrap();
        }
    }
    let out: Output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn posts(sim: &Simulator, path_part: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(path_part))
        .count()
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

#[test]
fn dry_run_lists_operations_and_sends_nothing() {
    let sim = sim(60, 100);
    let ws = workspace("dry", 45, ems(100));
    // No credentials at all: a dry run needs none.
    let r = run_with(&ws, &sim, &["--step", "policies", "--dry-run"], &[], None);
    ok(&r);
    assert_eq!(r.json["planned"], 4);
    assert_eq!(r.json["dry_run"], true);
    let ops = r.json["operations"].as_array().unwrap();
    assert!(ops
        .iter()
        .all(|o| o["outcome"] == "planned" && o["method"] == "POST"));
    assert_eq!(
        ops[3]["path"],
        "/beta/deviceManagement/deviceConfigurations"
    );
    let r = run_with(&ws, &sim, &["--wave", "1", "--dry-run"], &[], None);
    ok(&r);
    let ops = r.json["operations"].as_array().unwrap();
    let methods: Vec<&str> = ops.iter().map(|o| o["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["POST", "PATCH", "PATCH", "PATCH", "POST"]);
    assert!(ops[4]["path"].as_str().unwrap().ends_with("/assignLicense"));
    assert_eq!(r.json["sku"], "EMS");
    assert!(
        r.json["notes"][0]
            .as_str()
            .unwrap()
            .contains("would be refused"),
        "{}",
        r.stdout
    );
    assert!(
        sim.requests().is_empty(),
        "dry run sent {:?}",
        sim.requests()
    );
    assert!(!ws.dir.join("journal.jsonl").exists());
}

#[test]
fn policies_step_creates_each_object_once_and_rerun_creates_nothing() {
    // Page size 1 makes every lookup follow @odata.nextLink.
    let sim = sim_with(10, 100, 1);
    let ws = workspace("policies", 2, ems(100));
    let r = apply(&ws, &sim, &["--step", "policies"]);
    ok(&r);
    assert_eq!(
        (r.json["done"].as_u64(), r.json["failed"].as_u64()),
        (Some(4), Some(0))
    );
    assert_eq!(sim.objects("deviceCompliancePolicies").len(), 2);
    assert_eq!(sim.objects("deviceConfigurations").len(), 2);
    assert_eq!(posts(&sim, "/deviceManagement/deviceCompliancePolicies"), 2);
    assert_eq!(posts(&sim, "/deviceManagement/deviceConfigurations"), 2);
    // The email profile went to beta, the rest to v1.0.
    let beta: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/beta/"))
        .collect();
    assert_eq!(beta.len(), 1);
    assert!(beta[0].body.contains("iosEasEmailProfileConfiguration"));
    let created: Vec<Value> = ws
        .journal()
        .into_iter()
        .filter(|e| e["state"] == "succeeded")
        .collect();
    assert_eq!(created.len(), 4);
    assert!(created
        .iter()
        .all(|e| e["object_id"].is_string() && e["request_id"].is_string()));

    // Rerun: the journal says done; nothing is created, nothing even looked up.
    let before = sim.requests().len();
    let r = apply(&ws, &sim, &["--step", "policies"]);
    ok(&r);
    assert_eq!(
        (r.json["done"].as_u64(), r.json["skipped"].as_u64()),
        (Some(0), Some(4))
    );
    assert_eq!(sim.requests().len(), before);

    // Journal lost: objects are found by name (paged lookups) and not created again.
    std::fs::remove_file(ws.dir.join("journal.jsonl")).unwrap();
    let r = apply(&ws, &sim, &["--step", "policies"]);
    ok(&r);
    assert_eq!(r.json["skipped"], 4, "{}", r.stdout);
    assert_eq!(posts(&sim, "/deviceManagement/deviceCompliancePolicies"), 2);
    assert_eq!(posts(&sim, "/deviceManagement/deviceConfigurations"), 2);
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.target.contains("skiptoken")));
    assert!(ws
        .journal()
        .iter()
        .filter(|e| e["state"] == "succeeded")
        .all(|e| e["found_existing"] == true));
}

#[test]
fn failure_mid_run_then_resume_continues_without_duplicates() {
    let sim = sim(10, 100);
    let ws = workspace("resume", 2, ems(100));
    // The 2nd compliance policy is created but its answer is lost; the 1st configuration fails.
    sim.inject(
        Fault::new(
            Some("POST"),
            "/deviceCompliancePolicies",
            FaultAction::DropAfterProcessing,
        )
        .skip(1),
    );
    sim.inject(Fault::new(
        Some("POST"),
        "/v1.0/deviceManagement/deviceConfigurations",
        FaultAction::Status {
            status: 500,
            code: "InternalServerError".into(),
        },
    ));
    let r = apply(&ws, &sim, &["--step", "policies"]);
    assert_eq!(r.code, 3, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert_eq!(
        (r.json["done"].as_u64(), r.json["failed"].as_u64()),
        (Some(2), Some(2))
    );
    let failed: Vec<&Value> = r.json["operations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "failed")
        .collect();
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("outcome unknown"),
        "{failed:?}"
    );
    assert!(
        failed[1]["reason"].as_str().unwrap().contains("500"),
        "{failed:?}"
    );
    assert_eq!(sim.objects("deviceCompliancePolicies").len(), 2);
    assert_eq!(sim.objects("deviceConfigurations").len(), 1);

    let r = apply(&ws, &sim, &["--step", "policies"]);
    ok(&r);
    assert_eq!(
        (r.json["done"].as_u64(), r.json["skipped"].as_u64()),
        (Some(1), Some(3)),
        "{}",
        r.stdout
    );
    assert_eq!(
        sim.objects("deviceCompliancePolicies").len(),
        2,
        "no duplicate of the policy whose answer was lost"
    );
    assert_eq!(sim.objects("deviceConfigurations").len(), 2);
    let states: Vec<(String, String)> = ws
        .journal()
        .iter()
        .map(|e| {
            (
                e["op"].as_str().unwrap().to_string(),
                e["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(states.contains(&(
        "policies:compliance/Sales_O365_A.json".into(),
        "failed".into()
    )));
    assert!(states.contains(&(
        "policies:compliance/Sales_O365_A.json".into(),
        "succeeded".into()
    )));
}

#[test]
fn throttling_with_retry_after_is_honoured() {
    let sim = sim(10, 100);
    let ws = workspace("throttle", 2, ems(100));
    sim.inject(Fault::new(
        Some("POST"),
        "/deviceCompliancePolicies",
        FaultAction::Throttle {
            retry_after: Some(2),
        },
    ));
    let r = apply(&ws, &sim, &["--step", "policies"]);
    ok(&r);
    assert_eq!(r.json["done"], 4);
    let reqs: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/deviceCompliancePolicies"))
        .collect();
    assert_eq!(
        reqs.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 201, 201]
    );
    let waited = reqs[1].at - reqs[0].at;
    assert!(
        waited.as_secs_f64() >= 1.9,
        "retried after {waited:?}, Retry-After said 2 s"
    );
    assert_eq!(sim.objects("deviceCompliancePolicies").len(), 2);
    assert!(r.stderr.contains("Retry-After"), "{}", r.stderr);
}

/// Runs the steps in order up to and including wave 0.
fn through_pilot(ws: &Ws, sim: &Simulator) {
    write_assign_files(ws, sim);
    for args in [
        &["--step", "policies"][..],
        &["--step", "assign-pilot"],
        &["--wave", "0"],
    ] {
        ok(&apply(ws, sim, args));
    }
}

#[test]
fn waves_add_members_in_batches_of_20_and_license_once() {
    let sim = sim(60, 100);
    let ws = workspace("wave", 45, ems(100));
    through_pilot(&ws, &sim);
    // Pilot: its group exists, holds the 3 pilot users and the license, and the policies are
    // assigned to it with the exclusions kept.
    let groups = sim.state().groups();
    let pilot = groups
        .iter()
        .find(|g| g.1 == "BMS2Intune Wave 00")
        .expect("pilot group");
    assert_eq!(pilot.2.len(), 3);
    assert_eq!(pilot.3, [SKU_ID]);
    let assigned = sim.state().assignments.clone();
    assert_eq!(assigned.len(), 4);
    for body in assigned.values() {
        let targets: Vec<&str> = body["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["target"]["groupId"].as_str().unwrap())
            .collect();
        assert!(targets.contains(&pilot.0.as_str()), "{body}");
        assert_eq!(targets.len(), 2, "pilot group + exclusion: {body}");
    }

    ok(&apply(&ws, &sim, &["--step", "assign"]));
    for body in sim.state().assignments.values() {
        assert_eq!(
            body["assignments"].as_array().unwrap().len(),
            3,
            "recommended + exclusion + pilot kept: {body}"
        );
    }
    let r = apply(&ws, &sim, &["--wave", "1"]);
    ok(&r);
    let groups = sim.state().groups();
    let w1 = groups
        .iter()
        .find(|g| g.1 == "BMS2Intune Wave 01")
        .expect("wave 1 group");
    assert_eq!(w1.2.len(), 45);
    assert_eq!(w1.3, [SKU_ID]);
    let patch_sizes: Vec<usize> = sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with(&w1.0))
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["members@odata.bind"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(patch_sizes, [20, 20, 5]);
    // UPNs resolved 15 per request (Graph's limit for `in`): 20 → 15 + 5, twice, then 5.
    let lookups = sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1.0/users")
        .count();
    assert_eq!(lookups, 1 + 5, "pilot 1 + wave 1 5");
    assert_eq!(posts(&sim, &format!("/groups/{}/assignLicense", w1.0)), 1);

    // Rerun: nothing more.
    let before = sim.requests().len();
    let r = apply(&ws, &sim, &["--wave", "1"]);
    ok(&r);
    assert_eq!(r.json["skipped"], 5);
    assert_eq!(sim.requests().len(), before);

    // Journal lost: members and license are found in the tenant, nothing changes.
    std::fs::remove_file(ws.dir.join("journal.jsonl")).unwrap();
    let r = run_with(
        &ws,
        &sim,
        &["--wave", "1", "--force"],
        &[("BMS2INTUNE_ACCESS_TOKEN", "sim-static-token")],
        None,
    );
    ok(&r);
    assert_eq!(r.json["skipped"], 5, "{}", r.stdout);
    assert_eq!(posts(&sim, &format!("/groups/{}/assignLicense", w1.0)), 1);
    let patches = sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with(&w1.0))
        .count();
    assert_eq!(patches, 3);
}

#[test]
fn gate_ordering_is_enforced() {
    let sim = sim(60, 100);
    let ws = workspace("gate", 4, ems(100));
    write_assign_files(&ws, &sim);
    ok(&apply(&ws, &sim, &["--step", "policies"]));
    let r = apply(&ws, &sim, &["--wave", "0"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("apply.gate.not_met") && r.stderr.contains("assign-pilot"),
        "{}",
        r.stderr
    );
    ok(&apply(&ws, &sim, &["--step", "assign-pilot"]));
    let r = apply(&ws, &sim, &["--wave", "1"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("policy gate"), "{}", r.stderr);
    ok(&apply(&ws, &sim, &["--step", "assign"]));
    // Gate passed, but wave 0 is not done.
    let r = apply(&ws, &sim, &["--wave", "1"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("wave 0 is not done"), "{}", r.stderr);
    assert!(
        !sim.state()
            .groups()
            .iter()
            .any(|g| g.1 == "BMS2Intune Wave 01"),
        "a refused wave changes nothing"
    );
    ok(&apply(&ws, &sim, &["--wave", "0"]));
    let r = apply(&ws, &sim, &["--wave", "2"]);
    assert!(r.stderr.contains("wave 1 is not done"), "{}", r.stderr);
    // --force overrides, with a note.
    let r = apply(&ws, &sim, &["--wave", "2", "--force"]);
    ok(&r);
    assert!(r.json["notes"][0].as_str().unwrap().contains("--force"));
    ok(&apply(&ws, &sim, &["--wave", "1"]));
}

#[test]
fn bad_credentials_and_unreachable_graph_exit_4() {
    let sim = sim(10, 100);
    let ws = workspace("auth", 2, ems(100));
    let r = run_with(
        &ws,
        &sim,
        &["--step", "policies"],
        &[("BMS2INTUNE_ACCESS_TOKEN", "bogus")],
        None,
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("graph.auth.failed"), "{}", r.stderr);
    assert_eq!(r.json["error"]["code"], "graph.auth.failed");
    assert!(sim.objects("deviceCompliancePolicies").is_empty());

    let tenant = SimConfig::default().tenant_id;
    let client = SimConfig::default().client_id;
    let args = [
        "--step",
        "policies",
        "--auth",
        "client-secret",
        "--tenant-id",
        &tenant,
        "--client-id",
        &client,
    ];
    let r = run_with(
        &ws,
        &sim,
        &args,
        &[("BMS2INTUNE_CLIENT_SECRET", "wrong")],
        None,
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("graph.auth.failed") && r.stderr.contains("AADSTS7000215"),
        "{}",
        r.stderr
    );

    let r = run_with(&ws, &sim, &["--step", "policies"], &[], None);
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("graph.auth.missing"), "{}", r.stderr);

    let r = run_with(
        &ws,
        &sim,
        &[
            "--step",
            "policies",
            "--auth",
            "certificate",
            "--tenant-id",
            "t",
            "--client-id",
            "c",
        ],
        &[],
        None,
    );
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("graph.auth.unsupported"), "{}", r.stderr);

    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bms2intune"));
    let out = cmd
        .args([
            "--workspace",
            ws.path(),
            "apply",
            "--step",
            "policies",
            "--graph-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("BMS2INTUNE_ACCESS_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("graph.unreachable"));
}

#[test]
fn secrets_never_reach_journal_results_or_logs() {
    let sim = {
        let cfg = SimConfig {
            client_secret: SECRET.into(),
            users: (0..10).map(|i| (user_id(i), upn(i))).collect(),
            skus: vec![SimSku {
                sku_id: SKU_ID.into(),
                part_number: "EMS".into(),
                enabled: 100,
                consumed: 0,
                service_plans: vec!["INTUNE_A".into()],
            }],
            ..SimConfig::default()
        };
        Simulator::start(cfg).unwrap()
    };
    let ws = workspace("secrets", 2, ems(90));
    write_assign_files(&ws, &sim);
    let tenant = SimConfig::default().tenant_id;
    let client = SimConfig::default().client_id;
    let base = [
        "--auth",
        "client-secret",
        "--tenant-id",
        &tenant,
        "--client-id",
        &client,
    ];
    let mut outputs = Vec::new();
    // Secret from the environment; then from stdin; a throttled request and a failure in between.
    sim.inject(Fault::new(
        Some("POST"),
        "/deviceConfigurations",
        FaultAction::Throttle {
            retry_after: Some(1),
        },
    ));
    sim.inject(Fault::new(
        Some("POST"),
        "/deviceCompliancePolicies",
        FaultAction::Status {
            status: 403,
            code: "Forbidden".into(),
        },
    ));
    let mut args = base.to_vec();
    args.extend(["--step", "policies"]);
    let r = run_with(
        &ws,
        &sim,
        &args,
        &[("BMS2INTUNE_CLIENT_SECRET", SECRET)],
        None,
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("lacks a permission"), "{}", r.stdout);
    outputs.push(r);
    let mut args = base.to_vec();
    args.extend(["--step", "policies", "--secret-stdin"]);
    let r = run_with(&ws, &sim, &args, &[], Some(&format!("{SECRET}\n")));
    ok(&r);
    outputs.push(r);
    // Wrong secret next to the right one in the environment must not echo either.
    let mut args = base.to_vec();
    args.extend(["--wave", "0", "--force", "--secret-stdin"]);
    let r = run_with(
        &ws,
        &sim,
        &args,
        &[("BMS2INTUNE_CLIENT_SECRET", SECRET)],
        Some("S3cr3t~wrong-one\n"),
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    outputs.push(r);
    // The token the simulator handed out is a secret too.
    let tokens: Vec<String> = sim
        .requests()
        .iter()
        .filter_map(|r| r.authorization.clone())
        .map(|a| a.trim_start_matches("Bearer ").to_string())
        .collect();
    assert!(!tokens.is_empty());
    let journal = std::fs::read_to_string(ws.dir.join("journal.jsonl")).unwrap();
    let mut everything = journal.clone();
    for o in &outputs {
        everything.push_str(&o.stdout);
        everything.push_str(&o.stderr);
    }
    for s in [SECRET, "S3cr3t~wrong-one"]
        .iter()
        .map(|s| s.to_string())
        .chain(tokens)
    {
        assert!(!everything.contains(&s), "secret {s:?} leaked");
        let encoded = s.replace('~', "%7E");
        assert!(
            !everything.contains(&encoded),
            "secret {s:?} leaked encoded"
        );
    }
}

#[test]
fn managed_identity_uses_the_identity_endpoint() {
    let sim = sim(10, 100);
    let ws = workspace("mi", 2, ems(100));
    let ep = format!("{}/msi/token", sim.url());
    let r = run_with(
        &ws,
        &sim,
        &["--step", "policies", "--auth", "managed-identity"],
        &[
            ("IDENTITY_ENDPOINT", &ep),
            ("IDENTITY_HEADER", "sim-identity-header"),
        ],
        None,
    );
    ok(&r);
    assert_eq!(r.json["done"], 4);
    assert!(sim.requests().iter().any(|r| r.path == "/msi/token"));
}

#[test]
fn seats_and_sku_choice_are_checked_before_any_change() {
    // Snapshot says 100 free, the tenant really has 20: the live count wins and nothing changes.
    let sim = sim(60, 20);
    let ws = workspace("seats", 45, ems(100));
    through_pilot(&ws, &sim);
    ok(&apply(&ws, &sim, &["--step", "assign"]));
    let r = apply(&ws, &sim, &["--wave", "1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("apply.seats.insufficient"),
        "{}",
        r.stderr
    );
    assert!(!sim
        .state()
        .groups()
        .iter()
        .any(|g| g.1 == "BMS2Intune Wave 01"));

    // Two Intune products with free seats: the admin must choose.
    let mut products = ems(100);
    products.push(Product {
        part_number: "SPB".into(),
        enabled_units: Some(50),
        consumed_units: Some(0),
        service_plans: vec![ServicePlan {
            name: "INTUNE_SMBIZ".into(),
            id: None,
        }],
        ..Default::default()
    });
    products.push(Product {
        part_number: "O365_BUSINESS_ESSENTIALS".into(),
        enabled_units: Some(50),
        consumed_units: Some(0),
        service_plans: vec![ServicePlan {
            name: "INTUNE_O365".into(),
            id: None,
        }],
        ..Default::default()
    });
    let ws2 = workspace("sku", 4, products);
    let r = run_with(&ws2, &sim, &["--wave", "1", "--dry-run"], &[], None);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("apply.sku.ambiguous")
            && r.stderr.contains("SPB")
            && !r.stderr.contains("O365_BUSINESS"),
        "{}",
        r.stderr
    );
    let r = run_with(
        &ws2,
        &sim,
        &[
            "--wave",
            "1",
            "--dry-run",
            "--sku",
            "O365_BUSINESS_ESSENTIALS",
        ],
        &[],
        None,
    );
    assert!(r.stderr.contains("apply.sku.no_intune"), "{}", r.stderr);
    let r = run_with(
        &ws2,
        &sim,
        &["--wave", "1", "--dry-run", "--sku", "spb"],
        &[],
        None,
    );
    ok(&r);
    assert_eq!(r.json["sku"], "SPB");
}

#[test]
fn protocol_request_with_auth_object_runs_apply() {
    let sim = sim(10, 100);
    let ws = workspace("rpc", 2, ems(100));
    let req = json!({"protocol": 1, "id": "a1", "command": "apply", "params": {
        "workspace": ws.path(), "step": "policies", "graph_url": sim.url(), "login_url": sim.url(),
        "writes_per_second": 100.0,
        "auth": {"method": "client_secret", "tenant_id": SimConfig::default().tenant_id, "client_id": SimConfig::default().client_id, "client_secret": "sim-client-secret"}
    }});
    let mut child = Command::new(env!("CARGO_BIN_EXE_bms2intune"))
        .arg("rpc")
        .env_remove("BMS2INTUNE_CLIENT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{req}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: Value = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["event"] == "result")
        .unwrap();
    assert_eq!(result["ok"], true, "{stdout}");
    assert_eq!(result["result"]["done"], 4);
    assert!(stdout.lines().any(|l| l.contains("\"progress\"")));
    assert!(!stdout.contains("sim-client-secret"));
}

#[test]
fn human_summary_names_each_operation_and_the_failures() {
    let sim = sim(60, 100);
    let ws = workspace("human", 22, ems(100));
    through_pilot(&ws, &sim);
    ok(&apply(&ws, &sim, &["--step", "assign"]));
    // One wave-1 user does not exist in Entra: the others are added, the wave is licensed, the
    // batch is reported failed and the wave stays "not done" until the plan is fixed.
    let plan_path = ws.dir.join("plan.json");
    let mut plan: Value = serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    plan["waves"][1]["users"][0] = json!("ghost@contoso.com");
    std::fs::write(&plan_path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let url = sim.url();
    let out = Command::new(env!("CARGO_BIN_EXE_bms2intune"))
        .args([
            "--workspace",
            ws.path(),
            "apply",
            "--wave",
            "1",
            "--graph-url",
            &url,
            "--writes-per-second",
            "200",
        ])
        .env("BMS2INTUNE_ACCESS_TOKEN", "sim-static-token")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("apply wave 1: 3 done, 0 skipped (already done), 1 failed of 4"),
        "{text}"
    );
    assert!(
        text.contains("ghost@contoso.com") && text.contains("not found in Entra ID"),
        "{text}"
    );
    assert!(text.contains("run the same command again"), "{text}");
    let groups = sim.state().groups();
    let w1 = groups.iter().find(|g| g.1 == "BMS2Intune Wave 01").unwrap();
    assert_eq!(w1.2.len(), 21);
    assert_eq!(w1.3, [SKU_ID]);
    let r = apply(&ws, &sim, &["--wave", "2"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("wave 1 is not done"), "{}", r.stderr);
}

#[test]
fn expired_token_is_fetched_again_once() {
    let sim = sim(10, 100);
    let ws = workspace("refresh", 2, ems(100));
    sim.inject(Fault::new(
        Some("POST"),
        "/deviceConfigurations",
        FaultAction::Status {
            status: 401,
            code: "InvalidAuthenticationToken".into(),
        },
    ));
    let c = SimConfig::default();
    let r = run_with(
        &ws,
        &sim,
        &[
            "--step",
            "policies",
            "--auth",
            "client-secret",
            "--tenant-id",
            &c.tenant_id,
            "--client-id",
            &c.client_id,
        ],
        &[("BMS2INTUNE_CLIENT_SECRET", "sim-client-secret")],
        None,
    );
    ok(&r);
    assert_eq!(r.json["done"], 4);
    let token_requests = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .count();
    assert_eq!(token_requests, 2);
    // The token endpoint got the form with the Graph scope; the secret only in the body.
    let tr = sim
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .unwrap();
    assert!(tr.body.contains("grant_type=client_credentials") && tr.body.contains("scope=http"));
    assert!(!tr.target.contains("secret"));
}

#[test]
fn wave_resumes_after_a_lost_answer_and_a_membership_race() {
    let sim = sim(60, 100);
    let ws = workspace("wave-resume", 30, ems(100));
    through_pilot(&ws, &sim);
    ok(&apply(&ws, &sim, &["--step", "assign"]));
    // 1st batch of wave 1: added, but the answer is lost. 2nd batch: Graph says a member already
    // exists (someone added one meanwhile): members are read again and the rest sent, once.
    sim.inject(Fault::new(
        Some("PATCH"),
        "/groups/",
        FaultAction::DropAfterProcessing,
    ));
    sim.inject(
        Fault::new(
            Some("PATCH"),
            "/groups/",
            FaultAction::Respond {
                status: 400,
                code: "Request_BadRequest".into(),
                message: "One or more added object references already exist for the following modified properties: 'members'.".into(),
            },
        ),
    );
    let r = apply(&ws, &sim, &["--wave", "1"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        (r.json["done"].as_u64(), r.json["failed"].as_u64()),
        (Some(3), Some(1)),
        "{}",
        r.stdout
    );
    let groups = sim.state().groups();
    let w1 = groups
        .iter()
        .find(|g| g.1 == "BMS2Intune Wave 01")
        .unwrap()
        .clone();
    assert_eq!(w1.2.len(), 30);
    // Resume: the members are read from Graph, nothing is sent twice, the wave is done.
    let r = apply(&ws, &sim, &["--wave", "1"]);
    ok(&r);
    assert_eq!(r.json["skipped"], 4, "{}", r.stdout);
    let patches = sim
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH" && q.path.ends_with(&w1.0))
        .count();
    assert_eq!(
        patches, 3,
        "20 (lost answer) + 10 (refused) + 10 (after re-reading members)"
    );
    assert_eq!(
        sim.state()
            .groups()
            .iter()
            .find(|g| g.0 == w1.0)
            .unwrap()
            .2
            .len(),
        30
    );
    assert_eq!(posts(&sim, &format!("/groups/{}/assignLicense", w1.0)), 1);
    let r = apply(&ws, &sim, &["--wave", "2"]);
    ok(&r);
}

/// The bundled sample tenant through the real import, convert and plan, then every apply step
/// against the simulator: the shapes other commands write are the shapes apply reads.
#[test]
fn sample_tenant_end_to_end() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sample = root.join("examples/sample-tenant");
    let dir = std::env::temp_dir().join(format!("bms2intune-apply-sample-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ws = Ws { dir };
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("csv" | "json")))
        .collect();
    inputs.sort();
    let bin = env!("CARGO_BIN_EXE_bms2intune");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(["--workspace", ws.path()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut import = vec!["import"];
    import.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    run(&import);
    run(&["readiness"]);
    run(&["convert"]);
    run(&[
        "plan",
        "--pilot-group",
        "BMS Pilot",
        "--wave-size",
        "50",
        "--start",
        "2027-01-11",
    ]);

    // A simulated tenant holding the sample's users, the groups the assignment files name, and EMS.
    let tenant = Workspace::open(Some(ws.path()), false)
        .unwrap()
        .load_tenant()
        .unwrap();
    let cfg = SimConfig {
        users: tenant
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (user_id(i), u.upn.clone()))
            .collect(),
        skus: vec![SimSku {
            sku_id: SKU_ID.into(),
            part_number: "EMS".into(),
            enabled: 1000,
            consumed: 3,
            service_plans: vec!["INTUNE_A".into()],
        }],
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).unwrap();
    for e in std::fs::read_dir(ws.dir.join("intune/assignments")).unwrap() {
        let v: Value = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
        for a in v["assignments"].as_array().unwrap() {
            let id = a["target"]["groupId"].as_str().unwrap();
            sim.state().add_group_with_id(id, id);
        }
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(ws.dir.join("intune/manifest.json")).unwrap())
            .unwrap();
    let objects = manifest["objects"].as_array().unwrap();
    let disabled = objects
        .iter()
        .filter(|o| o["sourcePolicyEnabled"] == false)
        .count();
    let beta = objects.iter().filter(|o| o["api"] == "beta").count();

    let r = apply(&ws, &sim, &["--step", "policies"]);
    ok(&r);
    assert_eq!(r.json["done"].as_u64(), Some(objects.len() as u64));
    let created =
        sim.objects("deviceCompliancePolicies").len() + sim.objects("deviceConfigurations").len();
    assert_eq!(created, objects.len());
    assert_eq!(
        sim.requests()
            .iter()
            .filter(|q| q.method == "POST" && q.path.starts_with("/beta/"))
            .count(),
        beta
    );
    let r = apply(&ws, &sim, &["--step", "assign-pilot"]);
    ok(&r);
    assert_eq!(
        r.json["notes"].as_array().unwrap().len(),
        disabled,
        "disabled BMS policies are not assigned"
    );
    ok(&apply(&ws, &sim, &["--wave", "0", "--sku", "EMS"]));
    ok(&apply(&ws, &sim, &["--step", "assign"]));
    assert_eq!(sim.state().assignments.len(), objects.len() - disabled);
    let r = apply(&ws, &sim, &["--wave", "1", "--sku", "EMS"]);
    ok(&r);
    let plan: Value =
        serde_json::from_slice(&std::fs::read(ws.dir.join("plan.json")).unwrap()).unwrap();
    let groups = sim.state().groups();
    for n in [0usize, 1] {
        let w = &plan["waves"][n];
        let g = groups
            .iter()
            .find(|g| g.1 == w["group"].as_str().unwrap())
            .expect("wave group");
        assert_eq!(g.2.len(), w["users"].as_array().unwrap().len());
        assert_eq!(g.3, [SKU_ID]);
    }
}

#[test]
fn writes_are_paced() {
    let sim = sim(10, 100);
    let ws = workspace("pace", 2, ems(100));
    let url = sim.url();
    let out = Command::new(env!("CARGO_BIN_EXE_bms2intune"))
        .args([
            "--workspace",
            ws.path(),
            "apply",
            "--step",
            "policies",
            "--graph-url",
            &url,
            "--writes-per-second",
            "4",
        ])
        .env("BMS2INTUNE_ACCESS_TOKEN", "sim-static-token")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let writes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(writes.len(), 4);
    let span = writes[3].at - writes[0].at;
    assert!(
        span.as_secs_f64() >= 0.7,
        "4 writes at 4/s take at least 0.75 s, took {span:?}"
    );
}
