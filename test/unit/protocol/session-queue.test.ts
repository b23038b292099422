// The session's reply queue and write lock, against a scripted in-memory socket: replies
// are handed to expect() calls in call order however the bytes are split, one read at a
// time, and a failure rejects everything that waits. No timers are involved.
import { describe, expect, it } from "vitest";
import { SmtpSession } from "../../../src/client.ts";
import { SmtpError } from "../../../src/errors.ts";
import { resolveOptions } from "../../../src/options.ts";
import type { Connector, SmtpSocket } from "../../../src/socket.ts";

const encoder = new TextEncoder();

/** A socket whose reads the test answers by hand. */
class ScriptedSocket implements SmtpSocket {
  readonly secure = false;
  readonly written: string[] = [];
  reads = 0;
  #pending: { resolve: (chunk: Uint8Array | null) => void; reject: (error: unknown) => void } | undefined;
  #queued: Uint8Array[] = [];

  read(): Promise<Uint8Array | null> {
    if (this.#pending) throw new Error("two reads in flight");
    this.reads++;
    const next = this.#queued.shift();
    if (next) return Promise.resolve(next);
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  /** Delivers server bytes to the pending read, or queues them for the next one. */
  send(text: string): void {
    const bytes = encoder.encode(text);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) pending.resolve(bytes);
    else this.#queued.push(bytes);
  }

  /** Ends the stream: the pending read resolves with null. */
  end(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(null);
  }

  fail(error: unknown): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  get reading(): boolean {
    return this.#pending !== undefined;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.written.push(new TextDecoder().decode(bytes));
    return Promise.resolve();
  }

  startTls(): Promise<SmtpSocket> {
    return Promise.reject(new Error("no TLS here"));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  abort(reason?: unknown): void {
    this.fail(reason);
  }
}

async function openSession(): Promise<{ session: SmtpSession; socket: ScriptedSocket }> {
  const socket = new ScriptedSocket();
  socket.send("220 test ESMTP\r\n");
  socket.send("250-test\r\n250 PIPELINING\r\n");
  const connector: Connector = {
    name: "scripted",
    capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
    connect: () => Promise.resolve(socket),
  };
  const session = await SmtpSession.open(resolveOptions({ host: "127.0.0.1", port: 25, encryption: "none", clientName: "client.test" }), connector);
  return { session, socket };
}

/** Lets every pending promise reaction run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe("SmtpSession reply queue", () => {
  it("hands replies to expect() calls in call order, however the bytes are split", async () => {
    const { session, socket } = await openSession();
    await session.writeCommands(["MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA", "NOOP"]);
    const first = session.expect(3, 1000);
    const second = session.expect(1, 1000);
    await settle();
    expect(socket.reading).toBe(true);
    socket.send("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n35");
    await settle();
    socket.send("4 Go ahead\r\n250 2.0.0 No");
    await settle();
    socket.send("op\r\n");
    const [a, b] = await Promise.all([first, second]);
    expect(a.map((r) => r.code)).toEqual([250, 250, 354]);
    expect(a[0]).toEqual({ code: 250, lines: ["2.1.0 Ok"], enhancedCode: "2.1.0" });
    expect(a[2]).toEqual({ code: 354, lines: ["Go ahead"] });
    expect(b).toEqual([{ code: 250, lines: ["2.0.0 Noop"], enhancedCode: "2.0.0" }]);
    expect(socket.reading).toBe(false); // nothing more is read once no reply is owed
  });

  it("takes replies already buffered without another read", async () => {
    const { session, socket } = await openSession();
    await session.writeCommands(["NOOP", "NOOP"]);
    const first = session.expect(1, 1000);
    await settle();
    socket.send("250 one\r\n250 two\r\n");
    await first;
    const reads = socket.reads;
    expect(await session.expect(1, 1000)).toEqual([{ code: 250, lines: ["two"] }]);
    expect(socket.reads).toBe(reads);
  });

  it("readReply() waits behind earlier expect() calls", async () => {
    const { session, socket } = await openSession();
    await session.writeCommands(["NOOP", "NOOP"]);
    const expected = session.expect(1, 1000);
    const read = session.readReply(1000);
    await settle();
    socket.send("250 first\r\n250 second\r\n");
    expect((await expected)[0]?.lines).toEqual(["first"]);
    expect((await read).lines).toEqual(["second"]);
  });

  it("a failed read rejects every queued expect() and lockWrites() with the session's error", async () => {
    const { session, socket } = await openSession();
    const unlock = await session.lockWrites();
    const locked = session.lockWrites();
    await session.writeCommands(["NOOP", "NOOP"]);
    const first = session.expect(1, 1000);
    const second = session.expect(1, 1000);
    await settle();
    socket.fail(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    const errors = await Promise.all([first, second, locked].map((p) => p.then(() => undefined, (e: unknown) => e)));
    expect(errors[0]).toBeInstanceOf(SmtpError);
    expect(errors[1]).toBe(errors[0]);
    expect(errors[2]).toBe(errors[0]);
    expect(session.failure).toBe(errors[0]);
    await expect(session.expect(1, 1000)).rejects.toBe(errors[0]);
    await expect(session.write(encoder.encode("NOOP\r\n"), 1)).rejects.toBe(errors[0]);
    unlock();
  });

  it("the end of the stream fails the session and every waiting expect()", async () => {
    const { session, socket } = await openSession();
    await session.writeCommands(["NOOP"]);
    const waiting = session.expect(1, 1000);
    await settle();
    socket.end();
    await expect(waiting).rejects.toBeInstanceOf(SmtpError);
    expect(session.usable).toBe(false);
  });

  it("a reply nobody asked for fails the session instead of being paired with the next command", async () => {
    const { session, socket } = await openSession();
    await session.writeCommands(["NOOP"]);
    const waiting = session.expect(1, 1000);
    await settle();
    socket.send("250 ok\r\n250 extra\r\n");
    await expect(waiting).rejects.toMatchObject({ code: "EPROTOCOL" });
  });
});

describe("SmtpSession write lock", () => {
  it("serves lockWrites() in call order, and a second unlock() does nothing", async () => {
    const { session } = await openSession();
    const order: string[] = [];
    const first = await session.lockWrites();
    const second = session.lockWrites().then((unlock) => {
      order.push("second");
      return unlock;
    });
    const third = session.lockWrites().then((unlock) => {
      order.push("third");
      return unlock;
    });
    await settle();
    expect(order).toEqual([]);
    first();
    first(); // must not release the lock the second holder now has
    await settle();
    expect(order).toEqual(["second"]);
    (await second)();
    (await third)();
    expect(order).toEqual(["second", "third"]);
    const fourth = await session.lockWrites(); // free again: granted at once
    fourth();
  });
});
