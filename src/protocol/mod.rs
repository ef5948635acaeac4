//! JSON protocol v1: requests, events, the command registry and the `rpc` loop.
//!
//! Both front doors (the CLI and `bms2intune rpc`) end in [`execute`]: parse the params of a
//! command, call its one handler, return its result. Only this module writes protocol events to
//! stdout; human logging goes to stderr.

mod commands;

use std::io::{BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorKind, Result};

pub use commands::{command, command_names, CommandSpec, COMMANDS};

/// The protocol version this binary speaks.
pub const PROTOCOL_VERSION: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// Where a command reports progress and log lines while it runs.
pub trait EventSink {
    fn progress(&mut self, phase: &str, done: u64, total: u64);
    fn log(&mut self, level: Level, code: &str, message: &str);
}

/// What a command gets besides its params.
pub struct Ctx<'a> {
    pub events: &'a mut dyn EventSink,
}

impl Ctx<'_> {
    pub fn progress(&mut self, phase: &str, done: u64, total: u64) {
        self.events.progress(phase, done, total);
    }
    pub fn info(&mut self, code: &str, message: &str) {
        self.events.log(Level::Info, code, message);
    }
    pub fn warn(&mut self, code: &str, message: &str) {
        self.events.log(Level::Warning, code, message);
    }
}

/// A command's result: serialized as the protocol `result`, rendered for humans by the CLI.
pub trait CommandOutput: Serialize {
    /// True when the command finished but with blockers or failed items (CLI exit code 3).
    fn has_blockers(&self) -> bool {
        false
    }
    /// Human rendering for the terminal (stdout of the CLI without `--json`).
    fn human(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A command's result, kept typed until a front door renders it: serialized once, straight from
/// the result type (a million-user readiness result is 65 MB of JSON; going through
/// `serde_json::Value` first cost more than the checks), and the human summary only when asked.
pub trait Rendered {
    /// The result as JSON streamed to `out` (the CLI's `--json`; no copy in memory).
    fn write_json(&self, out: &mut dyn Write, pretty: bool) -> serde_json::Result<()>;
    fn human(&self) -> String;
    fn has_blockers(&self) -> bool;
}

impl<R: CommandOutput> Rendered for R {
    fn write_json(&self, out: &mut dyn Write, pretty: bool) -> serde_json::Result<()> {
        if pretty {
            serde_json::to_writer_pretty(out, self)
        } else {
            serde_json::to_writer(out, self)
        }
    }
    fn human(&self) -> String {
        CommandOutput::human(self)
    }
    fn has_blockers(&self) -> bool {
        CommandOutput::has_blockers(self)
    }
}

/// The outcome of running one command.
pub struct Outcome {
    pub output: Box<dyn Rendered>,
}

impl Outcome {
    /// The result as compact JSON text (the protocol's), or the `internal.serialize` error.
    pub fn json(&self) -> Result<String> {
        let mut out = Vec::new();
        self.output
            .write_json(&mut out, false)
            .map_err(|e| Error::internal("internal.serialize", e.to_string()))?;
        // serde_json writes UTF-8.
        String::from_utf8(out).map_err(|e| Error::internal("internal.serialize", e.to_string()))
    }
}

/// Deserializes `params` into `P`, naming the offending field path on failure.
pub fn parse_params<P: DeserializeOwned>(command: &str, params: Value) -> Result<P> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(params, &mut track);
    P::deserialize(de).map_err(|e| {
        let path = track.path().to_string();
        let path = if path == "." {
            "params".to_string()
        } else {
            format!("params.{path}")
        };
        let msg = e.to_string();
        let code = if msg.starts_with("missing field") {
            "protocol.params.missing"
        } else if msg.starts_with("unknown field") {
            "protocol.params.unknown"
        } else {
            "protocol.params.invalid"
        };
        Error::input(code, format!("{command}: {path}: {msg}")).with_detail(json!({ "path": path }))
    })
}

/// Runs a command by name with JSON params, turning a panic into an `internal` error.
pub fn execute(name: &str, params: Value, ctx: &mut Ctx) -> Result<Outcome> {
    let spec = command(name).ok_or_else(|| {
        Error::input(
            "protocol.unknown_command",
            format!(
                "unknown command {name:?}; known commands: {}",
                command_names().join(", ")
            ),
        )
        .with_detail(json!({ "path": "command", "value": name }))
    })?;
    match catch_unwind(AssertUnwindSafe(|| (spec.run)(params, ctx))) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::new(
                ErrorKind::Internal,
                "internal.panic",
                format!("internal error in command {name:?}: {what}; this is a bug in bms2intune, please report it with the input that caused it"),
            ))
        }
    }
}

/// The error object of an error result.
pub fn error_json(e: &Error) -> Value {
    json!({ "code": e.code, "message": e.message, "details": e.details })
}

/// Writes protocol events for one request as NDJSON.
pub struct NdjsonEvents<'w, W: Write> {
    pub id: Value,
    pub out: &'w mut W,
}

