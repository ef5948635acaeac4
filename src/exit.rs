//! Process exit codes (documented in docs/protocol.md).

/// Success.
pub const OK: i32 = 0;
/// Input or validation error.
pub const INPUT: i32 = 1;
/// Usage error (bad command line).
pub const USAGE: i32 = 2;
/// Done, but with blockers or partial failure (readiness blockers with --fail-on, apply items failed).
pub const BLOCKERS: i32 = 3;
/// Cannot reach or authenticate to Microsoft Graph.
pub const GRAPH: i32 = 4;
/// Internal error (a bug: please report it).
pub const INTERNAL: i32 = 5;
