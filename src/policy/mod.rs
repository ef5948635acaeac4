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

/// A configured BMS setting of one policy that will not carry over one-to-one to Intune
/// (used by readiness check 9 and the mapping report).
#[derive(Debug, Clone, Serialize)]
pub struct SettingCaveat {
    /// BMS policy name.
    pub policy: String,
    /// BMS setting (cmdlet parameter name), e.g. `PasswordTimeout`.
    pub setting: String,
    /// `ios`, `android` or `windows`.
    pub platform: String,
    /// `converted_with_loss`, `clamped`, `manual` or `not_migrated`.
    pub status: String,
    /// Where the setting goes or why it does not.
    pub note: String,
}

/// The configured settings of `policy` that will NOT carry over one-to-one, driven by the same
/// mapping data as `convert` (Android as device administrator).
pub fn caveats(_policy: &crate::model::BmsPolicy) -> Vec<SettingCaveat> {
    Vec::new()
}

pub fn run(_p: ConvertParams, _ctx: &mut Ctx) -> Result<ConvertResult> {
    Err(Error::input(
        "command.not_available",
        "the convert command is not available in this build yet",
    ))
}
