// `npm run bench`: @nina/smtp, nodemailer and @upyo/smtp side by side against the local
// sink, directly and through the 10 ms delay proxy. Runs are interleaved (A B C A B C …),
// every run is checked against what the sink received, and medians are reported with the
// ratio to ours. Results also go to .tmp/bench-latest.json.
//
//   node bench/run.mjs [--runs N] [--only S1,S3-one,S4,import] [--quick]

import { execFileSync, fork, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuild } from "./build.mjs";
import { makeCertificates } from "./certs.mjs";
import { emptyModule, importTargets, measureImport } from "./import-time.mjs";
import { importReport, memoryReport, scenarioReport, targets, targetsReport } from "./report.mjs";
import { expectations, scenarios, verify } from "./scenarios.mjs";
import { summary } from "./stats.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1];
};
const RUNS = Math.max(1, Number(option("--runs", 5)));
const IMPORT_RUNS = Math.max(RUNS, 7);
const QUICK = argv.includes("--quick");
const ONLY = option("--only", "")?.split(",").filter(Boolean);
const wanted = (id) => !ONLY || ONLY.length === 0 || ONLY.some((o) => id === o || id.startsWith(`${o}-`));
const LIBS = ["ours", "nodemailer", "upyo"];
const LABELS = { ours: "ours (@nina/smtp)", nodemailer: "nodemailer 10.6.1", upyo: "@upyo/smtp 0.4.0" };
const RUN_LIMIT_MS = 120_000;
const ATTACHMENT_BYTES = 10 * 1024 * 1024;

const log = (text = "") => process.stdout.write(`${text}\n`);
const progress = (text) => process.stderr.write(text);
const failures = [];

// ---- IPC ----------------------------------------------------------------------------

/** Request/response over a child's IPC channel, with a deadline. */
function channel(child) {
  let next = 0;
  const pending = new Map();
  child.on("message", (msg) => {
    if (msg && msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, timer } = pending.get(msg.id);
      clearTimeout(timer);
      pending.delete(msg.id);
      resolve(msg);
    }
  });
  child.on("exit", (code) => {
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(new Error(`process exited (${code})`));
    }
    pending.clear();
  });
  return (payload, limitMs = RUN_LIMIT_MS) =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`no answer within ${limitMs} ms`));
      }, limitMs);
      pending.set(id, { resolve, reject, timer });
      child.send({ id, ...payload });
    });
}

function firstMessage(child) {
  return new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
}

// ---- setup ---------------------------------------------------------------------------

progress("Preparing: build, certificates, sink … ");
const build = ensureBuild(root);
const certs = makeCertificates(join(root, ".tmp", "bench-certs"));
const serverProcess = fork(join(here, "server.mjs"), [JSON.stringify({ key: certs.key, cert: certs.cert, delayMs: 10 })], {
  stdio: ["ignore", "inherit", "inherit", "ipc"],
  // glibc may hand freed memory back to the system and fault it in again for the next
  // run's socket reads: for S4's 14 MB that cost the sink up to 80 ms of system time (and
  // the library being measured the wait), depending on what ran before. Kept, it is reused.
  env: { ...process.env, MALLOC_TRIM_THRESHOLD_: String(1 << 30), MALLOC_MMAP_THRESHOLD_: String(1 << 30) },
});
const { ports, proxyPorts } = await firstMessage(serverProcess);
const server = channel(serverProcess);
const serverCall = async (cmd, arg) => (await server({ cmd, arg }, 30_000)).result;

const libFlags = (lib) => (lib === "ours" && build.kind === "tsx" ? ["--import", "tsx"] : []);

async function startWorker(lib) {
  const child = fork(join(here, "worker.mjs"), [JSON.stringify({ lib, ourEntry: build.entry })], {
    execArgv: ["--expose-gc", ...libFlags(lib)],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await firstMessage(child);
  if (!ready.ready) throw new Error(`${lib} failed to load: ${ready.error}`);
  return { lib, child, call: channel(child), features: ready.features, variants: ready.variants };
}

const workers = {};
for (const lib of LIBS) workers[lib] = await startWorker(lib);
progress("ready.\n");

const environment = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
  loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  commit: (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  })(),
  ours: { build: build.label, note: build.note, detectedOptions: workers.ours.features },
  runs: RUNS,
  quick: QUICK,
};

// ---- worker scenarios ----------------------------------------------------------------

