//! List pages (RFC 7644 §3.4.2.4 index paging, RFC 9865 cursors) over a
//! resource table: the page's rows and, when it cannot tell it itself, the
//! number of rows matching, in as few round trips as the page allows.

use super::{col_i64, next_rows, read_all, Row, SqlExecutor, SqlValue, Stmt, StoreError};

/// Resources of one list page, typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Listed<T> {
    pub total: u64,
    pub items: Vec<T>,
    pub more: bool,
}

impl<T> Listed<T> {
    /// Decodes every item.
    pub(crate) fn decode<U>(
        self,
        f: impl Fn(&T) -> Result<U, StoreError>,
    ) -> Result<Listed<U>, StoreError> {
        Ok(Listed {
            total: self.total,
            items: self.items.iter().map(f).collect::<Result<_, _>>()?,
            more: self.more,
        })
    }
}

impl From<Page> for Listed<Row> {
    fn from(p: Page) -> Self {
        Listed {
            total: p.total,
            items: p.rows,
            more: p.more,
        }
    }
}

/// A keyset position for cursor pagination (RFC 9865): rows strictly after
/// or before a `seq`, in insertion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyset {
    After(i64),
    Before(i64),
}

/// How to select a page: an optional filter condition (over alias `r`) with
/// its parameters, an optional sort expression, and the window: `offset`
/// and `limit`, or a keyset position and `limit`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PageSpec<'a> {
    pub clause: Option<(&'a str, &'a [SqlValue])>,
    pub sort: Option<(&'a str, bool)>,
    pub offset: u64,
    pub limit: u64,
    pub keyset: Option<Keyset>,
}

/// A page of rows, the number of rows matching in all, and, for keyset
/// pages, whether more rows lie beyond the page in its direction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    pub total: u64,
    pub rows: Vec<Row>,
    pub more: bool,
}

/// A resource table as pages read it: its name, the condition (over alias
/// `r`, one parameter: the tenant) of the rows a page may hold, and the
/// column of `tenants` that keeps the number of those rows, where one does
/// (see the second migration).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    pub table: &'static str,
    pub base: &'static str,
    pub counted: Option<&'static str>,
}

/// One page of a resource table, and the number of rows matching, with
/// the read statements `leading` sent in the same round trip, before the
/// page's own; returns their rows as well. Rows come in the sort order,
/// then insertion order, which keeps pages stable. The page's
/// statements in that round trip are its rows and, when the rows cannot
/// tell the total or the tenant row keeps it, its count; a count that the
/// rows turn out not to tell (a full, filtered page) follows in a second
/// round trip.
pub(crate) async fn page_after<D: SqlExecutor>(
    db: &D,
    leading: Vec<Stmt>,
    source: &Source,
    tenant: &str,
    spec: &PageSpec<'_>,
    columns: &str,
) -> Result<(Vec<Vec<Row>>, Page), StoreError> {
    let mut plan = PagePlan::new(source, tenant, spec, columns);
    let lead = leading.len();
    let mut stmts = leading;
    stmts.extend(plan.rows.take());
    if plan.count_needed() {
        stmts.push(plan.count_stmt());
    }
    let mut results = read_all(db, stmts).await?.into_iter();
    let mut leading_rows = Vec::with_capacity(lead);
    for _ in 0..lead {
        leading_rows.push(next_rows(&mut results)?);
    }
    let page = plan.finish(db, results).await?;
    Ok((leading_rows, page))
}

/// The statements of one page and how its answer is read.
struct PagePlan {
    /// The page's rows; none when the page is empty by its limit. Taken
    /// when sent.
    rows: Option<Stmt>,
    /// The count's statement, built on demand, and whether it reads the
    /// tenant's kept count (one row) rather than counting the matches.
    count_sql: String,
    count_params: Vec<SqlValue>,
    kept_count: bool,
    offset: u64,
    limit: u64,
    keyset: Option<Keyset>,
}

fn count_of(rows: &[Row]) -> u64 {
    rows.first()
        .and_then(|r| col_i64(r, "n"))
        .map_or(0, |n| u64::try_from(n).unwrap_or(0))
}

