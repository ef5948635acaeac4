use super::Params;
use serde_json::{json, Map, Value};

/// How `apply` authenticates to Microsoft Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    /// App registration + client secret (BMS2INTUNE_CLIENT_SECRET or --secret-stdin).
    ClientSecret,
    /// A ready access token (BMS2INTUNE_ACCESS_TOKEN or --secret-stdin).
    AccessToken,
    /// Azure managed identity.
    ManagedIdentity,
    /// App registration + certificate (not supported by this build).
    Certificate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyStep {
    /// Create every Intune object of intune/manifest.json (unassigned).
    Policies,
    /// Assign them to the pilot (test) group.
    AssignPilot,
    /// The policy gate: assign them to the recommended groups.
    Assign,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["step", "wave"])))]
pub struct ApplyArgs {
    /// The step to run, in this order: policies, assign-pilot, (--wave 0), assign, (--wave 1..n).
    #[arg(long, value_enum)]
    pub step: Option<ApplyStep>,
    /// The wave to license (0 = pilot).
    #[arg(long, value_name = "N")]
    pub wave: Option<u32>,
    /// List the Graph operations without sending anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Run a wave although the policy gate or the previous wave is not done (not recommended).
    #[arg(long)]
    pub force: bool,
    /// SKU part number to license the wave with (default: the one Intune product with free seats).
    #[arg(long, value_name = "PART_NUMBER")]
    pub sku: Option<String>,
    /// How to authenticate (default: access token if BMS2INTUNE_ACCESS_TOKEN is set, else client
    /// secret with BMS2INTUNE_TENANT_ID/BMS2INTUNE_CLIENT_ID).
    #[arg(long, value_enum)]
    pub auth: Option<AuthMethod>,
    /// Directory (tenant) id for client-secret or certificate auth (default: BMS2INTUNE_TENANT_ID).
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,
    /// Application (client) id (default: BMS2INTUNE_CLIENT_ID); for managed identity, the
    /// user-assigned identity's client id.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the client secret or access token from the first line of stdin (never pass it as an argument).
    #[arg(long)]
    pub secret_stdin: bool,
    /// Certificate file for --auth certificate.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<String>,
    /// Microsoft Graph root URL (national clouds, or a local simulator for tests).
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Microsoft identity platform root URL.
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Pace of write requests per second (default 4).
    #[arg(long, value_name = "N")]
    pub writes_per_second: Option<f64>,
}

fn read_stdin_line() -> Option<String> {
    let mut s = String::new();
    std::io::stdin().read_line(&mut s).ok()?;
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

impl ApplyArgs {
    pub fn params(&self) -> Map<String, Value> {
        let step = self.step.map(|s| match s {
            ApplyStep::Policies => "policies",
            ApplyStep::AssignPilot => "assign-pilot",
            ApplyStep::Assign => "assign",
        });
        // Secrets: from stdin when asked; otherwise apply reads the environment itself.
        let secret = if self.secret_stdin && !self.dry_run {
            read_stdin_line()
        } else {
            None
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let tenant_id = self
            .tenant_id
            .clone()
            .or_else(|| env("BMS2INTUNE_TENANT_ID"));
        let client_id = self
            .client_id
            .clone()
            .or_else(|| env("BMS2INTUNE_CLIENT_ID"));
        let auth = match self.auth {
            None if secret.is_none() => None,
            // A secret on stdin without --auth: a client secret when the tenant and client ids
            // are known, else an access token.
            None if tenant_id.is_some() && client_id.is_some() => Some(json!({
                "method": "client_secret",
                "tenant_id": tenant_id.clone().unwrap_or_default(),
                "client_id": client_id.clone().unwrap_or_default(),
                "client_secret": secret,
            })),
            None => Some(json!({ "method": "access_token", "access_token": secret })),
            Some(AuthMethod::AccessToken) => {
                Some(json!({ "method": "access_token", "access_token": secret }))
            }
            Some(AuthMethod::ClientSecret) => Some(json!({
                "method": "client_secret",
                "tenant_id": tenant_id.clone().unwrap_or_default(),
                "client_id": client_id.clone().unwrap_or_default(),
                "client_secret": secret,
            })),
            Some(AuthMethod::ManagedIdentity) => {
                Some(json!({ "method": "managed_identity", "client_id": self.client_id.clone() }))
            }
            Some(AuthMethod::Certificate) => Some(json!({
                "method": "certificate",
                "tenant_id": tenant_id.clone().unwrap_or_default(),
                "client_id": client_id.clone().unwrap_or_default(),
                "certificate_path": self.certificate,
            })),
        };
        let auth = auth.map(|a| match a {
            Value::Object(m) => {
                Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            other => other,
        });
        Params::default()
            .set("step", step)
            .set("wave", self.wave)
            .flag("dry_run", self.dry_run)
            .flag("force", self.force)
            .set("sku", &self.sku)
            .set("auth", auth)
            .set("graph_url", &self.graph_url)
            .set("login_url", &self.login_url)
            .set("writes_per_second", self.writes_per_second)
            .done()
    }
}
