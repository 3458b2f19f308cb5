//! The tenant's SCIM request log (see `server::request_log`): `GET
//! /tenants/{t}/requests?after=&status=&method=&limit=`, newest first, one
//! page at a time.

use serde_json::{json, Value};

use super::request::{known_params, limit_param, Admin};
use crate::proto::error::{ScimError, ScimResult};
use crate::server::error::Result;
use crate::server::http::{Method, Query, Response};
use crate::server::webhooks::Outbound;
use crate::store::requests::{self, Entry, Listing};
use crate::store::{KeyValue, SqlExecutor};

/// A query parameter; empty counts as not given (`?after=` is the first page).
fn param(q: &Query, name: &str) -> Option<String> {
    q.get(name).filter(|v| !v.is_empty())
}

/// `after`: the `next` of an earlier page.
fn cursor(v: Option<String>) -> ScimResult<Option<i64>> {
    v.map(|c| {
        c.parse::<i64>().ok().filter(|s| *s > 0).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "after must be the next cursor of an earlier page, not '{c}'."
            ))
        })
    })
    .transpose()
}

/// `status`: a code (`409`) or a class (`4xx`), as an inclusive range.
fn status_range(v: Option<String>) -> ScimResult<Option<(u16, u16)>> {
    v.map(|s| {
        let class = s
            .to_ascii_lowercase()
            .strip_suffix("xx")
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|d| (1..=5).contains(d))
            .map(|d| (d * 100, d * 100 + 99));
        let code = s
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(|c| (c, c));
        class.or(code).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "status must be a code like 409 or a class like 4xx, not '{s}'."
            ))
        })
    })
    .transpose()
}

/// `method`: an HTTP method, in any case.
fn method(v: Option<String>) -> ScimResult<Option<String>> {
    v.map(|m| match Method::parse(&m) {
        Method::Other => Err(ScimError::invalid_value(format!(
            "method must be an HTTP method such as GET or POST, not '{m}'."
        ))),
        known => Ok(known.as_str().to_owned()),
    })
    .transpose()
}

/// The listing a request's parameters ask for.
fn listing(q: &Query) -> ScimResult<Listing> {
    known_params(q, &["after", "status", "method", "limit"])?;
    Ok(Listing {
        before: cursor(param(q, "after"))?,
        status: status_range(param(q, "status"))?,
        method: method(param(q, "method"))?,
        limit: limit_param(q)?,
    })
}

/// An entry as the admin API shows it.
fn entry_json(e: Entry) -> Value {
    let token = match (e.token_id, e.token_label) {
        (Some(id), label) => json!({"id": id, "label": label.unwrap_or_default()}),
        (None, _) => Value::Null,
    };
    let leniencies: Value =
        serde_json::from_str(&e.leniencies).unwrap_or_else(|_| Value::Array(Vec::new()));
    json!({
        "at": e.at,
        "requestId": e.request_id,
        "method": e.method,
        "path": e.path,
        "query": e.query,
        "status": e.status,
        "scimType": e.scim_type,
        "detail": e.detail,
        "durationMs": e.duration_ms,
        "token": token,
        "userAgent": e.user_agent,
        "leniencies": leniencies,
        "body": e.body,
    })
}

impl<D: SqlExecutor, K: KeyValue, O: Outbound> Admin<'_, D, K, O> {
    pub(super) async fn list_requests(&self, tenant: &str) -> Result<Response> {
        self.tenant(tenant).await?;
        let listing = listing(&self.req.params())?;
        let logged = requests::list(self.db, tenant, &listing).await?;
        let items: Vec<Value> = logged
            .entries
            .into_iter()
            .map(|(_, e)| entry_json(e))
            .collect();
        let next = logged.next.map(|seq| seq.to_string());
        Ok(Response::json(
            200,
            &json!({"requests": items, "next": next}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> ScimResult<Listing> {
        listing(&Query::parse(s))
    }

    #[test]
    fn parameters_are_read_and_empty_ones_are_not_given() {
        let all = q("after=42&status=4xx&method=post&limit=5").unwrap();
        assert_eq!(
            all,
            Listing {
                before: Some(42),
                status: Some((400, 499)),
                method: Some("POST".into()),
                limit: 5,
            }
        );
        let none = q("after=&status=&method=&limit=").unwrap();
        assert_eq!(none.limit, super::super::request::DEFAULT_PAGE);
        assert_eq!((none.before, none.status, none.method), (None, None, None));
        assert_eq!(q("status=409").unwrap().status, Some((409, 409)));
        assert_eq!(q("status=5XX").unwrap().status, Some((500, 599)));
        assert_eq!(q("limit=1000").unwrap().limit, 1000);
    }

    #[test]
    fn bad_parameters_are_400() {
        for bad in [
            "after=abc",
            "after=0",
            "after=-3",
            "status=6xx",
            "status=0xx",
            "status=4x",
            "status=99",
            "status=600",
            "method=FETCH",
            "limit=0",
            "limit=1001",
            "limit=ten",
            // A misspelt parameter would otherwise list every entry.
            "stauts=4xx",
            "sort=at",
        ] {
            let e = q(bad).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
        assert!(q("stauts=4xx")
            .unwrap_err()
            .detail
            .contains("Unknown query parameter 'stauts'"));
        // Names match in any case, as everywhere else.
        assert_eq!(q("STATUS=409").unwrap().status, Some((409, 409)));
    }
}
