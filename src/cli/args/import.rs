use super::Params;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files to import (CSV, XLSX/XLSM/XLS/ODS, JSON); `-` reads stdin (needs --as).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Treat every file as this kind instead of recognising it from its headers.
    #[arg(long = "as", value_name = "KIND", value_parser = ["users", "groups", "members", "licenses", "products", "devices", "policies", "plan", "reference"])]
    pub kind: Option<String>,
    /// Read only this sheet of a workbook.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Merge into the existing snapshot instead of replacing it.
    #[arg(long)]
    pub add: bool,
    /// Any rejected row makes the import fail (exit 1), for scheduled jobs.
    #[arg(long)]
    pub strict: bool,
}

impl ImportArgs {
    pub fn params(&self) -> Map<String, Value> {
        Params::default()
            .set("files", &self.files)
            .set("as", &self.kind)
            .set("sheet", &self.sheet)
            .flag("add", self.add)
            .flag("strict", self.strict)
            .done()
    }
}