impl<W: Write> NdjsonEvents<'_, W> {
    fn emit(&mut self, v: &Value) {
        // stdout is the only channel; if it is gone, nobody is listening.
        let _ = serde_json::to_writer(&mut *self.out, v);
        let _ = self.out.write_all(b"\n");
        let _ = self.out.flush();
    }
}

impl<W: Write> EventSink for NdjsonEvents<'_, W> {
    fn progress(&mut self, phase: &str, done: u64, total: u64) {
        let v = json!({ "id": self.id, "event": "progress", "phase": phase, "done": done, "total": total });
        self.emit(&v);
    }
    fn log(&mut self, level: Level, code: &str, message: &str) {
        let v = json!({ "id": self.id, "event": "log", "level": level, "code": code, "message": message });
        self.emit(&v);
    }
}

/// A parsed request.
struct Request {
    id: Value,
    command: String,
    params: Value,
}

fn field_error(id: &Value, code: &str, path: &str, message: String) -> (Value, Error) {
    (
        id.clone(),
        Error::input(code, message).with_detail(json!({ "path": path })),
    )
}

#[allow(clippy::result_large_err)] // built once per line; boxing buys nothing
fn parse_request(line: &str) -> std::result::Result<Request, (Value, Error)> {
    let v: Value = serde_json::from_str(line).map_err(|e| {
        (
            Value::Null,
            Error::input("protocol.parse", format!("request is not valid JSON: {e}"))
                .with_detail(json!({ "column": e.column() })),
        )
    })?;
    let Value::Object(mut obj) = v else {
        return Err((
            Value::Null,
            Error::input("protocol.invalid_request", "request must be a JSON object")
                .with_detail(json!({ "path": "" })),
        ));
    };
    let id = match obj.remove("id") {
        Some(Value::String(s)) => Value::String(s),
        None => {
            return Err(field_error(
                &Value::Null,
                "protocol.missing_field",
                "id",
                "request has no \"id\" (a string echoed on every event)".into(),
            ))
        }
        Some(_) => {
            return Err(field_error(
                &Value::Null,
                "protocol.invalid_field",
                "id",
                "\"id\" must be a string".into(),
            ))
        }
    };
    match obj.remove("protocol") {
        None => return Err(field_error(&id, "protocol.missing_field", "protocol", format!("request has no \"protocol\"; send \"protocol\":{PROTOCOL_VERSION}"))),
        Some(Value::Number(n)) if n.as_u64() == Some(PROTOCOL_VERSION) => {}
        Some(Value::Number(n)) => {
            return Err(field_error(&id, "protocol.unsupported_version", "protocol", format!("protocol version {n} is not supported; this binary speaks protocol {PROTOCOL_VERSION}")))
        }
        Some(_) => return Err(field_error(&id, "protocol.invalid_field", "protocol", format!("\"protocol\" must be the number {PROTOCOL_VERSION}"))),
    }
    let command = match obj.remove("command") {
        Some(Value::String(s)) => s,
        None => {
            return Err(field_error(
                &id,
                "protocol.missing_field",
                "command",
                "request has no \"command\"".into(),
            ))
        }
        Some(_) => {
            return Err(field_error(
                &id,
                "protocol.invalid_field",
                "command",
                "\"command\" must be a string".into(),
            ))
        }
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p,
        Some(_) => {
            return Err(field_error(
                &id,
                "protocol.invalid_field",
                "params",
                "\"params\" must be an object".into(),
            ))
        }
    };
    if let Some(extra) = obj.keys().next() {
        return Err(field_error(
            &id,
            "protocol.unknown_field",
            extra,
            format!("unknown request field {extra:?}; a request has protocol, id, command, params"),
        ));
    }
    Ok(Request {
        id,
        command,
        params,
    })
}

/// Serves requests from `input` until EOF, one result per request, events interleaved.
pub fn serve<R: BufRead, W: Write>(input: R, out: &mut W) -> std::io::Result<()> {
    for line in input.split(b'\n') {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let (id, outcome) = match parse_request(text) {
            Err((id, e)) => (id, Err(e)),
            Ok(req) => {
                let mut events = NdjsonEvents {
                    id: req.id.clone(),
                    out: &mut *out,
                };
                let mut ctx = Ctx {
                    events: &mut events,
                };
                let outcome = execute(&req.command, req.params, &mut ctx);
                (req.id, outcome)
            }
        };
        match outcome.and_then(|o| o.json()) {
            // The envelope written around the result text as `json!` would write it (compact,
            // keys in this order), without parsing the result back into a `Value`.
            Ok(result) => {
                out.write_all(b"{\"id\":")?;
                serde_json::to_writer(&mut *out, &id)?;
                out.write_all(b",\"event\":\"result\",\"ok\":true,\"result\":")?;
                out.write_all(result.as_bytes())?;
                out.write_all(b"}\n")?;
            }
            Err(e) => {
                let v =
                    json!({ "id": id, "event": "result", "ok": false, "error": error_json(&e) });
                serde_json::to_writer(&mut *out, &v)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()?;
    }
    Ok(())
}
