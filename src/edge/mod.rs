//! The wasm32-only glue: workerd's fetch event to the plain service and back,
//! D1 behind [`SqlExecutor`], Workers KV behind [`KeyValue`], the rate
//! limiter behind [`RateLimit`] and the Workers console behind [`Log`].

use chrono::{DateTime, Utc};
use wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;
use worker::{
    event, Context, Env, Headers, KvStore, MessageBatch, MessageBuilder, MessageExt,
    QueueRetryOptionsBuilder, ScheduleContext, ScheduledEvent,
};

use crate::server::config::{Config, Limits, OktaClient, WebhookConfig, DEFAULT_VENDOR};
use crate::server::http::{Method, Request, Response};
use crate::server::limits::RateLimit;
use crate::server::log::Log;
use crate::server::webhooks::{self, Fetch, Fetched, Outbound, Post, Posted, Verdict};
use crate::server::{cron, After, Service};
use crate::store::shards::{Shard, Shards};
use crate::store::{KeyValue, KvError, Row, SqlExecutor, SqlValue, Stmt, StoreError, Written};

/// The D1 binding name in wrangler.toml.
pub(crate) const DB_BINDING: &str = "DB";
/// The KV binding that holds SCIM token hashes.
pub(crate) const TOKENS_BINDING: &str = "TOKENS";
/// The Workers Rate Limiting binding, keyed by SCIM token id.
pub(crate) const RATE_LIMITER_BINDING: &str = "SCIM_RATE_LIMITER";
/// The producer binding of the events queue.
pub(crate) const EVENTS_BINDING: &str = "EVENTS";
/// The dead-letter queue's name ends with this (see wrangler.toml).
const DEAD_LETTER_SUFFIX: &str = "-dlq";

struct D1(worker::worker_sys::D1Database);

/// The most shards a deployment binds: `DB`, then `DB_2` to `DB_<this>`.
const MAX_SHARDS: usize = 64;

/// A bound D1 database, with its binding name and region label.
struct Bound {
    name: String,
    region: Option<String>,
    db: D1,
}

/// What this isolate's deployment binds, found once (an isolate serves one
/// deployment version, whose bindings do not change): the shards' binding
/// names and region labels, and whether the rate limiter and the events
/// queue are bound.
struct Layout {
    shards: Vec<(String, Option<String>)>,
    limiter: bool,
    queue: bool,
}

thread_local! {
    static LAYOUT: std::cell::OnceCell<std::rc::Rc<Layout>> = const { std::cell::OnceCell::new() };
}

/// The deployment's shards: `DB`, then `DB_2`, `DB_3`, ... up to the first
/// number not bound. A shard's region label is the var `<binding>_REGION`
/// (e.g. `DB_2_REGION = "eu"`).
fn read_layout(env: &Env) -> worker::Result<Layout> {
    let region = |name: &str| {
        env.var(&format!("{name}_REGION"))
            .ok()
            .map(|v| v.to_string().trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    };
    env.d1(DB_BINDING)?;
    let mut shards = vec![(DB_BINDING.to_owned(), region(DB_BINDING))];
    for n in 2..=MAX_SHARDS {
        let name = format!("{DB_BINDING}_{n}");
        if env.d1(&name).is_err() {
            break;
        }
        let label = region(&name);
        shards.push((name, label));
    }
    Ok(Layout {
        shards,
        limiter: env.rate_limiter(RATE_LIMITER_BINDING).is_ok(),
        queue: env.queue(EVENTS_BINDING).is_ok(),
    })
}

/// This isolate's [`Layout`] (see [`LAYOUT`]); an error (no `DB`) is not
/// kept, so a request after the binding is fixed finds it.
fn layout(env: &Env) -> worker::Result<std::rc::Rc<Layout>> {
    if let Some(l) = LAYOUT.with(|l| l.get().cloned()) {
        return Ok(l);
    }
    let l = std::rc::Rc::new(read_layout(env)?);
    LAYOUT.with(|c| c.set(l.clone()).ok());
    Ok(l)
}

/// A binding [`read_layout`] has checked, read without checking again.
fn binding<T: wasm_bindgen::JsCast>(env: &Env, name: &str) -> worker::Result<T> {
    use wasm_bindgen::JsCast;
    let v = worker::js_sys::Reflect::get(env, &JsValue::from_str(name))
        .map_err(|_| worker::Error::RustError(format!("binding `{name}` is gone")))?;
    if v.is_undefined() {
        return Err(worker::Error::RustError(format!(
            "binding `{name}` is gone"
        )));
    }
    Ok(v.unchecked_into())
}

/// The optional binding `name`, which [`Layout`] says (`bound`) whether the
/// deployment has.
fn optional<T: wasm_bindgen::JsCast>(
    env: &Env,
    bound: fn(&Layout) -> bool,
    name: &str,
) -> Option<T> {
    layout(env)
        .ok()
        .filter(|l| bound(l))
        .and_then(|_| binding(env, name).ok())
}

/// The bound shards of [`layout`].
fn bound_shards(env: &Env) -> worker::Result<Vec<Bound>> {
    layout(env)?
        .shards
        .iter()
        .map(|(name, region)| {
            Ok(Bound {
                name: name.clone(),
                region: region.clone(),
                db: D1(binding(env, name)?),
            })
        })
        .collect()
}

/// The bound databases as the service takes them.
fn shards_of(bound: &[Bound]) -> Option<Shards<'_, D1>> {
    fn shard(b: &Bound) -> Shard<'_, D1> {
        Shard {
            name: b.name.clone(),
            region: b.region.clone(),
            db: &b.db,
        }
    }
    let (first, more) = bound.split_first()?;
    Some(Shards::new(shard(first), more.iter().map(shard).collect()))
}

