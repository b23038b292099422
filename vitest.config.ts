import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/e2e/**/*.test.ts", "test/integration/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
