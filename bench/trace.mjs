// Prints what crosses the delay proxy for one library, chunk by chunk, with the round
// trips marked, to see where they go. Not part of `npm run bench`.
//
//   node bench/trace.mjs <ours|nodemailer|upyo> [one|fresh] [count] [--chunking] [--rcpts N] [--variant ID]
//   (for ours add --import tsx when the build is not used: see build.mjs)

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuild } from "./build.mjs";
import { smallMessages } from "./messages.mjs";
import { createDelayProxy } from "./proxy.mjs";
import { createSink } from "./sink.mjs";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args.splice(i, 2)[1];
};
const chunking = args.includes("--chunking");
const rcpts = Number(flag("--rcpts") ?? 1);
const variant = flag("--variant");
const [lib = "ours", mode = "one", count = "3"] = args.filter((a) => !a.startsWith("--"));

const root = join(fileURLToPath(import.meta.url), "..", "..");
const adapter = await import(`./libs/${lib}.mjs`);
await adapter.load({ ourEntry: ensureBuild(root).entry });

const sink = createSink({ chunking });
const proxy = createDelayProxy({
  targetPort: await sink.listen(),
  onChunk(connection, from, chunk, turn) {
    const text = chunk.toString("latin1");
    const lines = text.split("\r\n").filter((l) => l !== "");
    const shown = [];
    let body = 0;
    for (const line of lines) {
      if (/^[A-Z]{4}( |$)|^[2-5]\d\d[ -]|^\.$/.test(line) || line.length < 6) {
        if (body) shown.push(`[${body} body octets]`);
        body = 0;
        shown.push(line.length > 60 ? `${line.slice(0, 57)}...` : line);
      } else {
        body += line.length + 2;
      }
    }
    if (body) shown.push(`[${body} body octets]`);
    const mark = turn ? `turn ${String(proxy.stats().turns).padStart(3)}` : "        ";
    const arrow = from === "client" ? "C>" : "<S";
    console.log(`#${connection} ${mark} ${arrow} ${shown.join(" | ")}`);
  },
});
const port = await proxy.listen();
const messages = smallMessages({ count: Number(count), recipients: rcpts });
const variants = adapter.oneConnectionVariants().map((v) => v.id);
if (mode === "one") await adapter.oneConnection({ port, messages, variant: variant ?? variants[0] });
else await adapter.fresh({ port, messages });
await new Promise((resolve) => setTimeout(resolve, 200));
const s = proxy.stats();
console.log(`${lib} ${mode}: ${s.turns} turns, ${s.connections} connection(s), ${sink.stats().messages} message(s), ${(s.turns / messages.length).toFixed(2)} turns per message`);
await proxy.close();
await sink.close();
