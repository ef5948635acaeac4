use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {}

impl StatusArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default().done()
    }
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Directory to write the report into (default: `<workspace>/report`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
}

impl ReportArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default().set("out", &self.out).done()
    }
}
