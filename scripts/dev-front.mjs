// Used by scripts/dev: listens on the port scripts/dev announces and passes
// every connection through to `wrangler dev` on an inner port, byte for byte,
// except for the request line: bytes of the request target that workerd's
// HTTP server refuses are percent-encoded first.
//
// Why: workerd (from its 2026 releases) serves HTTP/1 with hyper, whose URI
// parser (the `http` crate) answers `400 text/plain "invalid URI"` to a raw
// `"`, `<`, `>`, DEL or a byte >= 0x80 in the request target, before any
// worker code runs; no workerd, Miniflare or wrangler option changes that.
// Microsoft's SCIM validator sends `filter=userName eq "x"` with raw quotes.
// A WHATWG URL parser (which gives a Worker its `request.url`) percent-encodes
// exactly these bytes anyway, so the worker sees the same URL it would see
// for the encoded request. See "Raw quotes in query strings" in the README.
//
// One request per connection: the request gets `Connection: close`, so the
// next request on a keep-alive client arrives on a new connection and has its
// own request line rewritten. Everything else (headers, bodies, responses,
// streaming, a client that half-closes after its request) is piped unchanged.
//
// Usage: node scripts/dev-front.mjs <listen-port> <inner-port> [host]
import net from "node:net";

const [listenPort, innerPort, host = "127.0.0.1"] = process.argv.slice(2);
if (!listenPort || !innerPort) {
  console.error("usage: node scripts/dev-front.mjs <listen-port> <inner-port> [host]");
  process.exit(2);
}

const HEAD_LIMIT = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");

/** Percent-encodes the bytes workerd's URI parser refuses. */
function encodeTarget(target) {
  const out = [];
  for (const b of target) {
    if (b === 0x22 || b === 0x3c || b === 0x3e || b >= 0x7f) {
      out.push(...Buffer.from("%" + b.toString(16).toUpperCase().padStart(2, "0")));
    } else {
      out.push(b);
    }
  }
  return Buffer.from(out);
}

/** The request head with its target encoded and `Connection: close` set. */
function rewriteHead(head) {
  const text = head.toString("latin1");
  const lineEnd = text.indexOf("\r\n");
  const [method, target, version] = text.slice(0, lineEnd).split(" ");
  if (!method || !target || !version) return head; // let workerd answer it
  const fields = text
    .slice(lineEnd + 2)
    .split("\r\n")
    .filter((f) => f !== "" && !/^connection\s*:/i.test(f) && !/^keep-alive\s*:/i.test(f));
  fields.push("Connection: close");
  return Buffer.concat([
    Buffer.from(`${method} `, "latin1"),
    encodeTarget(Buffer.from(target, "latin1")),
    Buffer.from(` ${version}\r\n${fields.join("\r\n")}\r\n\r\n`, "latin1"),
  ]);
}

const server = net.createServer({ allowHalfOpen: true }, (client) => {
  let buffered = Buffer.alloc(0);
  let upstream = null;
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf(HEAD_END);
    if (end < 0 && buffered.length < HEAD_LIMIT) return;
    client.off("data", onData);
    client.pause();
    const first =
      end < 0
        ? buffered
        : Buffer.concat([rewriteHead(buffered.subarray(0, end + 4)), buffered.subarray(end + 4)]);
    upstream = net.connect(Number(innerPort), host, () => {
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on("error", () => client.destroy());
  };
  client.on("data", onData);
  client.on("error", () => upstream?.destroy());
  client.on("close", () => upstream?.destroy());
});
server.on("error", (e) => {
  console.error(`dev-front: ${e.message}`);
  process.exit(1);
});
server.listen(Number(listenPort), host);
