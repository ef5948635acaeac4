//! Policy: converts BMS device security policies into Intune Graph JSON, driven by templates/policy data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ConvertResult {}

impl CommandOutput for ConvertResult {}

pub fn run(_p: ConvertParams, _ctx: &mut Ctx) -> Result<ConvertResult> {
    Err(Error::input(
        "command.not_available",
        "the convert command is not available in this build yet",
    ))
}
