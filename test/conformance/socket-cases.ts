/**
 * Socket-level conformance cases: each adapter driven through the {@link Connector}
 * contract directly, with raw SMTP lines, against the Node side's scripted servers.
 *
 * Where a runtime cannot tell TLS failures apart (Workers report them opaquely), the
 * case accepts the runtime's documented kinds, and says so.
 *
 * @module
 */

import type { ConnectParams, SocketErrorKind, TlsMode } from "../../src/socket.ts";
import { describeError, equal, ok, oneOf, rejects } from "./assert.ts";
import { type Case, type Ctx, sleep } from "./context.ts";
import { randomBytes, sha256Hex, Wire } from "./wire.ts";

const FIVE_MB = 5 * 1024 * 1024;

function kindOf(err: unknown): string | undefined {
  const e = err as { name?: unknown; kind?: unknown } | null;
  return e && e.name === "SocketError" && typeof e.kind === "string" ? e.kind : undefined;
}

/** Asserts a SocketError of one of `kinds`. */
function expectKind(err: unknown, kinds: readonly SocketErrorKind[], what: string): void {
  const kind = kindOf(err);
  ok(kind !== undefined, `${what}: expected a SocketError, got ${describeError(err)}`);
  oneOf(kind as SocketErrorKind, kinds, `${what} (${describeError(err)})`);
}

function isIp(name: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(":");
}

function params(ctx: Ctx, port: number, tls: TlsMode, extra: Partial<ConnectParams> = {}): ConnectParams {
  const t = ctx.tls();
  return {
    hostname: ctx.config.hostname,
    port,
    tls,
    servername: t.servername,
    ...(t.ca ? { ca: t.ca } : {}),
    ...extra,
  };
}

async function open(ctx: Ctx, port: number, tls: TlsMode, extra: Partial<ConnectParams> = {}): Promise<Wire> {
  return new Wire(await ctx.connector.connect(params(ctx, port, tls, extra)));
}

/** Runs `fn` and always tears the socket down afterwards. */
async function using(wire: Wire, fn: (w: Wire) => Promise<void>): Promise<void> {
  try {
    await fn(wire);
  } finally {
    wire.sock.abort(new Error("case finished"));
  }
}

async function greetAndEhlo(w: Wire): Promise<string> {
  const greeting = await w.reply();
  equal(greeting.code, 220, "greeting code");
  const ehlo = await w.cmd("EHLO conformance.test");
  equal(ehlo.code, 250, "EHLO code");
  return ehlo.text;
}

/** STARTTLS negotiation up to the upgrade; returns the upgraded wire. */
async function startTls(ctx: Ctx, w: Wire, servername?: string): Promise<Wire> {
  await greetAndEhlo(w);
  const go = await w.cmd("STARTTLS");
  equal(go.code, 220, "STARTTLS reply");
  equal(w.leftover, 0, "bytes left after the 220");
  const t = ctx.tls();
  const upgraded = await w.sock.startTls({
    servername: servername ?? t.servername,
    ...(t.ca ? { ca: t.ca } : {}),
  });
  return new Wire(upgraded);
}

/**
 * A TLS failure must surface either as a rejected connect/upgrade, or (Workers, whose
 * `opened` may resolve before the handshake) as a session that yields no reply.
 */
async function expectTlsFailure(
  ctx: Ctx,
  attempt: () => Promise<Wire>,
  precise: SocketErrorKind,
  what: string,
): Promise<void> {
  const opaque = ctx.runtime === "cloudflare";
  const allowed: SocketErrorKind[] = opaque ? ["TLS", "UNKNOWN", precise] : [precise];
  let wire: Wire;
  try {
    wire = await attempt();
  } catch (err) {
    ctx.note(`${what}: rejected with ${describeError(err)}`);
    expectKind(err, allowed, what);
    return;
  }
  try {
    ok(opaque, `${what}: the TLS session was established`);
    // Workers: the first use must fail (EOF or an error), never produce a reply.
    let outcome: unknown;
    try {
      const r = await wire.cmd("EHLO conformance.test");
      outcome = r;
    } catch (err) {
      outcome = err;
    }
    ok(outcome instanceof Error, `${what}: got a reply over an untrusted session`);
    ctx.note(`${what}: the connection opened, then its first use failed with ${describeError(outcome)}`);
    if ((outcome as Error).message !== "EOF") expectKind(outcome, allowed, what);
  } finally {
    wire.sock.abort();
  }
}

