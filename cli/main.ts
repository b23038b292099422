#!/usr/bin/env node
/**
 * The `nina-smtp` executable (`dist/cli.js` once built; `npx tsx cli/main.ts` from source).
 *
 * @module
 */

import { runCli } from "./run.ts";

runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`Internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
