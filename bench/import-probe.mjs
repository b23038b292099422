// Run by import-time.mjs in a fresh process: imports the warm-up file given first (so the
// ESM loader has started), then times importing the rest; prints milliseconds.
// A file rather than `node -e`: with -e the second import() still pays several ms of
// loader start-up, which would be counted against the library.

const [warmUp, ...specifiers] = process.argv.slice(2);
await import(warmUp);
const start = process.hrtime.bigint();
for (const specifier of specifiers) await import(specifier);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
// Only now: the first use of process.stdout creates the stream, which costs milliseconds.
process.stdout.write(String(ms));
