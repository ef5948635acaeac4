//! A local Microsoft Graph simulator for tests: a tiny HTTP/1.1 server on 127.0.0.1 (std::net, one
//! thread per connection, `Connection: close`) with in-memory state for the slice of Graph that
//! `apply` uses: Intune compliance policies and configuration profiles (v1.0 and beta paths, the
//! `assign` action), groups (create, `$filter=displayName eq`, members, `members/$ref`,
//! `members@odata.bind` PATCH of up to 20, `assignLicense`), users (by id or UPN),
//! `subscribedSkus`, the client-credentials token endpoint and a managed-identity endpoint.
//!
//! It can inject throttling (429 with or without `Retry-After`) and failures, and records every
//! request so tests can assert what the client really sent. It is not a faithful Graph: it checks
//! what bms2intune relies on and answers in Graph's shapes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

/// A license product the simulated tenant holds.
#[derive(Debug, Clone)]
pub struct SimSku {
    pub sku_id: String,
    pub part_number: String,
    pub enabled: u64,
    pub consumed: u64,
    pub service_plans: Vec<String>,
}

/// What the simulated tenant starts with.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Accepted as a bearer token without going through the token endpoint.
    pub static_token: String,
    /// Value the managed-identity endpoint expects in `X-IDENTITY-HEADER`.
    pub identity_header: String,
    /// Page size of every collection (to exercise `@odata.nextLink`).
    pub page_size: usize,
    pub skus: Vec<SimSku>,
    /// (object id, userPrincipalName)
    pub users: Vec<(String, String)>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            tenant_id: "00000000-0000-0000-0000-00000000aaaa".into(),
            client_id: "00000000-0000-0000-0000-00000000bbbb".into(),
            client_secret: "sim-client-secret".into(),
            static_token: "sim-static-token".into(),
            identity_header: "sim-identity-header".into(),
            page_size: 100,
            skus: Vec::new(),
            users: Vec::new(),
        }
    }
}

/// What an injected fault does to a matching request.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// 429 TooManyRequests, with `Retry-After: N` when given.
    Throttle { retry_after: Option<u64> },
    /// Answer with this status and a Graph error body, without processing the request.
    Status { status: u16, code: String },
    /// Like `Status`, with Graph's error message.
    Respond {
        status: u16,
        code: String,
        message: String,
    },
    /// Process the request (state changes), then close the connection without answering.
    DropAfterProcessing,
}

/// Injects `action` on requests whose method matches (if given) and whose path contains
/// `path_contains`: the first `skip` matching requests pass, the next `times` get the fault.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<String>,
    pub path_contains: String,
    pub skip: usize,
    pub times: usize,
    pub action: FaultAction,
    seen: usize,
}

impl Fault {
    pub fn new(method: Option<&str>, path_contains: &str, action: FaultAction) -> Fault {
        Fault {
            method: method.map(|m| m.to_string()),
            path_contains: path_contains.to_string(),
            skip: 0,
            times: 1,
            action,
            seen: 0,
        }
    }
    pub fn skip(mut self, n: usize) -> Fault {
        self.skip = n;
        self
    }
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }
}

/// One request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query as sent (percent-encoded).
    pub target: String,
    /// Path without the query, percent-decoded.
    pub path: String,
    pub body: String,
    pub authorization: Option<String>,
    /// Status answered; 0 when the connection was dropped.
    pub status: u16,
    /// Time since the simulator started.
    pub at: Duration,
}

#[derive(Debug, Default)]
struct Group {
    id: String,
    display_name: String,
    body: Map<String, Value>,
    members: Vec<String>,
    /// skuIds assigned to the group.
    licenses: Vec<String>,
}

/// The simulator's in-memory tenant; tests may inspect it through [`Simulator::state`].
#[derive(Debug, Default)]
pub struct SimState {
    pub config: SimConfig,
    /// collection name → objects (with `id`), in creation order.
    pub device_management: BTreeMap<String, Vec<Value>>,
    /// object id → the last assignments body posted to `/assign`.
    pub assignments: BTreeMap<String, Value>,
    groups: Vec<Group>,
    pub requests: Vec<RecordedRequest>,
    pub faults: Vec<Fault>,
    tokens: Vec<String>,
    next_id: u64,
    started: Option<Instant>,
}