/// A rejection of D1's JS client: its message and its cause's, for the
/// store to classify (a constraint's name, say).
fn js_error(e: JsValue) -> StoreError {
    use wasm_bindgen::JsCast;
    match e.dyn_ref::<worker::js_sys::Error>() {
        Some(err) => {
            let mut msg = String::from(err.message());
            if let Some(cause) = err.cause().dyn_ref::<worker::js_sys::Error>() {
                msg.push_str(": ");
                msg.push_str(&String::from(cause.message()));
            }
            StoreError::from_driver(msg)
        }
        None => StoreError::Unavailable(format!("{e:?}")),
    }
}

fn js(v: &SqlValue) -> JsValue {
    match v {
        SqlValue::Null => JsValue::null(),
        // Every integer the service binds is far below 2^53.
        SqlValue::Int(i) => JsValue::from_f64(*i as f64),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
    }
}

/// The rows of one D1 result object, read in one crossing: the engine's
/// `JSON.stringify` of its `results`, parsed by serde_json (converting each
/// row's fields across the boundary one by one cost more than the query).
fn rows_of(result: &JsValue) -> Result<Vec<Row>, StoreError> {
    let results =
        worker::js_sys::Reflect::get(result, &JsValue::from_str("results")).map_err(js_error)?;
    if results.is_undefined() || results.is_null() {
        return Ok(Vec::new());
    }
    let text = worker::js_sys::JSON::stringify(&results).map_err(js_error)?;
    let text = text
        .as_string()
        .ok_or_else(|| StoreError::Other("D1 results are not JSON".into()))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Other(format!("D1 results: {e}")))
}

/// The rows a D1 result object's statement changed (its `meta.changes`).
fn changes_of(result: &JsValue) -> u64 {
    worker::js_sys::Reflect::get(result, &JsValue::from_str("meta"))
        .ok()
        .and_then(|m| worker::js_sys::Reflect::get(&m, &JsValue::from_str("changes")).ok())
        .and_then(|c| c.as_f64())
        .map_or(0, |c| c as u64)
}

impl D1 {
    fn sys(&self) -> &worker::worker_sys::D1Database {
        &self.0
    }

    fn prepare(&self, stmt: &Stmt) -> Result<worker::worker_sys::D1PreparedStatement, StoreError> {
        let params: worker::js_sys::Array = stmt.params.iter().map(js).collect();
        self.sys()
            .prepare(stmt.sql.as_str())
            .and_then(|p| p.bind(params))
            .map_err(js_error)
    }

