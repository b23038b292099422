#!/usr/bin/env node
// Runs the interop suite against the Postfix rig of postfix-up.sh and ends with one line:
// `interop: N passed, N failed`. The rig's facts come from NINA_INTEROP_ENV, else
// /tmp/nina-interop/interop.env. Exits non-zero on any failure.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const envFile = resolve(process.env.NINA_INTEROP_ENV || "/tmp/nina-interop/interop.env");
const report = join(root, ".tmp", "interop.json");

function finish(passed, failed) {
  console.log(`interop: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/** KEY='value' lines as postfix-up.sh writes them (shell single quotes, ' as '\''). */
function readEnv(file) {
  const values = {};
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    values[m[1]] = m[2].trim().replace(/'([^']*)'|\\(.)/g, (_, quoted, escaped) => quoted ?? escaped);
  }
  return values;
}

function portOpen(host, port) {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const end = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(3000, () => end(false));
    socket.once("connect", () => end(true));
    socket.once("error", () => end(false));
  });
}

if (!existsSync(envFile)) {
  console.error(`[interop] ${envFile} not found: start the rig with "bash test/interop/postfix-up.sh"`);
  finish(0, 1);
}
const env = readEnv(envFile);
const missing = ["INTEROP_HOST", "INTEROP_SUBMISSION_PORT", "INTEROP_SMTPS_PORT", "INTEROP_PLAIN_PORT", "INTEROP_USER",
  "INTEROP_PASSWORD", "INTEROP_CA_FILE", "INTEROP_MAILDIR", "INTEROP_SIZE_LIMIT"].filter((k) => !env[k]);
if (missing.length > 0) {
  console.error(`[interop] ${envFile} lacks ${missing.join(", ")}: rerun "bash test/interop/postfix-up.sh"`);
  finish(0, 1);
}
const ports = [env.INTEROP_SUBMISSION_PORT, env.INTEROP_SMTPS_PORT, env.INTEROP_PLAIN_PORT].map(Number);
const closed = [];
for (const port of ports) if (!(await portOpen(env.INTEROP_HOST, port))) closed.push(port);
if (closed.length > 0) {
  console.error(`[interop] nothing listens on ${env.INTEROP_HOST}:${closed.join(", ")}: is the rig up? ("bash test/interop/postfix-up.sh")`);
  finish(0, 1);
}

mkdirSync(dirname(report), { recursive: true });
rmSync(report, { force: true });
const started = Date.now();
const code = await new Promise((done) => {
  const child = spawn(process.execPath, [
    join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", "test/interop/vitest.config.ts",
    "--reporter=default", "--reporter=json", "--outputFile.json=.tmp/interop.json",
  ], { cwd: root, stdio: "inherit", env: { ...process.env, NINA_INTEROP_ENV: envFile } });
  child.on("error", (error) => {
    console.error(`[interop] could not start vitest: ${error.message}`);
    done(1);
  });
  child.on("close", (status, signal) => done(status ?? (signal ? 1 : 0)));
});

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + (json.numRuntimeErrorTests ?? 0);
  // A file that failed to load (or whose hooks failed) has no failed test of its own.
  for (const file of json.testResults ?? []) {
    const failedTests = (file.assertionResults ?? []).filter((a) => a.status === "failed").length;
    if (file.status === "failed" && failedTests === 0) {
      failed += 1;
      console.error(`[interop] ${file.name}: ${file.message || "failed outside any test"}`);
    }
  }
} else {
  console.error(`[interop] vitest wrote no report (${report})`);
}
if (code !== 0 && failed === 0) failed = 1;
console.error(`[interop] ${((Date.now() - started) / 1000).toFixed(1)} s`);
finish(passed, failed);
