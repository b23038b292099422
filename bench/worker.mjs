// One library's process. The runner sends jobs over IPC; the worker builds the neutral
// messages, then times the library call alone. One long-lived worker per library keeps
// each library's heap and JIT state apart from the others'.

import { performance } from "node:perf_hooks";
import { smallMessages } from "./messages.mjs";

const { lib, ourEntry } = JSON.parse(process.argv[2]);
const adapter = await import(`./libs/${lib}.mjs`);

let ready;
try {
  const features = await adapter.load({ ourEntry });
  ready = { ready: true, features, variants: adapter.oneConnectionVariants() };
} catch (error) {
  ready = { ready: false, error: String(error?.stack ?? error) };
}
process.send(ready);

process.on("message", async ({ id, fn, args }) => {
  try {
    const messages = smallMessages(args.spec);
    globalThis.gc?.(); // run with --expose-gc: start every run from a collected heap
    const start = performance.now();
    await adapter[fn]({ ...args, messages });
    const ms = performance.now() - start;
    process.send({ id, ok: true, ms });
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) });
  }
});
