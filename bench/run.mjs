// The benchmark driver behind scripts/bench (which installs the tools and
// builds the worker first). For each size N it bulk-loads a tenant straight
// into the local D1 file, serves the release worker from workerd through
// Miniflare's direct socket, drives it with wrk, and does the same for the
// floor worker and the peer (scim2-server). Prints tables and the targets,
// and writes bench/.data/results-<time>.{json,txt}.
//
// Environment: N (one size instead of 10000 and 100000), DURATION (s per
// workload, 10), CONNECTIONS (2), WARMUP (s, 2), PEER=0 (skip the peer),
// ONLY (regex over workload keys), PEER_PORT, KEEP=1 (keep the run's D1 copy),
// BUILD_DIR (the built worker to serve, default build/), BASELINE_DIR (an
// older build to compare with in the same run: the A/B table), AB_ROUNDS
// (2), PARTS (comma list of floor, worker, peer, ab, delivery, cycles;
// default all), DELIVERY_RATE (writes/s of the webhook lag run, 20); the
// cycles part (bench/cycles.mjs) reads CYCLE_* (see there).
import { Miniflare } from "miniflare";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import http from "node:http";
import { mintJwt } from "../scripts/admin-jwt.mjs";
import { cyclesReport, runCycles } from "./cycles.mjs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DATA = join(ROOT, "bench/.data");
const PYTHON = join(ROOT, "bench/.venv/bin/python");
const env = process.env;
const SIZES = env.N ? env.N.split(",").map(Number) : [10000, 100000];
const DURATION = Number(env.DURATION ?? 10);
const CONNS = Number(env.CONNECTIONS ?? 2);
const WARMUP = Number(env.WARMUP ?? 2);
const WITH_PEER = env.PEER !== "0";
const ONLY = env.ONLY ? new RegExp(env.ONLY) : null;
const BUILD = env.BUILD_DIR ? resolve(env.BUILD_DIR) : join(ROOT, "build");
const BASELINE = env.BASELINE_DIR ? resolve(env.BASELINE_DIR) : null;
const AB_ROUNDS = Number(env.AB_ROUNDS ?? 2);
const RATE = Number(env.DELIVERY_RATE ?? 20);
const PARTS = new Set((env.PARTS ?? "floor,worker,peer,ab,delivery,cycles").split(","));
const ADMIN_SECRET = "bench-admin-secret-0123456789abcdef0123";
const TENANT = "bench";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const COMPAT = "2026-07-30";
const PATH_NAME = "Miniflare unsafeDirectSockets: wrk -> workerd HTTP socket -> worker (no Node, no entry worker)";

const log = (...a) => console.error("==>", ...a);
const out = [];
const say = (s = "") => {
  out.push(s);
  console.log(s);
};
mkdirSync(DATA, { recursive: true });

// ---------------------------------------------------------------------------
// Processes and measurements

/** Total CPU seconds (user + system, all threads) of a process. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK;
}

/** CPU seconds of this process and of its waited-for children (wrk). */
function selfAndChildrenSeconds() {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
}

const NCPU = readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length || 1;

/** Resident memory of a process, MiB. */
function rssMiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : null;
}

/** The newest workerd process started by this Node process. */
function workerdPid() {
  let best = 0;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.startsWith("workerd")) best = Math.max(best, Number(d));
    } catch {
      // gone meanwhile
    }
  }
  if (!best) throw new Error("no workerd child process found");
  return best;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs wrk once; returns its WRK_JSON summary plus req/s and CPU ms/request. */
function wrk(origin, file, { conns, duration, prefix, token, pid }) {
  const args = [
    "-t1", `-c${conns}`, `-d${duration}s`, "--timeout", "30s",
    "-s", join(ROOT, "bench/wrk.lua"), origin, "--", token, file, prefix,
  ];
  const rss0 = pid ? rssMiB(pid) : 0;
  const busy0 = machineBusySeconds();
  const own0 = selfAndChildrenSeconds();
  const t0 = performance.now();
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const r = spawnSync("wrk", args, { encoding: "utf8", maxBuffer: 1 << 24 });
  const cpu1 = pid ? cpuSeconds(pid) : 0;
  const wall = (performance.now() - t0) / 1000;
  const others = machineBusySeconds() - busy0 - (selfAndChildrenSeconds() - own0) - (cpu1 - cpu0);
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!line) throw new Error(`wrk failed: ${r.stderr}\n${r.stdout}`);
  const s = JSON.parse(line.slice(9));
  s.rps = s.requests / (s.duration_us / 1e6);
  s.cpu_ms = s.requests ? ((cpu1 - cpu0) * 1000) / s.requests : null;
  if (pid) [s.rss0, s.rss1] = [rss0, rssMiB(pid)];
  // The share of the machine's cores that other processes used meanwhile.
  s.load = `${Math.max(0, (100 * others) / (wall * NCPU)).toFixed(0)}%`;
  return s;
}

// ---------------------------------------------------------------------------
// Serving

/**
 * The worker as wrangler.toml deploys it: D1, KV, and the events queue with
 * its consumer's batch settings (a build from before the events work has
 * the bindings and never uses them).
 */
function workerOptions(persist, build = BUILD) {
  return {
    scriptPath: join(build, "index.js"),
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: COMPAT,
    d1Databases: { DB: "scim-bench" },
    kvNamespaces: { TOKENS: "scim-bench-tokens" },
    d1Persist: join(persist, "d1"),
    kvPersist: join(persist, "kv"),
    queueProducers: { EVENTS: "scim-events" },
    queueConsumers: { "scim-events": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 10 } },
    bindings: {
      SCIM_VENDOR: "scimworker",
      ADMIN_JWT_SECRET: ADMIN_SECRET,
      SECRETS_KEY: "bench-secrets-key-0123456789abcdef0123",
      WEBHOOK_ALLOW_LOCAL: "true",
    },
  };
}

