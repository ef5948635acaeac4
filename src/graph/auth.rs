//! Getting an access token for Microsoft Graph without ever letting a secret out: secrets live in
//! [`Secret`] (whose `Debug` prints `***`), are sent only in the token request body, and no error
//! message quotes a request.
//!
//! Supported: OAuth 2.0 client credentials with a client secret, an access token obtained
//! elsewhere (Connect-MgGraph, Get-AzAccessToken), and Azure managed identity (App Service /
//! Functions / Automation `IDENTITY_ENDPOINT`, else the VM instance metadata endpoint).
//! Certificate credentials are accepted in params but refused with `graph.auth.unsupported`:
//! signing the client assertion (RS256) would need an RSA crate this build does not carry.

use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind};

/// Environment variable holding the client secret when it is not in the params.
pub const ENV_CLIENT_SECRET: &str = "BMS2INTUNE_CLIENT_SECRET";
/// Environment variable holding a ready access token when it is not in the params.
pub const ENV_ACCESS_TOKEN: &str = "BMS2INTUNE_ACCESS_TOKEN";
/// Environment variables for the non-secret parts, used when params give no `auth` at all.
pub const ENV_TENANT_ID: &str = "BMS2INTUNE_TENANT_ID";
pub const ENV_CLIENT_ID: &str = "BMS2INTUNE_CLIENT_ID";

/// A secret string: never printed, never serialized.
#[derive(Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How to authenticate to Microsoft Graph (application permissions; see docs/apply.md for the
/// least-privilege list). Secrets may be left out here and given in the environment instead
/// (`BMS2INTUNE_CLIENT_SECRET`, `BMS2INTUNE_ACCESS_TOKEN`); they are never accepted on a command line.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthParams {
    /// App registration with a client secret (OAuth 2.0 client credentials).
    ClientSecret {
        /// Directory (tenant) id or a verified domain.
        tenant_id: String,
        /// Application (client) id of the app registration.
        client_id: String,
        /// The client secret; when absent, `BMS2INTUNE_CLIENT_SECRET` is read.
        #[serde(default)]
        client_secret: Option<Secret>,
    },
    /// An access token for Graph obtained elsewhere (e.g. Get-AzAccessToken, Connect-MgGraph).
    AccessToken {
        /// The bearer token; when absent, `BMS2INTUNE_ACCESS_TOKEN` is read.
        #[serde(default)]
        access_token: Option<Secret>,
    },
    /// Azure managed identity (Automation, Functions, App Service, VMs).
    ManagedIdentity {
        /// Client id of a user-assigned identity; absent = system-assigned.
        #[serde(default)]
        client_id: Option<String>,
    },
    /// App registration with a certificate. Not supported by this build (needs RS256 signing);
    /// refused with `graph.auth.unsupported`.
    Certificate {
        tenant_id: String,
        client_id: String,
        /// PEM or PFX file holding the private key.
        #[serde(default)]
        certificate_path: Option<String>,
        /// Thumbprint of a certificate in the Windows certificate store.
        #[serde(default)]
        thumbprint: Option<String>,
    },
}