impl SimState {
    fn new_id(&mut self, kind: u32) -> String {
        self.next_id += 1;
        format!("{kind:08x}-0000-4000-8000-{:012x}", self.next_id)
    }

    /// (id, displayName, member ids, licensed skuIds) of every group.
    pub fn groups(&self) -> Vec<(String, String, Vec<String>, Vec<String>)> {
        self.groups
            .iter()
            .map(|g| {
                (
                    g.id.clone(),
                    g.display_name.clone(),
                    g.members.clone(),
                    g.licenses.clone(),
                )
            })
            .collect()
    }

    /// Adds a group directly (test setup).
    pub fn add_group(&mut self, display_name: &str) -> String {
        let id = self.new_id(0x6);
        self.groups.push(Group {
            id: id.clone(),
            display_name: display_name.into(),
            ..Default::default()
        });
        id
    }

    /// Adds a group with a given id (test setup: groups named by assignment files).
    pub fn add_group_with_id(&mut self, id: &str, display_name: &str) {
        if !self.groups.iter().any(|g| g.id == id) {
            self.groups.push(Group {
                id: id.into(),
                display_name: display_name.into(),
                ..Default::default()
            });
        }
    }

    fn consumed(&self, sku: &SimSku) -> u64 {
        let mut users: Vec<&String> = self
            .groups
            .iter()
            .filter(|g| {
                g.licenses
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case(&sku.sku_id))
            })
            .flat_map(|g| g.members.iter())
            .collect();
        users.sort();
        users.dedup();
        sku.consumed + users.len() as u64
    }
}

