use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Pilot (test) group for wave 0, by display name or id; repeatable. Members resolved transitively.
    #[arg(long = "pilot-group", value_name = "NAME")]
    pub pilot_groups: Vec<String>,
    /// Plan without a pilot wave (not recommended).
    #[arg(long)]
    pub no_pilot: bool,
    /// Maximum users per wave [default: 500].
    #[arg(long, value_name = "N")]
    pub wave_size: Option<u64>,
    /// Maximum BMS devices per wave [default: no limit].
    #[arg(long, value_name = "N")]
    pub max_devices: Option<u64>,
    /// Free Intune seats to plan with, overriding enabled − consumed from the imported licenses.
    #[arg(long, value_name = "N")]
    pub seats: Option<u64>,
    /// Hold back users whose devices are all unsupported by Intune.
    #[arg(long)]
    pub skip_unsupported: bool,
    /// Keep users sharing this key in one wave where the unit fits.
    #[arg(long, value_name = "KEY", value_parser = ["group", "department", "office", "manager"])]
    pub keep_together: Option<String>,
    /// Priority order, KEY=V1,V2 (KEY: department, office, manager, group), e.g. department=Sales,IT.
    #[arg(long, value_name = "KEY=V1,V2")]
    pub order: Option<String>,
    /// Date of the pilot, YYYY-MM-DD (without it waves carry no dates).
    #[arg(long, value_name = "DATE")]
    pub start: Option<String>,
    /// Days between waves [default: 7].
    #[arg(long, value_name = "N")]
    pub every: Option<u32>,
    /// Days between the pilot and the policy gate [default: 7].
    #[arg(long, value_name = "N")]
    pub soak_days: Option<u32>,
    /// Allow waves on Saturdays and Sundays (default: business days only).
    #[arg(long)]
    pub calendar_days: bool,
    /// A date no wave may fall on, YYYY-MM-DD; repeatable.
    #[arg(long = "holiday", value_name = "DATE")]
    pub holidays: Vec<String>,
    // (Doc text avoids the one-letter placeholder: clap prints it as a line break.)
    /// License group name per wave; {nn} = two-digit wave number, a one-letter n placeholder = plain number [default: "BMS2Intune Wave {nn}"].
    #[arg(long, value_name = "PATTERN")]
    pub group_pattern: Option<String>,
    /// Re-import an edited plan.xlsx or plan.csv, validate it and report changes against plan.json.
    #[arg(long, value_name = "FILE")]
    pub from_edited: Option<String>,
}

impl PlanArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default()
            .list("pilot_groups", &self.pilot_groups)
            .flag("no_pilot", self.no_pilot)
            .set("wave_size", self.wave_size)
            .set("max_devices", self.max_devices)
            .set("seats", self.seats)
            .flag("skip_unsupported", self.skip_unsupported)
            .set("keep_together", &self.keep_together)
            .set("order", &self.order)
            .set("start", &self.start)
            .set("every", self.every)
            .set("soak_days", self.soak_days)
            .flag("calendar_days", self.calendar_days)
            .list("holidays", &self.holidays)
            .set("group_pattern", &self.group_pattern)
            .set("from_edited", &self.from_edited)
            .done()
    }
}
