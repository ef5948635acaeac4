//! The only HTTP client of bms2intune: bearer token, retries that honour `Retry-After` on 429,
//! 503 and 504 with exponential backoff when it is absent, a write pace that keeps well under
//! Intune's 100 writes per 20 s per app, paging through `@odata.nextLink`, and request ids for
//! the journal.
//!
//! A request that may have reached Graph but whose answer was lost (connection dropped, 504 on a
//! create) is never blindly repeated unless it is idempotent: the caller gets
//! [`CallError::Unknown`] and decides (apply looks the object up before creating it again).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::auth::{error_chain, unreachable, TokenProvider};
use crate::error::{Error, ErrorKind};

/// Retry settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff when Graph gives no `Retry-After`; doubles each attempt.
    pub base_delay: Duration,
    /// Longest single wait (also caps `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(120),
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// Graph's `request-id` header, else the `client-request-id` we sent.
    pub request_id: String,
}

/// Why a call did not succeed.
#[derive(Debug, Clone)]
pub enum CallError {
    /// Stop the run: cannot authenticate or reach Graph at all.
    Fatal(Error),
    /// Graph answered with an error status.
    Failed {
        status: u16,
        code: String,
        message: String,
        request_id: String,
    },
    /// The request may or may not have been carried out (answer lost).
    Unknown { message: String, request_id: String },
}

