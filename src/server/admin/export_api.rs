//! Export and import of a tenant (see `store::export` for the lines).
//!
//! `GET /tenants/{t}/export` streams the tenant's directory as NDJSON, a
//! few hundred rows per D1 read. `POST /tenants/{t}/import?line=<n>` loads
//! such a file into an empty tenant, on any shard, in parts that fit a
//! request (the body holds the lines from line `n`, counting from 0): each
//! part is checked whole before anything of it is written, then stored in
//! D1 batches that each also record how far the import is, so that after
//! a failure anywhere `GET /tenants/{t}/import` says where to resume and
//! nothing is loaded twice. The `end` line must count what was loaded; it
//! completes the import with one `tenant.imported` event (the users and
//! groups it loads are not announced one by one: they are not new to the
//! directory, they moved).

use serde_json::{json, Value};

use super::request::Admin;
use crate::proto::error::ScimError;
use crate::server::error::Result;
use crate::server::extension;
use crate::server::http::{Continuation, Response};
use crate::server::webhooks::Outbound;
use crate::store::export::{self, Counts, Cursor, Kind, Line, Progress};
use crate::store::shards::Shards;
use crate::store::{guarded_batch, KeyValue, SqlExecutor};

/// Lines stored per D1 batch of an import.
const LINES_PER_BATCH: usize = 1000;

/// The next part of an export's stream, and where it goes on (`None`:
/// done). `Err` is the failure, for the log: the stream stops there, and
/// the export lacks its `end` line, which an import requires.
pub async fn stream_next<D: SqlExecutor>(
    shards: &Shards<'_, D>,
    c: Box<Continuation>,
    now_ms: i64,
) -> std::result::Result<(Vec<u8>, Option<Box<Continuation>>), String> {
    let c = *c;
    let db = shards
        .of(&c.tenant, now_ms)
        .await
        .map_err(|e| e.to_string())?;
    let (text, next) = export::chunk(db, &c.tenant, c.cursor, &c.stamp)
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        text.into_bytes(),
        next.map(|cursor| {
            Box::new(Continuation {
                tenant: c.tenant,
                cursor,
                stamp: c.stamp,
            })
        }),
    ))
}

fn no_link() -> crate::server::error::Error {
    ScimError::new(
        403,
        None,
        "A setup link cannot export or import a tenant; ask the operator.",
    )
    .into()
}