async function waitReleased(ctx: Ctx, server: string, ms = 3000): Promise<void> {
  let last: unknown;
  const released = await ctx.control.waitFor(async () => {
    const conns = await ctx.control.conns();
    last = conns[server];
    return conns[server]?.open === 0;
  }, ms);
  ok(released, `${server}: the server still sees an open connection ${JSON.stringify(last)}`);
}

function sinkCase(tls: boolean): Case {
  return {
    name: `socket: 5 MB written byte-exact over ${tls ? "TLS" : "plain TCP"} (sink sha256)`,
    timeoutMs: 30_000,
    async run(ctx) {
      const payload = randomBytes(FIVE_MB);
      const expected = await sha256Hex(payload);
      const first = await open(ctx, ctx.config.ports.rawStarttls, tls ? "starttls" : "off");
      await using(first, async (plain) => {
        const w = tls ? await startTls(ctx, plain) : plain;
        if (!tls) await greetAndEhlo(w);
        const go = await w.cmd(`SINK ${payload.byteLength}`);
        equal(go.code, 354, "SINK go-ahead");
        // One write of the whole payload: the adapter must handle partial writes itself.
        await w.write(payload);
        const done = await w.reply();
        equal(done.code, 250, "SINK result code");
        equal(done.text, `sha256=${expected} size=${payload.byteLength}`, "server-side digest");
        equal((await w.cmd("QUIT")).code, 221, "QUIT");
        w.sock.abort();
      });
    },
  };
}

/**
 * The write contract the core relies on to reuse its output buffers: once write()
 * resolves, overwriting the array must not change what reaches the peer. Sizes cover
 * small writes (which an adapter may gather) and large ones (which may be taken in part).
 */
function reuseCase(tls: boolean): Case {
  return {
    name: `socket: an array can be reused once write() resolves over ${tls ? "TLS" : "plain TCP"} (sink sha256)`,
    timeoutMs: 30_000,
    async run(ctx) {
      const sizes = [7, 300, 5000, 20_000, 65_520, 1024 * 1024, 12, 40_000, 3, 2 * 1024 * 1024, 1];
      const total = sizes.reduce((a, b) => a + b, 0);
      const expected = randomBytes(total);
      const buffer = new Uint8Array(Math.max(...sizes));
      const first = await open(ctx, ctx.config.ports.rawStarttls, tls ? "starttls" : "off");
      await using(first, async (plain) => {
        const w = tls ? await startTls(ctx, plain) : plain;
        if (!tls) await greetAndEhlo(w);
        equal((await w.cmd(`SINK ${total}`)).code, 354, "SINK go-ahead");
        let at = 0;
        for (const size of sizes) {
          buffer.set(expected.subarray(at, at + size));
          await w.write(buffer.subarray(0, size));
          // Anything the adapter still held would now be sent as 0xA5.
          buffer.fill(0xa5);
          at += size;
        }
        const done = await w.reply();
        equal(done.code, 250, "SINK result code");
        equal(done.text, `sha256=${await sha256Hex(expected)} size=${total}`, "server-side digest");
        equal((await w.cmd("QUIT")).code, 221, "QUIT");
        w.sock.abort();
      });
    },
  };
}

function sourceCase(tls: boolean): Case {
  return {
    name: `socket: 5 MB received byte-exact over ${tls ? "TLS" : "plain TCP"} (source sha256)`,
    timeoutMs: 30_000,
    async run(ctx) {
      const first = await open(ctx, ctx.config.ports.rawStarttls, tls ? "starttls" : "off");
      await using(first, async (plain) => {
        const w = tls ? await startTls(ctx, plain) : plain;
        if (!tls) await greetAndEhlo(w);
        const head = await w.cmd(`SOURCE ${FIVE_MB}`);
        equal(head.code, 250, "SOURCE code");
        const m = /^sha256=([0-9a-f]{64}) size=(\d+)$/.exec(head.text);
        ok(m, `SOURCE header ${head.text}`);
        // A slow consumer at first, so push-based adapters must queue and pause.
        let nextPause = 1024 * 1024;
        const body = await w.exact(FIVE_MB, async (got) => {
          if (got >= nextPause && got < 3 * 1024 * 1024) {
            nextPause += 1024 * 1024;
            await sleep(40);
          }
        });
        equal(await sha256Hex(body), m[1], "digest of the received bytes");
        equal((await w.cmd("QUIT")).code, 221, "QUIT after SOURCE");
        w.sock.abort();
      });
    },
  };
}

