// S4 in a fresh process (run with --expose-gc): one message with a large attachment given
// as a base64 string, timed, with peak memory growth measured.
//
// Order: load the library, create the base64 string, send one message with a small
// attachment to warm the code paths, start the samplers, collect garbage, take the
// baseline, send, stop.
// - RSS is sampled every millisecond from a worker thread, so a long synchronous step on
//   the main thread (a library building the whole message in one go) cannot hide a peak.
// - heapUsed + external is sampled every 2 ms on the main thread and once right after
//   the send. (Node counts arrayBuffers inside external already; it is shown on its own.)
// Growth = peak - baseline.

import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { attachmentMessage } from "./messages.mjs";

const { lib, ourEntry, port, bytes } = JSON.parse(process.argv[2]);
const adapter = await import(`./libs/${lib}.mjs`);
await adapter.load({ ourEntry });

const big = attachmentMessage(bytes);
// Warm-up: the same code paths with a 3 KiB attachment, so compiling them is not measured.
await adapter.fresh({ port, messages: [attachmentMessage(3 * 1024)] });

const sampler = new Worker(new URL("./rss-sampler.mjs", import.meta.url));
await new Promise((resolve) => sampler.once("message", resolve)); // running

const js = () => {
  const m = process.memoryUsage();
  return { heapAndExternal: m.heapUsed + m.external, arrayBuffers: m.arrayBuffers };
};
globalThis.gc();
await new Promise((resolve) => setImmediate(resolve));
globalThis.gc();
const baseline = { rss: process.memoryUsage.rss(), ...js() };
sampler.postMessage("start");
await new Promise((resolve) => sampler.once("message", resolve)); // tracking from here

let peakJs = baseline.heapAndExternal;
let peakAb = baseline.arrayBuffers;
const sample = () => {
  const now = js();
  if (now.heapAndExternal > peakJs) peakJs = now.heapAndExternal;
  if (now.arrayBuffers > peakAb) peakAb = now.arrayBuffers;
};
const timer = setInterval(sample, 2);

const cpuBefore = process.cpuUsage();
const start = performance.now();
await adapter.fresh({ port, messages: [big] });
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
sample();
clearInterval(timer);

sampler.postMessage("stop");
const peakRss = await new Promise((resolve) => sampler.once("message", resolve));
await sampler.terminate();

const MB = 1024 * 1024;
process.stdout.write(JSON.stringify({
  ms,
  // This process's CPU time over the send, all threads (sampler included), in ms.
  cpuUserMs: cpu.user / 1000,
  cpuSystemMs: cpu.system / 1000,
  base64Chars: big.attachments[0].base64.length,
  rssGrowthMB: (Math.max(peakRss, baseline.rss) - baseline.rss) / MB,
  jsGrowthMB: (peakJs - baseline.heapAndExternal) / MB,
  arrayBuffersGrowthMB: (peakAb - baseline.arrayBuffers) / MB,
  baselineRssMB: baseline.rss / MB,
}));
