// The server side of the benchmark, in its own process so that it has its own core:
// three sinks (plain, plain with CHUNKING, STARTTLS) and a 10 ms delay proxy in front of
// each plain sink. The runner talks to it over IPC: "stats", "reset", "settle".

import { createDelayProxy } from "./proxy.mjs";
import { createSink } from "./sink.mjs";

const { key, cert, delayMs } = JSON.parse(process.argv[2]);

const sinks = {
  plain: createSink(),
  chunking: createSink({ chunking: true }),
  tls: createSink({ tls: { key, cert } }),
};
const ports = {};
for (const [name, sink] of Object.entries(sinks)) ports[name] = await sink.listen();
const proxies = {
  plain: createDelayProxy({ targetPort: ports.plain, delayMs }),
  chunking: createDelayProxy({ targetPort: ports.chunking, delayMs }),
};
const proxyPorts = {};
for (const [name, proxy] of Object.entries(proxies)) proxyPorts[name] = await proxy.listen();

function snapshot() {
  // CPU time (ms) and page faults of this process so far, to tell a slow client from a busy sink.
  const { user, system } = process.cpuUsage();
  const out = { sinks: {}, proxies: {}, cpuMs: (user + system) / 1000, faults: process.resourceUsage().minorPageFault };
  for (const [name, sink] of Object.entries(sinks)) out.sinks[name] = sink.stats();
  for (const [name, proxy] of Object.entries(proxies)) out.proxies[name] = proxy.stats();
  return out;
}

function openCount() {
  let n = 0;
  for (const sink of Object.values(sinks)) n += sink.stats().open;
  for (const proxy of Object.values(proxies)) n += proxy.stats().open;
  return n;
}

/** Resolves when no connection is open any more (or after `limitMs`), with the count left. */
function settle(limitMs) {
  const start = Date.now();
  return new Promise((resolve) => {
    const check = () => {
      const open = openCount();
      if (open === 0 || Date.now() - start >= limitMs) resolve(open);
      else setTimeout(check, 2);
    };
    check();
  });
}

process.on("message", async ({ id, cmd, arg }) => {
  let result;
  if (cmd === "reset") {
    for (const x of [...Object.values(sinks), ...Object.values(proxies)]) x.reset();
    result = true;
  } else if (cmd === "stats") {
    result = snapshot();
  } else if (cmd === "settle") {
    result = await settle(arg ?? 3000);
  } else if (cmd === "stop") {
    for (const x of [...Object.values(sinks), ...Object.values(proxies)]) await x.close();
    process.send({ id, result: true });
    process.exit(0);
  }
  process.send({ id, result });
});

process.send({ ready: true, ports, proxyPorts });
