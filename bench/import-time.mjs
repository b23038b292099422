// Cold import time: a fresh `node` process per measurement that times `await import()`
// of the library's entry. Not included: process start-up, and the start-up of Node's ESM
// loader, which the first import() of any file pays (about 10 ms on Node 20, the same for
// every library): each process first imports an empty file, then times the library
// (bench/import-probe.mjs).

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The import targets, each with the node flags it needs. */
export function importTargets(build, root) {
  const targets = [];
  if (build.kind !== "tsx") {
    targets.push({ id: "ours-built", label: `ours: ${build.label} (bundled ESM)`, specifiers: [pathToFileURL(build.entry).href], flags: [] });
  }
  targets.push({
    id: "ours-tsx",
    label: "ours: entries/node.ts via tsx (includes transpiling)",
    specifiers: [pathToFileURL(`${root}/entries/node.ts`).href],
    flags: ["--import", "tsx"],
  });
  targets.push({ id: "nodemailer", label: "nodemailer", specifiers: ["nodemailer"], flags: [] });
  targets.push({ id: "upyo", label: "upyo: @upyo/smtp + @upyo/core", specifiers: ["@upyo/smtp", "@upyo/core"], flags: [] });
  return targets;
}

/** An empty module in `dir` (created once), for warming the ESM loader. */
export function emptyModule(dir) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "bench-empty.mjs");
  writeFileSync(file, "export {};\n");
  return pathToFileURL(file).href;
}

/** One cold import in a new process, after the loader's warm-up; milliseconds. */
export function measureImport(target, cwd, warmUp) {
  const probe = fileURLToPath(new URL("./import-probe.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [...target.flags, probe, warmUp, ...target.specifiers], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = Number(out.trim());
  if (!Number.isFinite(ms)) throw new Error(`import of ${target.label} printed ${JSON.stringify(out)}`);
  return ms;
}