/** The socket-level cases. */
export const socketCases: Case[] = [
  {
    name: "socket: greeting, EHLO, QUIT and EOF over plain TCP",
    async run(ctx) {
      const w = await open(ctx, ctx.config.ports.rawStarttls, "off");
      await using(w, async () => {
        equal(w.sock.secure, false, "secure flag");
        const ehlo = await greetAndEhlo(w);
        ok(/STARTTLS/.test(ehlo), `EHLO offers STARTTLS: ${ehlo}`);
        equal((await w.cmd("QUIT")).code, 221, "QUIT");
        ok(await w.expectEof(), "EOF after 221");
        const started = Date.now();
        await w.sock.close();
        ok(Date.now() - started < 2500, "close() is bounded");
      });
    },
  },
  {
    name: "socket: STARTTLS verified with the test CA, EHLO over TLS",
    async run(ctx) {
      const plain = await open(ctx, ctx.config.ports.rawStarttls, "starttls");
      await using(plain, async () => {
        equal(plain.sock.secure, false, "secure before the upgrade");
        const w = await startTls(ctx, plain);
        try {
          equal(w.sock.secure, true, "secure after the upgrade");
          const ehlo = await w.cmd("EHLO conformance.test");
          equal(ehlo.code, 250, "EHLO over TLS");
          ok(/XTLS on/.test(ehlo.text), `server sees TLS: ${ehlo.text}`);
          ok(!/STARTTLS/.test(ehlo.text), "STARTTLS no longer offered");
          const servername = ctx.tls().servername;
          if (!isIp(servername)) ok(ehlo.text.includes(`sni=${servername}`), `SNI sent: ${ehlo.text}`);
          equal((await w.cmd("QUIT")).code, 221, "QUIT over TLS");
          ok(await w.expectEof(), "EOF after 221 over TLS");
          await w.sock.close();
        } finally {
          w.sock.abort();
        }
      });
    },
  },
  {
    name: "socket: implicit TLS greeting and EHLO",
    async run(ctx) {
      const w = await open(ctx, ctx.config.ports.rawImplicit, "on");
      await using(w, async () => {
        equal(w.sock.secure, true, "secure flag");
        const ehlo = await greetAndEhlo(w);
        ok(/XTLS on/.test(ehlo), `server sees TLS: ${ehlo}`);
        const servername = ctx.tls().servername;
        if (!isIp(servername)) ok(ehlo.includes(`sni=${servername}`), `SNI sent: ${ehlo}`);
        equal((await w.cmd("QUIT")).code, 221, "QUIT");
        await w.sock.close();
      });
    },
  },
  {
    name: "socket: untrusted certificate rejected on STARTTLS",
    async run(ctx) {
      const plain = await open(ctx, ctx.config.ports.untrustedStarttls, "starttls");
      await using(plain, () =>
        expectTlsFailure(ctx, () => startTls(ctx, plain), "TLS_UNTRUSTED", "self-signed STARTTLS"),
      );
    },
  },
  {
    name: "socket: untrusted certificate rejected on implicit TLS",
    async run(ctx) {
      await expectTlsFailure(
        ctx,
        async () => {
          const w = await open(ctx, ctx.config.ports.untrustedImplicit, "on");
          await w.reply(); // Workers may only fail here
          return w;
        },
        "TLS_UNTRUSTED",
        "self-signed implicit TLS",
      );
    },
  },
  {
    name: "socket: wrong host name rejected on implicit TLS",
    async run(ctx) {
      await expectTlsFailure(
        ctx,
        async () => {
          const w = await open(ctx, ctx.config.ports.wrongNameImplicit, "on");
          await w.reply();
          return w;
        },
        "TLS_HOSTNAME",
        "certificate for wrong.example, implicit TLS",
      );
    },
  },
  {
    name: "socket: wrong host name rejected on STARTTLS",
    async run(ctx) {
      const plain = await open(ctx, ctx.config.ports.wrongNameStarttls, "starttls");
      await using(plain, () =>
        expectTlsFailure(ctx, () => startTls(ctx, plain), "TLS_HOSTNAME", "certificate for wrong.example, STARTTLS"),
      );
    },
  },
  {
    name: "socket: servername different from the host is verified, or refused up front",
    async run(ctx) {
      const port = ctx.config.ports.rawImplicit;
      if (ctx.connector.capabilities.servernameDiffersFromHost) {
        const err = await rejects(open(ctx, port, "on", { servername: "wrong.example" }), "servername wrong.example");
        expectKind(err, ["TLS_HOSTNAME"], "servername wrong.example against a localhost certificate");
      } else {
        const before = (await ctx.control.conns()).rawImplicit?.total ?? 0;
        const err = await rejects(open(ctx, port, "on", { servername: "other.example" }), "differing servername");
        expectKind(err, ["TLS"], "differing servername");
        ok(/servername/.test((err as Error).message), `message names the servername: ${(err as Error).message}`);
        const after = (await ctx.control.conns()).rawImplicit?.total ?? 0;
        equal(after, before, "no connection was made");
      }
    },
  },
  {
    name: "socket: per-socket CA is what makes the test server trusted, or is refused clearly",
    async run(ctx) {
      const port = ctx.config.ports.rawImplicit;
      if (ctx.connector.capabilities.perSocketCa) {
        const err = await rejects(
          ctx.connector.connect({ ...params(ctx, port, "on"), ca: undefined } as ConnectParams).then(async (s) => {
            const w = new Wire(s);
            try {
              await w.reply();
            } finally {
              s.abort();
            }
          }),
          "implicit TLS without the CA",
        );
        expectKind(err, ["TLS_UNTRUSTED"], "without the test CA");
      } else {
        const err = await rejects(
          ctx.connector.connect({ ...params(ctx, port, "on"), ca: [ctx.config.caPem] }),
          "a per-socket CA",
        );
        expectKind(err, ["TLS"], "per-socket CA on a runtime without one");
        ok(/trusted certificates|runtime/i.test((err as Error).message), `explains where trust lives: ${(err as Error).message}`);
      }
    },
  },
  {
    name: "socket: connection refused",
    async run(ctx) {
      const err = await rejects(open(ctx, ctx.config.ports.refused, "off"), "connect to a closed port");
      expectKind(err, ["ECONNREFUSED"], "closed port");
    },
  },
  {
    name: "socket: connect with an already-aborted signal",
    async run(ctx) {
      const ac = new AbortController();
      ac.abort(new Error("gave up"));
      const err = await rejects(open(ctx, ctx.config.ports.rawStarttls, "off", { signal: ac.signal }), "aborted connect");
      expectKind(err, ["ABORTED"], "pre-aborted signal");
    },
  },
  sinkCase(false),
  sinkCase(true),
  reuseCase(false),
  reuseCase(true),
  sourceCase(false),
  sourceCase(true),
  {
    name: "socket: a stalled read is aborted with the caller's reason",
    async run(ctx) {
      await waitReleased(ctx, "rawStarttls");
      const w = await open(ctx, ctx.config.ports.rawStarttls, "off");
      await greetAndEhlo(w);
      await w.write(new TextEncoder().encode("STALL\r\n"));
      const pending = w.sock.read();
      await sleep(100);
      const reason = new Error("the caller gave up");
      const started = Date.now();
      w.sock.abort(reason);
      const err = await rejects(pending, "pending read after abort");
      ok(err === reason, `the pending read rejects with the abort reason itself, got ${describeError(err)}`);
      ok(Date.now() - started < 1000, "the read settled promptly");
      ok((await rejects(w.sock.read(), "read after abort")) === reason, "later reads reject with the reason");
      await rejects(w.sock.write(new Uint8Array([1])), "write after abort");
      w.sock.abort(new Error("again")); // idempotent, never throws
      await w.sock.close(); // never rejects
      await waitReleased(ctx, "rawStarttls");
    },
  },
  {
    name: "socket: close is idempotent and bounded, even against a silent server",
    async run(ctx) {
      const w = await open(ctx, ctx.config.ports.stall, "off");
      equal((await w.reply()).code, 220, "greeting");
      const started = Date.now();
      await Promise.all([w.sock.close(), w.sock.close()]);
      await w.sock.close();
      w.sock.abort();
      ok(Date.now() - started < 2500, `close() took ${Date.now() - started} ms`);
      await waitReleased(ctx, "stall");
    },
  },
  {
    name: "socket: implicit TLS handshake aborted by the signal",
    async run(ctx) {
      // The silent server never answers the ClientHello.
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error("handshake deadline")), 200);
      const started = Date.now();
      try {
        const err = await rejects(open(ctx, ctx.config.ports.silent, "on", { signal: ac.signal }), "hung handshake");
        expectKind(err, ["ABORTED"], "aborted handshake");
        ok(Date.now() - started < 2000, `settled ${Date.now() - started} ms after start`);
      } finally {
        clearTimeout(timer);
      }
    },
  },
  {
    // Not achievable everywhere: Deno 2.9.6 keeps the TCP connection of a TlsConn closed
    // before its handshake finished open until the process exits, and workerd cannot
    // close a socket whose connect (or handshake) is still pending. Both adapters reject
    // promptly and abandon the socket; this case runs where the adapter can release it.
    name: "socket: a hung handshake aborted by the signal releases the TCP connection",
    runtimes: ["node", "bun"],
    async run(ctx) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error("handshake deadline")), 150);
      try {
        await rejects(open(ctx, ctx.config.ports.silent, "on", { signal: ac.signal }), "hung implicit handshake");
      } finally {
        clearTimeout(timer);
      }
      await waitReleased(ctx, "silent");
      await waitReleased(ctx, "rawStarttls");
      const w = await open(ctx, ctx.config.ports.rawStarttls, "starttls");
      await greetAndEhlo(w);
      equal((await w.cmd("XSTALLTLS")).code, 220, "go-ahead");
      const ac2 = new AbortController();
      const timer2 = setTimeout(() => ac2.abort(new Error("handshake deadline")), 150);
      try {
        const t = ctx.tls();
        await rejects(
          w.sock.startTls({ servername: t.servername, ...(t.ca ? { ca: t.ca } : {}), signal: ac2.signal }),
          "hung STARTTLS handshake",
        );
      } finally {
        clearTimeout(timer2);
        w.sock.abort(); // the core aborts the old socket after a failed upgrade
      }
      await waitReleased(ctx, "rawStarttls");
    },
  },
  {
    name: "socket: STARTTLS handshake aborted by the signal",
    async run(ctx) {
      const w = await open(ctx, ctx.config.ports.rawStarttls, "starttls");
      await using(w, async () => {
        await greetAndEhlo(w);
        equal((await w.cmd("XSTALLTLS")).code, 220, "go-ahead from a server that then goes silent");
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(new Error("handshake deadline")), 200);
        const started = Date.now();
        try {
          const t = ctx.tls();
          const upgrade = w.sock.startTls({ servername: t.servername, ...(t.ca ? { ca: t.ca } : {}), signal: ac.signal });
          let err: unknown;
          try {
            const upgraded = await upgrade;
            // Miniflare's workerd resolves `opened` before the handshake: then the session
            // must at least be abortable, with the caller's reason.
            ok(ctx.runtime === "cloudflare", "startTls resolved although the server never answered");
            const pending = upgraded.read();
            await sleep(100);
            const reason = new Error("read deadline");
            upgraded.abort(reason);
            ok((await rejects(pending, "read on a hung TLS session")) === reason, "read rejects with the abort reason");
            return;
          } catch (e) {
            err = e;
          }
          expectKind(err, ["ABORTED"], "aborted STARTTLS handshake");
          ok(Date.now() - started < 2000, `settled ${Date.now() - started} ms after start`);
        } finally {
          clearTimeout(timer);
        }
      });
    },
  },
  {
    name: "socket: STARTTLS injection arrives with the 220 and is visible to the core",
    async run(ctx) {
      const w = await open(ctx, ctx.config.ports.rawInject, "starttls");
      await using(w, async () => {
        await greetAndEhlo(w);
        const go = await w.cmd("STARTTLS");
        equal(go.code, 220, "STARTTLS reply");
        ok(w.leftover > 0, "the injected plaintext is in the reader's buffer right after the 220");
        const injected = await w.reply();
        equal(injected.text, "INJECTED-PLAINTEXT", "the injected line");
      });
    },
  },
  {
    name: "socket: port 25 refused before dialling (Workers)",
    runtimes: ["cloudflare"],
    async run(ctx) {
      const err = await rejects(ctx.connector.connect(params(ctx, 25, "off")), "port 25");
      expectKind(err, ["ECONNREFUSED"], "port 25");
      ok(/port 25/.test((err as Error).message), `message names port 25: ${(err as Error).message}`);
    },
  },
  {
    name: "socket: startTls on a socket opened without starttls fails clearly (Workers)",
    runtimes: ["cloudflare"],
    async run(ctx) {
      const w = await open(ctx, ctx.config.ports.rawStarttls, "off");
      await using(w, async () => {
        await greetAndEhlo(w);
        const err = await rejects(w.sock.startTls({ servername: ctx.config.servername }), "startTls on an off socket");
        expectKind(err, ["TLS"], "startTls on an off socket");
      });
    },
  },
];
