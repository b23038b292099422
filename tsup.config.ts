import { defineConfig } from "tsup";

// Node gets ESM and CJS; the other runtimes load ESM only. The core is bundled into each
// entry, so every entry stands alone; cloudflare:sockets and node:* stay imports.
const shared = {
  outDir: "dist",
  target: "es2022",
  sourcemap: false,
  splitting: false,
  treeshake: true,
  external: ["cloudflare:sockets", /^node:/],
} as const;

export default defineConfig([
  { ...shared, entry: { node: "entries/node.ts", cli: "cli/main.ts" }, format: ["esm", "cjs"], dts: true, clean: true, platform: "node" },
  { ...shared, entry: { bun: "entries/bun.ts", deno: "entries/deno.ts", cloudflare: "entries/cloudflare.ts" }, format: ["esm"], dts: true, platform: "neutral" },
]);
