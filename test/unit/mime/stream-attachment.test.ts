// Attachments from a ReadableStream: exact size up front, bytes identical to the same
// content given as a Uint8Array, read once, and every size mismatch caught.
import fc from "fast-check";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { SmtpError, SmtpValidationError } from "../../../src/errors.ts";
import { composeMessage as composeWith } from "../../../src/mime/compose.ts";
import type { ComposedMessage, MailMessage } from "../../../src/message.ts";
import { BASE, collect, randomBytes, validationError } from "./support.ts";

const composeMessage = (message: MailMessage): ComposedMessage => composeWith(message, { defaultFrom: "sender@example.com" });

/** A stream yielding `bytes` in pieces of the given sizes (cycled); records cancellation. */
function streamOf(bytes: Uint8Array, sizes: number[] = [1000]): ReadableStream<Uint8Array> & { cancelled: () => boolean } {
  let at = 0;
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const n = Math.max(1, sizes[i++ % sizes.length]!);
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
    cancel() {
      cancelled = true;
    },
  });
  return Object.assign(stream, { cancelled: () => cancelled });
}

async function read(message: ComposedMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of message.stream!()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

function withStream(stream: ReadableStream<Uint8Array>, size: number | undefined, extra: Partial<MailMessage> = {}): MailMessage {
  return { ...BASE, attachments: [{ filename: "data.bin", content: stream, ...(size === undefined ? {} : { size }) }], ...extra };
}

// Same message twice, once from bytes and once from a stream: identical apart from the
// random Message-ID and boundaries, which are normalised here.
function normalise(raw: Buffer): string {
  return raw
    .toString("latin1")
    .replace(/<[0-9a-f]{40}@[^>]+>/g, "<id>")
    .replace(/=_nina_[0-9a-f]{32}/g, "=_b");
}

describe("ReadableStream attachments", () => {
  it("produce exactly the bytes of the same content given as a Uint8Array, and the announced size", async () => {
    const date = new Date(Date.UTC(2025, 0, 1));
    for (const length of [0, 1, 2, 3, 56, 57, 58, 47_880, 47_881, 150_000]) {
      const content = randomBytes(length, length + 1);
      const fromStream = composeWith(withStream(streamOf(content, [7, 4000, 65536]), length), { defaultFrom: "s@example.com", date });
      const fromBytes = composeWith({ ...BASE, attachments: [{ filename: "data.bin", content }] }, { defaultFrom: "s@example.com", date });
      expect(fromStream.size).toBe(fromBytes.size);
      const raw = await read(fromStream);
      expect(raw.length).toBe(fromStream.size);
      expect(normalise(raw)).toBe(normalise(collect(fromBytes)));
    }
  });

  it("round-trip through mailparser", async () => {
    const content = randomBytes(200_000, 9);
    const raw = await read(composeMessage(withStream(streamOf(content, [333, 65536, 1]), content.length)));
    const parsed = await simpleParser(raw);
    expect(Buffer.compare(parsed.attachments[0]!.content, Buffer.from(content))).toBe(0);
  });

  it("are identical for any content and any chunking (property)", async () => {
    const date = new Date(Date.UTC(2025, 0, 1));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 5 }), async (content, sizes) => {
        const a = composeWith(withStream(streamOf(content, sizes), content.length), { defaultFrom: "s@example.com", date });
        const b = composeWith({ ...BASE, attachments: [{ filename: "data.bin", content }] }, { defaultFrom: "s@example.com", date });
        expect(normalise(await read(a))).toBe(normalise(collect(b)));
      }),
      { numRuns: 100 },
    );
  });

  it("cannot be read synchronously: chunks() throws a plain Error before yielding", () => {
    const composed = composeMessage(withStream(streamOf(new Uint8Array(10)), 10));
    let error: unknown;
    try {
      for (const _ of composed.chunks()) throw new Error("yielded");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(SmtpError);
    expect((error as Error).message).toMatch(/attachments\[0\]\.content.*stream\(\)/);
  });

  it("can be read only once", async () => {
    const composed = composeMessage(withStream(streamOf(new Uint8Array(10)), 10));
    await read(composed);
    await expect(read(composed)).rejects.toMatchObject({ field: "attachments[0].content", message: expect.stringMatching(/already read/) });
  });

  it("fail as soon as the stream yields more than the declared size, cancelling it", async () => {
    const stream = streamOf(randomBytes(100_000), [1000]);
    const composed = composeMessage(withStream(stream, 50_000));
    const error = await read(composed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpValidationError);
    expect(error).toMatchObject({ field: "attachments[0].size", code: "EATTACHMENT", message: expect.stringMatching(/more than the declared 50000/) });
    expect(stream.cancelled()).toBe(true);
  });

  it("fail when the stream ends short of the declared size", async () => {
    const composed = composeMessage({
      ...BASE,
      attachments: [
        { filename: "ok.bin", content: randomBytes(10) },
        { filename: "short.bin", content: streamOf(randomBytes(999)), size: 1000 },
      ],
    });
    await expect(read(composed)).rejects.toMatchObject({ field: "attachments[1].size", message: expect.stringMatching(/after 999 bytes, not the declared 1000/) });
  });

  it("fail on a chunk that is not a Uint8Array", async () => {
    const stream = new ReadableStream({ pull: (c) => c.enqueue("text" as unknown as Uint8Array) }) as ReadableStream<Uint8Array>;
    await expect(read(composeMessage(withStream(stream, 4)))).rejects.toMatchObject({ field: "attachments[0].content" });
  });

  it("pass the stream's own error through unchanged", async () => {
    const boom = new Error("disk on fire");
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.error(boom) });
    await expect(read(composeMessage(withStream(stream, 4)))).rejects.toBe(boom);
  });

  it("cancel the stream when the reader stops early", async () => {
    const stream = streamOf(randomBytes(500_000), [10_000]);
    const composed = composeMessage(withStream(stream, 500_000));
    for await (const _ of composed.stream!()) break;
    expect(stream.cancelled()).toBe(true);
  });

  it("need a size, refuse a locked stream and a bad size", () => {
    expect(validationError(() => composeMessage(withStream(streamOf(new Uint8Array(1)), undefined))).field).toBe("attachments[0].size");
    const locked = streamOf(new Uint8Array(1));
    locked.getReader();
    expect(validationError(() => composeMessage(withStream(locked, 1))).message).toMatch(/locked/);
    for (const size of [-1, 1.5, Number.NaN, "10", 2 ** 60]) {
      const error = validationError(() => composeMessage(withStream(streamOf(new Uint8Array(1)), size as number)));
      expect(error).toMatchObject({ field: "attachments[0].size", code: "EATTACHMENT" });
    }
  });

  it("check a size given with bytes or base64 content", () => {
    const ok = (content: string | Uint8Array, size: number): number =>
      composeMessage({ ...BASE, attachments: [{ filename: "a.bin", content, size }] }).size;
    expect(ok(new Uint8Array(5), 5)).toBeGreaterThan(0);
    expect(ok("aGVsbG8=", 5)).toBeGreaterThan(0);
    expect(ok("aGVs\r\nbG8h", 6)).toBeGreaterThan(0);
    expect(ok("aA==\n", 1)).toBeGreaterThan(0);
    expect(ok("", 0)).toBeGreaterThan(0);
    expect(validationError(() => ok(new Uint8Array(5), 6)).message).toMatch(/is 6 but the content has 5 bytes/);
    expect(validationError(() => ok("aGVsbG8=", 6)).field).toBe("attachments[0].size");
  });
});
