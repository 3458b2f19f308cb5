//! Groups (RFC 7643 §4.2). Members live in their own table: the document
//! never holds them, `excludedAttributes=members` never reads them, and a
//! membership change touches only the named members' rows.

use serde_json::{json, Map, Value};

use crate::proto::error::ScimError;
use crate::proto::patch::Outcome as Patched;
use crate::proto::schema::{core_group_type, ResourceType};
use crate::server::ctx::Ctx;
use crate::server::error::Result;
use crate::server::events;
use crate::server::limits;
use crate::server::log::Note;
use crate::server::resources::kind::{Hidden, Kind, PatchMode};
use crate::server::schema::{TenantSchema, Typed};
use crate::store::groups::{
    existence_stmts, found_in, guard_all_added, guard_named, membership_stmts, missing_among,
    missing_members, Member, Membership, NewMember,
};
use crate::store::resources::{self, Doc, Removal, Resource, Stored, Update};
use crate::store::roles::{self, Candidates};
use crate::store::tenants::UnknownMembers;
use crate::store::{SqlExecutor, Stmt};

pub(crate) struct Groups;

/// Splits the `members` out of a normalized group document.
fn take_members(doc: &mut Value) -> Vec<NewMember> {
    let members = match doc.as_object_mut().and_then(|o| o.remove("members")) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    members
        .iter()
        .filter_map(|m| {
            Some(NewMember {
                id: m.get("value")?.as_str()?.to_owned(),
                kind: m.get("type").and_then(Value::as_str).map(str::to_owned),
            })
        })
        .collect()
}

/// The members to add that are no live users or groups of the tenant, as
/// tenant setting `unknownMembers` says (read only when there are such
/// members): 400 `invalidValue` naming them (`reject`; nothing is stored),
/// or dropped and noted (`skip`, the default; Okta group push: "only those
/// members of the group who are already a part of" the application are
/// assigned). Returns the membership to write (see `membership_stmts` for
/// a member deleted in between).
async fn checked_membership<D: SqlExecutor>(
    ctx: &Ctx<'_, D>,
    group_id: &str,
    mut membership: Membership,
) -> Result<Membership> {
    if membership.add.is_empty() {
        return Ok(membership);
    }
    // Read with the group when the request named them (a PATCH that adds).
    let probed = ctx
        .members_probed
        .get()
        .filter(|(ids, _)| membership.add.iter().all(|m| ids.contains(&m.id)));
    let missing = match probed {
        Some((_, found)) => missing_among(found, group_id, &membership.add),
        None => missing_members(ctx.db, &ctx.tenant, group_id, &membership.add).await?,
    };
    if missing.is_empty() {
        return Ok(membership);
    }
    if ctx.settings().await?.unknown_members == UnknownMembers::Reject {
        return Err(ScimError::invalid_value(format!(
            "These members do not exist in this tenant: {}.",
            missing.join(", ")
        ))
        .into());
    }
    membership.add.retain(|m| !missing.contains(&m.id));
    ctx.notes.add(Note::SkippedMembers(missing));
    Ok(membership)
}

/// The ids of the members a PatchOp body adds (`add` or `replace` of
/// `members`, or of a value holding `members`), as IdPs send them, with the
/// statements that find which exist: read along with the group, so the
/// write needs no round trip of its own to check them.
pub(crate) fn probe(tenant: &str, body: &Value) -> Option<(Vec<String>, Vec<Stmt>)> {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))?
        .as_array()?;
    let mut ids: Vec<String> = Vec::new();
    let mut take = |list: &Value| {
        for m in list.as_array().into_iter().flatten() {
            if let Some(id) = m.get("value").and_then(Value::as_str) {
                if !ids.iter().any(|i| i == id) {
                    ids.push(id.to_owned());
                }
            }
        }
    };
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        if !kind.eq_ignore_ascii_case("add") && !kind.eq_ignore_ascii_case("replace") {
            continue;
        }
        let path = op.get("path").and_then(Value::as_str);
        match (path, op.get("value")) {
            (Some(p), Some(v)) if p.eq_ignore_ascii_case("members") => take(v),
            (None, Some(v)) => {
                if let Some(list) = v.get("members") {
                    take(list);
                }
            }
            _ => {}
        }
    }
    if ids.is_empty() {
        return None;
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let stmts = existence_stmts(tenant, &refs);
    Some((ids, stmts))
}

