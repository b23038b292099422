#!/usr/bin/env node
// The runtime matrix: runs test/conformance/suite.ts unchanged inside Node, Bun, Deno and
// workerd (through Miniflare), each against its own set of servers started here.
//
//   node test/runtimes/run.mjs [--runtimes node,bun,deno,workerd] [--only <substring>[,...]] [--verbose]
//
// Prints per runtime "<runtime>: N passed, N failed" and the failing cases, then one final
// line "N passed, N failed"; exits 1 on any failure. Every child runs in its own process
// group and is killed by that id (SIGKILL after a bound), workerd included.
// Type-check the suite and entries: npx tsc -p test/conformance/tsconfig.json
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { makeCerts } from "./certs.mjs";
import { startServerSet } from "./servers.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const BIN = join(ROOT, "node_modules/.bin");
const ALL = ["node", "bun", "deno", "workerd"];
const STARTUP_BOUND_MS = 30_000;
const CASE_SLACK_MS = 5_000;
const EXIT_BOUND_MS = 5_000;

function parseArgs(argv) {
  const out = { runtimes: ALL, only: [], verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--runtimes") out.runtimes = argv[++i].split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--only") out.only.push(...argv[++i].split(",").map((s) => s.trim()).filter(Boolean));
    else if (a === "--verbose") out.verbose = true;
    else throw new Error(`unknown argument ${a}`);
  }
  for (const r of out.runtimes) if (!ALL.includes(r)) throw new Error(`unknown runtime ${r}`);
  return out;
}

async function bundle(outDir) {
  const common = { bundle: true, format: "esm", target: "es2022", logLevel: "error", absWorkingDir: ROOT };
  await build({
    ...common,
    entryPoints: [join(HERE, "entry-node.ts")],
    outfile: join(outDir, "entry-node.mjs"),
    platform: "node",
  });
  await build({
    ...common,
    entryPoints: [join(HERE, "entry-worker.ts")],
    outfile: join(outDir, "worker.mjs"),
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
  });
}

const groups = new Set();
function killGroup(pid) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
  groups.delete(pid);
}
process.on("exit", () => {
  for (const pid of groups) killGroup(pid);
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const pid of groups) killGroup(pid);
    process.exit(130);
  });
}

function command(runtime, outDir, configJson) {
  switch (runtime) {
    case "node":
      return [process.execPath, [join(outDir, "entry-node.mjs"), configJson]];
    case "bun":
      return [join(BIN, "bun"), ["run", join(HERE, "entry-bun.ts"), configJson]];
    case "deno":
      return [
        join(BIN, "deno"),
        ["run", "--quiet", "--no-prompt", "--no-config", "--allow-net=127.0.0.1", join(HERE, "entry-deno.ts"), configJson],
      ];
    case "workerd":
      return [process.execPath, [join(HERE, "miniflare-host.mjs"), join(outDir, "worker.mjs"), configJson]];
  }
  throw new Error(runtime);
}

/** Runs one runtime's child; resolves with its results, never rejects. */
function runRuntime(runtime, outDir, config, verbose) {
  const configJson = JSON.stringify(config);
  const [cmd, args] = command(runtime, outDir, configJson);
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    });
    groups.add(child.pid);
    const results = [];
    let planned;
    let done = false;
    let stderr = "";
    let stdoutBuf = "";
    let watchdog;
    let killedReason;

    const arm = (ms, why) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        killedReason = why;
        killGroup(child.pid);
      }, ms);
    };
    arm(STARTUP_BOUND_MS, `no plan within ${STARTUP_BOUND_MS} ms`);

    const next = () => {
      if (!planned) return;
      if (done) return arm(EXIT_BOUND_MS, "did not exit after finishing");
      const current = planned.cases[results.length];
      if (!current) return arm(EXIT_BOUND_MS, "no done line after the last case");
      arm(current.timeoutMs + CASE_SLACK_MS, `case "${current.name}" gave no result within ${current.timeoutMs + CASE_SLACK_MS} ms`);
    };

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      stdoutBuf += chunk;
      let idx;
      while ((idx = stdoutBuf.indexOf("\n")) >= 0) {
        const line = stdoutBuf.slice(0, idx).trim();
        stdoutBuf = stdoutBuf.slice(idx + 1);
        if (!line) continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          if (verbose) process.stderr.write(`[${runtime}] ${line}\n`);
          continue;
        }
        if (msg.type === "plan") planned = msg;
        else if (msg.type === "result") {
          results.push(msg);
          if (verbose) {
            process.stderr.write(`[${runtime}] ${msg.ok ? "ok  " : "FAIL"} ${msg.name} (${msg.ms} ms)${msg.ok ? "" : `: ${msg.error}`}\n`);
            for (const n of msg.notes ?? []) process.stderr.write(`[${runtime}]        note: ${n}\n`);
          }
        } else if (msg.type === "done") done = true;
        next();
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-8000);
      if (verbose) process.stderr.write(chunk.replace(/^/gm, `[${runtime} stderr] `));
    });
    child.on("error", (err) => {
      stderr += `\nspawn failed: ${err.message}`;
    });
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      killGroup(child.pid); // grandchildren (workerd) too
      const seen = new Set(results.map((r) => r.name));
      const why =
        killedReason ??
        (done ? undefined : `exited (${signal ?? code}) before finishing${stderr ? `; stderr: ${stderr.trim().slice(-1500)}` : ""}`);
      if (!planned) {
        results.push({ name: "(runtime start)", ok: false, error: why ?? "no plan line" });
      } else {
        for (const c of planned.cases) {
          if (!seen.has(c.name)) results.push({ name: c.name, ok: false, error: `no result: ${why}` });
        }
      }
      resolveRun({ runtime, results, ms: Date.now() - started });
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const certs = makeCerts();
  const outDir = mkdtempSync(join(tmpdir(), "nina-smtp-rt-build-"));
  const sets = [];
  let failed = 0;
  let passed = 0;
  try {
    await bundle(outDir);
    const runs = opts.runtimes.map(async (runtime) => {
      const set = await startServerSet(certs);
      sets.push(set);
      const config = {
        hostname: "127.0.0.1",
        // Workers verify against the dialled host; elsewhere check a DNS name (and SNI).
        servername: runtime === "workerd" ? "127.0.0.1" : "localhost",
        caPem: certs.caPem,
        controlUrl: set.controlUrl,
        ports: set.ports,
        user: set.user,
        ...(opts.only.length ? { only: opts.only } : {}),
      };
      return runRuntime(runtime, outDir, config, opts.verbose);
    });
    const outcomes = await Promise.all(runs);
    for (const { runtime, results, ms } of outcomes) {
      const bad = results.filter((r) => !r.ok);
      const good = results.length - bad.length;
      passed += good;
      failed += bad.length;
      console.log(`${runtime}: ${good} passed, ${bad.length} failed (${(ms / 1000).toFixed(1)} s)`);
      for (const r of bad) console.log(`  FAIL ${r.name}: ${r.error}`);
    }
  } finally {
    await Promise.all(sets.map((s) => s.close()));
    certs.cleanup();
    rmSync(outDir, { recursive: true, force: true });
  }
  console.log(`matrix finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
