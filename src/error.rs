//! The error every capability returns to the front doors: a stable dotted code, a message that
//! says what to do, structured details (file, row, column, field path) and the kind that decides
//! the CLI exit code. Each module keeps its own thiserror enum and converts into this.

use serde::Serialize;
use serde_json::Value;

/// What went wrong, in the terms the exit code and the PowerShell module care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad input file, bad params, validation failure: exit 1.
    Input,
    /// Bad command line: exit 2.
    Usage,
    /// Cannot reach or authenticate to Graph: exit 4.
    Graph,
    /// A bug: exit 5.
    Internal,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Input => crate::exit::INPUT,
            ErrorKind::Usage => crate::exit::USAGE,
            ErrorKind::Graph => crate::exit::GRAPH,
            ErrorKind::Internal => crate::exit::INTERNAL,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable dotted code, e.g. `import.csv.bad_header`; scripts match on it.
    pub code: String,
    pub message: String,
    /// Structured details: objects such as `{"file":..,"row":..,"column":..}` or `{"path":..}`.
    pub details: Vec<Value>,
}

impl Error {
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
        }
    }
    pub fn input(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, code, message)
    }
    pub fn internal(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, code, message)
    }
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.details.push(detail);
        self
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