impl AuthParams {
    /// Fills missing secrets from the environment; with no params at all, builds them from the
    /// environment (`BMS2INTUNE_ACCESS_TOKEN`, else tenant/client id + client secret).
    pub fn resolve(params: Option<AuthParams>) -> Result<AuthParams, Error> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let p = match params {
            Some(p) => p,
            None => {
                if let Some(t) = env(ENV_ACCESS_TOKEN) {
                    AuthParams::AccessToken {
                        access_token: Some(Secret(t)),
                    }
                } else if let (Some(tenant_id), Some(client_id)) =
                    (env(ENV_TENANT_ID), env(ENV_CLIENT_ID))
                {
                    AuthParams::ClientSecret {
                        tenant_id,
                        client_id,
                        client_secret: None,
                    }
                } else {
                    return Err(Error::new(
                        ErrorKind::Graph,
                        "graph.auth.missing",
                        "no Graph credentials: give params.auth (method client_secret, access_token or managed_identity), or on the command line --auth with --tenant-id/--client-id and the secret in BMS2INTUNE_CLIENT_SECRET or on stdin (--secret-stdin)",
                    ));
                }
            }
        };
        if let AuthParams::ClientSecret {
            tenant_id,
            client_id,
            ..
        }
        | AuthParams::Certificate {
            tenant_id,
            client_id,
            ..
        } = &p
        {
            if tenant_id.trim().is_empty() || client_id.trim().is_empty() {
                return Err(Error::new(
                    ErrorKind::Graph,
                    "graph.auth.missing",
                    "the tenant id and client id are needed: --tenant-id/--client-id or BMS2INTUNE_TENANT_ID/BMS2INTUNE_CLIENT_ID",
                ));
            }
        }
        Ok(match p {
            AuthParams::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
            } => {
                let secret = client_secret
                    .filter(|s| !s.is_empty())
                    .or_else(|| env(ENV_CLIENT_SECRET).map(Secret));
                if secret.is_none() {
                    return Err(Error::new(
                        ErrorKind::Graph,
                        "graph.auth.missing",
                        format!("no client secret: set {ENV_CLIENT_SECRET} or pipe it on stdin with --secret-stdin (never on the command line)"),
                    ));
                }
                AuthParams::ClientSecret {
                    tenant_id,
                    client_id,
                    client_secret: secret,
                }
            }
            AuthParams::AccessToken { access_token } => {
                let tok = access_token
                    .filter(|s| !s.is_empty())
                    .or_else(|| env(ENV_ACCESS_TOKEN).map(Secret));
                if tok.is_none() {
                    return Err(Error::new(
                        ErrorKind::Graph,
                        "graph.auth.missing",
                        format!("no access token: set {ENV_ACCESS_TOKEN} or pipe it on stdin with --secret-stdin"),
                    ));
                }
                AuthParams::AccessToken { access_token: tok }
            }
            other => other,
        })
    }

    pub fn method(&self) -> &'static str {
        match self {
            AuthParams::ClientSecret { .. } => "client_secret",
            AuthParams::AccessToken { .. } => "access_token",
            AuthParams::ManagedIdentity { .. } => "managed_identity",
            AuthParams::Certificate { .. } => "certificate",
        }
    }
}

fn auth_failed(message: String) -> Error {
    Error::new(ErrorKind::Graph, "graph.auth.failed", message)
}

