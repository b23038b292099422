import { describe, expect, it } from "vitest";
import { composeMessage } from "../../../src/mime/compose.ts";
import {
  CHUNK_SIZE,
  PASS_THROUGH,
  bytesSegment,
  chunkSegments,
  isDotFree,
  lazySegment,
  streamSegments,
  type AnySegment,
  type StreamSegment,
} from "../../../src/mime/stream.ts";
import { DotStuffer } from "../../../src/protocol/dot-stuffer.ts";
import { concat, randomBytes, rng, streamOf } from "../../helpers/bytes.ts";

const DOT = 0x2e;


/** Bytes with no "." at all (base64 text and CRLFs), `n` long. */
function dotFreeBytes(n: number, seed: number): Uint8Array {
  const out = randomBytes(n, seed);
  const alphabet = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\r\n");
  for (let i = 0; i < n; i++) out[i] = alphabet[out[i]! % alphabet.length]!;
  return out;
}

/** Bytes where "." is common, `n` long. */
function dottedBytes(n: number, seed: number): Uint8Array {
  const out = randomBytes(n, seed);
  const alphabet = new TextEncoder().encode(".\r\nab");
  for (let i = 0; i < n; i++) out[i] = alphabet[out[i]! % alphabet.length]!;
  return out;
}

/** A dot-free segment yielding its bytes in pieces of the given sizes. */
function piecewise(bytes: Uint8Array, sizes: number[], dotFree: boolean): AnySegment {
  return lazySegment(bytes.length, function* () {
    let at = 0;
    for (const n of sizes) {
      yield bytes.subarray(at, at + n);
      at += n;
    }
    if (at < bytes.length) yield bytes.subarray(at);
  }, dotFree);
}


/** Random segments: dot-free ones (pieces small and large) mixed with dotted text. */
function randomSegments(seed: number): { segments: AnySegment[]; whole: Uint8Array } {
  const random = rng(seed);
  const segments: AnySegment[] = [];
  const parts: Uint8Array[] = [];
  const count = 1 + Math.floor(random() * 6);
  for (let s = 0; s < count; s++) {
    if (random() < 0.5) {
      const n = Math.floor(random() * 3 * CHUNK_SIZE);
      const bytes = dotFreeBytes(n, seed * 31 + s);
      const sizes: number[] = [];
      for (let left = n; left > 0; ) {
        // Some pieces big enough to pass through the chunker, some small enough to be gathered.
        const size = Math.min(left, random() < 0.5 ? 1 + Math.floor(random() * 100) : CHUNK_SIZE / 2 + Math.floor(random() * (CHUNK_SIZE / 2)));
        sizes.push(size);
        left -= size;
      }
      segments.push(piecewise(bytes, sizes, true));
      parts.push(bytes);
    } else {
      const bytes = dottedBytes(Math.floor(random() * 2000), seed * 37 + s);
      segments.push(random() < 0.5 ? bytesSegment(bytes) : piecewise(bytes, [1, 7, 300], false));
      parts.push(bytes);
    }
  }
  return { segments, whole: concat(parts) };
}

