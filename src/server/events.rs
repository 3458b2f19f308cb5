//! Provisioning events: what a write records, in its own batch, about the
//! change it makes (see `store::events` for the outbox and its numbering).
//!
//! Every event carries who made the change (`actor`: the SCIM token, an
//! admin token, or the system), the request id, the resource it is about
//! (`resource`: type, id, externalId, userName or displayName) and `data`:
//! the resource as the admin API shows it after the change (for a delete,
//! its last state), without its computed `groups` or `members` (membership
//! has its own events) and never with a password. An update also carries
//! `changed` (the attribute paths that changed) and `previous` (their old
//! values; `null` for an attribute that was unassigned).
//!
//! Types: `user.created`, `user.updated`, `user.deactivated`,
//! `user.reactivated`, `user.deleted` (with `retained`), `user.restored`,
//! `user.roles_changed` (computed by the database: see `store::roles`),
//! `group.created`, `group.updated`, `group.deleted`,
//! `group.member_added`, `group.member_removed`, `tenant.imported` (an
//! import completed: one event, not one per resource loaded). A write that turns
//! `active` off is `user.deactivated` (on: `user.reactivated`) whatever
//! else it changes, with every changed path in `changed`.

use std::cell::RefCell;

use serde_json::{json, Map, Value};

use crate::server::log::Notes;
use crate::store::events::{self, Joining, Leaving, Stamp};
use crate::store::groups::{member_kind, Membership};
use crate::store::roles::{self, Candidates};
use crate::store::Stmt;

/// Every event type, as the feed and webhooks name them.
pub(crate) const EVENT_TYPES: [&str; 15] = [
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "user.deleted",
    "user.restored",
    "user.roles_changed",
    "group.created",
    "group.updated",
    "group.deleted",
    "group.member_added",
    "group.member_removed",
    "connector.okta.user_deactivated",
    "connector.okta.failed",
    "tenant.imported",
];

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Actor {
    /// `scim`, `admin` or `system`.
    pub kind: &'static str,
    pub id: String,
    pub label: String,
}

impl Actor {
    /// A SCIM token, by its id and label.
    pub(crate) fn scim(id: &str, label: &str) -> Actor {
        Actor {
            kind: "scim",
            id: id.to_owned(),
            label: label.to_owned(),
        }
    }

    /// An admin API token: its subject, and its scope as the label.
    pub(crate) fn admin(id: &str, label: &str) -> Actor {
        Actor {
            kind: "admin",
            id: id.to_owned(),
            label: label.to_owned(),
        }
    }

    /// The service itself.
    pub(crate) fn system(what: &str) -> Actor {
        Actor {
            kind: "system",
            id: what.to_owned(),
            label: what.to_owned(),
        }
    }

    fn json(&self) -> Value {
        json!({"type": self.kind, "id": self.id, "label": self.label})
    }
}

/// What the events of one request share; it tells the request's notes
/// when it records some.
#[derive(Debug)]
pub(crate) struct Recorder<'a> {
    notes: &'a Notes,
    tenant: String,
    /// The request time, every event's `occurredAt`.
    at: String,
    actor: RefCell<Actor>,
    request_id: String,
    /// `evt_` + 12 hex digits of the request time in ms + 12 random hex
    /// digits: an event id is this and its sequence, so ids sort by time
    /// and never repeat.
    id_prefix: String,
}

