// Runs the conformance worker inside workerd through Miniflare and prints JSON lines like
// the other runtime entries. Started by run.mjs as its own process group, so a workerd
// that ignores SIGTERM (a request stuck in a TLS handshake) is still killed by PID.
// usage: node miniflare-host.mjs <worker bundle path> '<config json>'
import { dirname } from "node:path";
import { Miniflare } from "miniflare";

const [bundlePath, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson);
const REQUEST_SLACK_MS = 3000;

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bounded(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const mf = new Miniflare({
  modules: [{ type: "ESModule", path: bundlePath }],
  modulesRoot: dirname(bundlePath),
  compatibilityDate: "2025-09-01",
  cf: false,
  // connect() and fetch() go out through this service: allow loopback, trust the test CA.
  outboundService: {
    network: { allow: ["public", "private"], tlsOptions: { trustedCertificates: [config.caPem] } },
  },
});

try {
  await mf.ready;
  const post = (path) => mf.dispatchFetch(`http://localhost${path}`, { method: "POST", body: configJson });
  const planRes = await bounded(post("/plan"), 10_000, "plan request");
  const plan = await planRes.json();
  print(plan);
  for (const c of plan.cases) {
    const started = Date.now();
    try {
      const res = await bounded(post(`/run?name=${encodeURIComponent(c.name)}`), c.timeoutMs + REQUEST_SLACK_MS, "worker request");
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      print(await res.json());
    } catch (err) {
      print({ type: "result", runtime: "cloudflare", name: c.name, ok: false, ms: Date.now() - started, error: `host: ${err.message}` });
    }
  }
  print({ type: "done", runtime: "cloudflare" });
} finally {
  // dispose() waits for workerd; a hung request can keep it alive, so bound it.
  await Promise.race([mf.dispose().catch(() => {}), sleep(3000)]);
  process.exit(0);
}
