//! Resource rows, Users and Groups alike. A row carries the attributes
//! identity providers filter on as indexed columns (see each table's
//! `columns`), the whole stored resource as JSON (`doc`), and its version;
//! one column is computed from the membership table when asked for (a
//! user's groups, a group's members). Every statement names the tenant, and
//! every write is one batch; when its answer needs what only the database
//! knows, the batch ends by reading the row back, in the same round trip.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::page::{page_after, Listed, PageSpec, Source};
use super::{
    col_i64, col_str, col_text, groups, guard_previous_changed, guarded_batch, users, Row,
    SqlExecutor, SqlValue, Stmt, StoreError, Written,
};

/// The resource a statement is about, which decides its table, its indexed
/// columns and its index tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The `users` table (with `user_emails`).
    User,
    /// The `groups` table (with `group_members`).
    Group,
}

impl Resource {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Resource::User => "users",
            Resource::Group => "groups",
        }
    }

    /// Its `group_members.member_type`.
    pub(crate) fn member_type(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Group => "Group",
        }
    }

    /// The condition (over alias `r`) a row must meet to be seen by SCIM:
    /// retained user tombstones are not.
    fn live(self) -> &'static str {
        match self {
            Resource::User => " AND r.deleted_at IS NULL",
            Resource::Group => "",
        }
    }

    /// [`Self::live`] for statements without the alias.
    fn live_row(self) -> &'static str {
        match self {
            Resource::User => " AND deleted_at IS NULL",
            Resource::Group => "",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            Resource::User => {
                "r.seq, r.id, r.deleted_at, r.created_at, r.last_modified, r.version, r.doc"
            }
            Resource::Group => "r.seq, r.id, r.created_at, r.last_modified, r.version, r.doc",
        }
    }

    /// The computed column, as `computed`: a JSON array built from the
    /// membership table.
    fn computed(self) -> &'static str {
        match self {
            Resource::User => users::GROUPS_COLUMN,
            Resource::Group => groups::MEMBERS_COLUMN,
        }
    }

    /// [`Self::columns`] for the host application: a user's roles too.
    fn admin_columns(self) -> &'static str {
        match self {
            Resource::User => {
                "r.seq, r.id, r.deleted_at, r.created_at, r.last_modified, r.version, r.doc, r.roles"
            }
            Resource::Group => self.columns(),
        }
    }

    fn select(self, computed: bool) -> String {
        if computed {
            format!("{}, {} AS computed", self.columns(), self.computed())
        } else {
            self.columns().to_owned()
        }
    }

    /// The indexed columns a document gives, in the table's order.
    fn indexed(self, doc: &Value) -> Vec<(&'static str, SqlValue)> {
        match self {
            Resource::User => users::indexed(doc),
            Resource::Group => groups::indexed(doc),
        }
    }

    /// The index-table rows of a document, after the row itself is written
    /// (a user's email rows; on a rewrite the old ones go first).
    fn index_rows(self, tenant: &str, id: &str, doc: &Value, rewrite: bool) -> Vec<Stmt> {
        match self {
            Resource::User => users::email_rows(tenant, id, doc, rewrite),
            Resource::Group => Vec::new(),
        }
    }

    /// The pages a list reads: live resources, or (`with_tombstones`, for
    /// the host application) every row.
    fn source(self, with_tombstones: bool) -> Source {
        match (self, with_tombstones) {
            (Resource::User, false) => Source {
                table: "users",
                base: "r.tenant_id = ? AND r.deleted_at IS NULL",
                counted: Some("user_count"),
            },
            (Resource::User, true) => Source {
                table: "users",
                base: "r.tenant_id = ?",
                counted: None,
            },
            (Resource::Group, _) => Source {
                table: "groups",
                base: "r.tenant_id = ?",
                counted: Some("group_count"),
            },
        }
    }
}