async function runOnce(scenario, contender) {
  const worker = workers[contender.lib];
  const port = scenario.via === "proxy" ? proxyPorts[scenario.sink] : ports[scenario.sink];
  await serverCall("reset");
  const args = { port, spec: scenario.spec, ...contender.args };
  if (scenario.tls) args.tls = { ca: certs.ca };
  let answer;
  try {
    answer = await worker.call({ fn: scenario.fn, args });
  } catch (error) {
    // A hung or dead worker: replace it so later scenarios still run.
    worker.child.kill("SIGKILL");
    workers[contender.lib] = await startWorker(contender.lib);
    answer = { ok: false, error: String(error.message) };
  }
  const stillOpen = await serverCall("settle", 5000);
  const stats = await serverCall("stats");
  const sink = stats.sinks[scenario.sink];
  const proxy = scenario.via === "proxy" ? stats.proxies[scenario.sink] : undefined;
  const problems = answer.ok ? verify(expectations(scenario, contender), sink) : [answer.error.split("\n").slice(0, 4).join(" / ")];
  return { ok: problems.length === 0, problems, ms: answer.ms, sink, proxy, stillOpen };
}

async function runScenario(scenario) {
  const contenders = scenario.contenders(workers);
  const count = scenario.spec.count;
  const state = contenders.map((c) => ({ ...c, values: [], turns: [], raw: [], notes: new Set(), failure: undefined, onlyOnce: false, connections: 0 }));
  const record = (c, res) => {
    if (!res.ok) {
      c.failure = res.problems.join("; ");
      failures.push(`${scenario.id} / ${c.label}: ${c.failure}`);
      return;
    }
    c.values.push(res.ms / count);
    const { turns, clientChunks, serverChunks, connections } = res.proxy ?? {};
    c.raw.push({ ms: res.ms, connections: res.sink.connections, viaBdat: res.sink.viaBdat, ...(res.proxy ? { turns, clientChunks, serverChunks, proxyConnections: connections } : {}) });
    if (res.proxy) {
      c.turns.push(res.proxy.turns / count);
      c.connections = res.proxy.connections;
    }
    if (res.stillOpen > 0) c.notes.add(`${res.stillOpen} connection(s) still open 5 s after the call returned`);
    if (scenario.chunking && res.sink.viaBdat === 0) {
      c.onlyOnce = true;
      c.notes.add("did not use BDAT although CHUNKING was offered: same exchange as without CHUNKING, so measured once");
    } else if (scenario.chunking && res.sink.viaBdat > 0) {
      c.notes.add(`sent ${res.sink.viaBdat} of ${res.sink.messages} message(s) with BDAT`);
    }
  };
  if (scenario.warmup) {
    for (const c of state) {
      progress(".");
      const res = await runOnce(scenario, c);
      if (!res.ok) record(c, res);
    }
  }
  for (let run = 0; run < RUNS; run++) {
    for (const c of state) {
      if (c.failure || (c.onlyOnce && c.values.length > 0)) continue;
      progress(".");
      record(c, await runOnce(scenario, c));
    }
  }
  const rows = state.map((c) => ({
    lib: c.lib,
    variant: c.variant,
    label: c.label,
    ok: !c.failure && c.values.length > 0,
    failure: c.failure,
    runs: c.values.length,
    value: summary(c.values),
    roundTrips: summary(c.turns),
    connections: c.connections,
    notes: [...c.notes],
    raw: c.raw,
  }));
  const what = scenario.fn === "fresh" ? `${count} connection(s), one message each` : `${count} messages`;
  const rcpts = scenario.spec.recipients > 1 ? `, ${scenario.spec.recipients} recipients` : "";
  return { id: scenario.id, title: scenario.title, per: scenario.per, roundTrips: Boolean(scenario.roundTrips), countLabel: `${what}${rcpts}`, rows };
}

// ---- S4: memory, one fresh process per run ---------------------------------------------

function runChild(lib) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      "--expose-gc", ...libFlags(lib), join(here, "memory-child.mjs"),
      JSON.stringify({ lib, ourEntry: build.entry, port: ports.plain, bytes: ATTACHMENT_BYTES }),
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_LIMIT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        resolve({ ok: code === 0, result: JSON.parse(out), error: err });
      } catch {
        resolve({ ok: false, error: `exit ${code}: ${err.trim().split("\n").slice(-4).join(" / ")}` });
      }
    });
  });
}

