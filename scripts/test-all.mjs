#!/usr/bin/env node
// `npm test`: runs every runner (vitest, the runtime conformance suite, the packaging
// checks and, when a real mail server is up, the interop suite), prints each one's counts
// and ends with one plain line `N passed, N failed` that sums them all.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tmp = join(root, ".tmp");
mkdirSync(tmp, { recursive: true });

/** Runs a command with inherited output; resolves with its exit code and captured stdout. */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

/** The last `N passed, N failed` line a runner printed. */
function countsFrom(out) {
  const lines = out.split(/\r?\n/).map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim());
  for (const line of lines.reverse()) {
    const m = /^(?:\w+:\s*)?(\d+) passed, (\d+) failed/.exec(line);
    if (m) return { passed: Number(m[1]), failed: Number(m[2]) };
  }
  return undefined;
}

const results = [];

async function vitest() {
  const report = join(tmp, "vitest.json");
  rmSync(report, { force: true });
  const { code } = await run(process.execPath, [
    join(root, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`,
  ]);
  let passed = 0;
  let failed = 0;
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, "utf8"));
    passed = json.numPassedTests;
    failed = json.numFailedTests + (json.numRuntimeErrorTests ?? 0);
    // A suite that failed to load has no tests but is still a failure.
    failed += json.testResults.filter((r) => r.status === "failed" && r.assertionResults.length === 0).length;
  }
  if (code !== 0 && failed === 0) failed = 1;
  results.push({ name: "vitest", passed, failed });
}

async function script(name, file, env) {
  if (!existsSync(join(root, file))) return;
  const { code, out } = await run(process.execPath, [join(root, file)], env);
  const counts = countsFrom(out) ?? { passed: 0, failed: 0 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  results.push({ name, ...counts });
}

await vitest();
await script("runtimes", "test/runtimes/run.mjs");
await script("packaging", "scripts/check-package.mjs");
if (process.env.NINA_INTEROP_ENV || existsSync("/tmp/nina-interop/interop.env")) {
  await script("interop", "test/interop/run.mjs");
}

console.log("");
for (const r of results) console.log(`${r.name}: ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