    /// One D1 batch: one round trip, one result object per statement.
    async fn run_batch(&self, stmts: &[Stmt]) -> Result<Vec<JsValue>, StoreError> {
        let prepared = stmts
            .iter()
            .map(|s| self.prepare(s).map(JsValue::from))
            .collect::<Result<worker::js_sys::Array, _>>()?;
        let promise = self.sys().batch(prepared).map_err(js_error)?;
        let results = worker::wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(js_error)?;
        let results: Vec<JsValue> = worker::js_sys::Array::from(&results).iter().collect();
        if results.len() != stmts.len() {
            return Err(StoreError::Other(format!(
                "D1 answered {} of {} statements",
                results.len(),
                stmts.len()
            )));
        }
        Ok(results)
    }
}

impl SqlExecutor for D1 {
    async fn query(&self, stmt: Stmt) -> Result<Vec<Row>, StoreError> {
        let promise = self.prepare(&stmt)?.all().map_err(js_error)?;
        let result = worker::wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(js_error)?;
        rows_of(&result)
    }

    async fn query_all(&self, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, StoreError> {
        self.run_batch(&stmts).await?.iter().map(rows_of).collect()
    }

    /// One D1 batch, atomic: each statement's changes and rows.
    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<Written>, StoreError> {
        self.run_batch(&stmts)
            .await?
            .iter()
            .map(|r| {
                Ok(Written {
                    changes: changes_of(r),
                    rows: rows_of(r)?,
                })
            })
            .collect()
    }
}

/// The token namespace, bound on its first use: worker-rs reads five of
/// its methods across the JS boundary to bind it, and a request whose
/// credential is cached in the isolate needs none.
struct Kv<'a> {
    env: &'a Env,
    store: std::cell::OnceCell<KvStore>,
}

impl Kv<'_> {
    fn store(&self) -> Result<&KvStore, KvError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let s = self
            .env
            .kv(TOKENS_BINDING)
            .map_err(|e| KvError(e.to_string()))?;
        Ok(self.store.get_or_init(|| s))
    }
}

fn kv_error(e: worker::kv::KvError) -> KvError {
    KvError(e.to_string())
}

impl KeyValue for Kv<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.store()?.get(key).text().await.map_err(kv_error)
    }

    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<(), KvError> {
        let mut put = self.store()?.put(key, value).map_err(kv_error)?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl.max(60));
        }
        put.execute().await.map_err(kv_error)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.store()?.delete(key).await.map_err(kv_error)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self.store()?.list().prefix(prefix.to_owned());
            if let Some(c) = cursor.take() {
                req = req.cursor(c);
            }
            let page = req.execute().await.map_err(kv_error)?;
            keys.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor {
                Some(c) if !page.list_complete => cursor = Some(c),
                _ => return Ok(keys),
            }
        }
    }
}

/// The runtime's request as the service takes it, in few crossings of the
/// JS boundary: the URL as one string (not parsed again), every header in
/// one `JSON.stringify` of `Array.from(headers)` (the runtime lowercases
/// their names), and the body only when there is one.
async fn plain_request(req: &web_sys::Request) -> worker::Result<Request> {
    let mut request = Request::at_url(Method::parse(&req.method()), &req.url());
    let pairs = worker::js_sys::Array::from(&req.headers());
    let text = worker::js_sys::JSON::stringify(&pairs)?;
    if let Some(text) = text.as_string() {
        request.headers = serde_json::from_str(&text)
            .map_err(|e| worker::Error::RustError(format!("request headers: {e}")))?;
    }
    if req.body().is_some() {
        let buffer = worker::wasm_bindgen_futures::JsFuture::from(req.array_buffer()?).await?;
        request.body = worker::js_sys::Uint8Array::new(&buffer).to_vec();
    }
    Ok(request)
}

