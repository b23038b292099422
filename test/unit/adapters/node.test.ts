import { createHash } from "node:crypto";
import { Socket, createServer as createNetServer, connect as netConnect, type AddressInfo } from "node:net";
import { TLSSocket, connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { afterEach, describe, expect, it, vi } from "vitest";
import { nodeConnector } from "../../../adapters/node.ts";
import { SocketError, type SmtpSocket } from "../../../src/socket.ts";
import { getTestCerts } from "../../helpers/certs.ts";
import { startRawServer, startTestServer, type RawServer, type TestServer } from "../../helpers/smtp-server.ts";

const certs = getTestCerts();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Everything a test opens is closed after it, pass or fail.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  vi.restoreAllMocks();
});

async function raw(handler: (socket: Socket) => void): Promise<RawServer> {
  const server = await startRawServer(handler);
  cleanups.push(() => server.close());
  return server;
}

async function tlsServer(
  handler: (socket: TLSSocket) => void,
  key = certs.serverKey,
  cert = certs.serverCert,
): Promise<{ port: number }> {
  const sockets = new Set<TLSSocket>();
  const server: TlsServer = createTlsServer({ key, cert }, (socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    handler(socket);
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  );
  return { port: (server.address() as AddressInfo).port };
}

function track(socket: SmtpSocket): SmtpSocket {
  cleanups.push(() => socket.abort());
  return socket;
}

async function connect(
  port: number,
  tls: "off" | "on" | "starttls" = "starttls",
  extra: { servername?: string; ca?: string[]; signal?: AbortSignal; hostname?: string } = {},
): Promise<SmtpSocket> {
  const socket = await nodeConnector.connect({
    hostname: extra.hostname ?? "127.0.0.1",
    port,
    tls,
    servername: extra.servername ?? "localhost",
    ...(extra.ca ? { ca: extra.ca } : {}),
    ...(extra.signal ? { signal: extra.signal } : {}),
  });
  return track(socket);
}

/** Reads until the accumulated text contains `marker`. */
async function readUntil(socket: SmtpSocket, marker: string): Promise<string> {
  let text = "";
  while (!text.includes(marker)) {
    const chunk = await socket.read();
    if (chunk === null) throw new Error(`EOF before ${JSON.stringify(marker)}; got ${JSON.stringify(text)}`);
    text += decoder.decode(chunk);
  }
  return text;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("Expected a rejection");
}

async function socketError(promise: Promise<unknown>): Promise<SocketError> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(SocketError);
  return err as SocketError;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A server connection handler that hashes what arrives and, once `total` bytes came,
 * answers `<count> <sha256 hex>`. Until `slowUntil` bytes it pauses 5 ms after each read.
 */
function digestAfter(total: number, slowUntil = 0): (s: Socket) => void {
  return (s) => {
    const hash = createHash("sha256");
    let count = 0;
    s.on("data", (d: Buffer) => {
      hash.update(d);
      count += d.length;
      if (count < slowUntil) {
        s.pause();
        setTimeout(() => s.resume(), 5);
      }
      if (count === total) s.write(`${count} ${hash.digest("hex")}\r\n`);
    });
  };
}

/**
 * A STARTTLS-style raw server: greets, answers `STARTTLS` with `220 go`, upgrades with a
 * server-side TLSSocket, then echoes every TLS chunk prefixed by `echo:`. Reports what the
 * TLS side saw.
 */
function starttlsServer(
  seen: { servername?: string | false; secured?: boolean },
  key = certs.serverKey,
  cert = certs.serverCert,
): (socket: Socket) => void {
  return (socket) => {
    socket.write("220 ready\r\n");
    let buffered = "";
    const onData = (data: Buffer): void => {
      buffered += data.toString("latin1");
      if (!buffered.includes("STARTTLS\r\n")) return;
      socket.off("data", onData);
      socket.write("220 go\r\n");
      const secure = new TLSSocket(socket, { isServer: true, key, cert });
      secure.on("error", () => {});
      secure.on("secure", () => {
        seen.secured = true;
        seen.servername = (secure as TLSSocket & { servername?: string | false }).servername;
      });
      secure.on("data", (d: Buffer) => secure.write(`echo:${d.toString("latin1")}`));
    };
    socket.on("data", onData);
  };
}

describe("nodeConnector", () => {
  it("reports its name and capabilities", () => {
    expect(nodeConnector.name).toBe("node");
    expect(nodeConnector.capabilities).toEqual({ perSocketCa: true, servernameDiffersFromHost: true });
  });

  it("defaultClientName returns a dotted host name or undefined", () => {
    const name = nodeConnector.defaultClientName?.();
    if (name !== undefined) {
      expect(name).toMatch(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/);
    }
  });
});

describe("plain connections", () => {
  it("reads a reply split across writes and exchanges lines", async () => {
    const server = await raw((s) => {
      s.write("220 smtp.test");
      setTimeout(() => s.write(" ESMTP rea"), 20);
      setTimeout(() => s.write("dy\r\n"), 40);
      s.on("data", (d) => s.write(`250 got ${d.toString().trim()}\r\n`));
    });
    const socket = await connect(server.port, "off");
    expect(socket.secure).toBe(false);
    expect(socket.tlsInfo?.()).toBeUndefined();
    expect(await readUntil(socket, "\r\n")).toBe("220 smtp.test ESMTP ready\r\n");
    await socket.write(encoder.encode("EHLO client.test\r\n"));
    expect(await readUntil(socket, "\r\n")).toBe("250 got EHLO client.test\r\n");
    const chunk = await (async () => {
      await socket.write(encoder.encode("NOOP\r\n"));
      return socket.read();
    })();
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(chunk)).toBe(false); // a plain Uint8Array view, not a Buffer
    await socket.close();
    expect(server.connections).toBe(1);
  });

  it("returns queued data, then null at EOF, then null again", async () => {
    const server = await raw((s) => s.end("221 bye\r\n"));
    const socket = await connect(server.port, "off");
    await sleep(50);
    expect(decoder.decode((await socket.read()) ?? new Uint8Array())).toBe("221 bye\r\n");
    expect(await socket.read()).toBeNull();
    expect(await socket.read()).toBeNull();
  });

  it("rejects a second concurrent read", async () => {
    const server = await raw(() => {});
    const socket = await connect(server.port, "off");
    const first = socket.read();
    const err = await socketError(socket.read());
    expect(err.kind).toBe("UNKNOWN");
    socket.abort();
    await rejection(first);
  });

  it("rejects a pending read with ECONNRESET when the server resets", async () => {
    const server = await raw((s) => {
      setTimeout(() => s.resetAndDestroy(), 30);
    });
    const socket = await connect(server.port, "off");
    const err = await socketError(socket.read());
    expect(err.kind).toBe("ECONNRESET");
    expect(err.message).toMatch(/^Connection to "127\.0\.0\.1:\d+" was reset/);
    expect(err.cause).toBeInstanceOf(Error);
    await socketError(socket.write(encoder.encode("x")));
  });

  it("maps a refused connection to ECONNREFUSED", async () => {
    const port = await freePort();
    const err = await socketError(connect(port, "off"));
    expect(err.kind).toBe("ECONNREFUSED");
    expect(err.message).toBe(`Connection to "127.0.0.1:${port}" was refused`);
    expect((err.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("maps an unresolvable host to ENOTFOUND", async () => {
    const err = await socketError(connect(25, "off", { hostname: "no-such-host.invalid" }));
    expect(["ENOTFOUND"]).toContain(err.kind);
    expect(err.message).toContain('"no-such-host.invalid"');
  });

  it("rejects at once with ABORTED when the signal is already aborted", async () => {
    const server = await raw(() => {});
    const err = await socketError(connect(server.port, "off", { signal: AbortSignal.abort() }));
    expect(err.kind).toBe("ABORTED");
    await sleep(30);
    expect(server.connections).toBe(0);
  });
});

describe("abort and close", () => {
  it("abort(reason) rejects the pending read with that very object", async () => {
    const server = await raw(() => {});
    const socket = await connect(server.port, "off");
    const pending = socket.read();
    const reason = new Error("command timeout");
    socket.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    expect(await rejection(socket.read())).toBe(reason);
    expect(await rejection(socket.write(encoder.encode("x")))).toBe(reason);
    expect(() => socket.abort(new Error("again"))).not.toThrow();
    expect(await rejection(socket.read())).toBe(reason);
    await socket.close(); // never rejects, even after abort
  });

  it("abort() without a reason rejects with SocketError ABORTED; non-Error reasons are wrapped", async () => {
    const server = await raw(() => {});
    const a = await connect(server.port, "off");
    const pendingA = a.read();
    a.abort();
    expect((await socketError(pendingA)).kind).toBe("ABORTED");

    const b = await connect(server.port, "off");
    const pendingB = b.read();
    b.abort("just a string");
    const err = await socketError(pendingB);
    expect(err.kind).toBe("ABORTED");
    expect(err.cause).toBe("just a string");
  });

  it("abort() tears the connection down so the server sees it close", async () => {
    let closed = false;
    const server = await raw((s) => s.on("close", () => (closed = true)));
    const socket = await connect(server.port, "off");
    await sleep(20);
    socket.abort();
    await sleep(50);
    expect(closed).toBe(true);
  });

  it("close() is idempotent and bounded when the server never closes", async () => {
    // The server keeps its half of the connection open forever.
    const holder = createNetServer({ allowHalfOpen: true }, (s) => s.on("error", () => {}));
    const held = new Set<Socket>();
    holder.on("connection", (s) => held.add(s));
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      holder.close(() => resolve());
      for (const s of held) s.destroy();
    }));
    const socket = await connect((holder.address() as AddressInfo).port, "off");
    const pending = socket.read();
    const started = Date.now();
    const first = socket.close();
    const second = socket.close();
    await Promise.all([first, second]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(3000);
    expect(await pending).toBeNull(); // a read pending at close() resolves as EOF
    await socket.close();
    await socketError(socket.write(encoder.encode("x")));
  });

  it("close() is quick when the server closes in turn", async () => {
    const server = await raw((s) => s.on("end", () => s.end()));
    const socket = await connect(server.port, "off");
    const started = Date.now();
    await socket.close();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe("backpressure", () => {
  it("writes 8 MiB in one call, waiting for drain, received byte-exact", async () => {
    const payload = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const expected = createHash("sha256").update(payload).digest("hex");
    // Read slowly at first so the client's socket buffer fills up.
    const server = await raw(digestAfter(payload.length, 2 * 1024 * 1024));
    const socket = await connect(server.port, "off");
    let settled = false;
    const writing = socket.write(payload).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false); // 8 MiB cannot be accepted at once
    await writing;
    expect(await readUntil(socket, "\r\n")).toBe(`${payload.length} ${expected}\r\n`);
  });

  it("keeps small corked writes and large uncorked ones in order, without waiting for each other", async () => {
    // Small writes are corked until the tick ends; a large one (a body chunk) leaves at once
    // with whatever was corked before it. Issued without awaiting, as pipelined sends do.
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const size = [5, 70_000, 16 * 1024, 16 * 1024 - 1, 1, 65_520, 300][i % 7]!;
      const piece = new Uint8Array(size);
      for (let j = 0; j < size; j++) piece[j] = (i * 7 + j) & 0xff;
      pieces.push(piece);
    }
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const expected = createHash("sha256");
    for (const p of pieces) expected.update(p);
    const server = await raw(digestAfter(total));
    const socket = await connect(server.port, "off");
    const writes: Promise<void>[] = [];
    for (const [i, p] of pieces.entries()) {
      writes.push(socket.write(p));
      if (i % 5 === 4) await writes[writes.length - 1]; // sometimes across ticks
    }
    await Promise.all(writes);
    expect(await readUntil(socket, "\r\n")).toBe(`${total} ${expected.digest("hex")}\r\n`);
  });

  it("rejects a write waiting for drain when the server resets, or with the abort reason", async () => {
    const resetters: Socket[] = [];
    const server = await raw((s) => {
      s.pause(); // never read: the client's writes back up
      resetters.push(s);
    });
    const big = new Uint8Array(32 * 1024 * 1024);
    const a = await connect(server.port, "off");
    const writingA = a.write(big);
    await sleep(50);
    resetters[0]?.resetAndDestroy();
    const err = await socketError(writingA);
    expect(err.kind).toBe("ECONNRESET");

    const b = await connect(server.port, "off");
    const writingB = b.write(big);
    await sleep(50);
    const reason = new Error("data timeout");
    b.abort(reason);
    expect(await rejection(writingB)).toBe(reason);
  });

  it("pauses the socket above ~1 MiB of unread data and still delivers every byte", async () => {
    const size = 8 * 1024 * 1024;
    const block = Buffer.alloc(64 * 1024);
    for (let i = 0; i < block.length; i++) block[i] = i & 0xff;
    const server = await raw((s) => {
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += block.length;
          if (!s.write(block)) {
            s.once("drain", pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    const pause = vi.spyOn(Socket.prototype, "pause");
    const resume = vi.spyOn(Socket.prototype, "resume");
    const socket = await connect(server.port, "off");
    await sleep(200); // let the queue fill without reading
    expect(pause).toHaveBeenCalled();
    const hash = createHash("sha256");
    let total = 0;
    for (;;) {
      const chunk = await socket.read();
      if (chunk === null) break;
      hash.update(chunk);
      total += chunk.byteLength;
    }
    expect(resume).toHaveBeenCalled();
    expect(total).toBe(size);
    const reference = createHash("sha256");
    for (let i = 0; i < size / block.length; i++) reference.update(block);
    expect(hash.digest("hex")).toBe(reference.digest("hex"));
  });
});

describe("STARTTLS", () => {
  it("upgrades, verifies with the CA, sends SNI and carries data over TLS", async () => {
    const seen: { servername?: string | false; secured?: boolean } = {};
    const server = await raw(starttlsServer(seen));
    const plain = await connect(server.port, "starttls");
    expect(await readUntil(plain, "\r\n")).toBe("220 ready\r\n");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    expect(await readUntil(plain, "\r\n")).toBe("220 go\r\n");
    const secure = track(await plain.startTls({ servername: "localhost", ca: [certs.caPem] }));
    expect(secure).not.toBe(plain);
    expect(secure.secure).toBe(true);
    expect(plain.secure).toBe(false);
    const info = secure.tlsInfo?.();
    expect(info?.protocol).toBe("TLSv1.3");
    expect(info?.cipher).toMatch(/^TLS_/);
    await secure.write(encoder.encode("EHLO client.test\r\n"));
    expect(await readUntil(secure, "\r\n")).toBe("echo:EHLO client.test\r\n");
    // The client finishes a TLS 1.3 handshake first: look at the server's view after a round trip.
    expect(seen).toEqual({ secured: true, servername: "localhost" });

    // The plaintext wrapper is dead, and closing or aborting it leaves TLS alone.
    expect((await socketError(plain.read())).kind).toBe("UNKNOWN");
    expect((await socketError(plain.write(encoder.encode("NOOP\r\n")))).kind).toBe("UNKNOWN");
    await plain.close();
    plain.abort();
    expect(plain.tlsInfo?.()).toBeUndefined();
    await secure.write(encoder.encode("NOOP\r\n"));
    expect(await readUntil(secure, "\r\n")).toBe("echo:NOOP\r\n");
    await secure.close();
  });

  it("verifies an IP servername against the IP SAN without SNI or DEP0123", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    cleanups.push(() => process.off("warning", onWarning));
    const seen: { servername?: string | false; secured?: boolean } = {};
    const server = await raw(starttlsServer(seen));
    const plain = await connect(server.port, "starttls", { servername: "127.0.0.1" });
    await readUntil(plain, "\r\n");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "\r\n");
    const secure = track(await plain.startTls({ servername: "127.0.0.1", ca: [certs.caPem] }));
    expect(secure.secure).toBe(true);
    await secure.write(encoder.encode("NOOP\r\n"));
    expect(await readUntil(secure, "\r\n")).toBe("echo:NOOP\r\n");
    expect(seen.secured).toBe(true);
    expect(seen.servername).toBeFalsy();
    await sleep(10);
    expect(warnings.filter((w) => /DEP0123|ServerName/i.test(`${(w as { code?: string }).code} ${w.message}`))).toEqual([]);
  });

  it("rejects an untrusted certificate with TLS_UNTRUSTED when no CA is given", async () => {
    const server = await raw(starttlsServer({}));
    const plain = await connect(server.port, "starttls");
    await readUntil(plain, "\r\n");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "\r\n");
    const err = await socketError(plain.startTls({ servername: "localhost" }));
    expect(err.kind).toBe("TLS_UNTRUSTED");
    expect(err.message).toContain("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("rejects a certificate for another name with TLS_HOSTNAME", async () => {
    const server = await raw(starttlsServer({}, certs.wrongHostKey, certs.wrongHostCert));
    const plain = await connect(server.port, "starttls");
    await readUntil(plain, "\r\n");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "\r\n");
    const err = await socketError(plain.startTls({ servername: "localhost", ca: [certs.caPem] }));
    expect(err.kind).toBe("TLS_HOSTNAME");
    expect(err.message).toContain('"localhost"');
    expect(err.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
  });

  it("refuses to upgrade with unread plaintext queued (injection) and kills the connection", async () => {
    let closed = false;
    const server = await raw((s) => {
      s.on("close", () => (closed = true));
      s.write("220 ready\r\n");
      s.on("data", () => {
        s.write("220 go\r\n");
        setTimeout(() => s.write("250 INJECTED\r\n"), 20);
      });
    });
    const plain = await connect(server.port, "starttls");
    await readUntil(plain, "220 ready\r\n");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "220 go\r\n");
    await sleep(80);
    const err = await socketError(plain.startTls({ servername: "localhost", ca: [certs.caPem] }));
    expect(err.kind).toBe("UNKNOWN");
    expect(err.message).toMatch(/unread plaintext/);
    await sleep(50);
    expect(closed).toBe(true);
  });

  it("refuses to upgrade while a read is pending", async () => {
    const server = await raw(() => {});
    const plain = await connect(server.port, "starttls");
    const pending = plain.read();
    const err = await socketError(plain.startTls({ servername: "localhost" }));
    expect(err.kind).toBe("UNKNOWN");
    plain.abort();
    await rejection(pending);
  });

  it("aborts a hung handshake through the signal", async () => {
    // The server answers 220 and then never speaks TLS.
    const server = await raw((s) => s.once("data", () => s.write("220 go\r\n")));
    const plain = await connect(server.port, "starttls");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "\r\n");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const err = await socketError(plain.startTls({ servername: "localhost", signal: controller.signal }));
    expect(err.kind).toBe("ABORTED");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("reports the server closing during the handshake", async () => {
    const server = await raw((s) => s.once("data", () => s.end("220 go\r\n")));
    const plain = await connect(server.port, "starttls");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "\r\n");
    await sleep(30);
    // The server's FIN has arrived: the socket is at EOF, so the upgrade is refused up front.
    const err = await socketError(plain.startTls({ servername: "localhost", ca: [certs.caPem] }));
    expect(["EOF", "ECONNRESET"]).toContain(err.kind);
  });
});

describe("handshake failures", () => {
  it("reports the server hanging up mid-handshake as ECONNRESET", async () => {
    // The server answers 220, then drops the connection when the ClientHello arrives.
    const server = await raw((s) =>
      s.once("data", () => {
        s.write("220 go\r\n");
        s.once("data", () => s.destroy());
      }),
    );
    const plain = await connect(server.port, "starttls");
    await plain.write(encoder.encode("STARTTLS\r\n"));
    await readUntil(plain, "\r\n");
    const err = await socketError(plain.startTls({ servername: "localhost", ca: [certs.caPem] }));
    expect(err.kind).toBe("ECONNRESET");
    expect(err.message).toMatch(/^Connection to "127\.0\.0\.1:\d+" was closed by the server during the TLS handshake/);
  });
});

describe("implicit TLS", () => {
  it("connects, resolves after the handshake and reports TLS facts", async () => {
    let sni: string | false | undefined;
    const server = await tlsServer((s) => {
      sni = (s as TLSSocket & { servername?: string | false }).servername;
      s.write("220 secure ready\r\n");
      s.on("data", (d: Buffer) => s.write(`echo:${d.toString()}`));
    });
    const socket = await connect(server.port, "on", { ca: [certs.caPem] });
    expect(socket.secure).toBe(true);
    expect(socket.tlsInfo?.()?.protocol).toBe("TLSv1.3");
    expect(await readUntil(socket, "\r\n")).toBe("220 secure ready\r\n");
    expect(sni).toBe("localhost");
    await socket.write(encoder.encode("QUIT\r\n"));
    expect(await readUntil(socket, "\r\n")).toBe("echo:QUIT\r\n");
    const err = await socketError(socket.startTls({ servername: "localhost" }));
    expect(err.kind).toBe("UNKNOWN");
    await socket.close();
  });

  it("verifies against a servername that differs from the dialled host", async () => {
    const server = await tlsServer((s) => s.write("220 hi\r\n"), certs.wrongHostKey, certs.wrongHostCert);
    const socket = await connect(server.port, "on", { servername: "wrong.example", ca: [certs.caPem] });
    expect(await readUntil(socket, "\r\n")).toBe("220 hi\r\n");
    await socket.close();
  });

  it("verifies an IP servername against the IP SAN and sends no SNI", async () => {
    let sni: string | false | undefined = "unset";
    const server = await tlsServer((s) => {
      sni = (s as TLSSocket & { servername?: string | false }).servername;
      s.write("220 hi\r\n");
    });
    const socket = await connect(server.port, "on", { servername: "127.0.0.1", ca: [certs.caPem] });
    expect(await readUntil(socket, "\r\n")).toBe("220 hi\r\n");
    expect(sni).toBeFalsy();
    const wrong = await tlsServer(() => {}, certs.wrongHostKey, certs.wrongHostCert);
    const err = await socketError(connect(wrong.port, "on", { servername: "127.0.0.1", ca: [certs.caPem] }));
    expect(err.kind).toBe("TLS_HOSTNAME");
    expect(err.message).toContain('"127.0.0.1"');
  });

  it("rejects a certificate for another name with TLS_HOSTNAME", async () => {
    const server = await tlsServer(() => {}, certs.wrongHostKey, certs.wrongHostCert);
    const err = await socketError(connect(server.port, "on", { ca: [certs.caPem] }));
    expect(err.kind).toBe("TLS_HOSTNAME");
  });

  it("rejects a self-signed certificate with TLS_UNTRUSTED even with the CA given", async () => {
    const server = await tlsServer(() => {}, certs.selfSignedKey, certs.selfSignedCert);
    const err = await socketError(connect(server.port, "on", { ca: [certs.caPem] }));
    expect(err.kind).toBe("TLS_UNTRUSTED");
    expect(err.message).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("rejects a CA-signed certificate with TLS_UNTRUSTED when no CA is given", async () => {
    const server = await tlsServer(() => {});
    const err = await socketError(connect(server.port, "on"));
    expect(err.kind).toBe("TLS_UNTRUSTED");
    expect(err.message).toMatch(/^Certificate of "127\.0\.0\.1:\d+" is not trusted: /);
  });

  it("maps implicit TLS against a plaintext port to kind TLS with the OpenSSL code", async () => {
    const server = await raw((s) => s.write("220 plaintext server ready\r\n"));
    const err = await socketError(connect(server.port, "on", { ca: [certs.caPem] }));
    expect(err.kind).toBe("TLS");
    expect(err.message).toContain("ERR_SSL_WRONG_VERSION_NUMBER");
    expect(err.message).not.toMatch(/\.$/);
    expect(err.message).not.toContain("\n");
  });

  it("aborts a hung handshake through the signal", async () => {
    const server = await raw(() => {}); // accepts TCP, never answers the ClientHello
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const err = await socketError(connect(server.port, "on", { signal: controller.signal, ca: [certs.caPem] }));
    expect(err.kind).toBe("ABORTED");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("writes 8 MiB over TLS in chunks, received byte-exact", async () => {
    const size = 8 * 1024 * 1024;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7 + 3) & 0xff;
    const expected = createHash("sha256").update(payload).digest("hex");
    const server = await tlsServer(digestAfter(size));
    const socket = await connect(server.port, "on", { ca: [certs.caPem] });
    for (let offset = 0; offset < size; offset += 64 * 1024) {
      await socket.write(payload.subarray(offset, offset + 64 * 1024));
    }
    expect(await readUntil(socket, "\r\n")).toBe(`${size} ${expected}\r\n`);
    await socket.close();
  });
});

describe("test fixtures", () => {
  it("generates certificates that verify against the test CA", async () => {
    expect(getTestCerts()).toBe(certs); // cached per process
    const server = await tlsServer((s) => s.end("ok"));
    const client = tlsConnect({ host: "127.0.0.1", port: server.port, servername: "localhost", ca: certs.caPem });
    cleanups.push(() => client.destroy());
    await new Promise<void>((resolve, reject) => {
      client.once("secureConnect", resolve);
      client.once("error", reject);
    });
    expect(client.authorized).toBe(true);
  });

  it("startRawServer counts connections and close() destroys open sockets", async () => {
    const server = await startRawServer(() => {});
    const client = netConnect({ host: "127.0.0.1", port: server.port });
    client.on("error", () => {});
    await new Promise<void>((resolve) => client.once("connect", resolve));
    await sleep(20);
    expect(server.connections).toBe(1);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    await server.close();
    await closed;
  });

  for (const mode of ["plain", "starttls", "tls"] as const) {
    it(`startTestServer runs in ${mode} mode and close() is quick with a client attached`, async () => {
      const server: TestServer = await startTestServer({ mode });
      let closed = false;
      cleanups.push(() => (closed ? undefined : server.close()));
      expect(server.host).toBe("127.0.0.1");
      expect(server.caPem).toBe(certs.caPem);
      const socket = await connect(server.port, mode === "tls" ? "on" : "starttls", { ca: [server.caPem] });
      expect(await readUntil(socket, "\r\n")).toMatch(/^220 smtp\.test /);
      await socket.write(encoder.encode("EHLO client.test\r\n"));
      const ehlo = await readUntil(socket, "\r\n250 ");
      if (mode === "starttls") expect(ehlo).toContain("STARTTLS");
      else expect(ehlo).not.toContain("STARTTLS");
      expect(server.sessions).toBe(1);
      const started = Date.now();
      await server.close();
      closed = true;
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await socket.read()).toBeNull();
    });
  }
});
