//! Carries out a list of operations against Graph: journal first, then look up, then change.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::journal::{utc_now, Entry, Journal, State};
use super::ops::{Action, Operation};
use super::{OpOutcome, OperationResult};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::auth::form_encode;
use crate::graph::{CallError, GraphClient};
use crate::protocol::Ctx;

/// A successful operation.
#[derive(Default)]
struct Success {
    object_id: Option<String>,
    /// Set when nothing had to change (and why).
    already: Option<String>,
    request_id: Option<String>,
    status: Option<u16>,
    detail: Value,
}

enum Fail {
    Op {
        reason: String,
        request_id: Option<String>,
        status: Option<u16>,
        detail: Value,
    },
    Fatal(Error),
}

impl Fail {
    fn reason(reason: impl Into<String>) -> Fail {
        Fail::Op {
            reason: reason.into(),
            request_id: None,
            status: None,
            detail: Value::Null,
        }
    }
}

impl From<CallError> for Fail {
    fn from(e: CallError) -> Fail {
        match e {
            CallError::Fatal(err) => Fail::Fatal(err),
            other => Fail::Op {
                reason: other.reason(),
                request_id: other.request_id().map(|s| s.to_string()),
                status: other.status(),
                detail: Value::Null,
            },
        }
    }
}

pub(super) struct Executor<'c, 'a> {
    pub client: GraphClient,
    journal: Journal,
    ctx: &'c mut Ctx<'a>,
    step: String,
    pub results: Vec<OperationResult>,
    /// collection path → objects listed (id, displayName, @odata.type).
    listings: HashMap<String, Vec<Value>>,
    /// groups created in this run (directory replication may lag right after creation).
    created_groups: HashSet<String>,
    members: HashMap<String, HashSet<String>>,
    users: HashMap<String, Option<String>>,
    /// skuPartNumber (upper-case) → (skuId, free seats).
    skus: HashMap<String, (String, u64)>,
}

fn quote_odata(s: &str) -> String {
    s.replace('\'', "''")
}

/// Encodes a UPN (or id) as one path segment (`#` in guest UPNs, `/`, `?`, `%`).
fn segment(s: &str) -> String {
    form_encode(s).replace("%40", "@")
}

impl<'c, 'a> Executor<'c, 'a> {
    pub fn new(client: GraphClient, journal: Journal, ctx: &'c mut Ctx<'a>, step: String) -> Self {
        Executor {
            client,
            journal,
            ctx,
            step,
            results: Vec::new(),
            listings: HashMap::new(),
            created_groups: HashSet::new(),
            members: HashMap::new(),
            users: HashMap::new(),
            skus: HashMap::new(),
        }
    }

    fn flush_notes(&mut self) {
        for n in std::mem::take(&mut self.client.notes) {
            self.ctx.info("graph.retry", &n);
        }
    }

    fn entry(&self, op: &Operation, state: State) -> Entry {
        Entry {
            time: utc_now(),
            run: self.journal.run.clone(),
            step: self.step.clone(),
            op: op.key.clone(),
            state,
            method: op.method.into(),
            path: op.path.clone(),
            target: target_of(&op.action),
            object_id: None,
            found_existing: false,
            status: None,
            request_id: None,
            reason: None,
            detail: Value::Null,
        }
    }

    pub async fn run_all(
        &mut self,
        ops: &[Operation],
        sku: Option<&str>,
        wave_users: usize,
    ) -> Result<()> {
        self.client.authenticate().await?;
        if let Some(part) = sku {
            self.check_seats(ops, part, wave_users).await?;
        }
        self.run_ops(ops).await
    }

