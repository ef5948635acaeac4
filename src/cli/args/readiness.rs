use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct ReadinessArgs {
    /// Exit with code 3 when a finding of this severity (or worse) exists.
    #[arg(long, value_name = "SEVERITY", value_parser = ["blocker", "warning"])]
    pub fail_on: Option<String>,
}

impl ReadinessArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default().set("fail_on", &self.fail_on).done()
    }
}
