// Worker thread for memory-child.mjs: samples the process's resident set size every
// millisecond. "start" resets the peak (answered with "started"); "stop" answers the peak.

import { parentPort } from "node:worker_threads";

let peak = 0;
let tracking = false;
setInterval(() => {
  if (!tracking) return;
  const rss = process.memoryUsage.rss();
  if (rss > peak) peak = rss;
}, 1);

parentPort.on("message", (cmd) => {
  if (cmd === "start") {
    peak = process.memoryUsage.rss();
    tracking = true;
    parentPort.postMessage("started");
  } else if (cmd === "stop") {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    tracking = false;
    parentPort.postMessage(peak);
  }
});
parentPort.postMessage("running");
