//! bms2intune: plan and carry out the migration of a Microsoft 365 tenant from Basic Mobility
//! and Security (BMS) to Microsoft Intune.
//!
//! Data flows one way: `import` builds a [`model::Tenant`] in the [`workspace`]; `readiness`
//! checks it; `policy` converts BMS policies into Intune Graph JSON; `waves` plans license waves;
//! `apply` carries a plan out through `graph`; `report` renders it all. `protocol` and `cli` are
//! the two front doors onto the same handlers.

pub mod apply;
pub mod cells;
pub mod cli;
pub mod error;
pub mod exit;
pub mod graph;
pub mod import;
pub mod model;
pub mod policy;
pub mod protocol;
pub mod readiness;
pub mod report;
pub mod waves;
pub mod workspace;

pub use error::{Error, ErrorKind, Result};