/// The headers of a response as the runtime takes them, made by one
/// `JSON.parse`: an object (the cheapest form for `new Response` to read),
/// or an array of pairs when a name repeats (`set-cookie`).
fn js_headers(headers: &[(String, String)]) -> worker::Result<JsValue> {
    let repeats = headers.iter().enumerate().any(|(i, (k, _))| {
        headers
            .iter()
            .skip(i + 1)
            .any(|(k2, _)| k2.eq_ignore_ascii_case(k))
    });
    let text = if repeats {
        serde_json::to_string(headers)
    } else {
        serde_json::to_string(
            &headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
    }
    .map_err(|e| worker::Error::RustError(format!("response headers: {e}")))?;
    Ok(worker::js_sys::JSON::parse(&text)?)
}

/// The service's response as the runtime's, built at once: status, headers
/// and body in one `new Response`. A text body with its type crosses as a
/// string (cheapest, measured); other bodies as a copy of their bytes (a
/// view into the wasm memory costs `new Response` more than the copy).
fn worker_response(r: Response) -> worker::Result<web_sys::Response> {
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&js_headers(&r.headers)?);
    let typed = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let response = match std::str::from_utf8(&r.body) {
        _ if r.body.is_empty() => web_sys::Response::new_with_opt_str_and_init(None, &init),
        Ok(text) if typed => web_sys::Response::new_with_opt_str_and_init(Some(text), &init),
        _ => {
            let bytes = worker::js_sys::Uint8Array::from(r.body.as_slice());
            web_sys::Response::new_with_opt_buffer_source_and_init(Some(&bytes), &init)
        }
    };
    Ok(response?)
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(worker::Date::now().as_millis() as i64).unwrap_or_default()
}

/// The rate limiter binding; without it requests are not limited.
struct Limiter(Option<worker::RateLimiter>);

impl RateLimit for Limiter {
    async fn allow(&self, key: &str) -> bool {
        match &self.0 {
            // A failing limiter must not take provisioning down: fail open.
            Some(l) => l.limit(key.to_owned()).await.map_or(true, |o| o.success),
            None => true,
        }
    }
}

thread_local! {
    /// The configuration, read from the environment once per isolate (an
    /// isolate serves one deployment version, whose variables and secrets
    /// do not change).
    static CONFIG: std::cell::OnceCell<std::rc::Rc<Config>> = const { std::cell::OnceCell::new() };
}

/// The configuration of this isolate (see [`CONFIG`]).
fn config(env: &Env) -> std::rc::Rc<Config> {
    CONFIG.with(|c| c.get_or_init(|| std::rc::Rc::new(read_config(env))).clone())
}

/// The deployment configuration from the worker's environment.
fn read_config(env: &Env) -> Config {
    let admin_jwt_secret = env.secret("ADMIN_JWT_SECRET").ok().map(|s| s.to_string());
    let vendor = env
        .var("SCIM_VENDOR")
        .ok()
        .map(|v| v.to_string())
        .filter(|v| Config::valid_vendor(v))
        .unwrap_or_else(|| DEFAULT_VENDOR.to_owned());
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    let secret_or_var = |name: &str| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| var(name))
    };
    Config {
        admin_jwt_secret,
        vendor,
        limits: Limits::from_vars(var),
        secrets_key: env.secret("SECRETS_KEY").ok().map(|s| s.to_string()),
        webhooks: WebhookConfig::from_vars(var),
        oauth_token_seconds: Config::oauth_token_seconds_from(var("OAUTH_ACCESS_TOKEN_SECONDS")),
        okta: OktaClient::from(
            secret_or_var("OKTA_OAUTH_CLIENT_ID"),
            secret_or_var("OKTA_OAUTH_CLIENT_SECRET"),
            var("OKTA_APP_NAME"),
        ),
        login_url: var("OAUTH_LOGIN_URL")
            .filter(|u| u.starts_with("https://") || u.starts_with("http://127.0.0.1")),
    }
}

/// Structured lines to the Workers console, which Workers Logs keeps
/// (`[observability]` in wrangler.toml).
struct Console;

impl Log for Console {
    fn line(&self, line: &str) {
        worker::console_log!("{line}");
    }

    fn millis(&self) -> f64 {
        worker::Date::now().as_millis() as f64
    }
}

/// A queue message as it travels: a struct, so that serde_wasm_bindgen
/// makes a plain object of it (a `serde_json::Value` map would become a JS
/// `Map`, which comes back empty).
#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    kind: String,
    tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery: Option<String>,
}

impl Wire {
    fn of(v: &serde_json::Value) -> Option<Wire> {
        serde_json::from_value(v.clone()).ok()
    }