impl<'a> Recorder<'a> {
    pub(crate) fn new(
        notes: &'a Notes,
        tenant: &str,
        at: &str,
        request_id: &str,
        now_ms: i64,
    ) -> Recorder<'a> {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let ms = u64::try_from(now_ms).unwrap_or(0) & 0xffff_ffff_ffff;
        Recorder {
            notes,
            tenant: tenant.to_owned(),
            at: at.to_owned(),
            actor: RefCell::new(Actor::system("scim-worker")),
            request_id: request_id.to_owned(),
            id_prefix: format!("evt_{ms:012x}{}", &random[..12]),
        }
    }

    pub(crate) fn set_actor(&self, actor: Actor) {
        *self.actor.borrow_mut() = actor;
    }

    fn stamp(&self) -> Stamp<'_> {
        self.notes.events_recorded();
        Stamp {
            tenant: &self.tenant,
            id_prefix: &self.id_prefix,
            at: &self.at,
        }
    }

    /// The body every event of this request starts with.
    fn head(&self, resource: &Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("actor".into(), self.actor.borrow().json());
        m.insert("requestId".into(), self.request_id.clone().into());
        m.insert("resource".into(), resource.clone());
        m
    }

    /// The statements recording event `kind` about the resource `summary`
    /// describes, with `data` and, for an update, what changed.
    pub(crate) fn record(
        &self,
        kind: &str,
        summary: &Value,
        data: Value,
        extra: Option<Map<String, Value>>,
    ) -> Vec<Stmt> {
        let mut body = self.head(summary);
        body.insert("data".into(), data);
        if let Some(extra) = extra {
            body.extend(extra);
        }
        let id = summary.get("id").and_then(Value::as_str).unwrap_or("");
        events::record(&self.stamp(), kind, id, &Value::Object(body))
    }

    /// The statements that recompute the roles of `candidates` and record
    /// `user.roles_changed` for each user whose roles change (see
    /// `store::roles`). Run them after the write's own statements.
    pub(crate) fn roles(&self, candidates: &Candidates<'_>) -> Vec<Stmt> {
        let (stamp, body) = self.batch_head();
        roles::recompute(&stamp, candidates, &body)
    }

    /// What events the database writes itself share: the stamp, and the
    /// body with the actor and request id.
    pub(crate) fn batch_head(&self) -> (Stamp<'_>, Value) {
        (self.stamp(), Value::Object(self.head(&Value::Null)))
    }

    /// The `group.member_removed` events of a member about to be deleted
    /// (`member`, its summary), one per group it is in, computed in the
    /// batch before its memberships go.
    pub(crate) fn member_leaves_all(&self, member: &Value, member_type: &str) -> Vec<Stmt> {
        let body = Value::Object(self.head(member));
        let id = member.get("id").and_then(Value::as_str).unwrap_or("");
        events::member_leaves_all(&self.stamp(), id, member_type, member, &body)
    }

    /// The events of a membership change of group `group` (its summary):
    /// one per member that really leaves or joins, computed in the batch.
    /// Run them before the membership statements.
    pub(crate) fn membership(&self, group: &Value, m: &Membership) -> Vec<Stmt> {
        if m.is_empty() {
            return Vec::new();
        }
        let mut body = self.head(group);
        body.insert("data".into(), json!({"group": group}));
        let body = Value::Object(body);
        let group_id = group.get("id").and_then(Value::as_str).unwrap_or("");
        let stamp = self.stamp();
        let joining: Vec<Joining<'_>> = m
            .add
            .iter()
            .map(|a| Joining {
                id: &a.id,
                kind: a.kind.as_deref().map(member_kind),
            })
            .collect();
        let mut stmts = if m.remove_all {
            let keep = m.add.iter().map(|a| a.id.as_str()).collect();
            events::members_removed(&stamp, group_id, &Leaving::AllBut(keep), &body)
        } else {
            events::members_removed(&stamp, group_id, &Leaving::These(&m.remove), &body)
        };
        stmts.extend(events::members_added(&stamp, group_id, &joining, &body));
        stmts
    }
}

/// The `resource` of a user's events.
pub(crate) fn user_summary(id: &str, doc: &Value) -> Value {
    summary("User", id, doc, "userName")
}

/// The `resource` of a group's events.
pub(crate) fn group_summary(id: &str, doc: &Value) -> Value {
    summary("Group", id, doc, "displayName")
}

fn summary(kind: &str, id: &str, doc: &Value, name: &str) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), kind.into());
    m.insert("id".into(), id.into());
    if let Some(e) = doc.get("externalId").filter(|v| !v.is_null()) {
        m.insert("externalId".into(), e.clone());
    }
    if let Some(n) = doc.get(name).filter(|v| !v.is_null()) {
        m.insert(name.into(), n.clone());
    }
    Value::Object(m)
}

/// Attributes an event never shows the value of.
fn secret(path: &str) -> bool {
    path.eq_ignore_ascii_case("password")
}

/// The attribute paths that differ between two stored documents, and the
/// old values of each (`null` where it was unassigned). A complex
/// single-valued attribute is compared by sub-attribute (`name.givenName`),
/// an extension by attribute (`<urn>:employeeNumber`), a multi-valued one
/// as a whole (`emails`). `schemas`, `id` and `meta` are not attributes.
pub(crate) fn diff(old: &Value, new: &Value) -> (Vec<String>, Map<String, Value>) {
    let mut changed = Vec::new();
    let mut previous = Map::new();
    walk(old, new, "", &mut changed, &mut previous, 0);
    // An unassigned `active` is an active user (as the store counts it).
    if let Some(a) = previous.get_mut("active").filter(|a| a.is_null()) {
        *a = Value::Bool(true);
    }
    (changed, previous)
}

