// What the webhook tests share: a real HTTP receiver on 127.0.0.1 and a
// bounded poll.
import http from "node:http";
import assert from "node:assert/strict";

/**
 * Starts a receiver on a free port of 127.0.0.1. Every request is appended
 * to `received` ({url, headers, body, at}); `answer(req)` (may be async)
 * gives the status, 200 when it gives none. Returns {server, port, received}.
 */
export async function startReceiver(answer = () => 200) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      res.statusCode = (await answer(req)) ?? 200;
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: server.address().port, received };
}

/**
 * Polls `check` every 100 ms until it returns something truthy (returned),
 * for at most `ms`; then fails with `what` and the last lines of `logs`.
 */
export async function until(what, check, ms = 15000, logs = []) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}:\n${logs.slice(-15).join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
