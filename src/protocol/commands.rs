//! The command registry: one entry per protocol command, each binding a params type, a result
//! type and the one handler both front doors call.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{parse_params, CommandOutput, Ctx, Outcome, PROTOCOL_VERSION};
use crate::error::{Error, Result};

pub struct CommandSpec {
    pub name: &'static str,
    pub summary: &'static str,
    /// Hidden commands (test hooks) are not listed by `hello` or `schema`.
    pub hidden: bool,
    pub params_schema: fn() -> Value,
    pub result_schema: fn() -> Value,
    pub run: fn(Value, &mut Ctx) -> Result<Outcome>,
}

fn finish<R: CommandOutput + 'static>(r: R) -> Result<Outcome> {
    Ok(Outcome {
        output: Box::new(r),
    })
}

fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null)
}

macro_rules! cmd {
    ($name:literal, $summary:literal, $params:ty, $handler:path) => {
        cmd!($name, $summary, $params, $handler, false)
    };
    ($name:literal, $summary:literal, $params:ty, $handler:path, $hidden:expr) => {
        CommandSpec {
            name: $name,
            summary: $summary,
            hidden: $hidden,
            params_schema: schema_of::<$params>,
            result_schema: || result_schema_of($handler),
            run: |params, ctx| {
                let p: $params = parse_params($name, params)?;
                finish($handler(p, ctx)?)
            },
        }
    };
}

/// Schema of the result type of a handler, inferred from its signature.
fn result_schema_of<P, R: JsonSchema>(_: fn(P, &mut Ctx) -> Result<R>) -> Value {
    schema_of::<R>()
}

pub static COMMANDS: &[CommandSpec] = &[
    cmd!("hello", "Binary version, protocol version and the list of commands", HelloParams, hello),
    cmd!("schema", "JSON Schemas of every command's params and result", SchemaParams, schema),
    cmd!("import", "Import users, groups, memberships, licenses, devices and BMS policies from CSV/Excel into the workspace", crate::import::ImportParams, crate::import::run),
    cmd!("readiness", "Check the imported tenant for what would go wrong in the migration", crate::readiness::ReadinessParams, crate::readiness::run),
    cmd!("convert", "Convert BMS device security policies into Intune-ready Graph JSON", crate::policy::ConvertParams, crate::policy::run),
    cmd!("plan", "Plan license waves: pilot first, then waves bounded by seats and size", crate::waves::PlanParams, crate::waves::run),
    cmd!("apply", "Carry out a plan step or wave through Microsoft Graph (--dry-run lists the operations without sending anything)", crate::apply::ApplyParams, crate::apply::run),
    cmd!("status", "What the workspace holds and how far the migration has come", crate::report::StatusParams, crate::report::status),
    cmd!("report", "Write the migration report (HTML and CSV) from the workspace", crate::report::ReportParams, crate::report::run),
    cmd!("debug.panic", "Test hook: panics inside a command (needs BMS2INTUNE_TEST_HOOKS=1)", PanicParams, test_panic, true),
];

pub fn command(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

pub fn command_names() -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter(|c| !c.hidden)
        .map(|c| c.name)
        .collect()
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelloParams {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CommandInfo {
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HelloResult {
    pub name: String,
    pub version: String,
    pub protocol: u64,
    pub commands: Vec<CommandInfo>,
}

impl CommandOutput for HelloResult {
    fn human(&self) -> String {
        let mut s = format!(
            "{} {} (protocol {})\n",
            self.name, self.version, self.protocol
        );
        for c in &self.commands {
            s.push_str(&format!("  {:<10} {}\n", c.name, c.summary));
        }
        s
    }
}

fn hello(_: HelloParams, _: &mut Ctx) -> Result<HelloResult> {
    Ok(HelloResult {
        name: "bms2intune".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: PROTOCOL_VERSION,
        commands: COMMANDS
            .iter()
            .filter(|c| !c.hidden)
            .map(|c| CommandInfo {
                name: c.name.into(),
                summary: c.summary.into(),
            })
            .collect(),
    })
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaParams {
    /// Only this command's schemas.
    #[serde(default)]
    pub command: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CommandSchemas {
    pub params: Value,
    pub result: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SchemaResult {
    pub protocol: u64,
    /// Command name → JSON Schemas (draft 2020-12) of its params and result.
    pub commands: Map<String, Value>,
}

impl CommandOutput for SchemaResult {}

fn schema(p: SchemaParams, _: &mut Ctx) -> Result<SchemaResult> {
    let mut commands = Map::new();
    for c in COMMANDS.iter().filter(|c| !c.hidden) {
        if p.command.as_deref().is_some_and(|n| n != c.name) {
            continue;
        }
        let s = CommandSchemas {
            params: (c.params_schema)(),
            result: (c.result_schema)(),
        };
        commands.insert(
            c.name.into(),
            serde_json::to_value(s).unwrap_or(Value::Null),
        );
    }
    if let Some(name) = p.command {
        if commands.is_empty() {
            return Err(Error::input(
                "protocol.unknown_command",
                format!("unknown command {name:?}"),
            )
            .with_detail(serde_json::json!({ "path": "params.command", "value": name })));
        }
    }
    Ok(SchemaResult {
        protocol: PROTOCOL_VERSION,
        commands,
    })
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PanicParams {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Never {}
impl CommandOutput for Never {}

fn test_panic(_: PanicParams, _: &mut Ctx) -> Result<Never> {
    if std::env::var_os("BMS2INTUNE_TEST_HOOKS").as_deref() != Some(std::ffi::OsStr::new("1")) {
        return Err(Error::input(
            "protocol.unknown_command",
            "unknown command \"debug.panic\"",
        ));
    }
    panic!("deliberate panic from the debug.panic test hook")
}
