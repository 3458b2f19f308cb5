// Whole provisioning cycles, as identity providers run them, timed end to end
// on scim-worker and its peers: the `cycles` part of scripts/bench
// (bench/run.mjs calls runCycles and prints cyclesReport).
//
// Cycles (each on a fresh, empty server unless said otherwise), driven with
// CYCLE_CONNECTIONS (4) keep-alive connections, as IdPs do:
// - okta-push: for each of N users, GET /Users?filter=userName eq "<u>"
//   (expects totalResults 0) then POST /Users; then for each of N/100 groups,
//   GET /Groups?filter=displayName eq "<g>" (0), POST /Groups (no members)
//   and its 100 members (users created) added in PATCHes of 25
//   ({"op":"add","path":"members","value":[...25]}).
// - okta-import: on what okta-push left on the same server, GET /Users and
//   then GET /Groups page by page, startIndex/count=200 (one connection: each
//   page needs the one before).
// - entra: for each user, GET /Users?filter=externalId eq, then userName eq
//   (both 0), POST /Users; for each group, GET /Groups?excludedAttributes=
//   members&filter=displayName eq (0), POST /Groups, its 100 members added in
//   PATCHes of ENTRA_OPS operations {"op":"Add","path":"members","value":
//   [{"value":id}]} (one member per operation, Entra's capitalised op); then
//   {"op":"Replace","path":"active","value":"False"} (a string, as Entra
//   sends it) to every third user.
// Every answer is checked (status and the key field: totalResults, id, the
// page); after each cycle (untimed) a sample of its users and groups is read
// back: the lookups the IdP relies on (userName eq in another case,
// externalId eq, an attribute name that must not be ignored), the members
// the PATCHes added, active after Entra's "False". A server that gets any of
// it wrong is reported "wrong: <why>", with the count of failed steps.
// A cycle is stopped at CYCLE_BOUND_S (300 s) and reported "> bound".
//
// Servers: scim-worker (the built worker on Miniflare's direct socket, a
// fresh empty D1 with the migrations, a tenant and a token as run.mjs makes
// them), scim2-server in memory (bench/peer_serve.py, as the peer part),
// Ory Polis (bench/polis_serve.mjs over @boxyhq/saml-jackson from
// bench/.data/polis) in memory and on PostgreSQL (a throwaway cluster in
// bench/.data/pg-<pid>, run as `nobody`, removed at the end).
//
// Environment: CYCLE_N (10000), CYCLE_BIG (1; 0 skips the second size),
// CYCLE_BIG_N (100000: run for each server and cycle that finished N within
// the bound), CYCLE_CONNECTIONS (4), CYCLE_BOUND_S (300), CYCLE_SERVERS
// (comma list of worker, scim2-server, polis-mem, polis-pg; default all;
// PEER=0 keeps the worker only), CYCLE_CYCLES (comma list of okta-push,
// okta-import, entra), POLIS_DIR (bench/.data/polis), PG_BIN (the
// PostgreSQL binaries; default /usr/lib/postgresql/<newest>/bin or the
// directory of initdb on PATH).
import { spawn, spawnSync, execFileSync } from "node:child_process";
import {
  chownSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, realpathSync,
} from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";

const env = process.env;
const N1 = Number(env.CYCLE_N ?? 10000);
const BIG = env.CYCLE_BIG === "0" ? null : Number(env.CYCLE_BIG_N ?? 100000);
const CONNS = Number(env.CYCLE_CONNECTIONS ?? 4);
const BOUND_S = Number(env.CYCLE_BOUND_S ?? 300);
const ALL_SERVERS = ["worker", "scim2-server", "polis-mem", "polis-pg"];
const ALL_CYCLES = ["okta-push", "okta-import", "entra"];
const GROUP_SIZE = 100;
const OKTA_CHUNK = 25;
const ENTRA_OPS = 10;
const PAGE = 200;
const SAMPLE_USERS = 20;
const SAMPLE_GROUPS = 5;
const VERIFY_S = 120;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SERVER_NAMES = {
  worker: "scim-worker",
  "scim2-server": "scim2-server (memory)",
  "polis-mem": "Ory Polis (memory)",
  "polis-pg": "Ory Polis (PostgreSQL)",
};
const CYCLE_NAMES = { "okta-push": "Okta push", "okta-import": "Okta import", entra: "Entra initial cycle" };

const pad = (i, w = 6) => String(i).padStart(w, "0");
const userName = (i) => `User${pad(i)}@Example.com`;
const email = (i) => `user${pad(i)}@example.com`;
const oktaId = (i) => `00u${pad(i, 17)}`;
const entraId = (i) => `${pad(i, 8)}-e000-4000-8000-${pad(i, 12)}`;
const enc = encodeURIComponent;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Processes

/** CPU seconds (own and reaped children's) of the process trees under roots. */
function treeCpuSeconds(roots) {
  const procs = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(d), { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // gone meanwhile
    }
  }
  const kids = new Map();
  for (const [pid, p] of procs) {
    if (!kids.has(p.ppid)) kids.set(p.ppid, []);
    kids.get(p.ppid).push(pid);
  }
  let ticks = 0;
  const seen = new Set();
  const walk = (pid) => {
    if (seen.has(pid) || !procs.has(pid)) return;
    seen.add(pid);
    ticks += procs.get(pid).cpu;
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  for (const r of roots) walk(r);
  return ticks / CLK_TCK;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK;
}
const NCPU = readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length || 1;