/// A resource as stored. `C` is its computed column's form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored<C> {
    /// The insertion position: the default order and the cursor keyset.
    pub seq: i64,
    pub id: String,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
    pub doc: Value,
    /// When a user was deleted, for a retained tombstone.
    pub deleted: Option<String>,
    /// Present when it was asked for.
    pub computed: Option<C>,
    /// A user's computed roles, when the host application's read asked
    /// for them (see `store::roles`).
    pub roles: Option<Vec<String>>,
}

fn from_row<C: DeserializeOwned>(r: Resource, row: &Row) -> Result<Stored<C>, StoreError> {
    let table = r.table();
    let doc: Value = serde_json::from_str(&col_text(row, table, "doc")?)
        .map_err(|e| StoreError::Other(format!("{table}.doc is not JSON: {e}")))?;
    let computed = match col_str(row, "computed") {
        None => None,
        Some(c) => Some(
            serde_json::from_str(c)
                .map_err(|e| StoreError::Other(format!("{table} computed column: {e}")))?,
        ),
    };
    Ok(Stored {
        seq: col_i64(row, "seq").unwrap_or(0),
        id: col_text(row, table, "id")?,
        created: col_text(row, table, "created_at")?,
        last_modified: col_text(row, table, "last_modified")?,
        version: col_i64(row, "version").unwrap_or(1),
        doc,
        deleted: col_str(row, "deleted_at").map(str::to_owned),
        computed,
        roles: col_str(row, "roles")
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Other(format!("{table}.roles: {e}")))?,
    })
}

/// The statement that reads resource `id` (live only, unless
/// `with_tombstones`), to send along with others in one round trip.
pub(crate) fn get_stmt(r: Resource, tenant: &str, id: &str, computed: bool) -> Stmt {
    get_any_stmt(r, tenant, id, computed, false)
}

fn get_any_stmt(r: Resource, tenant: &str, id: &str, computed: bool, tombstones: bool) -> Stmt {
    // Only the host application reads tombstones, and roles with them.
    let (live, columns) = if tombstones {
        ("", r.admin_columns())
    } else {
        (r.live(), r.columns())
    };
    let select = if computed {
        format!("{columns}, {} AS computed", r.computed())
    } else {
        columns.to_owned()
    };
    let sql = format!(
        "SELECT {select} FROM {} r WHERE r.tenant_id = ? AND r.id = ?{live}",
        r.table()
    );
    Stmt::new(sql, vec![tenant.into(), id.into()])
}

/// The resource in the rows of a [`get_stmt`].
pub(crate) fn decode_one<C: DeserializeOwned>(
    r: Resource,
    rows: &[Row],
) -> Result<Option<Stored<C>>, StoreError> {
    rows.first().map(|row| from_row(r, row)).transpose()
}

/// A live resource by id.
pub(crate) async fn get<C: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    r: Resource,
    tenant: &str,
    id: &str,
    computed: bool,
) -> Result<Option<Stored<C>>, StoreError> {
    decode_one(r, &db.query(get_stmt(r, tenant, id, computed)).await?)
}

/// A resource by id, live or a retained tombstone (for the host
/// application).
pub(crate) async fn get_any<C: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    r: Resource,
    tenant: &str,
    id: &str,
) -> Result<Option<Stored<C>>, StoreError> {
    decode_one(r, &db.query(get_any_stmt(r, tenant, id, true, true)).await?)
}

/// The last statement's rows of a batch that ended with a read-back.
fn last_row<C: DeserializeOwned>(
    r: Resource,
    written: &[Written],
) -> Result<Stored<C>, StoreError> {
    let rows = written.last().map(|w| w.rows.as_slice()).unwrap_or(&[]);
    decode_one(r, rows)?
        .ok_or_else(|| StoreError::Other(format!("{} row not read back", r.table())))
}

/// A document to store and the statements that go with it (membership
/// rows, guards that abort the batch when a constraint the schema cannot
/// express is broken).
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub doc: Value,
    pub extra: Vec<Stmt>,
}

