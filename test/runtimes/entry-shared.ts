/**
 * What every runtime entry does: parse the config JSON, run the suite with the runtime's
 * connector, print JSON lines. Web APIs only (console.log is the output channel).
 *
 * @module
 */

import type { Connector } from "../../src/socket.ts";
import { runAll } from "../conformance/runner.ts";
import { cases, type ConformanceConfig, makeContext } from "../conformance/suite.ts";

/** Runs the whole suite and prints the plan, each result and a done line. */
export async function runEntry(runtime: string, connector: Connector, configJson: string | undefined): Promise<void> {
  if (!configJson) throw new Error("usage: <entry> '<config json>'");
  const config = JSON.parse(configJson) as ConformanceConfig;
  const ctx = makeContext(runtime, connector, config);
  await runAll(cases, ctx, (line) => console.log(JSON.stringify(line)));
  console.log(JSON.stringify({ type: "done", runtime }));
}
