// The interop suite's own config: only test/interop, run against the real Postfix rig that
// test/interop/postfix-up.sh starts. The main vitest.config.ts does not include these files.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/interop/**/*.test.ts"],
    // Whole sessions with multi-megabyte messages against a real server.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
