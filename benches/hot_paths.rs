//! Criterion microbenchmarks of the pure hot paths behind the calls identity
//! providers make (natively; the worker runs the same code as wasm32):
//! filter parsing, filter-to-SQL, PATCH parse + apply, and projecting and
//! serialising a full user. `cargo bench --bench hot_paths`; scripts/bench
//! measures the served worker end to end.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Value};

use scim_worker::proto::filter::parse_filter;
use scim_worker::proto::patch::{self, PATCH_OP_SCHEMA};

/// The default limit of operations per PATCH.
const MAX_OPERATIONS: usize = 1000;
use scim_worker::proto::attr::parse_attr_list;
use scim_worker::proto::normalize::normalize;
use scim_worker::proto::project::project;
use scim_worker::proto::schema::{group_resource_type, user_resource_type};
use scim_worker::store::query::{condition, Resource};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const FILTERS: &[(&str, &str)] = &[
    ("userName_eq", r#"userName eq "Barbara.Jensen@Example.com""#),
    ("externalId_eq", r#"externalId eq "00u1a2b3c4d5e6f7g8h9""#),
    (
        "emails_work_value_eq",
        r#"emails[type eq "work"].value eq "bjensen@example.com""#,
    ),
    (
        "compound",
        r#"(userName sw "b" or name.familyName co "jen") and active eq true and meta.lastModified gt "2026-01-01T00:00:00Z""#,
    ),
    (
        "enterprise_urn",
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
    ),
];

/// The stored form of a user with most core and enterprise attributes.
fn stored_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": "Barbara.Jensen@Example.com",
        "externalId": "00u1a2b3c4d5e6f7g8h9",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                       "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}],
        ENTERPRISE: {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
                     "division": "Theme Park", "department": "Tour Operations",
                     "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}}
    })
}

/// The read form: stored form plus id, groups and meta, as the server builds it.
fn read_form() -> Value {
    let mut v = stored_user();
    let o = v.as_object_mut().expect("object");
    o.insert("id".into(), json!("2819c223-7f76-453a-919d-413861904646"));
    o.insert(
        "groups".into(),
        json!([{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides", "type": "direct",
                "$ref": "https://example.com/scim/v2/acme/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a"}]),
    );
    o.insert(
        "meta".into(),
        json!({"resourceType": "User", "created": "2026-01-01T00:00:00.000Z",
               "lastModified": "2026-01-01T00:00:00.000Z",
               "location": "https://example.com/scim/v2/acme/Users/2819c223-7f76-453a-919d-413861904646",
               "version": "W/\"1\""}),
    );
    v
}

fn filters(c: &mut Criterion) {
    let rt = user_resource_type(Vec::new());
    let urns = rt.all_schema_urns();
    let mut g = c.benchmark_group("filter_parse");
    for (name, f) in FILTERS {
        g.bench_function(*name, |b| b.iter(|| parse_filter(black_box(f), &urns)));
    }
    g.finish();
    let mut g = c.benchmark_group("filter_to_sql");
    for (name, f) in FILTERS {
        let parsed = parse_filter(f, &urns).expect("filter parses");
        g.bench_function(*name, |b| {
            b.iter(|| condition(&rt, Resource::User, "tenant", black_box(&parsed)))
        });
    }
    g.finish();
}

fn patches(c: &mut Criterion) {
    let rt = user_resource_type(Vec::new());
    let user = stored_user();
    let bodies = [
        (
            "okta_active_false",
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "replace", "value": {"active": false}}]}),
        ),
        (
            "entra_email_value_path",
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@y.example"}]}),
        ),
        (
            "entra_five_ops",
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Barbara J."},
                {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
                {"op": "Replace", "path": "title", "value": "Lead Guide"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555-000-1111"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Ops"}]}),
        ),
    ];
    let mut g = c.benchmark_group("patch_user");
    for (name, body) in &bodies {
        let ops = patch::parse_request(body, &rt, MAX_OPERATIONS).expect("patch parses");
        g.bench_function(format!("{name}/parse"), |b| {
            b.iter(|| patch::parse_request(black_box(body), &rt, MAX_OPERATIONS))
        });
        g.bench_function(format!("{name}/apply"), |b| {
            b.iter(|| patch::apply(&rt, "2819c223", black_box(&user), black_box(&ops)))
        });
    }
    g.finish();

    let grt = group_resource_type();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides"});
    let member_bodies = [
        (
            "add_member",
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
                {"op": "Add", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}]}]}),
        ),
        (
            "remove_member_value_filter",
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
                {"op": "Remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]}),
        ),
    ];
    let mut g = c.benchmark_group("patch_group");
    for (name, body) in &member_bodies {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let ops =
                    patch::parse_request(black_box(body), &grt, MAX_OPERATIONS).expect("parses");
                patch::apply(&grt, "e9e30dba", &group, &ops)
            })
        });
    }
    g.finish();
}

fn resources(c: &mut Criterion) {
    let rt = user_resource_type(Vec::new());
    let full = read_form();
    let none = Vec::new();
    let excluded = parse_attr_list("groups", &rt).expect("attribute list");
    let only = parse_attr_list("userName,externalId,emails", &rt).expect("attribute list");
    let mut g = c.benchmark_group("user_resource");
    g.bench_function("project/default", |b| {
        b.iter_batched(
            || full.clone(),
            |v| project(&rt, v, &none, &none),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("project/excludedAttributes=groups", |b| {
        b.iter_batched(
            || full.clone(),
            |v| project(&rt, v, &none, &excluded),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("project/attributes=userName,externalId,emails", |b| {
        b.iter_batched(
            || full.clone(),
            |v| project(&rt, v, &only, &none),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("project+serialize/default", |b| {
        b.iter_batched(
            || full.clone(),
            |v| serde_json::to_vec(&project(&rt, v, &none, &none)),
            BatchSize::SmallInput,
        )
    });
    let stored = serde_json::to_string(&stored_user()).expect("json");
    g.bench_function("parse_stored_doc", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&stored)))
    });
    let post = stored_user();
    g.bench_function("normalize/POST", |b| {
        b.iter(|| normalize(&rt, black_box(&post), None))
    });
    g.finish();
}

criterion_group!(benches, filters, patches, resources);
criterion_main!(benches);
