//! Graph: the only HTTP client (auth, paging, throttling, retries) and a local simulator of the
//! slice of Microsoft Graph that `apply` uses. No domain decisions here: `apply` decides what to
//! send.

pub mod auth;
pub mod client;
pub mod sim;

pub use auth::{AuthParams, Secret, TokenProvider};
pub use client::{CallError, GraphClient, Reply, RetryPolicy};

/// Default Microsoft Graph endpoint.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
/// Default Microsoft identity platform endpoint.
pub const DEFAULT_LOGIN_URL: &str = "https://login.microsoftonline.com";
