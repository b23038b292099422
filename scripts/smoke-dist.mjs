#!/usr/bin/env node
// Loads a built entry of the packed package and has it build a message, which loads the
// engine chunk on first use (see src/engine-loader.ts), then dial a closed loopback port,
// which loads the socket adapter (for Node, a chunk of its own: adapters/node.ts): proves
// the split files are in the tarball and resolve from each other, and that the adapter's
// errors are the core's class (else the refusal would not be classified ECONNREFUSED).
// Usage: smoke-dist.mjs <entry file> [esm|cjs]. Run by check-package.mjs under Node, Bun
// and Deno.

const [entry, kind = "esm"] = process.argv.slice(2);
const mod = kind === "cjs"
  ? (await import("node:module")).createRequire(import.meta.url)(entry)
  : await import(new URL(entry, `file://${process.cwd()}/`).href);

const built = await mod.buildMessage({ from: "a@example.com", to: "b@example.com", subject: "smoke", text: "hello" });
const text = await built.text();
if (!text.includes("Subject: smoke") || !text.includes("hello")) throw new Error(`unexpected message:\n${text}`);
let refused = false;
try {
  mod.createTransport({ host: "127.0.0.1", port: 0 });
} catch (error) {
  refused = error instanceof mod.SmtpValidationError && error.field === "port";
}
if (!refused) throw new Error("createTransport did not refuse port 0 with an SmtpValidationError naming the field");

// A port that was just free: listen on port 0, note it, close.
const net = await import("node:net");
const port = await new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once("error", reject);
  server.listen(0, "127.0.0.1", () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const failure = await mod.createTransport({ host: "127.0.0.1", port, encryption: "none" }).verify().then(() => undefined, (error) => error);
if (!(failure instanceof mod.SmtpConnectionError) || failure.code !== "ECONNREFUSED") {
  throw new Error(`a refused connection gave ${failure?.name} ${failure?.code}: ${failure?.message}`);
}
console.log(`ok ${entry} (${kind}): ${built.size} octets; refused connection classified ${failure.code}`);
