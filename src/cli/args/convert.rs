use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Android target: device administrator (`device-admin`, Microsoft's migration target) or
    /// Android Enterprise work profile (`work-profile`; device administrator is unsupported on
    /// Google Mobile Services devices since 2024-12-31).
    #[arg(long, value_name = "TARGET", value_parser = ["device-admin", "work-profile"])]
    pub android_target: Option<String>,
    /// Prefix for every Intune object's display name.
    #[arg(long, value_name = "PREFIX")]
    pub name_prefix: Option<String>,
    /// Test (pilot) group by display name or object id; repeat for several. Each object also
    /// gets a pilot assignment body for these groups.
    #[arg(long = "test-group", value_name = "NAME_OR_ID")]
    pub test_groups: Vec<String>,
}

impl ConvertArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default()
            .set("android_target", &self.android_target)
            .set("name_prefix", &self.name_prefix)
            .list("test_groups", &self.test_groups)
            .done()
    }
}
