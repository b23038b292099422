/** Deno entry: `deno run --allow-net=127.0.0.1 test/runtimes/entry-deno.ts '<config json>'`. @module */
import { denoConnector } from "../../adapters/deno.ts";
import { runEntry } from "./entry-shared.ts";

const deno = (globalThis as unknown as { Deno: { args: string[]; exit(code: number): never } }).Deno;
await runEntry("deno", denoConnector, deno.args[0]);
deno.exit(0);
