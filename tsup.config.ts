import { defineConfig } from "tsup";

// Node gets ESM and CJS; the other runtimes load ESM only; cloudflare:sockets and node:*
// stay imports. ESM builds are split: each entry holds what importing it needs (options,
// errors, the adapter), and the engine (composer, session, DKIM) is a chunk loaded by
// dynamic import on the first send, so importing stays cheap. One build per entry: a
// build of several entries would put the code they share into one more file to load.
// CJS cannot be split; there the engine is bundled into the file and run on first use.
const shared = {
  outDir: "dist",
  target: "es2022",
  sourcemap: false,
  treeshake: true,
  external: ["cloudflare:sockets", /^node:/],
} as const;

export default defineConfig([
  { ...shared, entry: { node: "entries/node.ts" }, format: ["esm"], splitting: true, dts: true, clean: true, platform: "node" },
  { ...shared, entry: { node: "entries/node.ts", cli: "cli/main.ts" }, format: ["cjs"], splitting: false, dts: true, platform: "node" },
  { ...shared, entry: { cli: "cli/main.ts" }, format: ["esm"], splitting: true, dts: true, platform: "node" },
  ...(["bun", "deno", "cloudflare"] as const).map((runtime) => ({
    ...shared,
    entry: { [runtime]: `entries/${runtime}.ts` },
    format: ["esm" as const],
    splitting: true,
    dts: true,
    platform: "neutral" as const,
  })),
]);
