//! Shards: the D1 databases a deployment keeps its tenants in.
//!
//! The first shard, `DB`, also holds the tenant registry: one `tenants` row
//! per tenant naming the shard its data is on (see the eleventh
//! migration). A tenant's data is on exactly one shard; every statement
//! about it goes there. What is found by a credential before the tenant is
//! known (OAuth clients, grants and codes, setup links) stays on `DB`.
//!
//! The registry is read once per tenant and isolate, then cached for
//! [`CACHE_MS`]: a steady stream of requests for a tenant costs no
//! registry read. A tenant only changes shard by being deleted and created
//! again (see the admin API's export and import); the isolate that does it
//! forgets at once, others within [`CACHE_MS`].

use std::cell::RefCell;
use std::collections::HashMap;

use super::{col_str, Row, SqlExecutor, Stmt, StoreError};

/// The binding of the first shard, which holds the registry.
pub const REGISTRY: &str = "DB";

/// How long an isolate trusts the shard it read for a tenant (ms).
pub(crate) const CACHE_MS: i64 = 30_000;
/// The most tenants an isolate remembers.
const CACHE_SIZE: usize = 4096;

/// The labels a shard can carry: D1's jurisdictions (data guaranteed to
/// stay there) and its location hints (where the database was created).
pub const REGIONS: [&str; 8] = [
    "eu", "fedramp", "wnam", "enam", "weur", "eeur", "apac", "oc",
];

/// One D1 database of the deployment.
pub struct Shard<'a, D> {
    /// Its binding name in wrangler.toml (`DB`, `DB_2`, ...): how the
    /// registry names it, so it must not change once tenants are on it.
    pub name: String,
    /// The jurisdiction or location it was created with, if it carries one.
    pub region: Option<String>,
    pub db: &'a D,
}

/// The shards of a deployment, `DB` first.
pub struct Shards<'a, D> {
    first: Shard<'a, D>,
    more: Vec<Shard<'a, D>>,
}

thread_local! {
    /// The shard of each tenant this isolate served, with when it was read.
    static CACHE: RefCell<HashMap<String, (String, i64)>> = RefCell::new(HashMap::new());
}

fn remember(tenant: &str, shard: &str, now_ms: i64) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE && !c.contains_key(tenant) {
            c.retain(|_, (_, at)| now_ms - *at < CACHE_MS);
            if c.len() >= CACHE_SIZE {
                c.clear();
            }
        }
        c.insert(tenant.to_owned(), (shard.to_owned(), now_ms));
    });
}

/// Forgets where `tenant` is, in this isolate (it was deleted or moved).
pub(crate) fn forget(tenant: &str) {
    CACHE.with(|c| c.borrow_mut().remove(tenant));
}

fn cached(tenant: &str, now_ms: i64) -> Option<String> {
    CACHE.with(|c| {
        c.borrow()
            .get(tenant)
            .filter(|(_, at)| (0..CACHE_MS).contains(&(now_ms - at)))
            .map(|(s, _)| s.clone())
    })
}

/// Why a tenant cannot be placed where it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// No shard of that name is bound.
    NoSuchShard(String),
    /// No shard carries that region.
    NoShardIn(String),
    /// The shard named carries another region (or none).
    WrongRegion { shard: String, region: String },
}

impl<'a, D> Shards<'a, D> {
    /// One database: the registry and the only shard.
    pub fn one(db: &'a D) -> Self {
        Shards {
            first: Shard {
                name: REGISTRY.to_owned(),
                region: None,
                db,
            },
            more: Vec::new(),
        }
    }

    /// `first` (bound as `DB`) and more shards after it.
    pub fn new(first: Shard<'a, D>, more: Vec<Shard<'a, D>>) -> Self {
        Shards { first, more }
    }