function alive(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Sends a signal to a child and waits (up to ms) for it to exit. */
async function stopChild(child, signal = "SIGTERM", ms = 15000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  const done = await Promise.race([exited.then(() => true), sleep(ms).then(() => false)]);
  if (!done) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** The first stdout line of a child, parsed as JSON (it prints its address). */
function firstJsonLine(child, what, ms = 60000) {
  return new Promise((resolve, reject) => {
    let buf = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s: ${err.slice(-500)}`)), ms);
    child.stderr.on("data", (d) => (err = (err + d).slice(-4000)));
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (e) {
          reject(new Error(`${what}: ${buf.slice(0, nl)}`));
        }
      }
    });
    child.once("exit", (c) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${c}: ${err.slice(-1000)}`));
    });
  });
}

/**
 * What the part leaves running (children, the cluster): undone at exit,
 * on SIGINT/SIGTERM (then exits), or by release() at the end of the part.
 */
const guard = {
  jobs: new Set(),
  installed: false,
  add(fn) {
    this.jobs.add(fn);
    if (!this.installed) {
      this.installed = true;
      process.on("exit", this.onExit);
      process.on("SIGINT", this.onSignal);
      process.on("SIGTERM", this.onSignal);
    }
    return () => this.jobs.delete(fn);
  },
  runAll() {
    for (const fn of [...guard.jobs].reverse()) {
      guard.jobs.delete(fn);
      try {
        fn();
      } catch {
        // best effort
      }
    }
  },
  onExit() {
    guard.runAll();
  },
  onSignal(sig) {
    guard.runAll();
    process.exit(sig === "SIGINT" ? 130 : 143);
  },
  release() {
    this.runAll();
    if (this.installed) {
      process.off("exit", this.onExit);
      process.off("SIGINT", this.onSignal);
      process.off("SIGTERM", this.onSignal);
      this.installed = false;
    }
  },
};

/** Kills a child at exit if it is still there. Returns the undo. */
const guardChild = (child) => guard.add(() => alive(child.pid) && child.kill("SIGKILL"));

// ---------------------------------------------------------------------------
// PostgreSQL: a throwaway cluster, run as an unprivileged user

function pgBin() {
  if (env.PG_BIN) return env.PG_BIN;
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const v = readdirSync(base).filter((d) => existsSync(join(base, d, "bin/initdb"))).sort((a, b) => Number(b) - Number(a));
    if (v.length) return join(base, v[0], "bin");
  }
  const r = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (r.status === 0 && r.stdout.trim()) return dirname(realpathSync(r.stdout.trim()));
  throw new Error("no PostgreSQL binaries (set PG_BIN, or apt-get install postgresql)");
}

