//! The command-line front door: clap definitions that turn arguments into the same JSON params
//! the protocol takes, then call [`crate::protocol::execute`]. One file per command's arguments.

mod args;

use std::io::{IsTerminal, Write};

use clap::{Parser, Subcommand};
use serde_json::{Map, Value};

use crate::exit;
use crate::protocol::{self, Ctx, EventSink, Level};

pub use args::*;

const AFTER_HELP: &str = "\
Examples:
  bms2intune import --workspace work examples/sample-tenant/*.csv examples/sample-tenant/policies.json
  bms2intune readiness --workspace work
  bms2intune convert --workspace work
  bms2intune plan --workspace work --pilot-group 'BMS Pilot'
  echo '{\"protocol\":1,\"id\":\"1\",\"command\":\"hello\",\"params\":{}}' | bms2intune rpc

Exit codes: 0 ok, 1 input or validation error, 2 usage error, 3 done with blockers or
partial failure, 4 cannot reach or authenticate to Graph, 5 internal error.";

#[derive(Debug, Parser)]
#[command(name = "bms2intune", version, about = "Move a Microsoft 365 tenant from Basic Mobility and Security to Microsoft Intune", after_help = AFTER_HELP)]
pub struct Cli {
    /// Workspace directory holding the snapshot, reports, policies, plan and journal.
    #[arg(long, global = true, value_name = "DIR", default_value = crate::workspace::DEFAULT_DIR)]
    pub workspace: String,
    /// Print the protocol result object as JSON instead of a human summary.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import users, groups, memberships, licenses, devices and BMS policies (CSV, XLSX, JSON).
    #[command(
        after_help = "Example:\n  bms2intune import --workspace work users.csv devices.xlsx policies.json"
    )]
    Import(ImportArgs),
    /// Check the imported tenant for what would go wrong (seats, mixed groups, unsupported devices, ...).
    #[command(after_help = "Example:\n  bms2intune readiness --workspace work --fail-on blocker")]
    Readiness(ReadinessArgs),
    /// Convert BMS device security policies into Intune-ready Graph JSON in the workspace.
    #[command(
        after_help = "Example:\n  bms2intune convert --workspace work --android-target work-profile"
    )]
    Convert(ConvertArgs),
    /// Plan license waves: pilot group first, then waves bounded by seats and size.
    #[command(
        after_help = "Example:\n  bms2intune plan --workspace work --pilot-group 'BMS Pilot' --wave-size 200 --keep-together department"
    )]
    Plan(PlanArgs),
    /// Carry out a plan step or wave through Microsoft Graph.
    #[command(after_help = "Example:\n  bms2intune apply --workspace work --wave 0 --dry-run")]
    Apply(ApplyArgs),
    /// Show what the workspace holds and how far the migration has come.
    #[command(after_help = "Example:\n  bms2intune status --workspace work --json")]
    Status(StatusArgs),
    /// Write the migration report from the workspace.
    #[command(after_help = "Example:\n  bms2intune report --workspace work")]
    Report(ReportArgs),
    /// Serve JSON protocol requests on stdin, one per line, events on stdout (see docs/protocol.md).
    #[command(
        after_help = "Example:\n  echo '{\"protocol\":1,\"id\":\"1\",\"command\":\"hello\",\"params\":{}}' | bms2intune rpc"
    )]
    Rpc,
    /// Print the JSON Schemas of every protocol command's params and result.
    #[command(after_help = "Example:\n  bms2intune schema --command import")]
    Schema(SchemaArgs),
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Only this command's schemas.
    #[arg(long)]
    pub command: Option<String>,
}

/// Human progress and logs on stderr.
struct StderrEvents {
    quiet_progress: bool,
}

impl EventSink for StderrEvents {
    fn progress(&mut self, phase: &str, done: u64, total: u64) {
        if !self.quiet_progress && done == total {
            eprintln!("{phase}: {done}/{total}");
        }
    }
    fn log(&mut self, level: Level, code: &str, message: &str) {
        let tag = match level {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        eprintln!("{tag}[{code}]: {message}");
    }
}

fn insert_workspace(mut params: Map<String, Value>, ws: &str) -> Value {
    params.insert("workspace".into(), Value::String(ws.to_string()));
    Value::Object(params)
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let (name, params): (&str, Value) = match &cli.command {
        Command::Rpc => {
            let stdin = std::io::stdin();
            let mut stdout = std::io::stdout().lock();
            return match protocol::serve(stdin.lock(), &mut stdout) {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error[rpc.io]: {e}");
                    exit::INTERNAL
                }
            };
        }
        Command::Schema(a) => {
            let mut m = Map::new();
            if let Some(c) = &a.command {
                m.insert("command".into(), Value::String(c.clone()));
            }
            ("schema", Value::Object(m))
        }
        Command::Import(a) => ("import", insert_workspace(a.params(), &cli.workspace)),
        Command::Readiness(a) => ("readiness", insert_workspace(a.params(), &cli.workspace)),
        Command::Convert(a) => ("convert", insert_workspace(a.params(), &cli.workspace)),
        Command::Plan(a) => ("plan", insert_workspace(a.params(), &cli.workspace)),
        Command::Apply(a) => ("apply", insert_workspace(a.params(), &cli.workspace)),
        Command::Status(a) => ("status", insert_workspace(a.params(), &cli.workspace)),
        Command::Report(a) => ("report", insert_workspace(a.params(), &cli.workspace)),
    };
    crate::workspace::exits_after_command();
    let mut events = StderrEvents {
        quiet_progress: !std::io::stderr().is_terminal(),
    };
    let mut ctx = Ctx {
        events: &mut events,
    };
    match protocol::execute(name, params, &mut ctx) {
        Ok(outcome) => {
            // Pretty for a person at a terminal, compact for a pipe or file (a million-user
            // readiness result is tens of megabytes); streamed either way.
            let pretty = std::io::stdout().is_terminal();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            if cli.json {
                let written = outcome
                    .output
                    .write_json(&mut out, pretty)
                    .and_then(|()| out.write_all(b"\n").map_err(serde_json::Error::io));
                if let Err(e) = written {
                    if !e.is_io() {
                        drop(out);
                        let e = crate::error::Error::internal("internal.serialize", e.to_string());
                        return fail(&e, false);
                    }
                }
            } else {
                let text = outcome.output.human();
                let _ = writeln!(out, "{}", text.trim_end());
            }
            let _ = out.flush();
            drop(out);
            let code = if outcome.output.has_blockers() {
                exit::BLOCKERS
            } else {
                exit::OK
            };
            // The process exits next: the OS takes the memory back faster than freeing it.
            std::mem::forget(outcome);
            code
        }
        Err(e) => fail(&e, cli.json),
    }
}

/// Reports a failed command (JSON on stdout with `--json`, always a line on stderr); its exit code.
fn fail(e: &crate::error::Error, json: bool) -> i32 {
    if json {
        let v = serde_json::json!({ "ok": false, "error": protocol::error_json(e) });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    eprintln!("error[{}]: {}", e.code, e.message);
    for d in &e.details {
        eprintln!("  {d}");
    }
    e.kind.exit_code()
}
