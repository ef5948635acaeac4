use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Android target: device administrator (`device-admin`) or work profile (`work-profile`).
    #[arg(long, value_name = "TARGET", value_parser = ["device-admin", "work-profile"])]
    pub android_target: Option<String>,
    /// Prefix for every Intune object's display name.
    #[arg(long, value_name = "PREFIX")]
    pub name_prefix: Option<String>,
}

impl ConvertArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default()
            .set("android_target", &self.android_target)
            .set("name_prefix", &self.name_prefix)
            .done()
    }
}
