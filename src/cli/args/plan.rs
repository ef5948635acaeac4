use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Pilot (test) group for wave 0; repeatable.
    #[arg(long = "pilot-group", value_name = "NAME")]
    pub pilot_groups: Vec<String>,
    /// Plan without a pilot wave (not recommended).
    #[arg(long)]
    pub no_pilot: bool,
    /// Maximum users per wave.
    #[arg(long, value_name = "N")]
    pub wave_size: Option<u64>,
}

impl PlanArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default()
            .list("pilot_groups", &self.pilot_groups)
            .flag("no_pilot", self.no_pilot)
            .set("wave_size", self.wave_size)
            .done()
    }
}