describe("dot-free chunks", () => {
  it("are marked only when they hold no dot, and the bytes are unchanged, for chunks() and stream()", async () => {
    let marked = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const { segments, whole } = randomSegments(seed);
      const sync = [...chunkSegments(segments)];
      const streamed: Uint8Array[] = [];
      for await (const c of streamSegments(segments)) streamed.push(c);
      for (const chunks of [sync, streamed]) {
        expect(Buffer.from(concat(chunks)).equals(Buffer.from(whole))).toBe(true);
        for (const c of chunks) {
          expect(c.length).toBeLessThanOrEqual(CHUNK_SIZE);
          if (isDotFree(c)) {
            marked++;
            expect(c.includes(DOT)).toBe(false);
          }
        }
      }
    }
    // The marking is in use, not just harmless.
    expect(marked).toBeGreaterThan(100);
  });

  it("marks the chunks of a stream segment that says it is dot-free", async () => {
    const bytes = dotFreeBytes(200_000, 5);
    const segment: StreamSegment = {
      size: bytes.length,
      field: "attachments[0].content",
      dotFree: true,
      async *stream() {
        for (let at = 0; at < bytes.length; at += 40_000) yield bytes.subarray(at, at + 40_000);
      },
    };
    const chunks: Uint8Array[] = [];
    for await (const c of streamSegments([segment])) chunks.push(c);
    expect(Buffer.from(concat(chunks)).equals(Buffer.from(bytes))).toBe(true);
    expect(chunks.every(isDotFree)).toBe(true);
  });

  it("never marks a chunk gathered from a dot-free piece and a dotted one", () => {
    const segments = [lazySegment(10, () => [dotFreeBytes(10, 1)], true), bytesSegment(new TextEncoder().encode(".x")), lazySegment(10, () => [dotFreeBytes(10, 2)], true)];
    const chunks = [...chunkSegments(segments)];
    expect(chunks).toHaveLength(1);
    expect(isDotFree(chunks[0]!)).toBe(false);
  });

  it("covers the base64 of every kind of attachment in a composed message, and stuffing them gives the reference bytes", async () => {
    // Long enough that its chunks pass through the chunker on their own.
    const text = ".starts with a dot\n..two\nmiddle . dot\n".repeat(6000) + ".";
    const data = randomBytes(150_000, 3);
    const b64 = Buffer.from(randomBytes(120_000, 4)).toString("base64");
    const message = composeMessage({
      from: "a@example.com",
      to: "b@example.com",
      subject: "s",
      text,
      attachments: [
        { filename: "a.bin", content: data },
        { filename: "b.bin", content: b64 },
        { filename: "c.bin", content: b64.replace(/(.{50})/g, "$1\r\n") },
        {
          filename: "d.bin",
          size: data.length,
          content: streamOf(data, 30_000),
        },
      ],
    });
    const chunks: Uint8Array[] = [];
    for await (const c of message.stream!()) chunks.push(c);
    const whole = concat(chunks);
    expect(whole.length).toBe(message.size);
    const markedBytes = chunks.filter(isDotFree).reduce((n, c) => n + c.length, 0);
    // Most of the message is base64 and skips the scan.
    expect(markedBytes / whole.length).toBeGreaterThan(0.6);
    const stuffer = new DotStuffer();
    const out = Buffer.concat([...chunks.map((c) => stuffer.stuff(c, isDotFree(c))), stuffer.terminator()]).toString("latin1");
    const body = Buffer.from(whole).toString("latin1");
    const reference = ("\n" + body).replace(/\n\./g, "\n..").slice(1) + ".\r\n";
    expect(out).toBe(reference);
    expect(out).toContain("\r\n..starts with a dot\r\n...two\r\nmiddle . dot\r\n..\r\n");
  });
});

describe("transient reading of a composed message", () => {
  function composed(): ReturnType<typeof composeMessage> {
    const data = randomBytes(150_000, 5);
    const b64 = Buffer.from(randomBytes(200_000, 6)).toString("base64");
    return composeMessage({
      from: "a@example.com",
      to: "b@example.com",
      subject: "s",
      text: "short text",
      attachments: [
        { filename: "a.bin", content: data },
        { filename: "b.bin", content: b64 },
        { filename: "c.txt", content: new TextEncoder().encode("tiny") },
        { filename: "d.bin", content: b64.replace(/(.{50})/g, "$1\r\n") },
      ],
    });
  }

  it("gives the same bytes as a fresh read; chunks under PASS_THROUGH stay intact after later ones are made", async () => {
    const message = composed();
    const fresh = concat([...message.chunks()]);
    for (const read of ["chunks", "stream"] as const) {
      const copies: Uint8Array[] = [];
      const kept: [Uint8Array, Uint8Array][] = [];
      const large = new Set<ArrayBufferLike>();
      const take = (c: Uint8Array): void => {
        copies.push(c.slice());
        if (c.length < PASS_THROUGH) kept.push([c, c.slice()]);
        else large.add(c.buffer);
      };
      if (read === "chunks") for (const c of message.chunks(true)) take(c);
      else for await (const c of message.stream!(true)) take(c);
      expect(Buffer.compare(Buffer.from(concat(copies)), Buffer.from(fresh)), read).toBe(0);
      for (const [chunk, copy] of kept) expect(Buffer.compare(Buffer.from(chunk), Buffer.from(copy)), read).toBe(0);
      // Three attachments of several 64 KiB chunks each: one reused buffer per attachment.
      expect(large.size, read).toBe(3);
    }
  });
});
