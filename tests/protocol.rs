//! The JSON protocol v1 and the CLI front door, driven through the real binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bms2intune"))
}

/// Sends `lines` to `bms2intune rpc` in one process and returns the parsed stdout events.
fn rpc(lines: &[&str], hooks: bool) -> (Vec<Value>, Output) {
    let mut cmd = bin();
    cmd.arg("rpc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if hooks {
        cmd.env("BMS2INTUNE_TEST_HOOKS", "1");
    }
    cmd.env("RUST_BACKTRACE", "0");
    let mut child = cmd.spawn().expect("spawn bms2intune rpc");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for l in lines {
            stdin.write_all(l.as_bytes()).unwrap();
            stdin.write_all(b"\n").unwrap();
        }
    }
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    let events = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .collect();
    (events, out)
}

fn results(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "result").collect()
}

fn one_error(line: &str) -> Value {
    let (events, out) = rpc(&[line], false);
    assert!(out.status.success(), "rpc must keep running and exit 0");
    let r = results(&events);
    assert_eq!(r.len(), 1, "exactly one result for {line}: {events:?}");
    assert_eq!(r[0]["ok"], false, "{line} must fail");
    r[0].clone()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bms2intune-protocol-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn hello_prints_exactly_one_result_line() {
    let (events, out) = rpc(
        &[r#"{"protocol":1,"id":"1","command":"hello","params":{}}"#],
        false,
    );
    assert!(out.status.success());
    assert_eq!(events.len(), 1, "{events:?}");
    let r = &events[0];
    assert_eq!(r["id"], "1");
    assert_eq!(r["event"], "result");
    assert_eq!(r["ok"], true);
    assert_eq!(r["result"]["protocol"], 1);
    assert_eq!(r["result"]["version"], env!("CARGO_PKG_VERSION"));
    let names: Vec<&str> = r["result"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for c in [
        "hello",
        "schema",
        "import",
        "readiness",
        "convert",
        "plan",
        "apply",
        "status",
        "report",
    ] {
        assert!(names.contains(&c), "hello lists {c}: {names:?}");
    }
    assert!(!names.contains(&"debug.panic"), "test hooks stay hidden");
}

#[test]
fn many_requests_over_one_process_keep_their_ids_and_order() {
    let lines: Vec<String> = (0..50)
        .map(|i| {
            if i % 5 == 4 {
                "garbage".to_string()
            } else {
                format!(r#"{{"protocol":1,"id":"r{i}","command":"hello","params":{{}}}}"#)
            }
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    let (events, out) = rpc(&refs, false);
    assert!(out.status.success());
    let r = results(&events);
    assert_eq!(r.len(), 50);
    for (i, ev) in r.iter().enumerate() {
        if i % 5 == 4 {
            assert_eq!(ev["id"], Value::Null);
            assert_eq!(ev["error"]["code"], "protocol.parse");
        } else {
            assert_eq!(ev["id"], format!("r{i}"));
            assert_eq!(ev["ok"], true);
        }
    }
}

#[test]
fn blank_lines_are_ignored() {
    let (events, _) = rpc(
        &["", "   ", r#"{"protocol":1,"id":"x","command":"hello"}"#],
        false,
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["ok"], true, "params may be omitted");
}

#[test]
fn each_kind_of_malformed_request_gets_a_precise_code_and_path() {
    let cases: &[(&str, &str, Value, &str)] = &[
        ("{not json", "protocol.parse", Value::Null, ""),
        ("[1,2]", "protocol.invalid_request", Value::Null, ""),
        (
            r#"{"protocol":1,"command":"hello"}"#,
            "protocol.missing_field",
            Value::Null,
            "id",
        ),
        (
            r#"{"protocol":1,"id":5,"command":"hello"}"#,
            "protocol.invalid_field",
            Value::Null,
            "id",
        ),
        (
            r#"{"id":"a","command":"hello"}"#,
            "protocol.missing_field",
            json!("a"),
            "protocol",
        ),
        (
            r#"{"protocol":2,"id":"a","command":"hello"}"#,
            "protocol.unsupported_version",
            json!("a"),
            "protocol",
        ),
        (
            r#"{"protocol":"1","id":"a","command":"hello"}"#,
            "protocol.invalid_field",
            json!("a"),
            "protocol",
        ),
        (
            r#"{"protocol":1,"id":"a"}"#,
            "protocol.missing_field",
            json!("a"),
            "command",
        ),
        (
            r#"{"protocol":1,"id":"a","command":3}"#,
            "protocol.invalid_field",
            json!("a"),
            "command",
        ),
        (
            r#"{"protocol":1,"id":"a","command":"hello","params":[]}"#,
            "protocol.invalid_field",
            json!("a"),
            "params",
        ),
        (
            r#"{"protocol":1,"id":"a","command":"hello","extra":1}"#,
            "protocol.unknown_field",
            json!("a"),
            "extra",
        ),
        (
            r#"{"protocol":1,"id":"a","command":"launch"}"#,
            "protocol.unknown_command",
            json!("a"),
            "command",
        ),
        (
            r#"{"protocol":1,"id":"a","command":"hello","params":{"x":1}}"#,
            "protocol.params.unknown",
            json!("a"),
            "params.x",
        ),
        (
            r#"{"protocol":1,"id":"a","command":"schema","params":{"command":7}}"#,
            "protocol.params.invalid",
            json!("a"),
            "params.command",
        ),
        (
            r#"{"protocol":1,"id":"a","command":"debug.panic"}"#,
            "protocol.unknown_command",
            json!("a"),
            "",
        ),
    ];
    for (line, code, id, path) in cases {
        let r = one_error(line);
        assert_eq!(r["error"]["code"], *code, "{line}: {r}");
        assert_eq!(r["id"], *id, "{line}: {r}");
        assert!(r["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        if !path.is_empty() {
            assert_eq!(r["error"]["details"][0]["path"], *path, "{line}: {r}");
        }
    }
}

#[test]
fn missing_required_param_names_the_field() {
    let r = one_error(r#"{"protocol":1,"id":"a","command":"import","params":{}}"#);
    assert_eq!(r["error"]["code"], "protocol.params.missing", "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("files"),
        "{r}"
    );
}

#[test]
fn a_panic_becomes_an_internal_error_and_the_process_keeps_serving() {
    let (events, out) = rpc(
        &[
            r#"{"protocol":1,"id":"p","command":"debug.panic"}"#,
            r#"{"protocol":1,"id":"after","command":"hello"}"#,
        ],
        true,
    );
    assert!(out.status.success());
    let r = results(&events);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["id"], "p");
    assert_eq!(r[0]["ok"], false);
    assert_eq!(r[0]["error"]["code"], "internal.panic");
    assert_eq!(r[1]["id"], "after");
    assert_eq!(r[1]["ok"], true);
    // Nothing but protocol events on stdout: the panic message went to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("deliberate panic"));
}

#[test]
fn schema_describes_every_listed_command() {
    let (events, _) = rpc(&[r#"{"protocol":1,"id":"s","command":"schema"}"#], false);
    let cmds = &events[0]["result"]["commands"];
    for c in [
        "hello",
        "schema",
        "import",
        "readiness",
        "convert",
        "plan",
        "apply",
        "status",
        "report",
    ] {
        assert!(cmds[c]["params"].is_object(), "params schema of {c}");
        assert!(cmds[c]["result"].is_object(), "result schema of {c}");
    }
}

/// The checked-in schemas (docs/schemas/) must match what the binary reports.
/// Regenerate with `BMS2INTUNE_UPDATE_SCHEMAS=1 cargo test --test protocol`.
#[test]
fn checked_in_schemas_match_the_code() {
    let out = bin().args(["schema", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/schemas");
    let update = std::env::var_os("BMS2INTUNE_UPDATE_SCHEMAS").is_some();
    let mut drift = Vec::new();
    let commands = v["commands"].as_object().unwrap();
    for (name, s) in commands {
        for part in ["params", "result"] {
            let file = dir.join(format!("{name}.{part}.json"));
            let want = format!("{}\n", serde_json::to_string_pretty(&s[part]).unwrap());
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&file, &want).unwrap();
            } else if std::fs::read_to_string(&file).ok().as_deref() != Some(want.as_str()) {
                drift.push(file.display().to_string());
            }
        }
    }
    if !update {
        let expected: usize = commands.len() * 2;
        let present = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert_eq!(
            present, expected,
            "docs/schemas holds a file for every command's params and result, and nothing else"
        );
    }
    assert!(drift.is_empty(), "schemas drifted from the code: {drift:?}; run BMS2INTUNE_UPDATE_SCHEMAS=1 cargo test --test protocol and review the diff");
}

#[test]
fn cli_usage_error_exits_2_and_missing_workspace_exits_1() {
    let out = bin().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let ws = tmp("missing");
    let out = bin()
        .args(["status", "--workspace", ws.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace.missing"));
    assert!(out.stdout.is_empty(), "errors go to stderr in human mode");
}

#[test]
fn cli_json_error_carries_the_code() {
    let ws = tmp("json-err");
    let out = bin()
        .args(["status", "--json", "--workspace", ws.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "workspace.missing");
}

#[test]
fn cli_json_result_is_one_compact_line_when_piped_and_equals_the_rpc_result() {
    let out = bin().args(["schema", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "piped --json output is compact");
    let cli: Value = serde_json::from_str(&text).unwrap();
    // The same result through the protocol (serialized once, envelope written around it).
    let mut child = bin()
        .arg("rpc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"protocol\":1,\"id\":\"s\",\"command\":\"schema\"}\n")
        .unwrap();
    let rpc = child.wait_with_output().unwrap();
    let line = String::from_utf8(rpc.stdout).unwrap();
    let event: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(event["id"], "s");
    assert_eq!(event["event"], "result");
    assert_eq!(event["ok"], true);
    assert_eq!(event["result"], cli);
}

#[test]
fn unknown_workspace_version_is_refused_through_both_front_doors() {
    let ws = tmp("version");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("workspace.json"),
        r#"{"format":"bms2intune-workspace","version":42}"#,
    )
    .unwrap();
    let out = bin()
        .args(["status", "--workspace", ws.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace.unknown_version"));
    let line = format!(
        r#"{{"protocol":1,"id":"v","command":"status","params":{{"workspace":{}}}}}"#,
        json!(ws.to_str().unwrap())
    );
    let r = one_error(&line);
    assert_eq!(r["error"]["code"], "workspace.unknown_version");
}

#[test]
fn every_command_has_help_with_an_example() {
    for c in [
        "import",
        "readiness",
        "convert",
        "plan",
        "apply",
        "status",
        "report",
        "rpc",
        "schema",
    ] {
        let out = bin().args([c, "--help"]).output().unwrap();
        assert!(out.status.success(), "{c} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example"), "{c} --help shows an example");
        assert!(
            text.contains("--workspace") && text.contains("--json"),
            "{c} --help lists the global options"
        );
    }
}