    /// Refuses a wave, before any change, when it needs more seats than the tenant has free now.
    /// Seats needed: every wave user while the group is not licensed yet; once it is, the users
    /// of the member batches still to do (an upper bound: some may be members already).
    async fn check_seats(
        &mut self,
        ops: &[Operation],
        part: &str,
        wave_users: usize,
    ) -> Result<()> {
        let license_op = ops
            .iter()
            .find(|o| matches!(o.action, Action::AssignLicense { .. }));
        let Some(Operation {
            action: Action::AssignLicense { group_name, .. },
            key,
            ..
        }) = license_op
        else {
            return Ok(());
        };
        let members_pending: usize = ops
            .iter()
            .filter(|o| self.journal.succeeded(&o.key).is_none())
            .map(|o| match &o.action {
                Action::AddMembers { upns, .. } => upns.len(),
                _ => 0,
            })
            .sum();
        let mut license_done = self.journal.succeeded(key).is_some();
        if license_done && members_pending == 0 {
            return Ok(());
        }
        let fatal = |e: Fail| match e {
            Fail::Fatal(err) => err,
            Fail::Op { reason, .. } => Error::new(
                ErrorKind::Graph,
                "graph.request_failed",
                format!("cannot check the wave's seats: {reason}"),
            ),
        };
        self.load_skus().await?;
        let Some((sku_id, free)) = self.skus.get(&part.to_uppercase()).cloned() else {
            return Err(Error::input(
                "apply.sku.not_found",
                format!("the tenant has no subscription for {part} (Graph subscribedSkus); import a fresh snapshot or choose another --sku"),
            ));
        };
        if !license_done {
            // The journal may be lost: a group that already holds the license counts as licensed.
            if let Some((_, g)) = self.lookup_group(group_name).await.map_err(fatal)? {
                license_done = g["assignedLicenses"].as_array().is_some_and(|a| {
                    a.iter().any(|l| {
                        l["skuId"]
                            .as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(&sku_id))
                    })
                });
            }
        }
        let needed = if license_done {
            members_pending
        } else {
            wave_users
        };
        if needed as u64 > free {
            return Err(Error::input(
                "apply.seats.insufficient",
                format!("the wave needs up to {needed} {part} seat(s) but only {free} are free in the tenant now; buy seats or make the wave smaller, then run again (nothing was changed)"),
            )
            .with_detail(json!({ "sku": part, "free": free, "needed": needed })));
        }
        Ok(())
    }

    async fn run_ops(&mut self, ops: &[Operation]) -> Result<()> {
        let total = ops.len() as u64;
        for (i, op) in ops.iter().enumerate() {
            let r = self.run_one(op).await;
            self.flush_notes();
            self.ctx.progress(&self.step.clone(), i as u64 + 1, total);
            r?;
        }
        Ok(())
    }

    async fn run_one(&mut self, op: &Operation) -> Result<()> {
        let base = OperationResult {
            op: op.key.clone(),
            method: op.method.into(),
            path: op.path.clone(),
            summary: op.summary.clone(),
            outcome: OpOutcome::Skipped,
            object_id: None,
            reason: None,
            request_id: None,
        };
        if let Some(e) = self.journal.succeeded(&op.key) {
            self.results.push(OperationResult {
                object_id: e.object_id.clone(),
                reason: Some("done in an earlier run (journal)".into()),
                ..base
            });
            return Ok(());
        }
        self.journal.record(self.entry(op, State::Attempted))?;
        match self.execute(op).await {
            Ok(s) => {
                let mut e = self.entry(op, State::Succeeded);
                e.object_id = s.object_id.clone();
                e.found_existing = s.already.is_some();
                e.request_id = s.request_id.clone();
                e.status = s.status;
                e.reason = s.already.clone();
                e.detail = s.detail;
                if let Some(id) = &s.object_id {
                    e.path = with_id(&op.path, id);
                }
                let path = e.path.clone();
                self.journal.record(e)?;
                self.results.push(OperationResult {
                    path,
                    outcome: if s.already.is_some() {
                        OpOutcome::Skipped
                    } else {
                        OpOutcome::Done
                    },
                    object_id: s.object_id,
                    reason: s.already,
                    request_id: s.request_id,
                    ..base
                });
                Ok(())
            }
            Err(Fail::Op {
                reason,
                request_id,
                status,
                detail,
            }) => {
                let mut e = self.entry(op, State::Failed);
                e.reason = Some(reason.clone());
                e.request_id = request_id.clone();
                e.status = status;
                e.detail = detail;
                self.journal.record(e)?;
                self.ctx
                    .warn("apply.op.failed", &format!("{}: {reason}", op.key));
                self.results.push(OperationResult {
                    outcome: OpOutcome::Failed,
                    reason: Some(reason),
                    request_id,
                    ..base
                });
                Ok(())
            }
            Err(Fail::Fatal(err)) => {
                let mut e = self.entry(op, State::Failed);
                e.reason = Some(format!("{}: {}", err.code, err.message));
                self.journal.record(e)?;
                Err(err)
            }
        }
    }

    async fn execute(&mut self, op: &Operation) -> Result<Success, Fail> {
        match &op.action {
            Action::CreateObject {
                collection,
                display_name,
                odata_type,
                body,
            } => {
                let found = self
                    .find_object(collection, display_name, Some(odata_type))
                    .await?;
                match found.as_slice() {
                    [id] => Ok(Success {
                        object_id: Some(id.clone()),
                        already: Some(format!("an object named {display_name:?} already exists in Intune; not created again (used as is: its settings are not compared or changed)")),
                        ..Default::default()
                    }),
                    [] => {
                        let r = self.client.call(Method::POST, collection, Some(body), false).await?;
                        let Some(id) = r.body.get("id").and_then(|v| v.as_str()).map(|s| s.to_string()) else {
                            return Err(Fail::Op {
                                reason: "Graph created the object but returned no id; the next run finds it by name".into(),
                                request_id: Some(r.request_id),
                                status: Some(r.status),
                                detail: Value::Null,
                            });
                        };
                        self.listings.entry(collection.clone()).or_default().push(json!({
                            "id": id, "displayName": display_name, "@odata.type": format!("#{odata_type}")
                        }));
                        Ok(Success {
                            object_id: Some(id),
                            request_id: Some(r.request_id),
                            status: Some(r.status),
                            ..Default::default()
                        })
                    }
                    many => Err(Fail::reason(format!(
                        "{} objects named {display_name:?} already exist in Intune (ids {}); bms2intune will not guess which one is meant: delete or rename the duplicates, then run again",
                        many.len(),
                        many.join(", ")
                    ))),
                }
            }
            Action::Assign {
                create_op,
                collection,
                display_name,
                body,
                group_targets,
            } => {
                let id = match self
                    .journal
                    .succeeded(create_op)
                    .and_then(|e| e.object_id.clone())
                {
                    Some(id) => id,
                    None => {
                        let found = self.find_object(collection, display_name, None).await?;
                        match found.as_slice() {
                            [id] => id.clone(),
                            [] => return Err(Fail::reason(format!("{display_name:?} is not in Intune yet: run apply --step policies first"))),
                            many => {
                                return Err(Fail::reason(format!(
                                    "{} objects named {display_name:?} exist in Intune; delete or rename the duplicates, then run again",
                                    many.len()
                                )))
                            }
                        }
                    }
                };
                let mut body = body.clone();
                for g in group_targets {
                    let gid = match self
                        .journal
                        .succeeded(&g.group_op)
                        .and_then(|e| e.object_id.clone())
                    {
                        Some(gid) => Some(gid),
                        None => self.lookup_group(&g.name).await?.map(|(gid, _)| gid),
                    };
                    match gid {
                        Some(gid) => {
                            if let Some(list) = body.get_mut("assignments").and_then(|a| a.as_array_mut()) {
                                if !list.iter().any(|a| a["target"]["groupId"] == gid.as_str()) {
                                    list.push(json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": gid}}));
                                }
                            }
                        }
                        None if g.required => {
                            return Err(Fail::reason(format!("group {:?} does not exist; it is created by this step's first operation, which failed", g.name)))
                        }
                        None => {}
                    }
                }
                let path = format!("{collection}/{}/assign", segment(&id));
                let r = self
                    .client
                    .call(Method::POST, &path, Some(&body), true)
                    .await?;
                let n = body["assignments"].as_array().map(|a| a.len()).unwrap_or(0);
                Ok(Success {
                    object_id: Some(id),
                    request_id: Some(r.request_id),
                    status: Some(r.status),
                    detail: json!({ "assignments": n }),
                    ..Default::default()
                })
            }
            Action::EnsureGroup {
                name,
                mail_nickname,
                description,
            } => {
                if let Some((gid, g)) = self.lookup_group(name).await? {
                    let dynamic = g["groupTypes"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"));
                    if dynamic {
                        return Err(Fail::reason(format!("group {name:?} has dynamic membership and cannot take the wave's users; rename it or change the wave's group in the plan")));
                    }
                    if g["securityEnabled"] == false {
                        return Err(Fail::reason(format!("group {name:?} is not a security group; group-based licensing needs one: rename it or change the wave's group in the plan")));
                    }
                    return Ok(Success {
                        object_id: Some(gid),
                        already: Some(format!("group {name:?} already exists; used as is")),
                        ..Default::default()
                    });
                }
                let body = json!({
                    "displayName": name,
                    "description": description,
                    "mailEnabled": false,
                    "mailNickname": mail_nickname,
                    "securityEnabled": true,
                });
                let r = self
                    .client
                    .call(Method::POST, "/v1.0/groups", Some(&body), false)
                    .await?;
                let Some(gid) = r
                    .body
                    .get("id")
                    .and_then(|v| v.as_str())
                    .map(|s| s.to_string())
                else {
                    return Err(Fail::reason(
                        "Graph created the group but returned no id; the next run finds it by name",
                    ));
                };
                self.created_groups.insert(gid.clone());
                self.members.insert(gid.clone(), HashSet::new());
                Ok(Success {
                    object_id: Some(gid),
                    request_id: Some(r.request_id),
                    status: Some(r.status),
                    ..Default::default()
                })
            }
            Action::AddMembers {
                group_op,
                group_name,
                upns,
            } => {
                let gid = self.group_of(group_op, group_name)?;
                self.resolve_users(upns).await?;
                let mut not_found = Vec::new();
                let mut ids = Vec::new();
                for upn in upns {
                    match self.users.get(upn).cloned().flatten() {
                        Some(id) => ids.push(id),
                        None => not_found.push(upn.clone()),
                    }
                }
                let mut request_id = None;
                let mut status = None;
                let mut refreshed = false;
                let (to_add, already) = loop {
                    let current = self.members_of(&gid).await?;
                    let mut to_add: Vec<String> = ids
                        .iter()
                        .filter(|id| !current.contains(*id))
                        .cloned()
                        .collect();
                    to_add.sort();
                    to_add.dedup();
                    let already = ids.len() - to_add.len();
                    if to_add.is_empty() {
                        break (to_add, already);
                    }
                    let root = self.client.graph_url().to_string();
                    let binds: Vec<String> = to_add
                        .iter()
                        .map(|id| format!("{root}/v1.0/directoryObjects/{id}"))
                        .collect();
                    let body = json!({ "members@odata.bind": binds });
                    let path = format!("/v1.0/groups/{}", segment(&gid));
                    match self
                        .call_fresh(&gid, Method::PATCH, &path, &body, false)
                        .await
                    {
                        Ok(r) => {
                            request_id = Some(r.request_id);
                            status = Some(r.status);
                            if let Some(set) = self.members.get_mut(&gid) {
                                set.extend(to_add.iter().cloned());
                            }
                            break (to_add, already);
                        }
                        // Someone added one of them meanwhile (the batch is all-or-nothing):
                        // read the members again and send the rest, once.
                        Err(Fail::Op {
                            status: Some(400),
                            reason,
                            ..
                        }) if !refreshed && reason.contains("already exist") => {
                            refreshed = true;
                            self.members.remove(&gid);
                        }
                        Err(e) => return Err(e),
                    }
                };
                let detail = json!({ "added": to_add.len(), "already_members": already, "not_found": not_found });
                if !not_found.is_empty() {
                    return Err(Fail::Op {
                        reason: format!(
                            "{} user(s) not found in Entra ID: {}; correct or remove them in the plan and run again ({} other user(s) were added)",
                            not_found.len(),
                            not_found.join(", "),
                            to_add.len()
                        ),
                        request_id,
                        status,
                        detail,
                    });
                }
                Ok(Success {
                    object_id: Some(gid),
                    already: to_add
                        .is_empty()
                        .then(|| format!("all {already} user(s) already members")),
                    request_id,
                    status,
                    detail,
                })
            }
            Action::AssignLicense {
                group_op,
                group_name,
                sku_part_number,
                users,
            } => {
                let gid = self.group_of(group_op, group_name)?;
                let Some((sku_id, _)) = self.skus.get(&sku_part_number.to_uppercase()).cloned()
                else {
                    return Err(Fail::reason(format!(
                        "the tenant has no subscription for {sku_part_number}"
                    )));
                };
                let path = format!("/v1.0/groups/{}?$select=id,assignedLicenses", segment(&gid));
                let g = self
                    .call_fresh(&gid, Method::GET, &path, &Value::Null, true)
                    .await?;
                let has = g.body["assignedLicenses"].as_array().is_some_and(|a| {
                    a.iter().any(|l| {
                        l["skuId"]
                            .as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(&sku_id))
                    })
                });
                if has {
                    return Ok(Success {
                        object_id: Some(gid),
                        already: Some(format!(
                            "group {group_name:?} already holds {sku_part_number}"
                        )),
                        ..Default::default()
                    });
                }
                let body = json!({ "addLicenses": [{ "skuId": sku_id, "disabledPlans": [] }], "removeLicenses": [] });
                let path = format!("/v1.0/groups/{}/assignLicense", segment(&gid));
                let r = self
                    .call_fresh(&gid, Method::POST, &path, &body, true)
                    .await?;
                self.ctx.info(
                    "apply.license.accepted",
                    &format!("Entra accepted the {sku_part_number} license for group {group_name:?} ({users} user(s)); it is applied to members in the background, and devices move to Intune at their next check-in (up to 8 hours)"),
                );
                Ok(Success {
                    object_id: Some(gid),
                    request_id: Some(r.request_id),
                    status: Some(r.status),
                    detail: json!({ "sku": sku_part_number, "sku_id": sku_id, "users": users }),
                    ..Default::default()
                })
            }
        }
    }

    /// A call on a group created moments ago may meet directory replication lag (404): wait and retry.
    async fn call_fresh(
        &mut self,
        gid: &str,
        method: Method,
        path: &str,
        body: &Value,
        idempotent: bool,
    ) -> Result<crate::graph::Reply, Fail> {
        let body = (!body.is_null()).then_some(body);
        let mut tries = 0;
        loop {
            match self
                .client
                .call(method.clone(), path, body, idempotent)
                .await
            {
                Err(CallError::Failed { status: 404, .. })
                    if self.created_groups.contains(gid) && tries < 3 =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                other => return other.map_err(Fail::from),
            }
        }
    }

    fn group_of(&self, group_op: &str, name: &str) -> Result<String, Fail> {
        self.journal
            .succeeded(group_op)
            .and_then(|e| e.object_id.clone())
            .ok_or_else(|| {
                Fail::reason(format!(
                    "group {name:?} is not available (creating or finding it failed above)"
                ))
            })
    }

    async fn load_skus(&mut self) -> Result<()> {
        let all = self
            .client
            .get_all("/v1.0/subscribedSkus")
            .await
            .map_err(|e| match e {
                CallError::Fatal(err) => err,
                other => Error::new(
                    ErrorKind::Graph,
                    "graph.request_failed",
                    format!(
                        "cannot read the tenant's subscriptions (GET subscribedSkus): {}",
                        other.reason()
                    ),
                ),
            })?;
        for s in all {
            let (Some(part), Some(id)) = (s["skuPartNumber"].as_str(), s["skuId"].as_str()) else {
                continue;
            };
            let enabled = s["prepaidUnits"]["enabled"].as_u64().unwrap_or(0);
            let consumed = s["consumedUnits"].as_u64().unwrap_or(0);
            self.skus.insert(
                part.to_uppercase(),
                (id.to_string(), enabled.saturating_sub(consumed)),
            );
        }
        Ok(())
    }

    /// Ids of objects in `collection` with this display name (and type, when given).
    async fn find_object(
        &mut self,
        collection: &str,
        name: &str,
        odata_type: Option<&str>,
    ) -> Result<Vec<String>, Fail> {
        if !self.listings.contains_key(collection) {
            let all = self
                .client
                .get_all(&format!("{collection}?$select=id,displayName"))
                .await?;
            self.listings.insert(collection.to_string(), all);
        }
        let list = self
            .listings
            .get(collection)
            .map(|v| v.as_slice())
            .unwrap_or(&[]);
        Ok(list
            .iter()
            .filter(|o| {
                o["displayName"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .filter(|o| match (odata_type, o["@odata.type"].as_str()) {
                (Some(want), Some(have)) => have.trim_start_matches('#').eq_ignore_ascii_case(want),
                _ => true,
            })
            .filter_map(|o| o["id"].as_str().map(|s| s.to_string()))
            .collect())
    }

    /// The one group with this display name; more than one is an error.
    async fn lookup_group(&mut self, name: &str) -> Result<Option<(String, Value)>, Fail> {
        let filter = form_encode(&format!("displayName eq '{}'", quote_odata(name)));
        let path = format!("/v1.0/groups?$filter={filter}&$select=id,displayName,securityEnabled,mailEnabled,groupTypes,assignedLicenses");
        let found = self.client.get_all(&path).await?;
        match found.as_slice() {
            [] => Ok(None),
            [g] => match g["id"].as_str() {
                Some(id) => Ok(Some((id.to_string(), g.clone()))),
                None => Err(Fail::reason(format!("Graph returned group {name:?} without an id"))),
            },
            many => Err(Fail::reason(format!(
                "{} groups are named {name:?}; bms2intune will not guess: rename the extra ones or change the group name in the plan",
                many.len()
            ))),
        }
    }

    async fn members_of(&mut self, gid: &str) -> Result<HashSet<String>, Fail> {
        if let Some(m) = self.members.get(gid) {
            return Ok(m.clone());
        }
        let path = format!("/v1.0/groups/{}/members?$select=id&$top=999", segment(gid));
        let all = match self.client.get_all(&path).await {
            Err(CallError::Failed { status: 404, .. }) if self.created_groups.contains(gid) => {
                Vec::new()
            }
            other => other?,
        };
        let set: HashSet<String> = all
            .iter()
            .filter_map(|m| m["id"].as_str().map(|s| s.to_string()))
            .collect();
        self.members.insert(gid.to_string(), set.clone());
        Ok(set)
    }

    /// Resolves UPNs to object ids, 15 per request (Graph's limit for an `in` filter); UPNs
    /// Graph does not return are remembered as not found.
    async fn resolve_users(&mut self, upns: &[String]) -> Result<(), Fail> {
        let todo: Vec<&String> = upns
            .iter()
            .filter(|u| !self.users.contains_key(*u))
            .collect();
        for chunk in todo.chunks(15) {
            let list: Vec<String> = chunk
                .iter()
                .map(|u| format!("'{}'", quote_odata(u)))
                .collect();
            let filter = form_encode(&format!("userPrincipalName in ({})", list.join(",")));
            let found = self
                .client
                .get_all(&format!(
                    "/v1.0/users?$filter={filter}&$select=id,userPrincipalName"
                ))
                .await?;
            for u in chunk {
                self.users.insert((*u).clone(), None);
            }
            for f in found {
                if let (Some(upn), Some(id)) = (f["userPrincipalName"].as_str(), f["id"].as_str()) {
                    self.users.insert(upn.to_lowercase(), Some(id.to_string()));
                }
            }
        }
        Ok(())
    }
}

/// Replaces the `{id of "name"}` placeholder of a path by the id now known.
fn with_id(path: &str, id: &str) -> String {
    match (path.find("{id of "), path.rfind('}')) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &path[..a], segment(id), &path[b + 1..]),
        _ => path.to_string(),
    }
}

fn target_of(a: &Action) -> Option<String> {
    Some(match a {
        Action::CreateObject { display_name, .. } | Action::Assign { display_name, .. } => {
            display_name.clone()
        }
        Action::EnsureGroup { name, .. } => name.clone(),
        Action::AddMembers { group_name, .. } | Action::AssignLicense { group_name, .. } => {
            group_name.clone()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_is_replaced_by_the_id() {
        assert_eq!(
            with_id("/v1.0/groups/{id of \"Wave {1}\"}/assignLicense", "g-1"),
            "/v1.0/groups/g-1/assignLicense"
        );
        assert_eq!(with_id("/v1.0/groups", "g-1"), "/v1.0/groups");
        assert_eq!(segment("o'brien#EXT#@x.com"), "o%27brien%23EXT%23@x.com");
    }
}
