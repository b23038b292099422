// Cold import time: a fresh `node` process per measurement that times `await import()`
// of the library's entry (process start-up not included).

import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";

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

/** One cold import in a new process; milliseconds. */
export function measureImport(target, cwd) {
  const code = [
    "const t = performance.now();",
    ...target.specifiers.map((s) => `await import(${JSON.stringify(s)});`),
    "process.stdout.write(String(performance.now() - t));",
  ].join("\n");
  const out = execFileSync(process.execPath, [...target.flags, "--input-type=module", "-e", code], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = Number(out.trim());
  if (!Number.isFinite(ms)) throw new Error(`import of ${target.label} printed ${JSON.stringify(out)}`);
  return ms;
}
