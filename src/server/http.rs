//! Plain HTTP request and response values: what the edge glue hands the
//! service and gets back. No dependency on the worker runtime.

use serde_json::Value;

use crate::proto::error::ScimError;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Other,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> Method {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Scheme and authority, e.g. `https://scim.example.workers.dev`.
    pub origin: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query string without `?`.
    pub query: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, url_path_and_query: &str) -> Request {
        let (path, query) = match url_path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (url_path_and_query.to_owned(), String::new()),
        };
        Request {
            method,
            origin: "http://localhost".into(),
            path,
            query,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A request at an absolute URL as the runtime serialises it (WHATWG
    /// URL: scheme and host lowercased, default port left out, path
    /// percent-encoded): its origin, raw path and raw query, without
    /// parsing it again. A fragment never reaches a server, and is dropped.
    pub fn at_url(method: Method, href: &str) -> Request {
        let href = href.split_once('#').map_or(href, |(h, _)| h);
        let after_scheme = href.find("://").map_or(0, |i| i + 3);
        let path_at = href
            .get(after_scheme..)
            .and_then(|a| a.find(['/', '?']))
            .map_or(href.len(), |i| after_scheme + i);
        let (origin, rest) = href.split_at_checked(path_at).unwrap_or((href, ""));
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Request {
            method,
            origin: origin.to_owned(),
            path: if path.is_empty() { "/" } else { path }.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded query parameters.
    pub fn params(&self) -> Query {
        Query::parse(&self.query)
    }

    /// Whether the client asked for `application/json` over
    /// `application/scim+json` (RFC 7644 §8.1; OneLogin documents
    /// `application/json` responses): its `Accept` header gives
    /// `application/json` a higher weight than `application/scim+json`
    /// (RFC 9110 §12.5.1: the most specific range that matches a type gives
    /// its weight). No `Accept`, `*/*`, a tie, or types neither matches all
    /// get SCIM's own type.
    pub(crate) fn prefers_plain_json(&self) -> bool {
        let Some(accept) = self.header("accept") else {
            return false;
        };
        weight(accept, "application/json") > weight(accept, SCIM_CONTENT_TYPE)
    }

    /// The first value of a query parameter (see [`Query::get`]).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.params().get(name)
    }

    /// The body as JSON. Bodies arrive as `application/scim+json` or
    /// `application/json` (with or without charset); the content type is not
    /// required to be either, but the body must be JSON.
    pub(crate) fn json(&self) -> Result<Value, ScimError> {
        if self.body.is_empty() {
            return Err(ScimError::invalid_syntax("The request body is empty."));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ScimError::invalid_syntax(format!("The request body is not valid JSON: {e}"))
        })
    }
}

/// A percent-decoded path segment (ids and schema URNs may be encoded).
pub(crate) fn decode_segment(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The segments of a path (after its prefix), each decoded.
pub(crate) fn path_segments(rest: &str) -> Vec<String> {
    rest.split('/').map(decode_segment).collect()
}

/// The weight an `Accept` header gives the media type `ty` (`type/subtype`,
/// lowercase), in thousandths: the `q` of the most specific range that
/// matches it, 0 when none does.
fn weight(accept: &str, ty: &str) -> u16 {
    let (main, _) = ty.split_once('/').unwrap_or((ty, ""));
    let mut best: Option<(u8, u16)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let specificity = if name == ty {
            2
        } else if name == format!("{main}/*") {
            1
        } else if name == "*/*" {
            0
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, v)| v.trim().parse::<f32>().ok())
            .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0).round() as u16);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0, |(_, q)| q)
}

/// Decoded query parameters; `+` and `%20` both decode to a space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Query {
        Query(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first parameter whose name is none of `known` (compared as
    /// [`Query::get`] compares), if any.
    pub fn unknown(&self, known: &[&str]) -> Option<&str> {
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !known.iter().any(|n| n.eq_ignore_ascii_case(k)))
    }

    /// The first value of a parameter; names match case-insensitively
    /// (IdPs differ in `startIndex`/`startindex`).
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The rest of a streamed body (a tenant export): `body` is its first
    /// part, [`crate::Service::stream_next`] gives the next ones.
    pub more: Option<Box<Continuation>>,
}