pub(crate) fn unreachable(what: &str, url: &str, e: &reqwest::Error) -> Error {
    // reqwest's Display may include the URL, never a body; strip the query to be safe.
    let url = url.split('?').next().unwrap_or(url);
    Error::new(
        ErrorKind::Graph,
        "graph.unreachable",
        format!("cannot reach {what} at {url}: {}; check the network, proxy and the graph_url/login_url settings", error_chain(e)),
    )
    .with_detail(serde_json::json!({ "url": url }))
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// Hands out a valid bearer token, fetching or refreshing it as needed.
pub struct TokenProvider {
    params: AuthParams,
    login_url: String,
    graph_url: String,
    cached: Option<(Secret, Option<Instant>)>,
}

impl TokenProvider {
    pub fn new(params: AuthParams, login_url: &str, graph_url: &str) -> Result<Self, Error> {
        if let AuthParams::Certificate { .. } = params {
            return Err(Error::new(
                ErrorKind::Graph,
                "graph.auth.unsupported",
                "certificate credentials are not supported by this build (signing the client assertion needs an RSA library it does not carry); use a client secret (BMS2INTUNE_CLIENT_SECRET), a managed identity, or an access token from Get-AzAccessToken / Connect-MgGraph",
            ));
        }
        Ok(TokenProvider {
            params,
            login_url: login_url.trim_end_matches('/').to_string(),
            graph_url: graph_url.trim_end_matches('/').to_string(),
            cached: None,
        })
    }

    /// True when a refused token can be replaced by asking again.
    pub fn can_refresh(&self) -> bool {
        !matches!(self.params, AuthParams::AccessToken { .. })
    }

    pub fn invalidate(&mut self) {
        if self.can_refresh() {
            self.cached = None;
        }
    }

    pub async fn token(&mut self, http: &reqwest::Client) -> Result<Secret, Error> {
        if let Some((tok, exp)) = &self.cached {
            if fresh(exp) {
                return Ok(tok.clone());
            }
        }
        let (tok, exp) = self.fetch(http).await?;
        self.cached = Some((tok.clone(), exp));
        Ok(tok)
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<(Secret, Option<Instant>), Error> {
        match &self.params {
            AuthParams::AccessToken { access_token } => match access_token {
                Some(t) => Ok((t.clone(), None)),
                None => Err(auth_failed("no access token given".into())),
            },
            AuthParams::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
            } => {
                let Some(secret) = client_secret else {
                    return Err(auth_failed("no client secret given".into()));
                };
                let url = format!(
                    "{}/{}/oauth2/v2.0/token",
                    self.login_url,
                    form_encode(tenant_id)
                );
                let body = format!(
                    "client_id={}&scope={}&client_secret={}&grant_type=client_credentials",
                    form_encode(client_id),
                    form_encode(&format!("{}/.default", self.graph_url)),
                    form_encode(secret.expose())
                );
                let resp = http
                    .post(&url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| unreachable("the Microsoft identity platform", &url, &e))?;
                token_response(resp, "the token endpoint").await
            }
            AuthParams::ManagedIdentity { client_id } => {
                let resource = form_encode(&self.graph_url);
                let cid = client_id
                    .as_deref()
                    .map(|c| format!("&client_id={}", form_encode(c)))
                    .unwrap_or_default();
                let (url, req) = match (
                    std::env::var("IDENTITY_ENDPOINT").ok(),
                    std::env::var("IDENTITY_HEADER").ok(),
                ) {
                    (Some(ep), Some(h)) => {
                        let url = format!("{ep}?resource={resource}&api-version=2019-08-01{cid}");
                        let req = http.get(&url).header("X-IDENTITY-HEADER", h);
                        (url, req)
                    }
                    _ => {
                        let url = format!("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}{cid}");
                        let req = http.get(&url).header("Metadata", "true");
                        (url, req)
                    }
                };
                let resp = req
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await
                    .map_err(|e| unreachable("the managed identity endpoint", &url, &e))?;
                token_response(resp, "the managed identity endpoint").await
            }
            AuthParams::Certificate { .. } => Err(Error::new(
                ErrorKind::Graph,
                "graph.auth.unsupported",
                "certificate credentials are not supported by this build",
            )),
        }
    }
}

/// A token is used until five minutes before it runs out (`None` = lifetime unknown).
fn fresh(exp: &Option<Instant>) -> bool {
    match exp {
        None => true,
        Some(exp) => Instant::now() + Duration::from_secs(300) < *exp,
    }
}

async fn token_response(
    resp: reqwest::Response,
    what: &str,
) -> Result<(Secret, Option<Instant>), Error> {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let err = body.get("error").and_then(|v| v.as_str()).unwrap_or("");
        // The first line of error_description carries the AADSTS code and says what is wrong;
        // the rest is trace and correlation ids.
        let desc = body
            .get("error_description")
            .and_then(|v| v.as_str())
            .and_then(|d| d.lines().next())
            .unwrap_or("");
        return Err(auth_failed(format!(
            "{what} refused the credentials (HTTP {status} {err}: {desc}); check the tenant id, client id and secret, and that the secret has not expired"
        ))
        .with_detail(serde_json::json!({ "status": status, "error": err })));
    }
    let Some(tok) = body.get("access_token").and_then(|v| v.as_str()) else {
        return Err(auth_failed(format!(
            "{what} answered without an access_token"
        )));
    };
    let secs = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .unwrap_or(3600);
    Ok((
        Secret(tok.to_string()),
        Some(Instant::now() + Duration::from_secs(secs)),
    ))
}

/// Percent-encodes everything but RFC 3986 unreserved characters (good for form bodies and
/// query values alike).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let p = AuthParams::ClientSecret {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Some(Secret::new("hunter2")),
        };
        let s = format!("{p:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("***"));
    }

    #[test]
    fn parses_each_method_and_rejects_unknown_fields() {
        let p: AuthParams =
            serde_json::from_value(serde_json::json!({"method":"managed_identity"})).unwrap();
        assert_eq!(p.method(), "managed_identity");
        let p: AuthParams = serde_json::from_value(
            serde_json::json!({"method":"client_secret","tenant_id":"t","client_id":"c","client_secret":"s"}),
        )
        .unwrap();
        assert_eq!(p.method(), "client_secret");
        assert!(serde_json::from_value::<AuthParams>(
            serde_json::json!({"method":"access_token","token":"x"})
        )
        .is_err());
        assert!(
            serde_json::from_value::<AuthParams>(serde_json::json!({"method":"password"})).is_err()
        );
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b/c=d&e"), "a%20b%2Fc%3Dd%26e");
        assert_eq!(form_encode("Az09-._~"), "Az09-._~");
    }
}
