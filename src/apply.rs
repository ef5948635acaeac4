//! Apply: turns a plan into Graph operations with a journal, resumable and idempotent.
//!
//! Not built yet. Until the Graph client exists, `apply` refuses clearly instead of pretending.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::protocol::{CommandOutput, Ctx};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyParams {
    /// Workspace directory (default `./bms2intune-work`).
    #[serde(default)]
    pub workspace: Option<String>,
    /// The wave to license (0 = pilot).
    #[serde(default)]
    pub wave: Option<u32>,
    /// Show what would be done without changing the tenant.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ApplyResult {}

impl CommandOutput for ApplyResult {}

pub fn run(_p: ApplyParams, _ctx: &mut Ctx) -> Result<ApplyResult> {
    Err(Error::input(
        "apply.not_available",
        "applying a plan to a tenant through Microsoft Graph is not built yet; use the generated files in <workspace>/intune and the wave plan to apply by hand",
    ))
}