/// Where a streamed body goes on.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuation {
    pub(crate) tenant: String,
    pub(crate) cursor: crate::store::export::Cursor,
    /// The export's time, as its header line gives it.
    pub(crate) stamp: String,
}

impl Response {
    pub(crate) fn empty(status: u16) -> Response {
        Response {
            status,
            headers: vec![("cache-control".into(), "no-store".into())],
            body: Vec::new(),
            more: None,
        }
    }

    /// A SCIM JSON response (`application/scim+json`).
    pub(crate) fn scim(status: u16, body: &Value) -> Response {
        Self::json_with_type(status, body, SCIM_CONTENT_TYPE)
    }

    /// A plain JSON response (`application/json`), for the admin API.
    pub fn json(status: u16, body: &Value) -> Response {
        Self::json_with_type(status, body, "application/json")
    }

    pub(crate) fn json_with_type(status: u16, body: &Value, content_type: &str) -> Response {
        let mut r = Response::empty(status);
        r.headers.push((
            "content-type".into(),
            format!("{content_type}; charset=utf-8"),
        ));
        r.body = serde_json::to_vec(body).unwrap_or_default();
        r
    }

    /// This response with plain `application/json` in place of SCIM's media
    /// type (see [`Request::prefers_plain_json`]); other types are kept.
    pub(crate) fn in_plain_json(mut self) -> Response {
        for (k, v) in &mut self.headers {
            if k == "content-type" && v.starts_with(SCIM_CONTENT_TYPE) {
                *v = v.replacen(SCIM_CONTENT_TYPE, "application/json", 1);
            }
        }
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json_body(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_url_splits_into_origin_path_and_query() {
        // WHATWG URL serialisation, as workerd gives `request.url`.
        let at = |href: &str| {
            let r = Request::at_url(Method::Get, href);
            (r.origin, r.path, r.query)
        };
        let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(
            at("https://scim.example.com/scim/v2/t/Users?filter=userName%20eq%20%22a%22&count=2"),
            s(
                "https://scim.example.com",
                "/scim/v2/t/Users",
                "filter=userName%20eq%20%22a%22&count=2"
            )
        );
        assert_eq!(
            at("http://127.0.0.1:8787/"),
            s("http://127.0.0.1:8787", "/", "")
        );
        assert_eq!(
            at("http://127.0.0.1:8787"),
            s("http://127.0.0.1:8787", "/", "")
        );
        assert_eq!(at("http://h?x=1"), s("http://h", "/", "x=1"));
        assert_eq!(at("http://h/a?b?c#frag"), s("http://h", "/a", "b?c"));
        assert_eq!(at("http://h/a#f?g"), s("http://h", "/a", ""));
        assert_eq!(at("http://h/a/%2F?"), s("http://h", "/a/%2F", ""));
    }

    #[test]
    fn accept_negotiates_plain_json_only_when_it_outweighs_scim() {
        // RFC 7644 §8.1 and RFC 9110 §12.5.1; OneLogin asks for
        // application/json, Entra's Test Connection sends no Accept.
        let asks = |accept: Option<&str>| {
            let r = Request::new(Method::Get, "/Users");
            match accept {
                Some(a) => r.with_header("Accept", a),
                None => r,
            }
            .prefers_plain_json()
        };
        assert!(asks(Some("application/json")));
        assert!(asks(Some("Application/JSON; charset=utf-8")));
        assert!(asks(Some("application/scim+json;q=0.5, application/json")));
        assert!(asks(Some("application/json, */*;q=0.1")));
        for scim in [
            None,
            Some("*/*"),
            Some("application/scim+json"),
            Some("application/json, application/scim+json"),
            Some("application/json;q=0.5, application/*"),
            Some("text/html"),
            Some("application/json;q=0"),
        ] {
            assert!(!asks(scim), "{scim:?}");
        }
    }

    #[test]
    fn plus_and_percent_twenty_both_decode_to_space() {
        // idp-behaviour.md: query strings arrive %20- or +-encoded.
        let a = Request::new(Method::Get, "/Users?filter=userName+eq+%22a%22");
        let b = Request::new(Method::Get, "/Users?filter=userName%20eq%20%22a%22");
        assert_eq!(
            a.query_param("filter").as_deref(),
            Some("userName eq \"a\"")
        );
        assert_eq!(a.query_param("filter"), b.query_param("filter"));
    }
}
