// Which build of @nina/smtp to measure. dist/node.js when it is newer than every source
// file; otherwise a bundle made by tsup with the project's settings for the Node entry
// (ESM, es2022, tree-shaken), written to .tmp/bench-dist so that dist/, which other work
// may be using, is never cleaned or half-written by the benchmark. If the build fails
// (sources mid-edit), the benchmark falls back to entries/node.ts through tsx, as it does
// when BENCH_OURS=src is set.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

function fresh(file, sourcesTime) {
  return existsSync(file) && statSync(file).mtimeMs > sourcesTime;
}

/** @returns {{entry: string, kind: "dist"|"bench-build"|"tsx", label: string, note?: string}} */
export function ensureBuild(root) {
  if (process.env.BENCH_OURS === "src") {
    return { entry: join(root, "entries", "node.ts"), kind: "tsx", label: "entries/node.ts via tsx", note: "BENCH_OURS=src" };
  }
  const sourcesTime = Math.max(...["src", "adapters", "entries"].map((d) => newestMtime(join(root, d))));
  const dist = join(root, "dist", "node.js");
  if (fresh(dist, sourcesTime)) return { entry: dist, kind: "dist", label: "dist/node.js" };
  const outDir = join(root, ".tmp", "bench-dist");
  const out = join(outDir, "node.js");
  const why = existsSync(dist) ? "dist/node.js is older than the sources" : "dist/node.js is missing";
  if (fresh(out, sourcesTime)) {
    return { entry: out, kind: "bench-build", label: ".tmp/bench-dist/node.js", note: `${why}; reused the benchmark's own build` };
  }
  try {
    execFileSync("npx", [
      "tsup", "--no-config", "--entry.node", "entries/node.ts", "--format", "esm", "--target", "es2022",
      "--platform", "node", "--treeshake", "--out-dir", outDir, "--silent",
    ], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    return { entry: out, kind: "bench-build", label: ".tmp/bench-dist/node.js", note: `${why}; built with tsup into .tmp/bench-dist` };
  } catch (error) {
    const detail = String(error.stderr ?? error.message).trim().split("\n").slice(-5).join("\n");
    return {
      entry: join(root, "entries", "node.ts"),
      kind: "tsx",
      label: "entries/node.ts via tsx",
      note: `${why} and the tsup build failed, so the sources are loaded through tsx:\n${detail}`,
    };
  }
}