/// Keeps what the statements of a [`probe`] found, for the write.
pub(crate) fn probed<D>(ctx: &Ctx<'_, D>, ids: Vec<String>, results: &[Vec<crate::store::Row>]) {
    let mut found = std::collections::HashSet::new();
    for rows in results {
        found.extend(found_in(rows));
    }
    let _ = ctx.members_probed.set((ids, found));
}

/// The statements of a write to group `id` (whose document is `doc` after
/// it; `renamed`: its displayName or externalId changes, which changes
/// what the role rules match): the membership events, computed in the
/// batch before the membership change, the change, then the roles of the
/// users it may concern (joining, leaving, and with a rename every member)
/// with their events.
///
/// A write made from the isolate's copy of the group (see
/// [`Groups::prepare_patch`]) did not check the members it adds
/// (`unchecked`): the batch then aborts unless every one became a member.
/// When it leaves the document as the copy has it (`named`: the copy's), it
/// also aborts unless the stored group still has the copy's name and
/// externalId, which its events give it (a rewrite of the document is
/// guarded by the copy's version instead).
fn member_writes<D>(
    ctx: &Ctx<'_, D>,
    id: &str,
    doc: &Value,
    m: &Membership,
    (renamed, unchecked, named): (bool, bool, Option<&Value>),
) -> Vec<Stmt> {
    let summary = events::group_summary(id, doc);
    let mut stmts = Vec::new();
    if m.remove_all {
        // The members it had are gone from the table after the change.
        stmts.push(roles::mark_members(&ctx.tenant, id));
    }
    stmts.extend(ctx.events.membership(&summary, m));
    stmts.extend(membership_stmts(&ctx.tenant, id, m));
    if let Some(named) = named {
        let text = |k: &str| named.get(k).and_then(Value::as_str);
        stmts.push(guard_named(
            &ctx.tenant,
            id,
            text("displayName"),
            text("externalId"),
        ));
    }
    if unchecked {
        stmts.extend(guard_all_added(&ctx.tenant, id, &m.add));
    }
    let also = m
        .add
        .iter()
        .map(|a| a.id.as_str())
        .chain(m.remove.iter().map(String::as_str))
        .collect();
    stmts.extend(ctx.events.roles(&Candidates::Group {
        id,
        also,
        current: renamed,
        marked: m.remove_all,
    }));
    stmts
}

/// Whether a group write changes what role rules match it.
fn renamed(old: &Value, new: &Value) -> bool {
    ["displayName", "externalId"]
        .iter()
        .any(|k| old.get(k) != new.get(k))
}

impl Groups {
    /// The document of a POST or PUT without its members, and the
    /// statements that give the group exactly those members (`replace`,
    /// with the document it has: instead of the ones it has).
    async fn with_members<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        id: &str,
        mut doc: Value,
        replace: Option<&Value>,
    ) -> Result<Doc> {
        limits::check_document(&doc, &ctx.limits)?;
        let membership = Membership {
            remove_all: replace.is_some(),
            add: take_members(&mut doc),
            ..Membership::default()
        };
        let membership = checked_membership(ctx, id, membership).await?;
        let renamed = replace.is_some_and(|old| renamed(old, &doc));
        let extra = member_writes(ctx, id, &doc, &membership, (renamed, false, None));
        Ok(Doc { doc, extra })
    }
}

fn member_json<D>(ctx: &Ctx<'_, D>, m: Member) -> Value {
    let mut o = Map::new();
    let endpoint = if m.kind == "Group" { "Groups" } else { "Users" };
    let location = ctx.location(endpoint, &m.id);
    o.insert("value".into(), Value::String(m.id));
    o.insert("$ref".into(), Value::String(location));
    if let Some(d) = m.display {
        o.insert("display".into(), Value::String(d));
    }
    o.insert("type".into(), Value::String(m.kind));
    Value::Object(o)
}

impl Typed for Groups {
    fn core_type() -> &'static ResourceType {
        core_group_type()
    }
}

impl Kind for Groups {
    const RESOURCE: Resource = Resource::Group;
    const COMPUTED: &'static str = "members";
    type Computed = Vec<Member>;
    const EVENT: &'static str = "group";
    const KEEPS_RECENT: bool = true;

    fn probe(tenant: &str, body: &Value) -> Option<(Vec<String>, Vec<Stmt>)> {
        probe(tenant, body)
    }

