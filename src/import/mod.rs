//! Import: reads the admin's exports (CSV, Excel, BMS policy JSON) into the tenant snapshot.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// Files to import.
    pub files: Vec<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ImportResult {}

impl CommandOutput for ImportResult {}

pub fn run(_p: ImportParams, _ctx: &mut Ctx) -> Result<ImportResult> {
    Err(Error::input(
        "command.not_available",
        "the import command is not available in this build yet",
    ))
}
