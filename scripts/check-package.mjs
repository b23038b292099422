#!/usr/bin/env node
// Packaging checks: the build, the type checks (the core with no runtime types at all),
// publint and arethetypeswrong on the packed tarball, the JSR dry run (which also rejects
// slow types), the packed entries loading their lazily imported engine under Node (ESM and
// CJS), Bun and Deno, and npm/JSR export parity. Prints `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const out = join(root, ".tmp", "pack");
let passed = 0;
let failed = 0;

function check(name, command, args, okWhen = (r) => r.status === 0) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } });
  const ok = okWhen(result);
  const took = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${ok ? "ok  " : "FAIL"} ${name} (${took}s)`);
  if (!ok) {
    console.log(`${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-40).join("\n"));
    failed++;
  } else {
    passed++;
  }
  return result;
}

function inline(name, fn) {
  try {
    fn();
    console.log(`ok   ${name}`);
    passed++;
  } catch (error) {
    console.log(`FAIL ${name}\n${error instanceof Error ? error.message : error}`);
    failed++;
  }
}

check("typecheck: everything", bin("tsc"), ["-p", "tsconfig.json"]);
check("typecheck: core with Web APIs only (no Node, Bun, Deno or Workers types)", bin("tsc"), ["-p", "tsconfig.core.json"]);
// The tests too: vitest strips types without checking them, so a stale import or a
// misspelt option in a test would otherwise only show up as a failing (or silent) run.
check("typecheck: tests (unit, e2e, integration, interop)", bin("tsc"), ["-p", "test/tsconfig.json"]);
check("typecheck: the runtime conformance suite and its entries", bin("tsc"), ["-p", "test/conformance/tsconfig.json"]);
check("build (tsup: ESM, CJS, .d.ts)", bin("tsup"), []);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
check("npm pack", "npm", ["pack", "--pack-destination", out, "--silent"]);
const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
if (tarball) {
  const path = join(out, tarball);
  check("publint on the tarball", bin("publint"), ["run", path, "--strict"]);
  check("arethetypeswrong: . ./node ./integration (ESM and CJS)", bin("attw"), [
    path, "--format", "ascii", "--profile", "node16", "--entrypoints", ".", "./node", "./integration",
  ]);
  // The Bun, Deno and Workers entries are ESM only: those runtimes load ESM.
  check("arethetypeswrong: ./bun ./deno ./cloudflare (ESM only)", bin("attw"), [
    path, "--format", "ascii", "--profile", "esm-only", "--entrypoints", "./bun", "./deno", "./cloudflare",
  ]);
  // The entries as packed, loading their engine chunk on first use, in each runtime.
  const unpacked = join(out, "unpacked");
  mkdirSync(unpacked, { recursive: true });
  check("npm pack: unpack the tarball", "tar", ["-xzf", path, "-C", unpacked]);
  const dist = join(unpacked, "package", "dist");
  const smoke = join(root, "scripts", "smoke-dist.mjs");
  check("packed dist/node.js (ESM) loads its engine and socket adapter under Node", process.execPath, [smoke, join(dist, "node.js")]);
  check("packed dist/node.cjs (CJS) loads its engine and socket adapter under Node", process.execPath, [smoke, join(dist, "node.cjs"), "cjs"]);
  check("packed dist/bun.js loads its engine and socket adapter under Bun", bin("bun"), [smoke, join(dist, "bun.js")]);
  check("packed dist/deno.js loads its engine and socket adapter under Deno", bin("deno"), [
    "run", "--no-config", "--allow-read", "--allow-env", "--allow-net=127.0.0.1", smoke, join(dist, "deno.js"),
  ]);
} else {
  console.log("FAIL no tarball to check");
  failed += 8;
}

check("jsr: deno publish --dry-run (no slow types)", bin("deno"), ["publish", "--dry-run", "--allow-dirty"]);

inline("package.json and jsr.json export the same entry points", () => {
  const npm = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).exports).filter((k) => k !== "./package.json");
  const jsr = Object.keys(JSON.parse(readFileSync(join(root, "jsr.json"), "utf8")).exports);
  const missing = npm.filter((k) => !jsr.includes(k)).concat(jsr.filter((k) => !npm.includes(k)));
  if (missing.length > 0) throw new Error(`only in one of them: ${missing.join(", ")}`);
});

inline("package.json and jsr.json have the same version", () => {
  const a = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  const b = JSON.parse(readFileSync(join(root, "jsr.json"), "utf8")).version;
  if (a !== b) throw new Error(`package.json ${a} vs jsr.json ${b}`);
});

inline("zero runtime dependencies", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
  if (deps.length > 0) throw new Error(`runtime dependencies: ${deps.join(", ")}`);
});

console.log(`packaging: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
