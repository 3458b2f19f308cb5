// Starts the built worker (build/index.js + wasm) in Miniflare with real D1
// and KV bindings, applies migrations/*.sql, and provisions tenants/tokens.
import { Miniflare, Log, LogLevel } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * wrangler.toml's [assets], as Miniflare takes it (wrangler maps
 * run_worker_first to routerConfig.static_routing.user_worker).
 */
export const ASSETS = {
  directory: join(root, "public"),
  routerConfig: { has_user_worker: true, static_routing: { user_worker: ["/", "/scim/*", "/admin/v1/*", "/oauth/*", "/.well-known/*"] } },
  assetConfig: { not_found_handling: "single-page-application" },
};

/** The admin secret of test workers (HS256 needs at least 32 bytes). */
export const ADMIN_JWT_SECRET = "e2e-admin-secret-0123456789abcdef0123";

/** The migration files, in the order they apply. */
export function migrationFiles() {
  return readdirSync(join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort();
}

/** The statements of a migration file, comments dropped. */
function statements(sql) {
  return sql
    .split("\n")
    .map((l) => l.replace(/--.*$/, ""))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A Miniflare log that keeps every line (all levels) in `lines`. */
class CaptureLog extends Log {
  constructor(lines) {
    super(LogLevel.VERBOSE);
    this.lines = lines;
  }
  log(message) {
    this.lines.push(String(message));
  }
}

/** Options that send Miniflare's own log and workerd's stdout/stderr into `lines`. */
function captureOptions(lines) {
  const collect = (stream) => {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop();
      lines.push(...parts);
    });
    stream.on("end", () => rest && lines.push(rest));
  };
  return {
    log: new CaptureLog(lines),
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  };
}

/**
 * Starts the worker. With `port`, it also listens on 127.0.0.1:port (0 picks
 * a free port) and `url` is its origin; otherwise use `mf.dispatchFetch`.
 * With `persist` (a directory), D1 and KV are kept there across restarts
 * (migrations are applied only to a fresh database). With `logs` (an array),
 * every line Miniflare logs and everything workerd writes to stdout/stderr
 * (the worker's console output) is appended to it. `vars` adds worker
 * variables (e.g. SCIM_MAX_RESULTS). `assets` serves public/ as wrangler.toml does. `migrations` names the migration files
 * to apply (default: all of them); `migrate(files)` applies more later, as
 * an upgrade does. `consumeQueues: false` leaves the events queues without
 * consumers: what the worker sends is never handled and is gone when it is
 * disposed (as if it had stopped between a commit and its queue send).
 * `shards` binds more D1 databases, e.g. `{DB_2: "eu", DB_3: null}` (binding:
 * its region label, the var `<binding>_REGION`), each migrated like DB.
 */
export async function startWorker({ port, rateLimit = 100000, persist, logs, vars = {}, migrations, outbound, consumeQueues = true, assets = false, shards = {} } = {}) {
  const listen = port === undefined ? {} : { host: "127.0.0.1", port };
  const storage = persist === undefined ? {} : { d1Persist: join(persist, "d1"), kvPersist: join(persist, "kv") };
  const mf = new Miniflare({
    ...listen,
    ...storage,
    ...(logs === undefined ? {} : captureOptions(logs)),
    scriptPath: join(root, "build/index.js"),
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-07-30",
    d1Databases: {
      DB: "scim-worker-test",
      ...Object.fromEntries(Object.keys(shards).map((b) => [b, `scim-worker-test-${b.toLowerCase()}`])),
    },
    kvNamespaces: ["TOKENS"],
    // The Workers Rate Limiting binding, per SCIM token (wrangler.toml).
    ratelimits: {
      SCIM_RATE_LIMITER: { namespace_id: "1001", simple: { limit: rateLimit, period: 60 } },
    },
    // The events queue and its dead-letter queue (wrangler.toml), with
    // Miniflare's defaults replaced by short waits.
    queueProducers: { EVENTS: "scim-events", EVENTS_DLQ: "scim-events-dlq" },
    queueConsumers: consumeQueues
      ? {
          "scim-events": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 2, retryDelay: 1, deadLetterQueue: "scim-events-dlq" },
          "scim-events-dlq": { maxBatchSize: 10, maxBatchTimeout: 1 },
        }
      : {},
    // Crons fire only when asked (/cdn-cgi/handler/scheduled).
    unsafeTriggerHandlers: true,
    ...(outbound === undefined ? {} : { outboundService: outbound }),
    // The console as wrangler.toml serves it (Workers Static Assets).
    ...(assets ? { assets: ASSETS } : {}),
    bindings: {
      SCIM_VENDOR: "scimworker",
      ADMIN_JWT_SECRET,
      SECRETS_KEY: "e2e-secrets-key-0123456789abcdef0123",
      WEBHOOK_ALLOW_LOCAL: "true",
      WEBHOOK_RETRY_DELAYS: "1,1",
      ...Object.fromEntries(
        Object.entries(shards)
          .filter(([, region]) => region)
          .map(([b, region]) => [`${b}_REGION`, region]),
      ),
      ...vars,
    },
  });
  const db = await mf.getD1Database("DB");
  const migrated =
    persist !== undefined &&
    (await db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tenants'").first()) !== null;
  /** Every bound database by binding, DB first. */
  const dbs = { DB: db };
  for (const b of Object.keys(shards)) dbs[b] = await mf.getD1Database(b);
  /** Applies migration files, each as one D1 batch, to every shard. */
  async function migrate(files) {
    for (const d of Object.values(dbs)) {
      for (const f of files) {
        const stmts = statements(readFileSync(join(root, "migrations", f), "utf8"));
        await d.batch(stmts.map((s) => d.prepare(s)));
      }
    }
  }
  if (!migrated) await migrate(migrations ?? migrationFiles());
  const kv = await mf.getKVNamespace("TOKENS");
  const url = port === undefined ? null : (await mf.ready).origin;
  const origin = url ?? "http://scim.test";

  /** Creates a tenant and a token for it; returns {baseUrl, token}. */
  async function tenant(id) {
    const now = new Date().toISOString();
    await db
      .prepare("INSERT OR IGNORE INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)")
      .bind(id, id, now, now)
      .run();
    const token = randomBytes(32).toString("base64url");
    const hash = createHash("sha256").update(token).digest("hex");
    await kv.put(
      `scim-token:${hash}`,
      JSON.stringify({ tenant: id, id: randomUUID(), label: "e2e", hash, created: now }),
    );
    return { baseUrl: `${origin}/scim/v2/${id}`, token };
  }

  /** A SCIM request; returns {status, headers, body (parsed JSON or null), text (raw body)}. */
  async function scim(creds, method, path, body, headers = {}) {
    const init = {
      method,
      headers: { authorization: `Bearer ${creds.token}`, ...headers },
    };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers["content-type"] ??= "application/scim+json";
    }
    const res = await mf.dispatchFetch(creds.baseUrl + path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
  }

  /** An admin API call with a JWT (`jwt`), e.g. admin(jwt, "POST", "/tenants", {...}). */
  async function admin(jwt, method, path, body) {
    const init = { method, headers: { authorization: `Bearer ${jwt}` } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const res = await mf.dispatchFetch(`${origin}/admin/v1${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
  }

  return { mf, db, dbs, kv, url, origin, tenant, scim, admin, migrate, dispose: () => mf.dispose() };
}