    /// The database that holds the registry (`DB`).
    pub fn registry(&self) -> &'a D {
        self.first.db
    }

    /// Every shard, `DB` first.
    pub fn all(&self) -> impl Iterator<Item = &Shard<'a, D>> {
        std::iter::once(&self.first).chain(&self.more)
    }

    /// Whether the deployment has more than one.
    pub fn sharded(&self) -> bool {
        !self.more.is_empty()
    }

    pub fn named(&self, name: &str) -> Option<&Shard<'a, D>> {
        self.all().find(|s| s.name == name)
    }

    /// The shards a new tenant of `region` may go on: those with that
    /// label; without a region, those without a label (or all of them, if
    /// every shard carries one).
    fn eligible(&self, region: Option<&str>) -> Vec<&Shard<'a, D>> {
        match region {
            Some(r) => self
                .all()
                .filter(|s| s.region.as_deref() == Some(r))
                .collect(),
            None => {
                let unlabelled: Vec<_> = self.all().filter(|s| s.region.is_none()).collect();
                if unlabelled.is_empty() {
                    self.all().collect()
                } else {
                    unlabelled
                }
            }
        }
    }

    /// What the shards are, for an error message: `DB, DB_2 (eu)`.
    pub(crate) fn describe(&self) -> String {
        self.all()
            .map(|s| match &s.region {
                Some(r) => format!("{} ({r})", s.name),
                None => s.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<'a, D: SqlExecutor> Shards<'a, D> {
    /// The database of `tenant`'s data. A tenant the registry does not know
    /// is looked for on `DB` (where it is not either: the caller answers as
    /// for any unknown tenant). With one shard, no registry read.
    pub async fn of(&self, tenant: &str, now_ms: i64) -> Result<&'a D, StoreError> {
        Ok(self.shard_of(tenant, now_ms).await?.db)
    }

    /// The shard of `tenant` (see [`Shards::of`]).
    pub async fn shard_of(&self, tenant: &str, now_ms: i64) -> Result<&Shard<'a, D>, StoreError> {
        if !self.sharded() {
            return Ok(&self.first);
        }
        if let Some(s) = cached(tenant, now_ms).and_then(|name| self.named(&name)) {
            return Ok(s);
        }
        let rows = self
            .registry()
            .query(Stmt::new(
                "SELECT shard FROM tenants WHERE id = ?",
                vec![tenant.into()],
            ))
            .await?;
        let Some(name) = rows.first().and_then(|r| col_str(r, "shard")) else {
            return Ok(&self.first);
        };
        match self.named(name) {
            Some(s) => {
                remember(tenant, name, now_ms);
                Ok(s)
            }
            // A shard the registry names but the deployment no longer binds
            // is a configuration fault, never a reason to write elsewhere.
            None => Err(StoreError::Unavailable(format!(
                "tenant {tenant} is on shard {name}, which this deployment does not bind"
            ))),
        }
    }

    /// The shard for a new tenant: the one named (checked against `region`),
    /// else the eligible shard (see [`Shards::eligible`]) with the fewest
    /// tenants, the first declared on a tie.
    pub(crate) async fn place(
        &self,
        named: Option<&str>,
        region: Option<&str>,
    ) -> Result<Result<&Shard<'a, D>, Placement>, StoreError> {
        if let Some(name) = named {
            let Some(s) = self.named(name) else {
                return Ok(Err(Placement::NoSuchShard(name.to_owned())));
            };
            if let Some(r) = region {
                if s.region.as_deref() != Some(r) {
                    return Ok(Err(Placement::WrongRegion {
                        shard: name.to_owned(),
                        region: r.to_owned(),
                    }));
                }
            }
            return Ok(Ok(s));
        }
        let eligible = self.eligible(region);
        let counts = if eligible.len() > 1 {
            self.counts().await?
        } else {
            HashMap::new()
        };
        let count = |s: &Shard<'a, D>| counts.get(&s.name).copied().unwrap_or(0);
        // min_by_key keeps the first of equal ones: declaration order.
        match eligible.into_iter().min_by_key(|s| count(s)) {
            Some(best) => Ok(Ok(best)),
            None => Ok(Err(Placement::NoShardIn(region.unwrap_or("").to_owned()))),
        }
    }

    /// How many tenants the registry has on each shard.
    pub(crate) async fn counts(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows = self
            .registry()
            .query(Stmt::new(
                "SELECT shard, count(*) AS n FROM tenants GROUP BY shard",
                Vec::new(),
            ))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r: &Row| {
                let n = r.get("n").and_then(serde_json::Value::as_u64)?;
                Some((col_str(r, "shard")?.to_owned(), n))
            })
            .collect())
    }

    /// Records in this isolate that `tenant` is on `shard` (it was just
    /// created there).
    pub(crate) fn placed(&self, tenant: &str, shard: &str, now_ms: i64) {
        if self.sharded() {
            remember(tenant, shard, now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_needs_a_labelled_shard_and_no_region_prefers_unlabelled_ones() {
        let (a, b, c) = ((), (), ());
        let shards = Shards::new(
            Shard {
                name: "DB".into(),
                region: None,
                db: &a,
            },
            vec![
                Shard {
                    name: "DB_2".into(),
                    region: Some("eu".into()),
                    db: &b,
                },
                Shard {
                    name: "DB_3".into(),
                    region: None,
                    db: &c,
                },
            ],
        );
        let names = |v: Vec<&Shard<'_, ()>>| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(shards.eligible(Some("eu"))), ["DB_2"]);
        assert_eq!(names(shards.eligible(Some("apac"))), Vec::<String>::new());
        assert_eq!(names(shards.eligible(None)), ["DB", "DB_3"]);
        assert_eq!(shards.describe(), "DB, DB_2 (eu), DB_3");
    }

    #[test]
    fn every_shard_labelled_takes_tenants_without_a_region_too() {
        let a = ();
        let shards = Shards::new(
            Shard {
                name: "DB".into(),
                region: Some("eu".into()),
                db: &a,
            },
            Vec::new(),
        );
        assert_eq!(shards.eligible(None).len(), 1);
    }
}
