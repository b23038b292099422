/** Node entry (bundled with esbuild by run.mjs): `node entry-node.mjs '<config json>'`. @module */
import { nodeConnector } from "../../adapters/node.ts";
import { runEntry } from "./entry-shared.ts";

await runEntry("node", nodeConnector, process.argv[2]);
process.exit(0);