/// A running simulator; stops when dropped.
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<Mutex<SimState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Starts the simulator on 127.0.0.1 with an ephemeral port.
    pub fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(SimState {
            config,
            started: Some(Instant::now()),
            ..Default::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let base = format!("http://{addr}");
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let st = st.clone();
                let base = base.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &st, &base);
                });
            }
        });
        Ok(Simulator {
            addr,
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (use as both graph_url and login_url).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> MutexGuard<'_, SimState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// Objects in a deviceManagement collection (`deviceCompliancePolicies`, `deviceConfigurations`).
    pub fn objects(&self, collection: &str) -> Vec<Value> {
        self.state()
            .device_management
            .get(collection)
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    target: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: String,
}

struct Response {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

fn resp(status: u16, body: Value) -> Response {
    Response {
        status,
        body,
        headers: Vec::new(),
    }
}

fn graph_error(status: u16, code: &str, message: &str) -> Response {
    resp(
        status,
        json!({"error": {"code": code, "message": message, "innerError": {"request-id": "sim"}}}),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(16 * 1024 * 1024)];
    reader.read_exact(&mut body)?;
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
    let mut query = BTreeMap::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.insert(percent_decode(k), percent_decode(v));
    }
    Ok(Some(Request {
        method,
        path: percent_decode(raw_path),
        target: target.clone(),
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}

fn serve_connection(
    stream: TcpStream,
    state: &Arc<Mutex<SimState>>,
    base: &str,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    let mut st = match state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let at = st.started.map(|s| s.elapsed()).unwrap_or_default();
    // Faults.
    let mut action = None;
    for f in st.faults.iter_mut() {
        let method_ok = f
            .method
            .as_deref()
            .map_or(true, |m| m.eq_ignore_ascii_case(&req.method));
        if method_ok && req.target.contains(&f.path_contains) {
            f.seen += 1;
            if f.seen > f.skip && f.seen <= f.skip + f.times {
                action = Some(f.action.clone());
                break;
            }
        }
    }
    let response = match &action {
        Some(FaultAction::Throttle { retry_after }) => {
            let mut r = graph_error(429, "TooManyRequests", "Too many requests");
            if let Some(s) = retry_after {
                r.headers.push(("Retry-After".into(), s.to_string()));
            }
            Some(r)
        }
        Some(FaultAction::Status { status, code }) => {
            Some(graph_error(*status, code, "injected failure"))
        }
        Some(FaultAction::Respond {
            status,
            code,
            message,
        }) => Some(graph_error(*status, code, message)),
        _ => None,
    };
    let response = match response {
        Some(r) => r,
        None => handle(&mut st, &req, base),
    };
    let dropped = matches!(action, Some(FaultAction::DropAfterProcessing));
    st.requests.push(RecordedRequest {
        method: req.method.clone(),
        target: req.target.clone(),
        path: req.path.clone(),
        body: req.body.clone(),
        authorization: req.headers.get("authorization").cloned(),
        status: if dropped { 0 } else { response.status },
        at,
    });
    drop(st);
    let mut stream = stream;
    if dropped {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return Ok(());
    }
    let body = if response.status == 204 || response.status == 202 && response.body.is_null() {
        String::new()
    } else {
        response.body.to_string()
    };
    let reason = match response.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nrequest-id: sim-{:06}\r\n",
        response.status,
        body.len(),
        at.as_micros() % 1_000_000
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    Ok(())
}

fn authorized(st: &SimState, req: &Request) -> bool {
    let Some(h) = req.headers.get("authorization") else {
        return false;
    };
    let Some(tok) = h.strip_prefix("Bearer ") else {
        return false;
    };
    tok == st.config.static_token || st.tokens.iter().any(|t| t == tok)
}

fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `displayName eq 'X'` → X (with `''` unescaped).
fn filter_display_name(filter: &str) -> Option<String> {
    let rest = filter.trim().strip_prefix("displayName eq '")?;
    let inner = rest.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// `userPrincipalName in ('a','b')` → [a, b] (with `''` unescaped).
fn filter_upn_in(filter: &str) -> Option<Vec<String>> {
    let rest = filter.trim().strip_prefix("userPrincipalName in (")?;
    let inner = rest.strip_suffix(')')?;
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quote) {
            ('\'', false) => in_quote = true,
            ('\'', true) if chars.peek() == Some(&'\'') => {
                cur.push('\'');
                chars.next();
            }
            ('\'', true) => {
                in_quote = false;
                out.push(std::mem::take(&mut cur));
            }
            (c, true) => cur.push(c),
            (',' | ' ', false) => {}
            _ => return None,
        }
    }
    (!in_quote).then_some(out)
}

fn page(st: &SimState, req: &Request, base: &str, items: Vec<Value>) -> Response {
    let skip: usize = req
        .query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut size = st.config.page_size.max(1);
    if let Some(top) = req.query.get("$top").and_then(|t| t.parse::<usize>().ok()) {
        size = size.min(top.max(1));
    }
    let select: Option<Vec<String>> = req
        .query
        .get("$select")
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let slice: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(size)
        .map(|v| match (&select, v) {
            (Some(sel), Value::Object(m)) => Value::Object(
                m.iter()
                    .filter(|(k, _)| k.starts_with("@odata") || sel.iter().any(|s| s == *k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => v.clone(),
        })
        .collect();
    let mut out = json!({ "value": slice });
    if skip + size < items.len() {
        let mut q: Vec<String> = req
            .target
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("$skiptoken="))
            .map(|s| s.to_string())
            .collect();
        q.push(format!("$skiptoken={}", skip + size));
        let raw_path = req.target.split('?').next().unwrap_or("");
        out["@odata.nextLink"] = Value::String(format!("{base}{raw_path}?{}", q.join("&")));
    }
    resp(200, out)
}

fn handle(st: &mut SimState, req: &Request, base: &str) -> Response {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    // Token endpoints (no Graph version prefix).
    if let [tenant, "oauth2", "v2.0", "token"] = segs.as_slice() {
        if req.method != "POST" {
            return graph_error(405, "MethodNotAllowed", "POST only");
        }
        let f = form(&req.body);
        if *tenant != st.config.tenant_id {
            return resp(
                400,
                json!({"error":"invalid_request","error_description":"AADSTS90002: Tenant not found."}),
            );
        }
        if f.get("grant_type").map(String::as_str) != Some("client_credentials")
            || f.get("client_id") != Some(&st.config.client_id)
            || f.get("client_secret") != Some(&st.config.client_secret)
        {
            return resp(
                401,
                json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}),
            );
        }
        let tok = format!("sim-token-{}", st.tokens.len() + 1);
        st.tokens.push(tok.clone());
        return resp(
            200,
            json!({"token_type":"Bearer","expires_in":3599,"access_token":tok}),
        );
    }
    if let ["msi", "token"] = segs.as_slice() {
        if req.headers.get("x-identity-header") != Some(&st.config.identity_header) {
            return resp(
                401,
                json!({"error":"unauthorized","error_description":"bad identity header"}),
            );
        }
        let tok = format!("sim-mi-token-{}", st.tokens.len() + 1);
        st.tokens.push(tok.clone());
        return resp(
            200,
            json!({"access_token":tok,"expires_on":"4102444800","resource":req.query.get("resource"),"token_type":"Bearer"}),
        );
    }
    let (api, rest) = match segs.split_first() {
        Some((v, rest)) if *v == "v1.0" || *v == "beta" => (*v, rest),
        _ => return graph_error(404, "BadRequest", "Invalid version"),
    };
    if !authorized(st, req) {
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        );
    }
    let body: Value = if req.body.trim().is_empty() {
        Value::Null
    } else {
        match serde_json::from_str(&req.body) {
            Ok(v) => v,
            Err(_) => return graph_error(400, "BadRequest", "Invalid JSON body"),
        }
    };
    match (req.method.as_str(), rest) {
        ("GET", ["deviceManagement", coll]) if is_dm(coll) => {
            let mut items = st.device_management.get(*coll).cloned().unwrap_or_default();
            if let Some(name) = req
                .query
                .get("$filter")
                .and_then(|f| filter_display_name(f))
            {
                items.retain(|v| v["displayName"] == name.as_str());
            }
            page(st, req, base, items)
        }
        ("POST", ["deviceManagement", coll]) if is_dm(coll) => {
            let Value::Object(mut obj) = body else {
                return graph_error(400, "BadRequest", "body must be an object");
            };
            let odata = obj
                .get("@odata.type")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            if odata.is_empty() || obj.get("displayName").and_then(|v| v.as_str()).is_none() {
                return graph_error(
                    400,
                    "BadRequest",
                    "@odata.type and displayName are required",
                );
            }
            if api == "v1.0" && odata.contains("EasEmailProfileConfiguration") {
                return graph_error(
                    400,
                    "BadRequest",
                    "Cannot create an abstract type or type not found in v1.0",
                );
            }
            if *coll == "deviceCompliancePolicies" && !obj.contains_key("scheduledActionsForRule") {
                return graph_error(
                    400,
                    "BadRequest",
                    "Compliance policy must have one and only one block scheduled action",
                );
            }
            obj.remove("scheduledActionsForRule");
            let id = st.new_id(if *coll == "deviceCompliancePolicies" {
                1
            } else {
                2
            });
            obj.insert("id".into(), Value::String(id));
            let v = Value::Object(obj);
            st.device_management
                .entry(coll.to_string())
                .or_default()
                .push(v.clone());
            resp(201, v)
        }
        ("GET", ["deviceManagement", coll, id]) if is_dm(coll) => match find_dm(st, coll, id) {
            Some(v) => resp(200, v),
            None => graph_error(404, "ResourceNotFound", "not found"),
        },
        ("POST", ["deviceManagement", coll, id, "assign"]) if is_dm(coll) => {
            if find_dm(st, coll, id).is_none() {
                return graph_error(404, "ResourceNotFound", "not found");
            }
            let Some(list) = body.get("assignments").and_then(|a| a.as_array()).cloned() else {
                return graph_error(400, "BadRequest", "assignments is required");
            };
            for a in &list {
                let gid = a["target"]["groupId"].as_str().unwrap_or("");
                if !st.groups.iter().any(|g| g.id == gid) {
                    return graph_error(400, "BadRequest", "target group not found");
                }
            }
            st.assignments.insert(id.to_string(), body.clone());
            resp(200, json!({ "value": list }))
        }
        ("GET", ["deviceManagement", coll, id, "assignments"]) if is_dm(coll) => {
            let list = st
                .assignments
                .get(*id)
                .and_then(|b| b.get("assignments").cloned())
                .unwrap_or(json!([]));
            resp(200, json!({ "value": list }))
        }
        ("GET", ["groups"]) => {
            let mut items: Vec<Value> = st.groups.iter().map(group_json).collect();
            if let Some(f) = req.query.get("$filter") {
                match filter_display_name(f) {
                    Some(name) => items.retain(|v| v["displayName"] == name.as_str()),
                    None => return graph_error(400, "BadRequest", "unsupported filter"),
                }
            }
            page(st, req, base, items)
        }
        ("POST", ["groups"]) => {
            let Some(name) = body.get("displayName").and_then(|v| v.as_str()) else {
                return graph_error(400, "BadRequest", "displayName is required");
            };
            for k in ["mailEnabled", "securityEnabled", "mailNickname"] {
                if body.get(k).is_none() {
                    return graph_error(400, "BadRequest", &format!("{k} is required"));
                }
            }
            let id = st.new_id(0x6);
            let mut obj = body.as_object().cloned().unwrap_or_default();
            obj.insert("id".into(), Value::String(id.clone()));
            st.groups.push(Group {
                id,
                display_name: name.to_string(),
                body: obj,
                ..Default::default()
            });
            match st.groups.last() {
                Some(g) => resp(201, group_json(g)),
                None => graph_error(500, "InternalServerError", "lost"),
            }
        }
        ("GET", ["groups", id]) => match st.groups.iter().find(|g| g.id == *id) {
            Some(g) => resp(200, group_json(g)),
            None => graph_error(404, "Request_ResourceNotFound", "group not found"),
        },
        ("PATCH", ["groups", id]) => {
            let known: Vec<String> = st.config.users.iter().map(|(uid, _)| uid.clone()).collect();
            let Some(g) = st.groups.iter_mut().find(|g| g.id == *id) else {
                return graph_error(404, "Request_ResourceNotFound", "group not found");
            };
            let binds: Vec<String> = body
                .get("members@odata.bind")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .map(|s| s.rsplit('/').next().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            if binds.len() > 20 {
                return graph_error(
                    400,
                    "Request_BadRequest",
                    "The request exceeds the limit of 20 members@odata.bind",
                );
            }
            for b in &binds {
                if !known.contains(b) {
                    return graph_error(404, "Request_ResourceNotFound", "member not found");
                }
                if g.members.contains(b) {
                    return graph_error(
                        400,
                        "Request_BadRequest",
                        "One or more added object references already exist for the following modified properties: 'members'.",
                    );
                }
            }
            g.members.extend(binds);
            resp(204, Value::Null)
        }
        ("GET", ["groups", id, "members"]) => match st.groups.iter().find(|g| g.id == *id) {
            Some(g) => {
                let items: Vec<Value> = g
                    .members
                    .iter()
                    .map(|m| json!({"@odata.type":"#microsoft.graph.user","id":m}))
                    .collect();
                page(st, req, base, items)
            }
            None => graph_error(404, "Request_ResourceNotFound", "group not found"),
        },
        ("POST", ["groups", id, "members", "$ref"]) => {
            let member = body["@odata.id"]
                .as_str()
                .and_then(|s| s.rsplit('/').next())
                .unwrap_or("")
                .to_string();
            let known = st.config.users.iter().any(|(u, _)| *u == member);
            let Some(g) = st.groups.iter_mut().find(|g| g.id == *id) else {
                return graph_error(404, "Request_ResourceNotFound", "group not found");
            };
            if !known {
                return graph_error(404, "Request_ResourceNotFound", "member not found");
            }
            if g.members.contains(&member) {
                return graph_error(400, "Request_BadRequest", "already exist");
            }
            g.members.push(member);
            resp(204, Value::Null)
        }
        ("POST", ["groups", id, "assignLicense"]) => {
            let skus: Vec<String> = st.config.skus.iter().map(|s| s.sku_id.clone()).collect();
            let Some(g) = st.groups.iter_mut().find(|g| g.id == *id) else {
                return graph_error(404, "Request_ResourceNotFound", "group not found");
            };
            let (Some(add), Some(_remove)) = (
                body.get("addLicenses").and_then(|v| v.as_array()),
                body.get("removeLicenses").and_then(|v| v.as_array()),
            ) else {
                return graph_error(
                    400,
                    "Request_BadRequest",
                    "addLicenses and removeLicenses are required",
                );
            };
            for a in add {
                let sku = a["skuId"].as_str().unwrap_or("").to_string();
                if !skus.iter().any(|s| s.eq_ignore_ascii_case(&sku)) {
                    return graph_error(400, "Request_BadRequest", "License not found in tenant");
                }
                if !g.licenses.contains(&sku) {
                    g.licenses.push(sku);
                }
            }
            let v = group_json(g);
            resp(202, v)
        }
        ("GET", ["users"]) => {
            let users: Vec<Value> = st
                .config
                .users
                .iter()
                .map(|(id, upn)| json!({"id": id, "userPrincipalName": upn}))
                .collect();
            let items = match req.query.get("$filter") {
                None => users,
                Some(f) => match filter_upn_in(f) {
                    Some(list) if list.len() <= 15 => users
                        .into_iter()
                        .filter(|u| {
                            let upn = u["userPrincipalName"].as_str().unwrap_or("").to_lowercase();
                            list.iter().any(|x| x.to_lowercase() == upn)
                        })
                        .collect(),
                    Some(_) => {
                        return graph_error(
                            400,
                            "Request_UnsupportedQuery",
                            "Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.",
                        )
                    }
                    None => return graph_error(400, "Request_UnsupportedQuery", "unsupported filter"),
                },
            };
            page(st, req, base, items)
        }
        ("GET", ["users", key]) => {
            let k = key.to_lowercase();
            match st
                .config
                .users
                .iter()
                .find(|(id, upn)| id.to_lowercase() == k || upn.to_lowercase() == k)
            {
                Some((id, upn)) => {
                    resp(200, json!({"id": id, "userPrincipalName": upn}))
                }
                None => graph_error(
                    404,
                    "Request_ResourceNotFound",
                    &format!("Resource '{key}' does not exist or one of its queried reference-property objects are not present."),
                ),
            }
        }
        ("GET", ["subscribedSkus"]) => {
            let items: Vec<Value> = st
                .config
                .skus
                .iter()
                .map(|s| {
                    json!({
                        "skuId": s.sku_id, "skuPartNumber": s.part_number, "appliesTo": "User",
                        "capabilityStatus": "Enabled", "consumedUnits": st.consumed(s),
                        "prepaidUnits": {"enabled": s.enabled, "suspended": 0, "warning": 0},
                        "servicePlans": s.service_plans.iter().map(|p| json!({"servicePlanName": p, "provisioningStatus":"Success","appliesTo":"User"})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            page(st, req, base, items)
        }
        _ => graph_error(
            400,
            "BadRequest",
            &format!("Resource not found for the segment '{}'", req.path),
        ),
    }
}

fn is_dm(coll: &str) -> bool {
    coll == "deviceCompliancePolicies" || coll == "deviceConfigurations"
}

fn find_dm(st: &SimState, coll: &str, id: &str) -> Option<Value> {
    st.device_management
        .get(coll)?
        .iter()
        .find(|v| v["id"] == id)
        .cloned()
}

fn group_json(g: &Group) -> Value {
    let mut m = g.body.clone();
    m.insert("id".into(), Value::String(g.id.clone()));
    m.insert("displayName".into(), Value::String(g.display_name.clone()));
    m.insert(
        "assignedLicenses".into(),
        Value::Array(
            g.licenses
                .iter()
                .map(|s| json!({"skuId": s, "disabledPlans": []}))
                .collect(),
        ),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_filters_and_percent_escapes() {
        assert_eq!(percent_decode("a%20b+c%27"), "a b c'");
        assert_eq!(
            filter_display_name("displayName eq 'O''Brien Wave'").as_deref(),
            Some("O'Brien Wave")
        );
        assert_eq!(filter_display_name("startswith(displayName,'x')"), None);
        assert_eq!(
            filter_upn_in("userPrincipalName in ('a@x.com', 'o''b@x.com')"),
            Some(vec!["a@x.com".to_string(), "o'b@x.com".to_string()])
        );
    }
}
