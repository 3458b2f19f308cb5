// Serves the built worker over real HTTP for external test tools (see
// scripts/conformance): startWorker() from worker.mjs migrates D1 and
// provisions a tenant with a token; this prints one JSON line
// {"baseUrl", "token", "adminUrl", "adminToken"} (a platform-scope admin JWT
// valid for a day) on stdout and serves until killed.
// Listens on 127.0.0.1:$PORT, or a free port when PORT is unset.
import { startWorker, ADMIN_JWT_SECRET } from "./worker.mjs";
import { mintJwt } from "../scripts/admin-jwt.mjs";

const worker = await startWorker({ port: Number(process.env.PORT ?? 0) });
const { baseUrl, token } = await worker.tenant("conformance");

const stop = async () => {
  await worker.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

const adminUrl = `${worker.origin}/admin/v1`;
const adminToken = mintJwt(ADMIN_JWT_SECRET, undefined, 24);
console.log(JSON.stringify({ baseUrl, token, adminUrl, adminToken }));