/// Inserts a new resource at version 1 with its index rows, then its
/// extra statements, atomically. With `read_back` (whether with the
/// computed attribute) the same batch reads it back, for an answer that
/// needs what only the database knows (members' names); `None` then.
pub(crate) async fn insert<C: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    r: Resource,
    tenant: &str,
    id: &str,
    now: &str,
    new: &Doc,
    read_back: Option<bool>,
) -> Result<Option<Stored<C>>, StoreError> {
    let Doc { doc, extra } = new;
    let indexed = r.indexed(doc);
    let names: Vec<&str> = indexed.iter().map(|(n, _)| *n).collect();
    let marks = vec!["?"; indexed.len()].join(", ");
    let mut params: Vec<SqlValue> = vec![tenant.into(), id.into()];
    params.extend(indexed.into_iter().map(|(_, v)| v));
    params.extend([now.into(), now.into(), doc.to_string().into()]);
    let mut stmts = vec![Stmt::new(
        format!(
            "INSERT INTO {} (tenant_id, id, {}, created_at, last_modified, version, doc) \
             VALUES (?, ?, {marks}, ?, ?, 1, ?)",
            r.table(),
            names.join(", ")
        ),
        params,
    )];
    stmts.extend(r.index_rows(tenant, id, doc, false));
    stmts.extend(extra.iter().cloned());
    if let Some(computed) = read_back {
        stmts.push(get_stmt(r, tenant, id, computed));
    }
    let written = db.batch(stmts).await?;
    read_back.map(|_| last_row(r, &written)).transpose()
}

/// A change to a stored resource.
#[derive(Debug, Clone, Default)]
pub(crate) struct Update {
    /// The new document; `None` keeps the stored one (a change of
    /// membership only).
    pub doc: Option<Value>,
    /// Statements run after the row is updated: membership rows, guards.
    pub extra: Vec<Stmt>,
    /// Write only if the resource is still at this version. Without it the
    /// write applies to whatever version is stored, which only a change
    /// that does not rewrite the document may do.
    pub at_version: Option<i64>,
}

/// How a write to a stored resource ended. One per write, moved once to
/// its caller: not worth a box for the size of `Done`.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Applied<C> {
    /// Nothing was written: the resource is gone, or no longer at the
    /// version the change was made for.
    Stale,
    /// Written; the resource as stored when it was read back.
    Done(Option<Stored<C>>),
}

impl Update {
    /// `new` replaces the document of the resource at `version`.
    pub(crate) fn rewrite(new: Doc, version: i64) -> Update {
        Update {
            doc: Some(new.doc),
            extra: new.extra,
            at_version: Some(version),
        }
    }
}

/// Applies `change` to live resource `id`, bumping its version, atomically
/// (with `read_back`, reading it back in the same batch: see [`insert`]).
pub(crate) async fn update<C: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    r: Resource,
    tenant: &str,
    id: &str,
    now: &str,
    change: &Update,
    read_back: Option<bool>,
) -> Result<Applied<C>, StoreError> {
    let mut sets = String::new();
    let mut params: Vec<SqlValue> = Vec::new();
    if let Some(doc) = &change.doc {
        for (name, value) in r.indexed(doc) {
            sets.push_str(name);
            sets.push_str(" = ?, ");
            params.push(value);
        }
    }
    sets.push_str("last_modified = ?, version = version + 1");
    params.push(now.into());
    if let Some(doc) = &change.doc {
        sets.push_str(", doc = ?");
        params.push(doc.to_string().into());
    }
    params.extend([tenant.into(), id.into()]);
    let row = Stmt::new(
        format!(
            "UPDATE {} SET {sets} WHERE tenant_id = ? AND id = ?{}",
            r.table(),
            r.live_row()
        ),
        params,
    )
    .at_version(change.at_version);
    // Nothing after the UPDATE runs unless it matched: the guard aborts
    // the batch otherwise.
    let mut stmts = vec![row, guard_previous_changed()];
    if let Some(doc) = &change.doc {
        stmts.extend(r.index_rows(tenant, id, doc, true));
    }
    stmts.extend(change.extra.iter().cloned());
    if let Some(computed) = read_back {
        stmts.push(get_stmt(r, tenant, id, computed));
    }
    match guarded_batch(db, stmts).await? {
        Some(written) => Ok(Applied::Done(
            read_back.map(|_| last_row(r, &written)).transpose()?,
        )),
        None => Ok(Applied::Stale),
    }
}