    fn value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The events queue (producer binding `EVENTS`) and outbound `fetch`.
struct Out(Option<worker::Queue>);

impl Out {
    fn of(env: &Env) -> Out {
        Out(optional(env, |l| l.queue, EVENTS_BINDING))
    }
}

impl Outbound for Out {
    async fn enqueue(&self, messages: Vec<serde_json::Value>, delay: u32) -> Result<(), String> {
        let q = self.0.as_ref().ok_or("no EVENTS queue binding")?;
        for chunk in messages.chunks(100) {
            let batch: Vec<_> = chunk
                .iter()
                .filter_map(Wire::of)
                .map(|m| MessageBuilder::new(m).delay_seconds(delay).build())
                .collect();
            q.send_batch(batch).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    async fn post(&self, p: Post) -> Result<Posted, String> {
        let headers = Headers::new();
        for (k, v) in &p.headers {
            headers.set(k, v).map_err(|e| e.to_string())?;
        }
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post)
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual)
            .with_body(Some(JsValue::from_str(&p.body)));
        let req = worker::Request::new_with_init(&p.url, &init).map_err(|e| e.to_string())?;
        let signal = web_sys::AbortSignal::timeout_with_u32(p.timeout_ms);
        let signal = worker::AbortSignal::from(signal);
        let resp = worker::Fetch::Request(req)
            .send_with_signal(&signal)
            .await
            .map_err(|e| e.to_string())?;
        let retry_after = resp.headers().get("retry-after").ok().flatten();
        Ok(Posted {
            status: resp.status_code(),
            retry_after,
        })
    }

    async fn fetch(&self, f: Fetch) -> Result<Fetched, String> {
        let headers = Headers::new();
        for (k, v) in &f.headers {
            headers.set(k, v).map_err(|e| e.to_string())?;
        }
        let method = match f.method {
            "POST" => worker::Method::Post,
            "PUT" => worker::Method::Put,
            "DELETE" => worker::Method::Delete,
            _ => worker::Method::Get,
        };
        let mut init = worker::RequestInit::new();
        init.with_method(method)
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual);
        if let Some(body) = &f.body {
            init.with_body(Some(JsValue::from_str(body)));
        }
        let req = worker::Request::new_with_init(&f.url, &init).map_err(|e| e.to_string())?;
        let signal = web_sys::AbortSignal::timeout_with_u32(f.timeout_ms);
        let signal = worker::AbortSignal::from(signal);
        let mut resp = worker::Fetch::Request(req)
            .send_with_signal(&signal)
            .await
            .map_err(|e| e.to_string())?;
        let headers = resp
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let body = resp.text().await.map_err(|e| e.to_string())?;
        Ok(Fetched {
            status: resp.status_code(),
            headers,
            body,
        })
    }

