// CPU profile of the worker isolate under load, through workerd's V8
// inspector (Miniflare's inspectorPort): where one kind of request spends its
// time (Rust in wasm, the wasm-bindgen/worker-rs glue, D1's JS client,
// subrequests, GC). Needs a database loaded by scripts/bench (bench/.data/d1-N).
//
//   PATH=node_modules/.bin:$PATH node bench/profile.mjs 10000 \
//     '/scim/v2/bench/Users?filter=userName%20eq%20%22user000010@example.com%22'
//
// Writes bench/.data/worker.cpuprofile (open it in Chrome DevTools).
// REQUESTS=<file> drives it with bench/wrk.lua over a request file of
// METHOD\tPATH[\tBODY] lines instead (writes: see bench/.data/requests/);
// BUILD_DIR profiles another built worker (an A/B); SCRIPT=bench/floor-d1.mjs
// profiles the storage floor (a plain JS worker making the same storage
// calls; FLOOR_CACHED=1 for those scim-worker makes in steady state), the
// reference for what the runtime itself costs per request.
import { Miniflare } from "miniflare";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const n = process.argv[2] ?? "10000";
const path = process.argv[3] ?? "/scim/v2/bench/Users?filter=userName%20eq%20%22user000010@example.com%22";
const seconds = Number(process.env.DURATION ?? 4);
const persist = join(ROOT, "bench/.data/profile-run");
rmSync(persist, { recursive: true, force: true });
cpSync(join(ROOT, `bench/.data/d1-${n}`), persist, { recursive: true });
const inspectorPort = 9339;
const mf = new Miniflare({
  scriptPath: process.env.SCRIPT
    ? resolve(process.env.SCRIPT)
    : join(process.env.BUILD_DIR ? resolve(process.env.BUILD_DIR) : join(ROOT, "build"), "index.js"),
  modules: true,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: "2026-07-30",
  d1Databases: { DB: "scim-bench" },
  kvNamespaces: { TOKENS: "scim-bench-tokens" },
  d1Persist: join(persist, "d1"),
  kvPersist: join(persist, "kv"),
  bindings: { SCIM_VENDOR: "scimworker", FLOOR_CACHED: process.env.FLOOR_CACHED ?? "0" },
  host: "127.0.0.1",
  port: 0,
  logRequests: false,
  inspectorPort,
  unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
});
try {
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL()).origin;
  const token = randomBytes(32).toString("base64url");
  const hash = createHash("sha256").update(token).digest("hex");
  await (await mf.getKVNamespace("TOKENS")).put(`scim-token:${hash}`, JSON.stringify({
    tenant: "bench", id: "profile", label: "profile", hash, created: new Date().toISOString(),
  }));
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.title.includes("core:user:"));
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener("open", r));
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data);
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  const call = (method, params = {}) =>
    new Promise((r) => {
      const i = ++id;
      pending.set(i, r);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  const wrk = (d) =>
    new Promise((r) => {
      const args = process.env.REQUESTS
        ? ["-t1", "-c2", `-d${d}s`, "-s", join(ROOT, "bench/wrk.lua"), url, "--", token, resolve(process.env.REQUESTS), `p${randomBytes(3).toString("hex")}-`]
        : ["-t1", "-c2", `-d${d}s`, "-H", `Authorization: Bearer ${token}`, url + path];
      const c = spawn("wrk", args);
      let o = "";
      c.stdout.on("data", (x) => (o += x));
      c.on("exit", () => r(o));
    });
  await wrk(2); // warm-up: let V8 tier the wasm up
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  const out = await wrk(seconds);
  const { result } = await call("Profiler.stop");
  ws.close();
  const requests = Number(out.match(/(\d+) requests in/)?.[1] ?? 0);
  console.log(out.match(/Requests\/sec:.*/)?.[0], `(${requests} requests, profiler on)`);
  const failed = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1];
  if (failed) console.log(`${failed} answers were not 2xx/3xx: check the request`);
  const prof = result.profile;
  writeFileSync(join(ROOT, "bench/.data/worker.cpuprofile"), JSON.stringify(prof));
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const kind = (x) => {
    const { url: u, functionName: f } = x.callFrame;
    if (f === "(idle)") return "idle";
    if (f === "(program)") return "native, unattributed";
    if (f === "(garbage collector)") return "GC";
    if (u.includes(".wasm")) return "Rust (wasm)";
    if (u.endsWith("index.js")) return "wasm-bindgen / worker-rs glue (index.js)";
    if (u.includes("d1-api")) return "D1 client (workerd JS)";
    if (u === "" && ["fetch", "get"].includes(f)) return "subrequests (D1/KV fetch, KV get)";
    return "other builtins";
  };
  const dt = (prof.endTime - prof.startTime) / 1000 / prof.samples.length;
  const cats = new Map();
  const inclusive = new Map();
  let busy = 0;
  for (const s of prof.samples) {
    const k = kind(byId.get(s));
    cats.set(k, (cats.get(k) ?? 0) + 1);
    if (k !== "idle") busy++;
    const seen = new Set();
    for (let i = s; i; i = parent.get(i)) {
      const x = byId.get(i);
      if (!x.callFrame.url.includes(".wasm")) continue;
      const name = x.callFrame.functionName.replace(/::h[0-9a-f]{16}/, "").slice(0, 140);
      if (!seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
      }
    }
  }
  console.log(`worker isolate busy: ${((busy * dt) / Math.max(requests, 1)).toFixed(2)} ms per request`);
  for (const [k, v] of [...cats].filter(([k]) => k !== "idle").sort((a, b) => b[1] - a[1])) {
    console.log(`${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
  }
  console.log("\nRust functions, inclusive share of busy samples:");
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
  }
} finally {
  await mf.dispose();
  rmSync(persist, { recursive: true, force: true });
}