fn walk(
    old: &Value,
    new: &Value,
    prefix: &str,
    changed: &mut Vec<String>,
    previous: &mut Map<String, Value>,
    depth: usize,
) {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let keys = n.keys().chain(o.keys().filter(|k| !n.contains_key(*k)));
    for key in keys {
        if depth == 0 && matches!(key.as_str(), "schemas" | "id" | "meta") {
            continue;
        }
        let (a, b) = (
            o.get(key).unwrap_or(&Value::Null),
            n.get(key).unwrap_or(&Value::Null),
        );
        if a == b {
            continue;
        }
        // An extension (a URN key) is walked with `<urn>:`, a complex
        // attribute with `.`.
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}{key}")
        };
        let complex = (a.is_object() || a.is_null()) && (b.is_object() || b.is_null());
        if complex && (a.is_object() || b.is_object()) && depth < 2 {
            let sep = if depth == 0 && key.contains(':') {
                ":"
            } else {
                "."
            };
            walk(a, b, &format!("{path}{sep}"), changed, previous, depth + 1);
            continue;
        }
        if !secret(&path) {
            previous.insert(path.clone(), a.clone());
        }
        changed.push(path);
    }
}

/// `changed` and `previous` as event members.
pub(crate) fn changes(changed: Vec<String>, previous: Map<String, Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "changed".into(),
        Value::Array(changed.into_iter().map(Value::from).collect()),
    );
    m.insert("previous".into(), Value::Object(previous));
    m
}

/// The type of a user update: a change of `active` names it.
pub(crate) fn user_update_type(old: &Value, new: &Value) -> &'static str {
    let active = |d: &Value| d.get("active").and_then(Value::as_bool).unwrap_or(true);
    match (active(old), active(new)) {
        (true, false) => "user.deactivated",
        (false, true) => "user.reactivated",
        _ => "user.updated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_sub_attributes_extension_attributes_and_whole_lists() {
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let old = json!({
            "schemas": ["a"], "userName": "bob", "name": {"givenName": "Bob", "familyName": "B"},
            "emails": [{"value": "b@x", "primary": true}], "title": "Eng",
            urn: {"department": "R&D"}
        });
        let new = json!({
            "schemas": ["a", "b"], "userName": "bob", "name": {"givenName": "Robert", "familyName": "B"},
            "emails": [{"value": "r@x", "primary": true}], "nickName": "Rob",
            urn: {"department": "Sales", "employeeNumber": "7"}
        });
        let (changed, previous) = diff(&old, &new);
        assert_eq!(
            changed,
            vec![
                "name.givenName".to_owned(),
                "emails".into(),
                "nickName".into(),
                format!("{urn}:department"),
                format!("{urn}:employeeNumber"),
                "title".into(),
            ]
        );
        assert_eq!(previous["name.givenName"], "Bob");
        assert_eq!(
            previous["emails"],
            json!([{"value": "b@x", "primary": true}])
        );
        assert_eq!(previous[&format!("{urn}:employeeNumber")], Value::Null);
        assert_eq!(previous["nickName"], Value::Null);
        assert_eq!(previous["title"], "Eng");
    }

    #[test]
    fn nothing_changed_is_an_empty_diff_and_passwords_keep_no_value() {
        let d = json!({"userName": "x", "name": {"givenName": "X"}});
        assert!(diff(&d, &d).0.is_empty());
        let (changed, previous) = diff(&json!({"password": "old"}), &json!({"password": "new"}));
        assert_eq!(changed, vec!["password".to_owned()]);
        assert!(previous.is_empty());
    }

    #[test]
    fn a_change_of_active_names_the_update() {
        let on = json!({"active": true});
        let off = json!({"active": false});
        assert_eq!(user_update_type(&on, &off), "user.deactivated");
        assert_eq!(user_update_type(&off, &json!({})), "user.reactivated");
        assert_eq!(user_update_type(&on, &on), "user.updated");
    }

    #[test]
    fn event_ids_sort_by_time_and_differ_per_request() {
        let notes = Notes::default();
        let at = "2023-11-14T22:13:20.000Z";
        let a = Recorder::new(&notes, "acme", at, "r1", 1_700_000_000_000);
        let b = Recorder::new(&notes, "acme", at, "r2", 1_700_000_000_001);
        let c = Recorder::new(&notes, "acme", at, "r3", 1_700_000_000_001);
        assert!(a.id_prefix < b.id_prefix);
        assert_ne!(b.id_prefix, c.id_prefix);
        assert_eq!(a.id_prefix.len(), 4 + 24);
    }
}
