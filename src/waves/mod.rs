//! Waves: plans license waves (pilot, policy gate, waves bounded by seats and size).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct PlanResult {}

impl CommandOutput for PlanResult {}

pub fn run(_p: PlanParams, _ctx: &mut Ctx) -> Result<PlanResult> {
    Err(Error::input(
        "command.not_available",
        "the plan command is not available in this build yet",
    ))
}