impl PagePlan {
    fn new(source: &Source, tenant: &str, spec: &PageSpec<'_>, columns: &str) -> Self {
        let Source {
            table,
            base,
            counted,
        } = *source;
        let PageSpec {
            clause,
            sort,
            offset,
            limit,
            keyset,
        } = *spec;
        let mut where_sql = base.to_owned();
        let mut params: Vec<SqlValue> = vec![tenant.into()];
        if let Some((c, p)) = clause {
            where_sql.push_str(" AND (");
            where_sql.push_str(c);
            where_sql.push(')');
            params.extend_from_slice(p);
        }
        let limit_param = |n: u64| SqlValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let rows = if limit == 0 {
            None
        } else if let Some(k) = keyset {
            // Keyset pages read one row more than asked, to know whether the
            // page has a successor; the cost is independent of the position.
            let (cmp, dir, seq) = match k {
                Keyset::After(s) => (">", "ASC", s),
                Keyset::Before(s) => ("<", "DESC", s),
            };
            let mut page_params = params.clone();
            page_params.push(SqlValue::Int(seq));
            page_params.push(limit_param(limit.saturating_add(1)));
            Some(Stmt::new(
                format!(
                    "SELECT {columns} FROM {table} r WHERE {where_sql} AND r.seq {cmp} ? \
                     ORDER BY r.seq {dir} LIMIT ?"
                ),
                page_params,
            ))
        } else {
            // RFC 7644 §3.4.2.3: unassigned values sort last.
            let order = match sort {
                Some((expr, false)) => format!("{expr} IS NULL, {expr} ASC, "),
                Some((expr, true)) => format!("{expr} IS NULL, {expr} DESC, "),
                None => String::new(),
            };
            // A filter answered through an index table (`r.id IN (SELECT ...)`)
            // selects few rows; left alone, SQLite would walk the tenant in `seq`
            // order and probe each row. `+r.seq` stops the ORDER BY from choosing
            // that index, so the lookup drives the query and the few matches sort.
            let seq = if clause.is_some_and(|(c, _)| c.contains("r.id IN (")) {
                "+r.seq"
            } else {
                "r.seq"
            };
            let mut page_params = params.clone();
            page_params.push(limit_param(limit));
            page_params.push(limit_param(offset));
            Some(Stmt::new(
                format!(
                    "SELECT {columns} FROM {table} r WHERE {where_sql} ORDER BY {order}{seq} LIMIT ? OFFSET ?"
                ),
                page_params,
            ))
        };
        // Without a filter the tenant row tells the total: one row read
        // instead of a count over every live resource of the tenant.
        let (count_sql, count_params, kept_count) = match (clause, counted) {
            (None, Some(column)) => (
                format!("SELECT {column} AS n FROM tenants WHERE id = ?"),
                vec![tenant.into()],
                true,
            ),
            _ => (
                format!("SELECT count(*) AS n FROM {table} r WHERE {where_sql}"),
                params,
                false,
            ),
        };
        PagePlan {
            rows,
            count_sql,
            count_params,
            kept_count,
            offset,
            limit,
            keyset,
        }
    }

    /// Whether the count goes along with the rows: when the total needs it
    /// whatever rows come back (an empty page by its limit, or a keyset page
    /// other than the first), or when it is the tenant's kept count, which
    /// costs one row.
    fn count_needed(&self) -> bool {
        self.kept_count || self.limit == 0 || self.keyset.is_some_and(|k| k != Keyset::After(0))
    }

    fn count_stmt(&self) -> Stmt {
        Stmt::new(self.count_sql.clone(), self.count_params.clone())
    }

    /// The page from the answers to its statements (rows, then the count
    /// when [`Self::count_needed`]). The total costs a count(*) over every
    /// match; a page that comes back short of its limit already tells it,
    /// so otherwise the count runs only when the page cannot (an IdP's
    /// `userName eq` lookup is then one statement).
    async fn finish<D: SqlExecutor>(
        self,
        db: &D,
        mut results: impl Iterator<Item = Vec<Row>>,
    ) -> Result<Page, StoreError> {
        // The rows' statement was sent unless the limit is 0.
        let mut rows = if self.limit > 0 {
            next_rows(&mut results)?
        } else {
            Vec::new()
        };
        let known = if self.count_needed() {
            Some(count_of(&next_rows(&mut results)?))
        } else {
            None
        };
        let count = || async {
            match known {
                Some(n) => Ok::<u64, StoreError>(n),
                None => Ok(count_of(&db.query(self.count_stmt()).await?)),
            }
        };
        let limit = self.limit;
        if limit == 0 {
            return Ok(Page {
                total: count().await?,
                rows: Vec::new(),
                more: false,
            });
        }
        if let Some(k) = self.keyset {
            let more = rows.len() as u64 > limit;
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            if matches!(k, Keyset::Before(_)) {
                rows.reverse();
            }
            let total = if k == Keyset::After(0) && !more {
                rows.len() as u64
            } else {
                count().await?
            };
            return Ok(Page { total, rows, more });
        }
        let offset = self.offset;
        let short = (rows.len() as u64) < limit && (offset == 0 || !rows.is_empty());
        let total = if short {
            offset + rows.len() as u64
        } else {
            count().await?
        };
        let more = offset.saturating_add(rows.len() as u64) < total;
        Ok(Page { total, rows, more })
    }
}
