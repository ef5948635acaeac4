//! Command-line arguments per command; each turns itself into the protocol params object.

mod apply;
mod convert;
mod import;
mod plan;
mod readiness;
mod report;

pub use apply::ApplyArgs;
pub use convert::ConvertArgs;
pub use import::ImportArgs;
pub use plan::PlanArgs;
pub use readiness::ReadinessArgs;
pub use report::{ReportArgs, StatusArgs};

use serde_json::{Map, Value};

/// Small builder so each args file reads as a list of param names.
#[derive(Default)]
pub(crate) struct Params(Map<String, Value>);

impl Params {
    pub fn set<T: serde::Serialize>(mut self, key: &str, value: T) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            if !v.is_null() {
                self.0.insert(key.to_string(), v);
            }
        }
        self
    }
    /// Sets a boolean only when true, so defaults stay with the handler.
    pub fn flag(self, key: &str, on: bool) -> Self {
        if on {
            self.set(key, true)
        } else {
            self
        }
    }
    /// Sets a list only when non-empty.
    pub fn list<T: serde::Serialize>(self, key: &str, items: &[T]) -> Self {
        if items.is_empty() {
            self
        } else {
            self.set(key, items)
        }
    }
    pub fn done(self) -> Map<String, Value> {
        self.0
    }
}