/** Removes clusters left by bench runs that died (their node pid is gone). */
function removeStaleClusters(data) {
  for (const d of readdirSync(data)) {
    const m = d.match(/^pg-(\d+)$/);
    if (!m || alive(Number(m[1]))) continue;
    const dir = join(data, d);
    try {
      const pm = Number(readFileSync(join(dir, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pm && alive(pm) && readFileSync(`/proc/${pm}/cmdline`, "utf8").includes(dir)) process.kill(pm, "SIGQUIT");
    } catch {
      // no server running there
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.log`, { force: true });
  }
}

/**
 * initdb into bench/.data/pg-<pid> and start postgres on 127.0.0.1 (a free
 * port, its unix socket inside the data directory, fsync on as in
 * production). As root, both run as `nobody` (initdb refuses root) through
 * setpriv, which execs: the child is the postmaster itself. Stopped and
 * removed by stop(), or at exit, SIGINT or SIGTERM (see guard).
 */
async function startPostgres(data, freePort, log) {
  removeStaleClusters(data);
  const bin = pgBin();
  const dir = join(data, `pg-${process.pid}`);
  const logFile = `${dir}.log`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  let wrap = [];
  if (process.getuid() === 0) {
    const uid = Number(execFileSync("id", ["-u", "nobody"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "nobody"]).toString().trim());
    chownSync(dir, uid, gid);
    // --pdeathsig: postgres gets SIGQUIT (immediate shutdown) if this
    // process dies without cleaning up (kill -9); the next run removes the
    // directory (removeStaleClusters).
    wrap = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--pdeathsig=SIGQUIT", "--"];
  }
  const run = (cmd, args) => (wrap.length ? [wrap[0], [...wrap.slice(1), cmd, ...args]] : [cmd, args]);
  let child = null;
  let stopped = false;
  const cleanupSync = () => {
    if (stopped) return;
    stopped = true;
    if (child && alive(child.pid)) {
      try {
        process.kill(child.pid, "SIGQUIT");
      } catch {
        // gone
      }
      const end = Date.now() + 5000;
      while (alive(child.pid) && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(logFile, { force: true });
  };
  const detach = guard.add(cleanupSync);
  try {
    const [c1, a1] = run(join(bin, "initdb"), ["-D", dir, "-U", "postgres", "-A", "trust", "--no-locale", "-E", "UTF8", "--no-instructions"]);
    const init = spawnSync(c1, a1, { encoding: "utf8" });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    const port = await freePort();
    const fd = openSync(logFile, "w");
    const [c2, a2] = run(join(bin, "postgres"), ["-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1",
      "-c", `unix_socket_directories=${dir}`, "-c", "fsync=on"]);
    child = spawn(c2, a2, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    const psql = (sql, db = "postgres") => {
      const r = spawnSync(join(bin, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", db,
        "-v", "ON_ERROR_STOP=1", "-qAtc", sql], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const end = Date.now() + 30000;
    for (;;) {
      const r = spawnSync(join(bin, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)]);
      if (r.status === 0) break;
      if (!alive(child.pid) || Date.now() > end) {
        throw new Error(`postgres did not start: ${readFileSync(logFile, "utf8").slice(-2000)}`);
      }
      await sleep(200);
    }
    const version = psql("SHOW server_version");
    log(`PostgreSQL ${version} on 127.0.0.1:${port} (${dir}, fsync ${psql("SHOW fsync")}${wrap.length ? ", as nobody" : ""})`);
    return {
      port, version, pid: child.pid, psql,
      url: (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`,
      async stop() {
        if (stopped) return;
        // Fast shutdown, then what the exit path does.
        await stopChild(child, "SIGINT", 20000);
        cleanupSync();
        detach();
      },
    };
  } catch (e) {
    cleanupSync();
    detach();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// HTTP

function request(agent, origin, token, method, path, body, signal) {
  const u = new URL(origin);
  const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      agent, host: u.hostname, port: u.port, method, path, signal,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/scim+json",
        ...(data ? { "content-type": "application/scim+json", "content-length": data.length } : {}),
      },
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on("error", reject);
    req.end(data ?? undefined);
  });
}

class Bound extends Error {}

/** One timed cycle's counters: requests, failed steps, and why. */
class Tally {
  constructor(server, signal) {
    this.server = server;
    this.signal = signal;
    this.requests = 0;
    this.errors = 0;
    this.reasons = new Map();
  }

  /** Notes what went wrong: reason (the report's list), short (its table), an example answer. */
  note(reason, example, short = reason) {
    const r = this.reasons.get(reason);
    if (r) r.count++;
    else this.reasons.set(reason, { count: 1, example: example?.slice(0, 300), short });
  }

  /** One request; check(res) answers true or why it is wrong. Returns res or null. */
  async step(label, method, path, body, check) {
    if (this.signal.aborted) throw new Bound();
    this.requests++;
    let res;
    try {
      res = await request(this.server.agent, this.server.origin, this.server.token, method, this.server.base + path, body, this.signal);
    } catch (e) {
      if (this.signal.aborted) throw new Bound();
      this.errors++;
      this.note(`${label}: ${e.code ?? e.message}`);
      return null;
    }
    const verdict = check(res);
    if (verdict !== true) {
      this.errors++;
      this.note(`${label}: ${verdict}`, res.text);
      return null;
    }
    return res;
  }
}

const is = (...codes) => (res) => codes.includes(res.status) || `status ${res.status}`;
const total = (want) => (res) =>
  res.status !== 200 ? `status ${res.status}` : res.json?.totalResults === want || `totalResults ${res.json?.totalResults} (want ${want})`;
const created = (res) =>
  res.status !== 201 ? `status ${res.status}` : typeof res.json?.id === "string" && res.json.id !== "" || "no id";

/** Runs fn(i) for i < count over conns concurrent lanes until done or aborted. */
async function lanes(count, conns, signal, fn) {
  let next = 0;
  let bound = null;
  const lane = async () => {
    while (!signal.aborted) {
      const i = next++;
      if (i >= count) return;
      try {
        await fn(i);
      } catch (e) {
        if (e instanceof Bound || signal.aborted) {
          bound = e;
          return;
        }
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(conns, Math.max(count, 1)) }, lane));
  if (bound || signal.aborted) throw new Bound();
  return next;
}

// ---------------------------------------------------------------------------
// The cycles. Each takes a served server, an AbortSignal and a shared state
// (ids of what it created, for the import and the checks).

const userBody = (i, flavor) => ({
  schemas: [USER],
  userName: userName(i),
  externalId: flavor === "entra" ? entraId(i) : oktaId(i),
  name: { givenName: `Given${pad(i)}`, familyName: `Family${pad(i)}` },
  ...(flavor === "entra" ? { displayName: `Given${pad(i)} Family${pad(i)}` } : {}),
  emails: [{ value: email(i), type: "work", primary: true }],
  active: true,
});
const groupName = (flavor, k) => `${flavor === "entra" ? "Entra" : "Okta"} Group ${pad(k, 5)}`;

async function oktaPush(t, n, state) {
  state.users = new Array(n + 1);
  state.progress = () => `${state.users.filter(Boolean).length}/${n} users, ${state.groups?.filter(Boolean).length ?? 0}/${Math.floor(n / GROUP_SIZE)} groups`;
  await lanes(n, CONNS, t.signal, async (k) => {
    const i = k + 1;
    const found = await t.step("GET /Users?filter=userName eq (new user)", "GET",
      `/Users?filter=${enc(`userName eq "${userName(i)}"`)}`, undefined, total(0));
    if (!found) return;
    const res = await t.step("POST /Users", "POST", "/Users", userBody(i, "okta"), created);
    if (res) state.users[i] = res.json.id;
  });
  await pushGroups(t, n, state, "okta");
}

async function pushGroups(t, n, state, flavor) {
  const g = Math.floor(n / GROUP_SIZE);
  state.groups = new Array(g + 1);
  state.members = new Array(g + 1);
  await lanes(g, CONNS, t.signal, async (k0) => {
    const k = k0 + 1;
    const name = groupName(flavor, k);
    const lookup = flavor === "entra"
      ? `/Groups?excludedAttributes=members&filter=${enc(`displayName eq "${name}"`)}`
      : `/Groups?filter=${enc(`displayName eq "${name}"`)}`;
    const found = await t.step(`GET /Groups?${flavor === "entra" ? "excludedAttributes=members&" : ""}filter=displayName eq (new group)`,
      "GET", lookup, undefined, total(0));
    if (!found) return;
    const body = flavor === "entra"
      ? { schemas: [GROUP], externalId: `${pad(k, 8)}-a000-4000-8000-${pad(k, 12)}`, displayName: name, members: [] }
      : { schemas: [GROUP], displayName: name };
    const res = await t.step("POST /Groups", "POST", "/Groups", body, created);
    if (!res) return;
    const gid = res.json.id;
    state.groups[k] = gid;
    const ids = [];
    for (let i = (k - 1) * GROUP_SIZE + 1; i <= k * GROUP_SIZE; i++) if (state.users[i]) ids.push(state.users[i]);
    state.members[k] = ids;
    const chunk = flavor === "entra" ? ENTRA_OPS : OKTA_CHUNK;
    for (let c = 0; c < ids.length; c += chunk) {
      const part = ids.slice(c, c + chunk);
      const ops = flavor === "entra"
        ? part.map((id) => ({ op: "Add", path: "members", value: [{ value: id }] }))
        : [{ op: "add", path: "members", value: part.map((id) => ({ value: id })) }];
      await t.step(`PATCH /Groups/{id} ${flavor === "entra" ? `${ENTRA_OPS} x op "Add"` : `op "add" ${OKTA_CHUNK} members`}`,
        "PATCH", `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: ops }, is(200, 204));
    }
  });
}

async function entra(t, n, state) {
  state.users = new Array(n + 1);
  state.progress = () => `${state.users.filter(Boolean).length}/${n} users, ${state.groups?.filter(Boolean).length ?? 0}/${Math.floor(n / GROUP_SIZE)} groups`;
  await lanes(n, CONNS, t.signal, async (k) => {
    const i = k + 1;
    const byExt = await t.step("GET /Users?filter=externalId eq (new user)", "GET",
      `/Users?filter=${enc(`externalId eq "${entraId(i)}"`)}`, undefined, total(0));
    if (!byExt) return;
    const byName = await t.step("GET /Users?filter=userName eq (new user)", "GET",
      `/Users?filter=${enc(`userName eq "${userName(i)}"`)}`, undefined, total(0));
    if (!byName) return;
    const res = await t.step("POST /Users", "POST", "/Users", userBody(i, "entra"), created);
    if (res) state.users[i] = res.json.id;
  });
  await pushGroups(t, n, state, "entra");
  const third = [];
  for (let i = 3; i <= n; i += 3) if (state.users[i]) third.push(i);
  state.deactivated = third;
  await lanes(third.length, CONNS, t.signal, async (k) => {
    const i = third[k];
    await t.step('PATCH /Users/{id} Replace active "False"', "PATCH", `/Users/${state.users[i]}`,
      { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }] },
      (res) => {
        if (res.status === 204) return true;
        if (res.status !== 200) return `status ${res.status}`;
        return res.json?.active === false || `answered active ${JSON.stringify(res.json?.active)}`;
      });
  });
}

/** Pages through one resource type with startIndex/count; checks every page and the whole. */
async function pageThrough(t, type, want, check) {
  const seen = new Set();
  let start = 1;
  let pages = 0;
  let stated = null;
  const maxPages = Math.ceil(want / PAGE) + 5;
  for (;;) {
    const res = await t.step(`GET /${type}?startIndex&count=${PAGE}`, "GET", `/${type}?startIndex=${start}&count=${PAGE}`,
      undefined, (r) => (r.status === 200 && Array.isArray(r.json?.Resources ?? []) ? true : `status ${r.status}`));
    if (!res) return;
    pages++;
    const list = res.json?.Resources ?? [];
    stated = res.json?.totalResults;
    t.read = (t.read ?? 0) + list.length;
    if (stated !== want) t.note(`GET /${type} pages: totalResults ${stated}, want ${want}`, undefined, `${type} totalResults ${stated}/${want}`);
    if (list.length > PAGE) t.note(`GET /${type}?count=${PAGE}: a page of ${list.length} (more than count)`, undefined, `${type} page > count`);
    let dup = 0;
    for (const r of list) {
      if (seen.has(r.id)) dup++;
      seen.add(r.id);
      if (check) check(r);
    }
    if (dup) t.note(`GET /${type} pages: ${dup} resources seen twice`, undefined, `${type} pages overlap`);
    if (list.length === 0 || start + list.length > (stated ?? 0) || pages >= maxPages) break;
    start += list.length;
  }
  if (seen.size !== want) {
    t.note(`GET /${type} pages: saw ${seen.size} of ${want} ${type.toLowerCase()}`, undefined, `saw ${seen.size}/${want} ${type.toLowerCase()}`);
  }
  return { seen: seen.size, pages };
}

async function oktaImport(t, n, state) {
  state.progress = () => `${t.read ?? 0} resources read`;
  const wantUsers = state.users.filter(Boolean).length;
  const wantGroups = state.groups.filter(Boolean).length;
  const wantMembers = state.members.reduce((a, m) => a + (m?.length ?? 0), 0);
  await pageThrough(t, "Users", wantUsers);
  let members = 0;
  const r = await pageThrough(t, "Groups", wantGroups, (g) => (members += Array.isArray(g.members) ? g.members.length : 0));
  if (r && members !== wantMembers) {
    t.note(`GET /Groups pages: ${members} of ${wantMembers} members listed`, undefined, `Groups pages list ${members}/${wantMembers} members`);
  }
}

/**
 * Reads back a sample of what a cycle made (untimed) and notes what the IdP
 * would get wrong: the lookups it relies on and the state it left.
 */
async function verify(t, n, state, flavor) {
  const ids = state.users;
  const spread = (count, hi) => Array.from({ length: Math.min(count, hi) }, (_, k) => 1 + Math.floor((k * hi) / Math.min(count, hi)));
  const sample = spread(SAMPLE_USERS, n).filter((i) => ids[i]);
  const q = async (f) => request(t.server.agent, t.server.origin, t.server.token, "GET",
    `${t.server.base}/Users?filter=${enc(f)}`, undefined, t.signal);
  const count = new Map();
  const bump = (reason, short) => {
    const c = count.get(reason);
    if (c) c.n++;
    else count.set(reason, { n: 1, short });
  };
  for (const i of sample) {
    const exact = await q(`userName eq "${userName(i)}"`);
    if (exact.json?.totalResults !== 1 || exact.json?.Resources?.[0]?.id !== ids[i]) {
      // Does it match another attribute that holds the value in another form?
      const byEmail = await q(`userName eq "${email(i)}"`);
      if (byEmail.json?.totalResults === 1) bump("userName eq matches the email (emails[0].value), not userName", "userName eq matches the email");
      else bump("userName eq (as created) does not find the user", "userName eq misses");
    }
    const upper = await q(`userName eq "${userName(i).toUpperCase()}"`);
    if (upper.json?.totalResults !== 1) bump("userName eq in another case does not find the user (case-sensitive)", "userName eq case-sensitive");
    const ext = flavor === "entra" ? entraId(i) : oktaId(i);
    const byExt = await q(`externalId eq "${ext}"`);
    if (byExt.json?.totalResults !== 1) bump("externalId eq does not find the user", "externalId eq misses");
    // An attribute that holds this value is not externalId: 0 results.
    const wrongAttr = await q(`externalId eq "${email(i)}"`);
    if (wrongAttr.json?.totalResults !== 0) {
      bump("the filter ignores the attribute name (externalId eq <the user's email> finds the user)", "filter ignores the attribute name");
    }
  }
  if (flavor === "entra") {
    const d = state.deactivated ?? [];
    const step = Math.max(1, Math.floor(d.length / SAMPLE_USERS));
    for (const i of d.filter((_, k) => k % step === 0).slice(0, SAMPLE_USERS)) {
      const u = await request(t.server.agent, t.server.origin, t.server.token, "GET", `${t.server.base}/Users/${ids[i]}`, undefined, t.signal);
      const a = JSON.stringify(u.json?.active);
      if (u.json?.active !== false) bump(`after Replace active "False", GET /Users/{id} answers active ${a}`, `active ${a} after "False"`);
    }
  }
  const groups = (state.groups ?? []).map((gid, k) => [k, gid]).filter(([, gid]) => gid);
  const gstep = Math.max(1, Math.floor(groups.length / SAMPLE_GROUPS));
  for (const [k, gid] of groups.filter((_, x) => x % gstep === 0).slice(0, SAMPLE_GROUPS)) {
    const g = await request(t.server.agent, t.server.origin, t.server.token, "GET", `${t.server.base}/Groups/${gid}`, undefined, t.signal);
    const want = new Set(state.members[k]);
    const got = (g.json?.members ?? []).filter((m) => want.has(m.value)).length;
    const stored = got !== want.size && t.server.membersStored ? await t.server.membersStored(gid, t.signal) : null;
    if (stored != null && stored !== want.size) {
      const op = flavor === "entra" ? '"Add"' : '"add"';
      bump(`the member PATCHes (op ${op}) left ${stored} of ${want.size} members stored (the server's own count), answering 2xx`,
        `PATCH op ${op} dropped: ${stored}/${want.size} members stored`);
    } else if (got !== want.size) {
      bump(`GET /Groups/{id} after the member PATCHes lists ${got} of ${want.size} members` +
        (stored != null ? ` (all ${stored} stored: it does not return them)` : ""),
      `group GET lists ${got}/${want.size} members${stored != null ? " (stored)" : ""}`);
    }
    const name = groupName(flavor, k);
    const byName = await request(t.server.agent, t.server.origin, t.server.token, "GET",
      `${t.server.base}/Groups?filter=${enc(`displayName eq "${name.toUpperCase()}"`)}`, undefined, t.signal);
    if (byName.json?.totalResults !== 1) bump("displayName eq in another case does not find the group (case-sensitive)", "displayName eq case-sensitive");
  }
  for (const [reason, c] of count) {
    t.note(`check: ${reason}`, undefined, c.short);
    t.reasons.get(`check: ${reason}`).sampled = c.n;
  }
}

// ---------------------------------------------------------------------------
// Servers

function agentFor() {
  return new http.Agent({ keepAlive: true, maxSockets: CONNS, maxFreeSockets: CONNS });
}

/**
 * Starts one server, fresh and empty. Answers {origin, base, token, pids,
 * agent, stop()}.
 */
async function startServer(kind, h, ctx, flavor) {
  if (kind === "worker") {
    const persist = join(h.DATA, "cycles-worker");
    rmSync(persist, { recursive: true, force: true });
    mkdirSync(persist, { recursive: true });
    const s = await h.serve(h.workerOptions(persist));
    try {
      const db = await s.mf.getD1Database("DB");
      const migrations = readdirSync(join(h.ROOT, "migrations")).filter((f) => f.endsWith(".sql")).sort();
      for (const f of migrations) {
        const stmts = h.statements(readFileSync(join(h.ROOT, "migrations", f), "utf8"));
        await db.batch(stmts.map((x) => db.prepare(x)));
      }
      const now = new Date().toISOString();
      await db.prepare("INSERT INTO tenants (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)")
        .bind(h.TENANT, h.TENANT, now, now).run();
      const token = await h.putToken(s.mf);
      return {
        origin: s.direct, base: `/scim/v2/${h.TENANT}`, token, pids: [s.pid], agent: agentFor(),
        async stop() {
          this.agent.destroy();
          await s.mf.dispose();
          rmSync(persist, { recursive: true, force: true });
        },
      };
    } catch (e) {
      await s.mf.dispose();
      throw e;
    }
  }
  if (kind === "scim2-server") {
    const p = await h.startPeer();
    const unguard = guardChild(p.child);
    return {
      origin: p.origin, base: "/v2", token: p.token, pids: [p.child.pid], agent: agentFor(),
      async stop() {
        this.agent.destroy();
        await stopChild(p.child);
        unguard();
      },
    };
  }
  // Polis: a fresh database on the cluster for PostgreSQL.
  const port = await h.freePort();
  let db = null;
  let url = "";
  if (kind === "polis-pg") {
    db = `polis_${ctx.dbSeq++}`;
    ctx.pg.psql(`CREATE DATABASE ${db}`);
    url = ctx.pg.url(db);
  }
  const child = spawn(process.execPath, [join(h.ROOT, "bench/polis_serve.mjs"), ctx.polisDir, String(port),
    kind === "polis-pg" ? "postgres" : "mem", url, flavor === "entra" ? "azure-scim-v2" : "okta-scim-v2"],
  { stdio: ["pipe", "pipe", "pipe"], env: { ...env, BOXYHQ_NO_ANALYTICS: "1", DO_NOT_TRACK: "1", POLIS_SERVE_STDIN: "1" } });
  const unguard = guardChild(child);
  const stop = async () => {
    await stopChild(child);
    unguard();
    if (db) ctx.pg.psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  };
  try {
    const info = await firstJsonLine(child, "polis_serve.mjs");
    child.stderr.removeAllListeners("data");
    child.stderr.on("data", (d) => ctx.polisErr.push(String(d).slice(0, 500)));
    const u = new URL(info.baseUrl);
    return {
      origin: u.origin, base: u.pathname, token: info.secret,
      // polis_serve.mjs's own route: the members Polis stored for a group.
      async membersStored(gid, signal) {
        const r = await request(this.agent, this.origin, this.token, "GET", `/_bench/groups/${enc(gid)}/members`, undefined, signal);
        return r.status === 200 ? r.json.count : null;
      },
      pids: kind === "polis-pg" ? [child.pid, ctx.pg.pid] : [child.pid], agent: agentFor(),
      async stop() {
        this.agent.destroy();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Runs one cycle on a served server under the bound; answers its result. */
async function timed(name, server, n, state, fn, flavor, log) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), BOUND_S * 1000);
  const t = new Tally(server, ac.signal);
  const cpu0 = treeCpuSeconds(server.pids);
  const own0 = treeCpuSeconds([process.pid]) - cpu0;
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  let status = "ok";
  let error = null;
  try {
    await fn(t, n, state);
  } catch (e) {
    if (e instanceof Bound || ac.signal.aborted) status = "bound";
    else {
      status = "failed";
      error = String(e?.stack ?? e);
    }
  }
  const wallS = (performance.now() - t0) / 1000;
  clearTimeout(timer);
  const cpu1 = treeCpuSeconds(server.pids);
  const cpuS = cpu1 - cpu0;
  // The share of the machine that others (not this driver, not the server) used meanwhile.
  const ownS = treeCpuSeconds([process.pid]) - cpu1 - own0;
  const otherPct = Math.max(0, (100 * (machineBusySeconds() - busy0 - cpuS - ownS)) / (wallS * NCPU));
  const result = {
    status, wallS, requests: t.requests, rps: t.requests / wallS, errors: t.errors, cpuS, driverCpuS: ownS, otherPct,
    progress: state.progress?.(), error,
  };
  if (status === "ok" && flavor) {
    // The read-back, untimed, under its own bound.
    const vc = new AbortController();
    const vt = setTimeout(() => vc.abort(), VERIFY_S * 1000);
    const v = new Tally(server, vc.signal);
    try {
      await verify(v, n, state, flavor);
    } catch (e) {
      v.note(`check: ${vc.signal.aborted ? `read-back did not finish within ${VERIFY_S} s` : String(e?.message ?? e)}`);
    }
    clearTimeout(vt);
    for (const [r, x] of v.reasons) t.reasons.set(r, x);
  }
  result.reasons = [...t.reasons].map(([reason, x]) => ({
    reason, short: x.short, count: x.sampled ?? x.count, sampled: x.sampled != null, example: x.example,
  }));
  log(`${name}: ${status} in ${wallS.toFixed(1)} s, ${t.requests} requests (${result.rps.toFixed(0)}/s), ` +
    `${t.errors} errors, server CPU ${cpuS.toFixed(1)} s${status === "bound" ? ` (${result.progress})` : ""}` +
    (result.reasons.length ? `; ${result.reasons.map((r) => `${r.reason} x${r.count}`).join("; ")}` : "") +
    (error ? `; ${error}` : ""));
  return result;
}

// ---------------------------------------------------------------------------
// The part

/**
 * h: run.mjs's helpers {ROOT, DATA, TENANT, log, serve, workerOptions,
 * putToken, statements, freePort, startPeer, withPeer}.
 */
export async function runCycles(h) {
  const servers = (env.CYCLE_SERVERS ? env.CYCLE_SERVERS.split(",") : ALL_SERVERS)
    .filter((s) => ALL_SERVERS.includes(s) && (s === "worker" || h.withPeer));
  const cycles = (env.CYCLE_CYCLES ? env.CYCLE_CYCLES.split(",") : ALL_CYCLES).filter((c) => ALL_CYCLES.includes(c));
  const ctx = { polisDir: env.POLIS_DIR ?? join(h.ROOT, "bench/.data/polis"), dbSeq: 1, pg: null, polisErr: [] };
  const sizes = [N1, ...(BIG && BIG > N1 ? [BIG] : [])];
  const report = {
    config: { sizes, connections: CONNS, boundS: BOUND_S, groupSize: GROUP_SIZE, oktaChunk: OKTA_CHUNK, entraOps: ENTRA_OPS, page: PAGE, servers, cycles },
    sizes: {},
    notes: [],
  };
  if (servers.some((s) => s.startsWith("polis")) &&
      !existsSync(join(ctx.polisDir, "node_modules/@boxyhq/saml-jackson/package.json"))) {
    report.notes.push(`Ory Polis is not installed in ${ctx.polisDir} (scripts/bench installs it): skipped`);
    servers.splice(0, servers.length, ...servers.filter((s) => !s.startsWith("polis")));
  }
  if (existsSync(join(ctx.polisDir, "node_modules/@boxyhq/saml-jackson/package.json"))) {
    report.polisVersion = JSON.parse(readFileSync(join(ctx.polisDir, "node_modules/@boxyhq/saml-jackson/package.json"), "utf8")).version;
  }
  try {
    if (servers.includes("polis-pg")) {
      try {
        ctx.pg = await startPostgres(h.DATA, h.freePort, h.log);
        report.postgres = ctx.pg.version;
      } catch (e) {
        report.notes.push(`PostgreSQL did not start (${String(e.message).slice(0, 300)}): Ory Polis (PostgreSQL) skipped`);
        servers.splice(servers.indexOf("polis-pg"), 1);
      }
    }
    for (const n of sizes) {
      const res = (report.sizes[n] = {});
      for (const kind of servers) {
        // The second size only where the first finished within the bound.
        const prev = n === N1 ? null : report.sizes[N1][kind];
        const want = (c) => cycles.includes(c) && (!prev || prev[c]?.status === "ok");
        const r = (res[kind] = {});
        const skip = (c, why) => cycles.includes(c) && (r[c] = { status: "skipped", note: why });
        // Okta: push, then import on what it left, on one server (the push
        // runs for the import even when not asked for itself).
        const needImport = want("okta-import") && (!prev || prev["okta-push"]?.status === "ok");
        if (want("okta-push") || needImport) {
          const label = `${kind} N=${n}`;
          let server = null;
          try {
            h.log(`cycles: ${SERVER_NAMES[kind]}, N=${n}: Okta push${cycles.includes("okta-import") ? " and import" : ""}`);
            server = await startServer(kind, h, ctx, "okta");
            const state = {};
            r["okta-push"] = await timed(`${label} okta-push`, server, n, state, oktaPush, "okta", h.log);
            if (!want("okta-push")) r["okta-push"].note = "run for the import";
            if (!needImport) skip("okta-import", `N=${N1} did not finish within the bound`);
            else if (r["okta-push"].status !== "ok") skip("okta-import", `Okta push ${r["okta-push"].status === "bound" ? "> bound" : "failed"}`);
            else r["okta-import"] = await timed(`${label} okta-import`, server, n, state, oktaImport, null, h.log);
          } catch (e) {
            r["okta-push"] ??= { status: "failed", error: String(e?.message ?? e) };
            h.log(`cycles: ${kind} N=${n} okta: ${e?.stack ?? e}`);
          } finally {
            await server?.stop().catch((e) => h.log(`stopping ${kind}: ${e}`));
          }
        } else {
          skip("okta-push", `N=${N1} did not finish within the bound`);
          skip("okta-import", `N=${N1} did not finish within the bound`);
        }
        if (want("entra")) {
          let server = null;
          try {
            h.log(`cycles: ${SERVER_NAMES[kind]}, N=${n}: Entra initial cycle`);
            server = await startServer(kind, h, ctx, "entra");
            r.entra = await timed(`${kind} N=${n} entra`, server, n, {}, entra, "entra", h.log);
          } catch (e) {
            r.entra ??= { status: "failed", error: String(e?.message ?? e) };
            h.log(`cycles: ${kind} N=${n} entra: ${e?.stack ?? e}`);
          } finally {
            await server?.stop().catch((e) => h.log(`stopping ${kind}: ${e}`));
          }
        } else skip("entra", `N=${N1} did not finish within the bound`);
      }
    }
  } finally {
    await ctx.pg?.stop();
    guard.release();
  }
  if (ctx.polisErr.length) report.polisStderr = ctx.polisErr.slice(0, 20);
  return report;
}

const f1 = (x) => (x == null ? "n/a" : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

function table(rows, header) {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const line = (r) => r.map((x, c) => (c <= 1 || c === r.length - 1 ? String(x).padEnd(w[c]) : String(x).padStart(w[c]))).join(" | ").trimEnd();
  return [line(header), w.map((x) => "-".repeat(x)).join("-|-"), ...rows.map(line)].join("\n");
}

/** The report's lines: one table per size, then what each server got wrong. */
export function cyclesReport(report) {
  const c = report.config;
  const lines = [];
  lines.push(`\nProvisioning cycles (bench/cycles.mjs): each cycle timed as a whole on a fresh, empty server ` +
    `(Okta import on what Okta push left), ${c.connections} keep-alive connections (CYCLE_CONNECTIONS; import: 1, page after page), ` +
    `bound ${c.boundS} s per cycle; groups of ${c.groupSize} members, N/${c.groupSize} groups; ` +
    `Okta member PATCHes of ${c.oktaChunk}, Entra PATCHes of ${c.entraOps} one-member "Add" ops; pages of ${c.page}. ` +
    `ratio = peer wall time / scim-worker's (>1: scim-worker is faster; in parentheses where the peer did the cycle wrong, so not the same work). ` +
    `server CPU = the server's process tree (workerd; python; node, + the PostgreSQL cluster); "other" = the share of the machine's ` +
    `${NCPU} cores that other processes (not the server, not this driver) used meanwhile: when high, the times are long and noisy. ` +
    `Peers: scim2-server in memory; Ory Polis ${report.polisVersion ?? ""} (bench/polis_serve.mjs) in memory and on PostgreSQL ${report.postgres ?? ""}.`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  const details = [];
  for (const [n, res] of Object.entries(report.sizes)) {
    const rows = [];
    for (const cyc of c.cycles) {
      const ours = res.worker?.[cyc];
      for (const kind of c.servers) {
        const r = res[kind]?.[cyc];
        if (!r) continue;
        let wall;
        let ratio = "";
        if (r.status === "ok") wall = f1(r.wallS);
        else if (r.status === "bound") wall = `> ${c.boundS}`;
        else wall = r.status;
        if (kind !== "worker" && ours?.status === "ok") {
          if (r.status === "ok") ratio = `${(r.wallS / ours.wallS).toFixed(2)}x`;
          else if (r.status === "bound") ratio = `> ${(c.boundS / ours.wallS).toFixed(1)}x`;
          // The time of a cycle done wrong is not the same work.
          if (ratio && r.reasons?.length) ratio = `(${ratio})`;
        }
        let result = "ok";
        if (r.status === "bound") result = `> bound (${r.progress ?? "?"})`;
        else if (r.status === "failed") result = `failed: ${String(r.error ?? "").split("\n")[0].slice(0, 120)}`;
        else if (r.status === "skipped") result = `skipped: ${r.note}`;
        if (r.reasons?.length) {
          const why = r.reasons.map((x) => x.short ?? x.reason).join("; ");
          result = r.status === "ok" ? `wrong: ${why}` : `${result}; wrong: ${why}`;
          for (const x of r.reasons) {
            details.push(`- N=${n} ${CYCLE_NAMES[cyc]}, ${SERVER_NAMES[kind]}: ${x.reason} ` +
              (x.sampled ? `(${x.count} of the sample)` : `(x${x.count})`) +
              (x.example ? `, e.g. ${x.example.replace(/\s+/g, " ").slice(0, 200)}` : ""));
          }
        }
        const has = r.status === "ok" || r.status === "bound";
        rows.push([CYCLE_NAMES[cyc], SERVER_NAMES[kind], wall, has ? r.requests : "", has ? f1(r.rps) : "",
          has ? r.errors : "", has ? f1(r.cpuS) : "", has ? `${r.otherPct.toFixed(0)}%` : "", ratio, result]);
      }
    }
    lines.push(`\nN=${n} users, ${Math.floor(n / c.groupSize)} groups`);
    lines.push(table(rows, ["cycle", "server", "wall s", "requests", "req/s", "errors", "server CPU s", "other", "ratio", "result"]));
  }
  if (details.length) {
    lines.push(`\nWhat went wrong: failed steps of the timed cycle (how many, an example answer) and "check:" the read-back after it ` +
      `(untimed: ${SAMPLE_USERS} users, ${SAMPLE_GROUPS} groups and ${SAMPLE_USERS} deactivated users of each cycle, read back; how many of them failed)`);
    lines.push(...details);
  }
  return lines;
}