    fn summary(id: &str, doc: &Value) -> Value {
        events::group_summary(id, doc)
    }
    /// What Microsoft Entra prefers.
    const PATCH_NO_CONTENT: bool = true;
    /// A group's writes change its members, whose names only the database
    /// knows.
    const WRITES_CHANGE_COMPUTED: bool = true;

    /// `members` with each member's `$ref` (RFC 7643 §4.2).
    fn derive<D>(ctx: &Ctx<'_, D>, form: &mut Map<String, Value>, members: Option<Vec<Member>>) {
        if let Some(members) = members.filter(|m| !m.is_empty()) {
            let list = members.into_iter().map(|m| member_json(ctx, m)).collect();
            form.insert("members".into(), Value::Array(list));
        }
    }

    async fn prepare_create<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        _schema: &TenantSchema,
        id: &str,
        doc: Value,
    ) -> Result<Doc> {
        Self::with_members(ctx, id, doc, None).await
    }

    /// PUT replaces the member list: all out, the given ones in.
    async fn prepare_replace<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        _schema: &TenantSchema,
        current: &Stored<Vec<Member>>,
        doc: Value,
        _hidden: Hidden,
    ) -> Result<Update> {
        let new = Self::with_members(ctx, &current.id, doc, Some(&current.doc)).await?;
        Ok(Update::rewrite(new, current.version))
    }

    /// The document and the membership change together, or not at all.
    /// The one exception to the version check: a PATCH without `If-Match`
    /// that changes only members does not rewrite the document and applies
    /// to whatever version is stored. Okta and Entra add and remove members
    /// of one group in parallel requests without If-Match, and each must
    /// apply rather than fail 412 on the version bump of another.
    ///
    /// Made from the isolate's copy of the group (`how.from_copy`), the
    /// members it adds are not read first: a guard in the batch aborts it
    /// unless every one of them became a member (none was missing), and the
    /// write is made again from the stored group, checking them the usual
    /// way (`unknownMembers`). IdPs add members that exist, so this is one
    /// batch in steady state.
    async fn prepare_patch<D: SqlExecutor>(
        ctx: &Ctx<'_, D>,
        _schema: &TenantSchema,
        current: &Stored<Vec<Member>>,
        patched: Patched,
        _hidden: Hidden,
        how: PatchMode,
    ) -> Result<Option<Update>> {
        let id = current.id.as_str();
        let changes = patched.members;
        let mut remove = changes.remove;
        if !changes.remove_filters.is_empty() {
            // Filters on members (e.g. `members[type eq "User"]`) are
            // evaluated against the current members, then removed by id.
            let with_members: Stored<Vec<Member>> =
                resources::get(ctx.db, Resource::Group, &ctx.tenant, id, true)
                    .await?
                    .ok_or_else(|| Self::not_found(id))?;
            for m in with_members.computed.unwrap_or_default() {
                let element = json!({"value": m.id, "type": m.kind, "display": m.display});
                if changes
                    .remove_filters
                    .iter()
                    .any(|f| f.matches(&element, &|_| false))
                {
                    remove.push(m.id);
                }
            }
        }
        let add: Vec<NewMember> = changes
            .add
            .into_iter()
            .map(|(id, kind)| NewMember { id, kind })
            .collect();
        // A member both removed (by a filter) and added stays: the add
        // runs last, and its events must say so.
        remove.retain(|r| !add.iter().any(|a| a.id == *r));
        limits::check_document(&patched.doc, &ctx.limits)?;
        let membership = Membership {
            remove_all: changes.remove_all,
            remove,
            add,
        };
        let membership = if how.from_copy {
            membership
        } else {
            checked_membership(ctx, id, membership).await?
        };
        let renamed = renamed(&current.doc, &patched.doc);
        let members_only = patched.doc == current.doc && !how.conditional;
        let named = (how.from_copy && members_only).then_some(&current.doc);
        let how_made = (renamed, how.from_copy, named);
        let extra = member_writes(ctx, id, &patched.doc, &membership, how_made);
        if members_only {
            return Ok((!membership.is_empty()).then_some(Update {
                doc: None,
                extra,
                at_version: None,
            }));
        }
        Ok(Some(Update {
            doc: Some(patched.doc),
            extra,
            at_version: Some(current.version),
        }))
    }

    async fn removal<'c, D: SqlExecutor>(_ctx: &'c Ctx<'_, D>) -> Result<Removal<'c>> {
        Ok(Removal::Delete)
    }
}