fn conflict(detail: String, resume_at: Option<u64>) -> Result<Response> {
    Ok(Response::json(
        409,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409",
                "detail": detail, "resumeAt": resume_at}),
    ))
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    pub(super) async fn export_tenant(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if self.via_link {
            return Err(no_link());
        }
        let (first, next) = export::chunk(self.db, tenant, Cursor::start(), &self.stamp).await?;
        let mut r = Response::empty(200)
            .with_header("content-type", "application/x-ndjson; charset=utf-8")
            .with_header(
                "content-disposition",
                format!(
                    "attachment; filename=\"{tenant}-{}.ndjson\"",
                    self.stamp.get(..10).unwrap_or("export")
                ),
            );
        r.body = first.into_bytes();
        r.more = next.map(|cursor| {
            Box::new(Continuation {
                tenant: tenant.to_owned(),
                cursor,
                stamp: self.stamp.clone(),
            })
        });
        Ok(r)
    }

    /// Where the tenant's import is: `{"inProgress": false}`, or how many
    /// lines are loaded (`resumeAt`), of which kind the last was, and what.
    pub(super) async fn import_status(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let state = export::state(self.db, tenant).await?;
        let body = match state.and_then(|(p, _)| p) {
            Some(p) => json!({"inProgress": true, "resumeAt": p.lines, "phase": p.phase,
                              "counts": p.counts, "source": p.source, "started": p.started}),
            None => json!({"inProgress": false}),
        };
        Ok(Response::json(200, &body))
    }

    pub(super) async fn import_tenant(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        if self.via_link {
            return Err(no_link());
        }
        let from: u64 = match self.req.params().get("line") {
            None => 0,
            Some(v) => v.parse().map_err(|_| {
                ScimError::invalid_value(format!("line={v:?} is not a line number"))
            })?,
        };
        let text = std::str::from_utf8(&self.req.body)
            .map_err(|_| ScimError::invalid_syntax("The body is not UTF-8 NDJSON."))?;
        // Every line checked before anything is written.
        let mut lines = Vec::new();
        for (i, raw) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let n = from.saturating_add(i as u64);
            let line = export::parse_line(raw).map_err(|why| {
                ScimError::invalid_value(format!("Line {n} is not loadable: {why}."))
            })?;
            lines.push(line);
        }
        if lines.is_empty() {
            return Err(ScimError::invalid_value("The body has no lines.").into());
        }
        let Some((progress, filled)) = export::state(self.db, tenant).await? else {
            return Err(ScimError::not_found(format!("Tenant {tenant} not found.")).into());
        };
        let mut state = match (from, progress) {
            (0, None) if filled => {
                return conflict(format!(
                    "An import loads into an empty tenant, and {tenant} has users, groups, attributes or roles. Create a new tenant to import into."
                ), None)
            }
            (0, None) => None,
            (_, Some(p)) if p.lines == from => Some(p),
            (_, Some(p)) => {
                return conflict(
                    format!(
                        "The import into {tenant} has loaded {} lines: send the lines from line {} (?line={}).",
                        p.lines, p.lines, p.lines
                    ),
                    Some(p.lines),
                )
            }
            (_, None) => {
                return conflict(
                    format!("No import into {tenant} is in progress: start at line 0."),
                    None,
                )
            }
        };
        // The order of an export: header first, then kinds never going back.
        let mut phase = state.as_ref().map(|p| p.phase);
        let mut counts = state.as_ref().map(|p| p.counts.clone()).unwrap_or_default();
        let mut source = state.as_ref().map(|p| p.source.clone());
        for (i, l) in lines.iter().enumerate() {
            let n = from.saturating_add(i as u64);
            let k = l.kind();
            let in_order = match phase {
                None => k == Kind::Header,
                Some(Kind::End) => false,
                Some(p) => k > p || (k == p && k != Kind::Header && k != Kind::Tenant),
            };
            if !in_order {
                let why = match phase {
                    None => "an export starts with its header line".to_owned(),
                    Some(Kind::End) => "it comes after the end line".to_owned(),
                    Some(p) => format!("a {:?} line cannot follow a {p:?} line", k),
                };
                return Err(
                    ScimError::invalid_value(format!("Line {n} is out of order: {why}.")).into(),
                );
            }
            match l {
                Line::Header { source: s } => source = Some(s.clone()),
                Line::End(expected) if *expected != counts => {
                    return Err(ScimError::invalid_value(format!(
                        "Line {n}: the export lists {} but {} were loaded; the file is incomplete or altered.",
                        describe(expected),
                        describe(&counts)
                    ))
                    .into());
                }
                Line::Row { .. } => export::count(std::slice::from_ref(l), &mut counts),
                _ => {}
            }
            phase = Some(k);
        }
        let source = source.unwrap_or_default();
        // Values are stored under the URN in force where they came from; a
        // tenant whose URN was the default (which names its id) keeps it
        // under its new id, so its IdP's attribute mapping holds too.
        if source != tenant {
            for l in &mut lines {
                if let Line::Tenant(row) = l {
                    if row.get("extension_urn").is_none_or(Value::is_null) {
                        let urn = extension::urn_in_force(&self.config.vendor, &source, None);
                        row.insert("extension_urn".into(), Value::String(urn));
                    }
                }
            }
        }
        // Stored in batches, each carrying the progress it makes.
        let mut loaded = from;
        let mut seen = state.as_ref().map(|p| p.counts.clone()).unwrap_or_default();
        let mut complete = false;
        for part in lines.chunks(LINES_PER_BATCH) {
            export::count(part, &mut seen);
            let last = part.last().map_or(Kind::Header, Line::kind);
            let ends = last == Kind::End;
            let next = Progress {
                lines: loaded.saturating_add(part.len() as u64),
                phase: last,
                counts: seen.clone(),
                source: source.clone(),
                started: state
                    .as_ref()
                    .map_or_else(|| self.stamp.clone(), |p| p.started.clone()),
            };
            let mut stmts = export::advance(
                tenant,
                state.as_ref().map(|p| p.lines),
                (!ends).then_some(&next),
            );
            stmts.extend(export::load(tenant, part));
            if ends {
                let ctx = self.ctx(tenant);
                let summary = json!({"type": "Tenant", "id": tenant});
                let data = json!({"id": tenant, "source": source, "counts": seen});
                stmts.extend(ctx.events.record("tenant.imported", &summary, data, None));
            }
            if guarded_batch(self.db, stmts).await?.is_none() {
                return conflict(
                    format!("Another request changed the import into {tenant} first; GET its /import for where it is."),
                    None,
                );
            }
            // The tenant line may have set its settings and URN.
            crate::server::schema::forget_tenant(self.db, tenant);
            loaded = next.lines;
            complete = ends;
            state = Some(next);
        }
        Ok(Response::json(
            200,
            &json!({"loaded": loaded.saturating_sub(from), "resumeAt": (!complete).then_some(loaded),
                    "complete": complete, "counts": seen}),
        ))
    }
}

fn describe(c: &Counts) -> String {
    let v: Value = serde_json::to_value(c).unwrap_or(Value::Null);
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
