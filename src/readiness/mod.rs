//! Readiness: checks over the tenant that tell the admin what will go wrong before anything changes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ReadinessResult {}

impl CommandOutput for ReadinessResult {}

pub fn run(_p: ReadinessParams, _ctx: &mut Ctx) -> Result<ReadinessResult> {
    Err(Error::input(
        "command.not_available",
        "the readiness command is not available in this build yet",
    ))
}
