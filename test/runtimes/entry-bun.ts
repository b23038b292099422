/** Bun entry: `bun run test/runtimes/entry-bun.ts '<config json>'`. @module */
import { bunConnector } from "../../adapters/bun.ts";
import { runEntry } from "./entry-shared.ts";

const argv = (globalThis as unknown as { process: { argv: string[]; exit(code: number): never } }).process;
await runEntry("bun", bunConnector, argv.argv[2]);
// Abandoned sockets from failed cases must not keep the process alive.
argv.exit(0);