const floorOptions = () => ({
  scriptPath: join(ROOT, "bench/floor.mjs"),
  modules: true,
  compatibilityDate: COMPAT,
});

/** Starts workerd through Miniflare with the entry socket and a direct socket. */
async function serve(options) {
  const t0 = performance.now();
  const mf = new Miniflare({
    ...options,
    host: "127.0.0.1",
    port: 0,
    logRequests: false,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });
  const entry = await mf.ready;
  const direct = await mf.unsafeGetDirectURL();
  const startMs = performance.now() - t0;
  return { mf, entry: entry.origin, direct: direct.origin, pid: workerdPid(), startMs };
}

// ---------------------------------------------------------------------------
// Data

function statements(sql) {
  return sql
    .split("\n")
    .map((l) => l.replace(/--.*$/, ""))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The D1 Durable Object's SQLite file under a persist directory. */
function d1File(persist) {
  const dir = join(persist, "d1/miniflare-D1DatabaseObject");
  const f = readdirSync(dir).find((x) => x.endsWith(".sqlite") && x !== "metadata.sqlite");
  if (!f) throw new Error(`no D1 database file in ${dir}`);
  return join(dir, f);
}

/**
 * A pristine loaded database for size n, built once and reused while the
 * loader and the migrations are unchanged (bench/.data/d1-<n>).
 */
async function prepareD1(n) {
  const pristine = join(DATA, `d1-${n}`);
  const migrations = readdirSync(join(ROOT, "migrations")).filter((f) => f.endsWith(".sql")).sort();
  const stamp = createHash("sha256")
    .update(readFileSync(join(ROOT, "bench/load_d1.py")))
    .update(migrations.map((f) => readFileSync(join(ROOT, "migrations", f), "utf8")).join("\n"))
    .update(String(n))
    .digest("hex");
  const stampFile = join(pristine, "stamp");
  if (!existsSync(stampFile) || readFileSync(stampFile, "utf8") !== stamp) {
    log(`loading ${n} users into a fresh D1 database (${pristine})`);
    rmSync(pristine, { recursive: true, force: true });
    mkdirSync(pristine, { recursive: true });
    const mf = new Miniflare(workerOptions(pristine));
    const db = await mf.getD1Database("DB");
    for (const f of migrations) {
      const stmts = statements(readFileSync(join(ROOT, "migrations", f), "utf8"));
      await db.batch(stmts.map((s) => db.prepare(s)));
    }
    await mf.dispose();
    const r = spawnSync(
      "python3",
      [join(ROOT, "bench/load_d1.py"), "--db", d1File(pristine), "--n", String(n), "--tenant", TENANT,
        "--manifest", join(pristine, "manifest.json")],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    if (r.status !== 0) throw new Error("load_d1.py failed");
    writeFileSync(stampFile, stamp);
  }
  return { pristine, manifest: JSON.parse(readFileSync(join(pristine, "manifest.json"), "utf8")) };
}

/** A fresh copy of a pristine database to serve (and change). */
function freshCopy(pristine, n) {
  const run = join(DATA, `run-${n}`);
  rmSync(run, { recursive: true, force: true });
  cpSync(pristine, run, { recursive: true });
  return run;
}

// ---------------------------------------------------------------------------
// Workloads

const pad6 = (i) => String(i).padStart(6, "0");
const userName = (i) => `User${pad6(i)}@Example.com`;
const externalId = (i) => `00u${String(i).padStart(18, "0")}`;
const email = (i) => `user${pad6(i)}@example.com`;
const enc = encodeURIComponent;

/** The cursor of the last page of 100 (RFC 9865 cursor as src/list.rs makes it). */
function lastCursor(n) {
  const fp = createHash("sha256").update("Users\n").digest("hex").slice(0, 12);
  return `a${n - 100}.${fp}`;
}

/**
 * The workloads over a loaded tenant: `m` is its manifest, `base` the SCIM
 * base path. Reads first, writes after, POST last (it grows the table).
 */
function workloads(m, base, flavor) {
  const n = m.n;
  const spread = (count, lo, hi) =>
    Array.from({ length: count }, (_, k) => lo + Math.floor((k * (hi - lo)) / (count - 1)));
  const pick = spread(1000, 1, n);
  const uid = (i) => m.users[i - 1];
  const small = m.groups[0];
  const big = m.groups[1];
  const outsiders = spread(1000, big.members + 1, n);
  const filter = (f) => `GET\t${base}/Users?filter=${enc(f)}`;
  const patch = (ops) => JSON.stringify({ schemas: [PATCH_OP], Operations: ops });
  const memberLines = (g) =>
    outsiders.flatMap((i) => [
      `PATCH\t${base}/Groups/${g.id}\t${patch([{ op: "Add", path: "members", value: [{ value: uid(i) }] }])}`,
      `PATCH\t${base}/Groups/${g.id}\t${patch([{ op: "Remove", path: `members[value eq "${uid(i)}"]` }])}`,
    ]);
  const one = (b) => b?.totalResults === 1 || `totalResults ${b?.totalResults}`;
  const hundred = (b) => b?.Resources?.length === 100 || `${b?.Resources?.length} resources`;
  return [
    { key: "userName", name: 'filter userName eq "<other case>"', check: one,
      lines: pick.map((i) => filter(`userName eq "${userName(i).toUpperCase()}"`)) },
    { key: "externalId", name: "filter externalId eq", check: one,
      lines: pick.map((i) => filter(`externalId eq "${externalId(i)}"`)) },
    { key: "email", name: 'filter emails[type eq "work"].value eq', check: one,
      lines: pick.map((i) => filter(`emails[type eq "work"].value eq "${email(i)}"`)) },
    { key: "getUser", name: "GET /Users/{id}", lines: pick.map((i) => `GET\t${base}/Users/${uid(i)}`) },
    { key: "groupName", name: "GET /Groups?filter=displayName eq&excl=members", check: one,
      lines: m.groups.slice(0, 1000).map(
        (g) => `GET\t${base}/Groups?filter=${enc(`displayName eq "${g.displayName}"`)}&excludedAttributes=members`,
      ) },
    { key: "listFirst", name: "list startIndex=1 count=100", check: hundred,
      lines: [`GET\t${base}/Users?startIndex=1&count=100`] },
    { key: "listLast", name: `list startIndex=${n - 99} (last) count=100`, check: hundred,
      lines: [`GET\t${base}/Users?startIndex=${n - 99}&count=100`] },
    { key: "cursorFirst", name: "list cursor= (first) count=100", check: hundred,
      lines: [`GET\t${base}/Users?cursor=&count=100`] },
    { key: "cursorLast", name: "list cursor=<last page> count=100",
      check: (b) => (hundred(b) === true && !b.nextCursor) || `${b?.Resources?.length} resources, next ${b?.nextCursor}`,
      // The peer's cursors are sealed (AES-GCM): its last page is reachable
      // only by walking every page.
      lines: flavor === "peer" ? null : [`GET\t${base}/Users?cursor=${enc(lastCursor(n))}&count=100`] },
    { key: "patchActive", name: "PATCH active false/true (Okta)",
      lines: [false, true].flatMap((active) =>
        pick.map((i) => `PATCH\t${base}/Users/${uid(i)}\t${patch([{ op: "replace", value: { active } }])}`)) },
    { key: "lookupPatch", name: "filter userName eq, then PATCH active (Okta's update; c=1)", conns: 1,
      lines: [false, true].flatMap((active) => pick.flatMap((i) => [
        filter(`userName eq "${userName(i)}"`),
        `PATCH\t${base}/Users/${uid(i)}\t${patch([{ op: "replace", value: { active } }])}`,
      ])) },
    { key: "patchEmail", name: 'PATCH emails[type eq "work"].value (Entra)',
      lines: pick.map((i) => `PATCH\t${base}/Users/${uid(i)}\t${patch([
        { op: "Replace", path: 'emails[type eq "work"].value', value: "u{n}@example.com" }])}`) },
    { key: "put", name: "PUT /Users/{id}",
      lines: pick.map((i) => `PUT\t${base}/Users/${uid(i)}\t${JSON.stringify({
        schemas: [USER], userName: userName(i), externalId: externalId(i), displayName: "Put {n}",
        emails: [{ value: email(i), type: "work", primary: true }], active: true })}`) },
    { key: "memberSmall", name: `PATCH +1/-1 member, ${small.members}-member group (c=1)`, conns: 1,
      lines: memberLines(small) },
    { key: "memberBig", name: `PATCH +1/-1 member, ${big.members}-member group (c=1)`, conns: 1,
      lines: memberLines(big) },
    { key: "post", name: "POST /Users (unique userName)",
      lines: [`POST\t${base}/Users\t${JSON.stringify({
        schemas: [USER], userName: "new-{n}@example.com", externalId: "new-{n}",
        emails: [{ value: "new-{n}@example.com", type: "work", primary: true }], active: true })}`] },
  ].filter((w) => !ONLY || ONLY.test(w.key));
}

/** Sends a workload's first request once and checks the answer. */
async function probe(origin, token, w) {
  const [method, path, body] = w.lines[0].split("\t");
  const n = `probe${randomBytes(4).toString("hex")}`;
  const res = await fetch(origin + path.replaceAll("{n}", n), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/scim+json" } : {}),
    },
    body: body ? body.replaceAll("{n}", n) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  const problems = [];
  if (res.status >= 300) problems.push(`status ${res.status}: ${text.slice(0, 300)}`);
  else if (w.check) {
    const c = w.check(json);
    if (c !== true) problems.push(c);
  }
  return problems;
}

/** Runs every workload against one server; returns {key: result}. */
async function drive(label, origin, token, pid, list) {
  const results = {};
  const reqDir = join(DATA, "requests");
  mkdirSync(reqDir, { recursive: true });
  for (const w of list) {
    if (!w.lines) {
      results[w.key] = { name: w.name, na: true };
      continue;
    }
    const file = join(reqDir, `${label}-${w.key}.tsv`);
    writeFileSync(file, w.lines.join("\n") + "\n");
    const problems = await probe(origin, token, w);
    if (problems.length) log(`${label} ${w.key}: probe: ${problems.join("; ")}`);
    const conns = w.conns ?? CONNS;
    const run = randomBytes(3).toString("hex");
    if (WARMUP > 0) wrk(origin, file, { conns, duration: WARMUP, prefix: `w${run}-`, token });
    const r = wrk(origin, file, { conns, duration: DURATION, prefix: `r${run}-`, token, pid });
    results[w.key] = { name: w.name, conns, ...r, probe: problems };
    log(`${label} ${w.key}: ${r.rps.toFixed(0)} req/s, p50 ${(r.p50 / 1000).toFixed(2)} ms, ` +
      `p99 ${(r.p99 / 1000).toFixed(2)} ms, cpu ${r.cpu_ms?.toFixed(2)} ms/req, non2xx ${r.non2xx}` +
      (r.rss1 ? `, rss ${r.rss0.toFixed(0)}->${r.rss1.toFixed(0)} MiB` : "") + `, other ${r.load}`);
  }
  return results;
}

// ---------------------------------------------------------------------------
// The servers under test

async function putToken(mf) {
  const token = randomBytes(32).toString("base64url");
  const hash = createHash("sha256").update(token).digest("hex");
  const kv = await mf.getKVNamespace("TOKENS");
  await kv.put(`scim-token:${hash}`, JSON.stringify({
    tenant: TENANT, id: randomUUID(), label: "bench", hash, created: new Date().toISOString(),
  }));
  return token;
}

async function benchFloor() {
  const s = await serve(floorOptions());
  try {
    const list = [{ key: "floor", name: "floor: constant ListResponse",
      lines: ["GET\t/scim/v2/bench/Users?filter=userName%20eq%20%22x%22"] }];
    const direct = (await drive("floor-direct", s.direct, "x", s.pid, list)).floor;
    const entry = (await drive("floor-entry", s.entry, "x", s.pid, list)).floor;
    return { direct, entry, startMs: s.startMs };
  } finally {
    await s.mf.dispose();
  }
}

/** The storage floor (bench/floor-d1.mjs) on the same data: userName eq only. */
async function benchStorageFloor(pristine, manifest) {
  const w = workloads(manifest, `/scim/v2/${TENANT}`, "worker").find((x) => x.key === "userName");
  if (!w) return null;
  const persist = freshCopy(pristine, manifest.n);
  const s = await serve({ ...workerOptions(persist), scriptPath: join(ROOT, "bench/floor-d1.mjs"), modulesRules: undefined,
    queueProducers: undefined, queueConsumers: undefined });
  try {
    const token = await putToken(s.mf);
    return (await drive(`floor-d1-${manifest.n}`, s.direct, token, s.pid, [w])).userName;
  } finally {
    await s.mf.dispose();
  }
}

/**
 * The worker at size n. Every workload gets a fresh copy of the loaded
 * database and a fresh workerd, so that no workload inherits another's
 * writes, WAL or heap.
 */
async function benchWorker(n) {
  const { pristine, manifest } = await prepareD1(n);
  const storageFloor = await benchStorageFloor(pristine, manifest);
  const base = `/scim/v2/${TENANT}`;
  const results = {};
  const starts = [];
  let firstMs;
  for (const w of workloads(manifest, base, "worker")) {
    const persist = freshCopy(pristine, n);
    const s = await serve(workerOptions(persist));
    starts.push(s.startMs);
    try {
      const token = await putToken(s.mf);
      if (firstMs === undefined) {
        const t0 = performance.now();
        const first = await fetch(`${s.direct}${base}/Users?filter=${enc('userName eq "user000001@example.com"')}`,
          { headers: { authorization: `Bearer ${token}` } });
        await first.text();
        firstMs = performance.now() - t0;
      }
      Object.assign(results, await drive(`worker-${n}`, s.direct, token, s.pid, [w]));
    } finally {
      await s.mf.dispose();
    }
  }
  const persist = freshCopy(pristine, n);
  // The peer's virtualenv when there is one (PEER=0 skips it); explain.py
  // needs only the standard library.
  const python = existsSync(PYTHON) ? PYTHON : "python3";
  const explain = spawnSync(python, [join(ROOT, "bench/explain.py"), d1File(persist), join(persist, "manifest.json")],
    { encoding: "utf8" });
  if (env.KEEP !== "1") rmSync(persist, { recursive: true, force: true });
  const startMs = starts.sort((a, b) => a - b)[Math.floor(starts.length / 2)];
  return { results, storageFloor, startMs, firstMs, explain: `${explain.stdout ?? ""}${explain.stderr ?? ""}${explain.error ?? ""}` };
}

/** Starts the peer (scim2-server, empty, in memory); answers {origin, token, child}. */
async function startPeer() {
  const port = Number(env.PEER_PORT ?? 0) || (await freePort());
  const token = randomBytes(24).toString("hex");
  const child = spawn(PYTHON, [join(ROOT, "bench/peer_serve.py"), String(port), token,
    join(ROOT, "bench/peer-config.json")], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("scim2-server did not start")), 30000);
      const onData = (d) => {
        if (d.toString().includes("Serving SCIM")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", () => {});
      child.once("exit", (c) => reject(new Error(`scim2-server exited ${c}`)));
    });
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
  return { origin: `http://127.0.0.1:${port}`, token, child };
}

async function benchPeer(n) {
  const { origin, token, child } = await startPeer();
  try {
    const manifestFile = join(DATA, `peer-${n}.json`);
    const t0 = performance.now();
    const r = spawnSync(PYTHON, [join(ROOT, "bench/peer_load.py"), `${origin}/v2`, token, String(n), manifestFile],
      { stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) throw new Error("peer_load.py failed");
    const loadS = (performance.now() - t0) / 1000;
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    const results = await drive(`peer-${n}`, origin, token, child.pid, workloads(manifest, "/v2", "peer"));
    return { results, loadS };
  } finally {
    child.kill("SIGTERM");
  }
}

// ---------------------------------------------------------------------------
// A/B: this build against an older one (BASELINE_DIR), same data, same run

/** The workloads the A/B compares: lookups (the request log skips them) and writes (each records events). */
const AB_KEYS = ["userName", "getUser", "patchActive", "patchEmail", "put", "memberSmall", "post"];
const AB_WRITES = new Set(["patchActive", "patchEmail", "put", "memberSmall", "post"]);

/**
 * Each workload on both builds, AB_ROUNDS times, in the order A B B A ...
 * so that drift over the run falls on both; every run on a fresh copy of
 * the loaded database and a fresh workerd. Answers {key: {before, after}}
 * with the mean req/s and CPU ms/request of each side.
 */
async function benchAB(n) {
  const { pristine, manifest } = await prepareD1(n);
  const list = workloads(manifest, `/scim/v2/${TENANT}`, "worker").filter((w) => AB_KEYS.includes(w.key));
  const out = {};
  for (const w of list) {
    const runs = { before: [], after: [] };
    for (let r = 0; r < AB_ROUNDS; r++) {
      const order = r % 2 === 0 ? ["before", "after"] : ["after", "before"];
      for (const side of order) {
        const persist = freshCopy(pristine, n);
        const s = await serve(workerOptions(persist, side === "before" ? BASELINE : BUILD));
        try {
          const token = await putToken(s.mf);
          runs[side].push((await drive(`ab-${side}-${n}`, s.direct, token, s.pid, [w]))[w.key]);
        } finally {
          await s.mf.dispose();
        }
      }
    }
    const mean = (a, f) => a.reduce((x, r) => x + f(r), 0) / a.length;
    const side = (a) => ({ rps: mean(a, (r) => r.rps), cpu_ms: mean(a, (r) => r.cpu_ms ?? 0),
      non2xx: a.reduce((x, r) => x + (r.non2xx ?? 0), 0), runs: a.map((r) => r.rps) });
    out[w.key] = { name: w.name, before: side(runs.before), after: side(runs.after) };
  }
  rmSync(join(DATA, `run-${n}`), { recursive: true, force: true });
  return out;
}

// ---------------------------------------------------------------------------
// Webhook delivery: throughput and lag to a receiver on this machine

const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : null;
};

/**
 * Two phases on one worker with one webhook to a node:http receiver on
 * 127.0.0.1 (answering 204 at once):
 * - lag: POST /Users at a steady DELIVERY_RATE (20/s) for DURATION s; for
 *   each event, the time from its occurredAt (the commit) to its arrival;
 * - throughput: a backlog of BACKLOG already-committed events handed to a
 *   second webhook in one dispatch; events per second from the kick to the
 *   last arrival.
 */
async function benchDelivery(n) {
  const { pristine, manifest } = await prepareD1(n);
  const arrivals = [];
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const at = Date.now();
      res.statusCode = 204;
      res.end();
      try {
        const e = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        arrivals.push({ at, path: req.url, id: e.id, occurred: Date.parse(e.occurredAt) });
      } catch {
        arrivals.push({ at, path: req.url, id: null, occurred: NaN });
      }
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const hookUrl = (p) => `http://127.0.0.1:${receiver.address().port}${p}`;
  const persist = freshCopy(pristine, n);
  const s = await serve(workerOptions(persist));
  const jwt = mintJwt(ADMIN_SECRET, undefined, 1);
  const admin = async (method, path, body) => {
    const res = await fetch(`${s.direct}/admin/v1/tenants/${TENANT}${path}`, {
      method, headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const db = await s.mf.getD1Database("DB");
  const count = async (sql) => (await db.prepare(sql).first()).c;
  const waitFor = async (check, ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end && !(await check())) await new Promise((r) => setTimeout(r, 100));
    return check();
  };
  try {
    const token = await putToken(s.mf);
    const first = await admin("POST", "/webhooks", { url: hookUrl("/lag") });
    // Writes at a steady RATE (an IdP's push, not a flood): each POST
    // starts on its own schedule, whatever the others are doing.
    const post = () => fetch(`${s.direct}/scim/v2/${TENANT}/Users`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
      body: JSON.stringify({ schemas: [USER], userName: `lag-${randomBytes(6).toString("hex")}@example.com` }),
    }).then((r) => r.text());
    const t0lag = Date.now();
    const sent = [];
    for (let k = 0; k < RATE * DURATION; k++) {
      const due = t0lag + (k * 1000) / RATE;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      sent.push(post());
    }
    await Promise.all(sent);
    const load = { requests: sent.length, rps: sent.length / ((Date.now() - t0lag) / 1000) };
    const events = await count(`SELECT count(*) AS c FROM events WHERE tenant_id = '${TENANT}'`);
    const lagOk = await waitFor(() => arrivals.filter((a) => a.path === "/lag").length >= events, 120000);
    const lagged = arrivals.filter((a) => a.path === "/lag");
    const lags = lagged.map((a) => a.at - a.occurred).filter((x) => Number.isFinite(x));
    const unique = new Set(lagged.map((a) => a.id)).size;

    // Throughput: the first webhook off, the last BACKLOG events made
    // undispatched again, a second webhook, and one more write to kick the
    // dispatch (a dispatch takes up to 1000 events).
    const BACKLOG = 990;
    await admin("PATCH", `/webhooks/${first.id}`, { enabled: false });
    // Enough events for the backlog: a Bulk of creates (no webhook is on).
    const missing = BACKLOG - events;
    if (missing > 0) {
      const bulk = await fetch(`${s.direct}/scim/v2/${TENANT}/Bulk`, {
        method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
        body: JSON.stringify({
          schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
          Operations: Array.from({ length: missing }, (_, k) => ({
            method: "POST", path: "/Users", bulkId: `b${k}`,
            data: { schemas: [USER], userName: `backlog-${k}-${randomBytes(4).toString("hex")}@example.com` },
          })),
        }),
      });
      if (bulk.status !== 200) throw new Error(`backlog Bulk: ${bulk.status} ${await bulk.text()}`);
      await bulk.text();
    }
    await admin("POST", "/webhooks", { url: hookUrl("/burst") });
    await db.prepare(`UPDATE events SET dispatched = 0 WHERE tenant_id = ? AND sequence > ` +
      `(SELECT max(sequence) FROM events WHERE tenant_id = ?) - ?`).bind(TENANT, TENANT, BACKLOG).run();
    const t0 = Date.now();
    const kick = await fetch(`${s.direct}/scim/v2/${TENANT}/Users`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
      body: JSON.stringify({ schemas: [USER], userName: `kick-${randomBytes(4).toString("hex")}@example.com` }),
    });
    await kick.text();
    const want = BACKLOG + 1;
    const burstOk = await waitFor(() => arrivals.filter((a) => a.path === "/burst").length >= want, 120000);
    const burst = arrivals.filter((a) => a.path === "/burst");
    const last = Math.max(...burst.map((a) => a.at));
    return {
      writes: load.requests, writeRps: load.rps, events, delivered: lagged.length, unique, lagOk,
      lagP50: pct(lags, 50), lagP99: pct(lags, 99), lagMax: Math.max(...lags),
      backlog: want, burstDelivered: burst.length, burstOk,
      throughput: burst.length / ((last - t0) / 1000), burstS: (last - t0) / 1000,
    };
  } finally {
    await s.mf.dispose();
    receiver.close();
    rmSync(persist, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Size and start

async function sizeAndStart() {
  const wasm = readFileSync(join(BUILD, "index_bg.wasm"));
  const js = readFileSync(join(BUILD, "index.js"));
  const gz = (b) => gzipSync(b, { level: 9 }).length;
  const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const compile = [];
  const instantiate = [];
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    const mod = await WebAssembly.compile(wasm);
    const t1 = performance.now();
    const imports = {};
    for (const imp of WebAssembly.Module.imports(mod)) {
      imports[imp.module] ??= {};
      if (imp.kind === "function") imports[imp.module][imp.name] = () => {};
      // wasm-bindgen imports V8's JS exception tag (as index.js does).
      if (imp.kind === "tag") imports[imp.module][imp.name] = WebAssembly.JSTag;
    }
    await WebAssembly.instantiate(mod, imports);
    instantiate.push(performance.now() - t1);
    compile.push(t1 - t0);
  }
  return {
    wasmBytes: wasm.length, jsBytes: js.length, wasmGzip: gz(wasm), jsGzip: gz(js),
    compileMs: median(compile), instantiateMs: median(instantiate),
  };
}

// ---------------------------------------------------------------------------
// Report

const f0 = (x) => (x == null ? "n/a" : x === 0 ? "0" : x < 10 ? x.toFixed(1) : x.toFixed(0));
const f2 = (x) => (x == null ? "n/a" : x.toFixed(2));
const ms = (us) => (us == null ? "n/a" : (us / 1000).toFixed(2));
const ratio = (a, b) => (a == null || b == null || !b ? "n/a" : `${(a / b).toFixed(2)}x`);

function table(rows, header) {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const line = (r) => r.map((x, c) => (c === 0 ? String(x).padEnd(w[c]) : String(x).padStart(w[c]))).join(" | ");
  return [line(header), w.map((x) => "-".repeat(x)).join("-|-"), ...rows.map(line)].join("\n");
}

async function main() {
  const started = Date.now();
  const report = { config: { sizes: SIZES, duration: DURATION, connections: CONNS, warmup: WARMUP, path: PATH_NAME } };
  log("size and instantiation");
  report.size = await sizeAndStart();
  report.sizes = {};
  if (PARTS.has("floor") || PARTS.has("worker")) {
    log("floor worker");
    report.floor = await benchFloor();
  }
  if (PARTS.has("worker")) {
    for (const n of SIZES) {
      log(`worker, N=${n}`);
      const worker = await benchWorker(n);
      let peer = null;
      if (WITH_PEER && PARTS.has("peer")) {
        log(`peer (scim2-server), N=${n}`);
        peer = await benchPeer(n);
      }
      report.sizes[n] = { worker, peer };
    }
  }
  const nAB = Math.min(...SIZES);
  if (BASELINE && PARTS.has("ab")) {
    log(`A/B against ${BASELINE}, N=${nAB}`);
    report.ab = { n: nAB, baseline: BASELINE, rounds: AB_ROUNDS, results: await benchAB(nAB) };
  }
  if (PARTS.has("delivery")) {
    log(`webhook delivery, N=${nAB}`);
    report.delivery = { n: nAB, ...(await benchDelivery(nAB)) };
  }
  if (PARTS.has("cycles")) {
    log("provisioning cycles (bench/cycles.mjs)");
    report.cycles = await runCycles({
      ROOT, DATA, TENANT, log, serve, workerOptions, putToken, statements, freePort, startPeer, withPeer: WITH_PEER,
    });
  }
  say(`\nscim-worker benchmark — ${new Date().toISOString()}`);
  say(`serving path: ${PATH_NAME}`);
  if (PARTS.has("worker")) reportWorker(report);
  reportAB(report);
  reportDelivery(report);
  if (report.cycles) cyclesReport(report.cycles).forEach((l) => say(l));
  reportTail(report, started);
}

const targets = [];
const target = (name, ok, detail) => targets.push([name, ok == null ? "n/a" : ok ? "met" : "MISSED", detail]);

function reportAB(report) {
  if (!report.ab) return;
  const { n, baseline, rounds, results } = report.ab;
  say(`\nA/B at N=${n}: ${baseline} (before) vs ${BUILD} (after), ${rounds} runs each, interleaved, ` +
    `each on a fresh workerd and database copy; cost = before req/s / after req/s; requestLog at its default`);
  const rows = Object.entries(results).map(([k, r]) => {
    const cost = r.before.rps / r.after.rps;
    const ok = AB_WRITES.has(k) ? cost <= 1.1 : r.after.rps / r.before.rps >= 0.95;
    return [r.name, f0(r.before.rps), f0(r.after.rps), `${cost.toFixed(2)}x`, f2(r.before.cpu_ms), f2(r.after.cpu_ms),
      ratio(r.after.cpu_ms, r.before.cpu_ms), r.before.non2xx + r.after.non2xx,
      AB_WRITES.has(k) ? (ok ? "<=1.1x: met" : "<=1.1x: MISSED") : (ok ? ">=0.95x: met" : ">=0.95x: MISSED")];
  });
  const writes = rows.filter((r, i) => AB_WRITES.has(Object.keys(results)[i]));
  const reads = rows.filter((r, i) => !AB_WRITES.has(Object.keys(results)[i]));
  target(`every write within 1.1x of ${baseline.split("/").slice(-2).join("/")}`, writes.every((r) => r[8].endsWith("met")),
    writes.map((r) => `${r[0]} ${r[3]}`).join("; "));
  target("every lookup >= 0.95x of before", reads.every((r) => r[8].endsWith("met")),
    reads.map((r) => `${r[0]} ${ratio(Number(r[2]), Number(r[1]))}`).join("; "));
  say(table(rows, ["workload", "before req/s", "after req/s", "cost", "before CPU ms", "after CPU ms", "CPU ratio",
    "non-2xx", "target"]));
}

function reportDelivery(report) {
  const d = report.delivery;
  if (!d) return;
  say(`\nWebhook delivery at N=${d.n} (queue consumer batch 10, max_batch_timeout 1 s, as wrangler.toml; receiver: node:http on 127.0.0.1 answering 204):`);
  say(`- lag from commit (occurredAt) to arrival, POST /Users at a steady ${f0(d.writeRps)} writes/s (DELIVERY_RATE) for ${DURATION} s (` +
    `${d.events} events): p50 ${f0(d.lagP50)} ms, p99 ${f0(d.lagP99)} ms, max ${f0(d.lagMax)} ms; ` +
    `${d.delivered} deliveries of ${d.unique} distinct events${d.lagOk ? "" : " (NOT ALL ARRIVED within 120 s)"}`);
  say(`- throughput: a backlog of ${d.backlog} committed events to a new webhook: ${d.burstDelivered} delivered in ` +
    `${f2(d.burstS)} s = ${f0(d.throughput)} events/s${d.burstOk ? "" : " (NOT ALL ARRIVED within 120 s)"}`);
}

function reportWorker(report) {
  const floor = report.floor.direct;

  say(`load: wrk -t1 -c${CONNS} (member PATCH: -c1), ${DURATION} s per workload after ${WARMUP} s warm-up, ` +
    `each workload on a fresh workerd and a fresh copy of the loaded D1; 2 cores shared by wrk and the server. ` +
    `"other" = the share of the machine's CPU that other processes used during the run (measures taken while it is high are low and noisy).`);
  say(`floor (bench/floor.mjs, constant ListResponse): direct socket ${f0(floor.rps)} req/s ` +
    `(p50 ${ms(floor.p50)} ms, p99 ${ms(floor.p99)} ms, ${f2(floor.cpu_ms)} ms CPU/req); ` +
    `through Miniflare's entry worker ${f0(report.floor.entry.rps)} req/s`);
  for (const n of SIZES) {
    const { worker, peer } = report.sizes[n];
    say(`\nN=${n} users (worker cold start: Miniflare+workerd ready ${f0(worker.startMs)} ms, ` +
      `first request ${f0(worker.firstMs)} ms${peer ? `; peer load over SCIM Bulk ${peer.loadS.toFixed(0)} s` : ""})`);
    const rows = Object.entries(worker.results).map(([k, r]) => {
      const p = peer?.results[k];
      const peerP50 = p && !p.na && p.requests === 0 ? `>${DURATION * 1000}` : ms(p?.p50);
      return [r.name, f0(r.rps), ms(r.p50), ms(r.p99), f2(r.cpu_ms), r.non2xx ?? "n/a", r.load ?? "",
        ratio(r.rps, floor.rps), p?.na ? "n/a" : f0(p?.rps), p?.na ? "n/a" : peerP50,
        p?.na ? "n/a" : ratio(r.rps, p?.rps)];
    });
    say(table(rows, ["workload", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "non-2xx", "other", "vs floor",
      "peer req/s", "peer p50", "vs peer"]));
    const sf = worker.storageFloor;
    if (sf && worker.results.userName) {
      say(`storage floor (bench/floor-d1.mjs: a JS worker doing the same KV read and one D1 batch (definitions + page) for userName eq): ` +
        `${f0(sf.rps)} req/s, p50 ${ms(sf.p50)} ms, ${f2(sf.cpu_ms)} ms CPU/req; ` +
        `scim-worker's userName eq is ${ratio(worker.results.userName.rps, sf.rps)} of it`);
    }
    const peerErrors = peer ? Object.entries(peer.results).filter(([, r]) => r.non2xx) : [];
    if (peerErrors.length) say(`peer non-2xx: ${peerErrors.map(([k, r]) => `${k} ${r.non2xx}`).join(", ")}`);
  }

  const nBig = Math.max(...SIZES);
  const W = report.sizes[nBig].worker.results;
  const P = report.sizes[nBig].peer?.results;
  if (W.userName) {
    const r = W.userName.rps / floor.rps;
    target(`userName eq at ${nBig} >= 90% of floor`, r >= 0.9, `${(r * 100).toFixed(0)}% of floor`);
    const rp = P?.userName ? W.userName.rps / P.userName.rps : null;
    target(`userName eq at ${nBig} >= 3x peer`, rp == null ? null : rp >= 3, rp == null ? "no peer" : `${rp.toFixed(1)}x peer`);
  }
  if (SIZES.length > 1) {
    const small = report.sizes[Math.min(...SIZES)].worker.results;
    const rows = Object.keys(W).filter((k) => small[k]).map((k) => {
      const slow = small[k].rps / W[k].rps;
      return [W[k].name, f0(small[k].rps), f0(W[k].rps), `${slow.toFixed(2)}x`, slow <= 1.2 ? "ok" : "MISSED"];
    });
    say(`\nScale: ${Math.min(...SIZES)} vs ${nBig} users (slowdown = req/s at ${Math.min(...SIZES)} / req/s at ${nBig}; target <= 1.2x)`);
    say(table(rows, ["workload", `req/s @${Math.min(...SIZES)}`, `req/s @${nBig}`, "slowdown", "target"]));
    const missed = rows.filter((r) => r[4] !== "ok");
    target(`every workload at ${nBig} within 1.2x of ${Math.min(...SIZES)}`, missed.length === 0,
      missed.length ? `missed: ${missed.map((r) => `${r[0]} ${r[3]}`).join("; ")}` : "all within");
  }
  const rows2 = [];
  for (const n of SIZES) {
    const R = report.sizes[n].worker.results;
    if (R.memberSmall && R.memberBig) {
      rows2.push([`${n}: member PATCH, ${R.memberBig.name.match(/(\d+)-member/)[1]} vs 10 members`,
        f0(R.memberSmall.rps), f0(R.memberBig.rps), ratio(R.memberSmall.rps, R.memberBig.rps)]);
    }
    if (R.listFirst && R.listLast) rows2.push([`${n}: last vs first page, startIndex`, f0(R.listFirst.rps), f0(R.listLast.rps), ratio(R.listFirst.rps, R.listLast.rps)]);
    if (R.cursorFirst && R.cursorLast) rows2.push([`${n}: last vs first page, cursor`, f0(R.cursorFirst.rps), f0(R.cursorLast.rps), ratio(R.cursorFirst.rps, R.cursorLast.rps)]);
  }
  if (rows2.length) {
    say("\nSize of the group and position of the page (slowdown = req/s of the easy case / the hard one)");
    say(table(rows2, ["comparison", "easy req/s", "hard req/s", "slowdown"]));
  }
  if (W.memberSmall && W.memberBig) {
    const s = W.memberSmall.rps / W.memberBig.rps;
    target(`member PATCH, ${W.memberBig.name.match(/(\d+)-member/)[1]}-member group within 1.2x of 10`, s <= 1.2, `${s.toFixed(2)}x`);
  }
  if (W.cursorFirst && W.cursorLast) {
    const s = W.cursorFirst.rps / W.cursorLast.rps;
    target("last page within 1.2x of first, cursor", s <= 1.2, `${s.toFixed(2)}x`);
  }
}

function reportTail(report, started) {
  const sz = report.size;
  const gzTotal = sz.wasmGzip + sz.jsGzip;
  say(`\nBundle: index_bg.wasm ${sz.wasmBytes} B (${sz.wasmGzip} B gzip -9), index.js ${sz.jsBytes} B ` +
    `(${sz.jsGzip} B gzip); total ${(gzTotal / 1024).toFixed(0)} KiB gzip. ` +
    `Node ${process.version} WebAssembly.compile ${f2(sz.compileMs)} ms, instantiate ${f2(sz.instantiateMs)} ms (median of 7).`);
  target("bundle < 1 MiB gzip", gzTotal < 1 << 20, `${(gzTotal / 1024).toFixed(0)} KiB`);
  const cpuRows = Object.keys(report.sizes).flatMap((n) => Object.values(report.sizes[n].worker.results)
    .filter((r) => r.cpu_ms != null).map((r) => ({ n, ...r })));
  const worst = cpuRows.sort((a, b) => b.cpu_ms - a.cpu_ms)[0];
  if (worst) {
    const over = cpuRows.filter((r) => r.cpu_ms > 5);
    target("no request above 5 ms CPU (workerd CPU incl. local D1 / requests)", over.length === 0,
      `worst ${worst.name} @${worst.n}: ${worst.cpu_ms.toFixed(2)} ms/req` +
      (over.length ? `; above 5: ${over.map((r) => `${r.name} @${r.n}`).join("; ")}` : ""));
  }
  say("\nTargets");
  for (const [name, result, detail] of targets) say(`- ${result.padEnd(6)} ${name}: ${detail}`);
  for (const n of Object.keys(report.sizes)) {
    say(`\nEXPLAIN QUERY PLAN, N=${n} (bench/explain.py on the run's D1 file; [best in-process SQLite time])`);
    say(report.sizes[n].worker.explain.trimEnd());
  }
  say(`\ntotal time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const stampName = new Date().toISOString().replace(/[:.]/g, "-");
  writeFileSync(join(DATA, `results-${stampName}.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(DATA, `results-${stampName}.txt`), out.join("\n") + "\n");
  log(`results in bench/.data/results-${stampName}.{txt,json}`);
}

await main();