/// How a resource leaves: its row goes, or (users) it stays as a
/// deactivated tombstone that SCIM no longer sees, stamped with the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal<'a> {
    Delete,
    Tombstone(&'a str),
}

/// Deletes a live resource and its memberships in groups atomically, only
/// if it is at `version` when one is given, with the statements `extra`
/// (its event). Returns false when nothing was deleted. A group's own
/// membership rows go with it (foreign key cascade).
/// The event statements of a delete: those that record the resource
/// leaving its groups (run before its memberships go), and the rest.
#[derive(Debug, Default)]
pub(crate) struct DeleteEvents {
    /// Run before the row goes (what reads its own membership rows, which
    /// cascade with it).
    pub before: Vec<Stmt>,
    pub leaving: Vec<Stmt>,
    pub deleted: Vec<Stmt>,
}

pub(crate) async fn delete<D: SqlExecutor>(
    db: &D,
    r: Resource,
    tenant: &str,
    id: &str,
    removal: Removal<'_>,
    version: Option<i64>,
    events: DeleteEvents,
) -> Result<bool, StoreError> {
    let live = r.live_row();
    let row = match removal {
        Removal::Delete => Stmt::new(
            format!(
                "DELETE FROM {} WHERE tenant_id = ? AND id = ?{live}",
                r.table()
            ),
            vec![tenant.into(), id.into()],
        ),
        Removal::Tombstone(now) => users::tombstone(tenant, id, now),
    }
    .at_version(version);
    // D1 counts cascaded and trigger-changed rows in a statement's changes,
    // so "was it there" is asked of SQLite's own changes() by the guard.
    let memberships = Stmt::new(
        "DELETE FROM group_members WHERE tenant_id = ? AND member_id = ? AND member_type = ?",
        vec![tenant.into(), id.into(), r.member_type().into()],
    );
    // The member's leaving events read the memberships before they go.
    let mut stmts = events.before;
    stmts.extend([row, guard_previous_changed()]);
    stmts.extend(events.leaving);
    stmts.push(memberships);
    stmts.extend(events.deleted);
    Ok(guarded_batch(db, stmts).await?.is_some())
}

/// A resource of a list page's rows.
pub(crate) fn decode_row<C: DeserializeOwned>(
    r: Resource,
    row: &Row,
) -> Result<Stored<C>, StoreError> {
    from_row(r, row)
}

/// A page of live resources matching `spec`, as rows (see [`decode_row`]),
/// after the read statements `leading`, which are sent in the same round
/// trip (see [`page_after`]); returns their rows as well.
pub(crate) async fn list_rows<D: SqlExecutor>(
    db: &D,
    r: Resource,
    leading: Vec<Stmt>,
    tenant: &str,
    spec: &PageSpec<'_>,
    computed: bool,
) -> Result<(Vec<Vec<Row>>, Listed<Row>), StoreError> {
    let (leading_rows, page) = page_after(
        db,
        leading,
        &r.source(false),
        tenant,
        spec,
        &r.select(computed),
    )
    .await?;
    Ok((leading_rows, page.into()))
}

/// A page of resources in insertion order (for the host application): live
/// ones, or with `tombstones` every row.
pub(crate) async fn list_any<C: DeserializeOwned, D: SqlExecutor>(
    db: &D,
    r: Resource,
    tenant: &str,
    spec: &PageSpec<'_>,
    tombstones: bool,
) -> Result<Listed<Stored<C>>, StoreError> {
    let (_, page) = page_after(
        db,
        Vec::new(),
        &r.source(tombstones),
        tenant,
        spec,
        r.admin_columns(),
    )
    .await?;
    Listed::from(page).decode(|row| from_row(r, row))
}