    async fn sleep(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let request = plain_request(&req).await?;
    let bound = std::rc::Rc::new(bound_shards(&env)?);
    let kv = Kv {
        env: &env,
        store: std::cell::OnceCell::new(),
    };
    let limiter = Limiter(optional(&env, |l| l.limiter, RATE_LIMITER_BINDING));
    let out = Out::of(&env);
    let config = config(&env);
    let Some(shards) = shards_of(&bound) else {
        return Ok(worker::Response::error("no D1 binding", 500)?.into());
    };
    let service = Service {
        config: &config,
        shards,
        kv: &kv,
        limiter: &limiter,
        out: &out,
        log: &Console,
    };
    let (mut response, after) = service.serve(&request, now()).await;
    let more = response.more.take().map(|c| (c, bound.clone()));
    // After the response: its request log entry and the dispatch of the
    // events it recorded, gathered with those of the requests this isolate
    // serves in the next FLUSH_MS into one D1 round trip.
    if let Some(flush) = gather(after) {
        ctx.wait_until(async move {
            if flush == Flush::Later {
                worker::Delay::from(std::time::Duration::from_millis(FLUSH_MS)).await;
                FLUSH_SCHEDULED.with(|f| f.set(false));
            }
            let afters = AFTERS.with(|a| std::mem::take(&mut *a.borrow_mut()));
            if let Some(shards) = shards_of(&bound) {
                After::run_all(afters, &shards, &out, &Console, now()).await;
            }
        });
    }
    match more {
        None => worker_response(response),
        Some((c, bound)) => streamed(response, c, bound),
    }
}

/// A response whose body goes on after its first part (an export): each
/// next part is read from D1 when the client is ready for it.
fn streamed(
    mut r: Response,
    c: Box<crate::server::http::Continuation>,
    bound: std::rc::Rc<Vec<Bound>>,
) -> worker::Result<web_sys::Response> {
    use futures_util::StreamExt;
    let first = std::mem::take(&mut r.body);
    let rest = futures_util::stream::try_unfold(Some(c), move |state| {
        let bound = bound.clone();
        async move {
            let Some(c) = state else {
                return Ok(None);
            };
            let Some(shards) = shards_of(&bound) else {
                return Err(worker::Error::RustError("no D1 binding".into()));
            };
            match crate::server::stream_next(&shards, c, now().timestamp_millis()).await {
                Ok((part, next)) => Ok(Some((part, next))),
                Err(e) => {
                    Console.line(
                        &serde_json::json!({"level": "error", "message": "export stream failed",
                            "kind": "storage", "error": e})
                        .to_string(),
                    );
                    Err(worker::Error::RustError(e))
                }
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<Vec<u8>, worker::Error>(first) }).chain(rest);
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    Ok(worker::Response::from_stream(body)?
        .with_status(r.status)
        .with_headers(headers)
        .into())
}

/// How long what a request leaves for after its response may wait for
/// other requests' (a dispatch is that much later, at most).
const FLUSH_MS: u64 = 50;
/// How many requests' leftovers make a round trip at once, without waiting.
const FLUSH_AT: usize = 50;

thread_local! {
    /// What requests of this isolate left for after their responses.
    static AFTERS: std::cell::RefCell<Vec<After>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether a request's `wait_until` will run [`AFTERS`] in FLUSH_MS.
    static FLUSH_SCHEDULED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[derive(Debug, PartialEq, Eq)]
enum Flush {
    /// Wait FLUSH_MS for other requests' leftovers, then run them all.
    Later,
    /// Run them all now (there are FLUSH_AT of them).
    Now,
}

/// Keeps `after` for the next round trip; says whether this request must
/// run it (no other request's `wait_until` will, or it is full). Lost if
/// the isolate is evicted first: the request log entries (best effort), not
/// the events (the minute cron dispatches them).
fn gather(after: After) -> Option<Flush> {
    if after.is_empty() {
        return None;
    }
    let len = AFTERS.with(|a| {
        let mut a = a.borrow_mut();
        a.push(after);
        a.len()
    });
    if len >= FLUSH_AT {
        Some(Flush::Now)
    } else if !FLUSH_SCHEDULED.with(|f| f.replace(true)) {
        Some(Flush::Later)
    } else {
        None
    }
}

/// The events queue's consumer, and its dead-letter queue's. It never
/// returns an error (worker 0.8.7 would turn it into a panic and retry the
/// whole batch): each message is acked or retried on its own.
#[event(queue)]
async fn queue(batch: MessageBatch<Wire>, env: Env, _ctx: Context) -> worker::Result<()> {
    let Ok(bound) = bound_shards(&env) else {
        batch.retry_all();
        return Ok(());
    };
    let Some(shards) = shards_of(&bound) else {
        batch.retry_all();
        return Ok(());
    };
    let out = Out::of(&env);
    let config = config(&env);
    let dead = batch.queue().ends_with(DEAD_LETTER_SUFFIX);
    let Ok(messages) = batch.messages() else {
        batch.retry_all();
        return Ok(());
    };
    // The messages of a batch at once: each waits mostly on D1 and on its
    // receiver, and none depends on another (two dispatches of a tenant
    // make each delivery once: see webhooks::dispatch).
    let (shards, out, config) = (&shards, &out, &config);
    futures_util::future::join_all(messages.into_iter().map(|m| async move {
        let body = m.body().value();
        if dead {
            webhooks::dead_letter(shards, &Console, &body, now()).await;
            m.ack();
            return;
        }
        match webhooks::consume(config, shards, out, &Console, &body, now()).await {
            Verdict::Ack => m.ack(),
            Verdict::Retry(delay) => m.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay)
                    .build(),
            ),
        }
    }))
    .await;
    Ok(())
}

/// The Cron Triggers: recovery every minute, retention daily.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let Some(shards) = bound_shards(&env).ok().filter(|b| !b.is_empty()) else {
        Console.line(r#"{"level":"error","message":"cron without the DB binding"}"#);
        return;
    };
    let Some(shards_ref) = shards_of(&shards) else {
        return;
    };
    let config = config(&env);
    let cron_expr = event.cron();
    cron::tick(
        &config,
        &shards_ref,
        &Out::of(&env),
        &Console,
        &cron_expr,
        now(),
    )
    .await;
}
