use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The wave to license (0 = pilot).
    #[arg(long, value_name = "N")]
    pub wave: Option<u32>,
    /// Show what would be done without changing the tenant.
    #[arg(long)]
    pub dry_run: bool,
}

impl ApplyArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default()
            .set("wave", self.wave)
            .flag("dry_run", self.dry_run)
            .done()
    }
}