impl CallError {
    /// One line for results and the journal.
    pub fn reason(&self) -> String {
        match self {
            CallError::Fatal(e) => format!("{}: {}", e.code, e.message),
            CallError::Failed {
                status,
                code,
                message,
                ..
            } => {
                let mut s = format!("Graph answered {status} {code}: {message}");
                if *status == 403 {
                    s.push_str(" (the app lacks a permission: see docs/apply.md, Permissions)");
                }
                s
            }
            CallError::Unknown { message, .. } => format!(
                "outcome unknown ({message}); the next run looks the object up before trying again"
            ),
        }
    }
    pub fn request_id(&self) -> Option<&str> {
        match self {
            CallError::Fatal(_) => None,
            CallError::Failed { request_id, .. } | CallError::Unknown { request_id, .. } => {
                Some(request_id)
            }
        }
    }
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Failed { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub struct GraphClient {
    http: reqwest::Client,
    graph_url: String,
    auth: TokenProvider,
    pub retry: RetryPolicy,
    write_interval: Duration,
    last_write: Option<Instant>,
    /// Requests sent (attempts included).
    pub sent: u64,
    /// Notes for the log (throttling waits, retries); drained by the caller.
    pub notes: Vec<String>,
    seq: u64,
    seed: u64,
}

impl GraphClient {
    /// `writes_per_second` paces POST/PATCH requests (Intune allows 100 writes per 20 s per app).
    pub fn new(
        graph_url: &str,
        auth: TokenProvider,
        writes_per_second: f64,
    ) -> Result<GraphClient, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(100))
            .user_agent(concat!("bms2intune/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    "graph.client",
                    format!("cannot build the HTTP client: {}", error_chain(&e)),
                )
            })?;
        let wps = if writes_per_second.is_finite() && writes_per_second > 0.0 {
            writes_per_second
        } else {
            4.0
        };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ ((std::process::id() as u64) << 32);
        Ok(GraphClient {
            http,
            graph_url: graph_url.trim_end_matches('/').to_string(),
            auth,
            retry: RetryPolicy::default(),
            write_interval: Duration::from_secs_f64(1.0 / wps),
            last_write: None,
            sent: 0,
            notes: Vec::new(),
            seq: 0,
            seed,
        })
    }

    pub fn graph_url(&self) -> &str {
        &self.graph_url
    }

    /// Fetches a token now, so that bad credentials stop the run before any change.
    pub async fn authenticate(&mut self) -> Result<(), Error> {
        self.auth.token(&self.http).await.map(|_| ())
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.graph_url, path)
        }
    }

    fn client_request_id(&mut self) -> String {
        self.seq += 1;
        let mut x = self.seed ^ self.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (x >> 32) as u32,
            (x >> 16) as u16,
            (x & 0xfff) as u16,
            (self.seq & 0xfff) as u16,
            (self.seed ^ x) & 0xffff_ffff_ffff
        )
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(10);
        (self.retry.base_delay * factor).min(self.retry.max_delay)
    }

    /// Sends one request with retries. `idempotent` says whether repeating it after a lost answer
    /// is harmless (GET, `assign`, `assignLicense`).
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Reply, CallError> {
        let url = self.url(path);
        let crid = self.client_request_id();
        let is_write = method != Method::GET;
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if is_write {
                if let Some(last) = self.last_write {
                    let next = last + self.write_interval;
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    }
                }
                self.last_write = Some(Instant::now());
            }
            let token = self
                .auth
                .token(&self.http)
                .await
                .map_err(CallError::Fatal)?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose())
                .header("client-request-id", &crid)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            self.sent += 1;
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    // Refused connections get a few quick tries only: nothing listens there.
                    let retry_ok = if e.is_connect() {
                        attempt < 3
                    } else {
                        idempotent && attempt < self.retry.max_attempts
                    };
                    if retry_ok {
                        let d = self.backoff(attempt);
                        self.notes.push(format!(
                            "{method} {}: {}; retrying in {:.1}s",
                            strip_query(&url),
                            error_chain(&e),
                            d.as_secs_f64()
                        ));
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    if e.is_connect() {
                        return Err(CallError::Fatal(unreachable("Microsoft Graph", &url, &e)));
                    }
                    if idempotent {
                        return Err(CallError::Failed {
                            status: 0,
                            code: "network".into(),
                            message: error_chain(&e),
                            request_id: crid,
                        });
                    }
                    return Err(CallError::Unknown {
                        message: error_chain(&e),
                        request_id: crid,
                    });
                }
            };
            let status = resp.status().as_u16();
            let request_id = resp
                .headers()
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(|s| s.to_string())
                .unwrap_or_else(|| crid.clone());
            let retry_after = resp
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = resp.text().await.unwrap_or_default();
            let body: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            if (200..300).contains(&status) {
                return Ok(Reply {
                    status,
                    body,
                    request_id,
                });
            }
            if status == 401 {
                if !refreshed && self.auth.can_refresh() {
                    refreshed = true;
                    self.auth.invalidate();
                    continue;
                }
                let (code, message) = graph_error_parts(&body);
                return Err(CallError::Fatal(
                    Error::new(
                        ErrorKind::Graph,
                        "graph.auth.failed",
                        format!("Microsoft Graph refused the access token (401 {code}: {message}); get a new token or check the app registration"),
                    )
                    .with_detail(serde_json::json!({ "status": 401, "request_id": request_id })),
                ));
            }
            let retryable = status == 429 || status == 503 || (status == 504 && idempotent);
            if retryable && attempt < self.retry.max_attempts {
                let d = retry_after
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(self.retry.max_delay);
                self.notes.push(format!(
                    "{method} {}: Graph answered {status}{}; waiting {:.1}s before attempt {}",
                    strip_query(&url),
                    if retry_after.is_some() {
                        " with Retry-After"
                    } else {
                        ""
                    },
                    d.as_secs_f64(),
                    attempt + 1
                ));
                tokio::time::sleep(d).await;
                continue;
            }
            if status == 504 && !idempotent {
                return Err(CallError::Unknown {
                    message: "Graph answered 504 Gateway Timeout".into(),
                    request_id,
                });
            }
            let (code, message) = graph_error_parts(&body);
            return Err(CallError::Failed {
                status,
                code,
                message,
                request_id,
            });
        }
    }

    /// GETs every page of a collection, following `@odata.nextLink` verbatim.
    pub async fn get_all(&mut self, path: &str) -> Result<Vec<Value>, CallError> {
        let mut out = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0u32;
        while let Some(p) = next.take() {
            pages += 1;
            if pages > 100_000 {
                break;
            }
            let reply = self.call(Method::GET, &p, None, true).await?;
            if let Some(items) = reply.body.get("value").and_then(|v| v.as_array()) {
                out.extend(items.iter().cloned());
            }
            next = reply
                .body
                .get("@odata.nextLink")
                .and_then(|v| v.as_str())
                .map(|s| s.to_string());
        }
        Ok(out)
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

fn graph_error_parts(body: &Value) -> (String, String) {
    let e = body.get("error");
    let code = e
        .and_then(|e| e.get("code"))
        .and_then(|v| v.as_str())
        .or_else(|| e.and_then(|v| v.as_str()))
        .unwrap_or("")
        .to_string();
    let message = e
        .and_then(|e| e.get("message"))
        .and_then(|v| v.as_str())
        .or_else(|| body.get("error_description").and_then(|v| v.as_str()))
        .or_else(|| body.as_str())
        .unwrap_or("")
        .chars()
        .take(500)
        .collect();
    (code, message)
}