async function runMemory() {
  const state = LIBS.map((lib) => ({ lib, label: LABELS[lib], ms: [], rss: [], js: [], ab: [], cpu: [], sinkCpu: [], sinkFaults: [], failure: undefined }));
  const measure = async (c, record) => {
    progress(".");
    await serverCall("reset");
    const before = await serverCall("stats");
    const res = await runChild(c.lib);
    await serverCall("settle", 5000);
    const stats = await serverCall("stats");
    const sink = stats.sinks.plain;
    const problems = [];
    if (!res.ok) problems.push(res.error);
    else {
      // One small warm-up message, then the big one.
      if (sink.messages !== 2) problems.push(`sink saw ${sink.messages} messages, expected 2`);
      const biggest = Math.max(0, ...sink.sizes);
      if (biggest < res.result.base64Chars) problems.push(`largest message ${biggest} octets, smaller than the ${res.result.base64Chars} base64 characters`);
      if (sink.errors.length > 0) problems.push(`sink refused commands: ${sink.errors.join("; ")}`);
    }
    if (problems.length > 0) {
      c.failure = problems.join("; ");
      failures.push(`S4 / ${c.label}: ${c.failure}`);
      return;
    }
    if (!record) return;
    c.ms.push(res.result.ms);
    c.rss.push(res.result.rssGrowthMB);
    c.js.push(res.result.jsGrowthMB);
    c.ab.push(res.result.arrayBuffersGrowthMB);
    c.cpu.push(res.result.cpuUserMs + res.result.cpuSystemMs);
    // The sink's whole run (the child's start-up and warm-up message included).
    c.sinkCpu.push(stats.cpuMs - before.cpuMs);
    c.sinkFaults.push(stats.faults - before.faults);
  };
  // One unrecorded run per contender first, as for the direct scenarios: the sink's first
  // large message costs it fresh memory pages, which must not be charged to one library.
  for (const c of state) await measure(c, false);
  for (let run = 0; run < RUNS; run++) {
    for (const c of state) if (!c.failure) await measure(c, true);
  }
  return {
    title: "one message with a 10 MiB attachment given as base64 (fresh process per run; growth = peak - baseline after GC)",
    rows: state.map((c) => ({
      lib: c.lib, label: c.label, ok: !c.failure && c.ms.length > 0, failure: c.failure, runs: c.ms.length,
      ms: summary(c.ms), rss: summary(c.rss), js: summary(c.js), ab: summary(c.ab),
      cpuMs: summary(c.cpu), sinkCpuMs: summary(c.sinkCpu), sinkPageFaults: summary(c.sinkFaults),
    })),
  };
}

// ---- import time -------------------------------------------------------------------------

function runImports() {
  const warmUp = emptyModule(join(root, ".tmp"));
  const list = [
    { id: "baseline", label: "baseline: node:net + node:tls only", specifiers: ["node:net", "node:tls"], flags: [] },
    { id: "empty", label: "baseline: an empty file", specifiers: [emptyModule(join(root, ".tmp", "bench-empty"))], flags: [] },
    ...importTargets(build, root),
  ];
  const state = list.map((t) => ({ ...t, values: [], failure: undefined }));
  for (let run = 0; run < IMPORT_RUNS; run++) {
    for (const t of state) {
      if (t.failure) continue;
      progress(".");
      try {
        t.values.push(measureImport(t, root, warmUp));
      } catch (error) {
        t.failure = String(error.message).split("\n")[0];
        failures.push(`import / ${t.label}: ${t.failure}`);
      }
    }
  }
  return { rows: state.map((t) => ({ id: t.id, label: t.label, ok: !t.failure, failure: t.failure, runs: t.values.length, ms: summary(t.values) })) };
}

// ---- main --------------------------------------------------------------------------------

const started = Date.now();
const results = { environment, scenarios: [] };
log(`@nina/smtp benchmark: ${environment.node}, ${environment.cpus}, load average ${environment.loadavgAtStart.join(" ")}, commit ${environment.commit}`);
log(`ours: ${build.label}${build.note ? ` (${build.note})` : ""}`);
log(`ours, options detected: ${Object.entries(workers.ours.features).map(([k, v]) => `${k} ${v ? "yes" : "no"}`).join(", ")}`);
log(`Medians of ${RUNS} interleaved runs; "vs ours" = library median / ours median (above 1: slower or more round trips).`);
log("");

for (const scenario of scenarios({ quick: QUICK })) {
  if (!wanted(scenario.id)) continue;
  progress(`${scenario.id} `);
  const result = await runScenario(scenario);
  progress("\n");
  results.scenarios.push(result);
  log(scenarioReport(result));
  log("");
}
if (wanted("S4")) {
  progress("S4 ");
  results.memory = await runMemory();
  progress("\n");
  log(memoryReport(results.memory));
  log("");
}
if (wanted("import")) {
  progress("import ");
  results.imports = runImports();
  progress("\n");
  log(importReport(results.imports));
  log("");
}

results.targets = targets(results);
log(targetsReport(results.targets));
environment.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
environment.seconds = Math.round((Date.now() - started) / 1000);
log("");
log(`Took ${environment.seconds} s; load average at the end ${environment.loadavgAtEnd.join(" ")}.`);

mkdirSync(join(root, ".tmp"), { recursive: true });
writeFileSync(join(root, ".tmp", "bench-latest.json"), `${JSON.stringify({ ...results, failures }, null, 2)}\n`);
log("Results written to .tmp/bench-latest.json");

for (const w of Object.values(workers)) w.child.kill();
await serverCall("stop").catch(() => {});
if (failures.length > 0) {
  log("");
  log(`FAILED runs (${failures.length}); those results are not counted:`);
  for (const f of failures) log(`  ${f}`);
  process.exitCode = 1;
}
