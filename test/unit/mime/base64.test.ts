import { describe, expect, it } from "vitest";
import {
  checkBase64,
  encodeBase64,
  encodedBase64Size,
  toBase64,
  wrapBase64,
  wrappedBase64Size,
} from "../../../src/mime/base64.ts";
import { randomBytes, validationError } from "./support.ts";

function joined(chunks: Iterable<Uint8Array>): string {
  return Buffer.concat([...chunks].map((c) => Buffer.from(c))).toString("latin1");
}

/** What a correct 76-column CRLF wrapping of `b64` looks like (no CRLF after the last line). */
function reference(b64: string): string {
  return (b64.match(/.{1,76}/g) ?? []).join("\r\n");
}

describe("checkBase64", () => {
  it.each([
    ["", 0],
    ["QUJD", 4],
    ["QUI=", 4],
    ["QQ==", 4],
    ["QUJD\r\nREVG", 8],
    [" Q U J D \t", 4],
    ["QQ=\n=", 4],
    ["aGVsbG8gd29ybGQ=\r\n", 16],
  ])("accepts %j (stripped length %i)", (input, length) => {
    expect(checkBase64(input, "attachments[0].content")).toBe(length);
  });

  it.each([
    ["bad alphabet", "ab$d", /character "\$"/],
    ["URL-safe alphabet", "ab-_", /URL-safe/],
    ["misplaced padding", "ab=d", /middle/],
    ["wrong length with padding", "abc==", /multiple of 4/],
    ["wrong length", "abcde", /multiple of 4/],
    ["trailing garbage", "QUJD!", /character "!"/],
    ["three padding characters", "a===", /more than two/],
    ["padding then data", "QQ==QUJD", /middle/],
    ["non-ASCII", "QUJDé===", /U\+00E9/],
    ["NUL", "QU\0D", /U\+0000/],
    ["form feed is not whitespace here", "QUJD\f", /U\+000C/],
  ])("refuses %s", (_label, input, pattern) => {
    const error = validationError(() => checkBase64(input, "attachments[2].content"));
    expect(error.field).toBe("attachments[2].content");
    expect(error.code).toBe("EATTACHMENT");
    expect(error.message).toMatch(pattern);
  });
});

describe("wrapBase64", () => {
  it.each([0, 1, 2, 3, 56, 57, 58, 114, 1000, 49_000, 65_536, 200_001])(
    "re-wraps %i bytes' worth exactly like a reference wrapper, with the announced size",
    (n) => {
      const b64 = Buffer.from(randomBytes(n, n + 7)).toString("base64");
      const stripped = checkBase64(b64, "x");
      const out = joined(wrapBase64(b64, stripped));
      expect(out).toBe(reference(b64));
      expect(out.length).toBe(wrappedBase64Size(stripped));
    },
  );

  it("skips any whitespace in the source while emitting", () => {
    const b64 = Buffer.from(randomBytes(5000, 3)).toString("base64");
    const messy = b64.replace(/(.{7})/g, "$1\r\n").replace(/(.{13})/g, "$1 \t ") + "\n\n";
    const stripped = checkBase64(messy, "x");
    expect(stripped).toBe(b64.length);
    expect(joined(wrapBase64(messy, stripped))).toBe(reference(b64));
  });

  it("yields chunks of at most 64 KiB and restarts from the beginning", () => {
    const b64 = Buffer.from(randomBytes(300_000, 9)).toString("base64");
    const stripped = checkBase64(b64, "x");
    const chunks = [...wrapBase64(b64, stripped)];
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(65536);
    expect(joined(wrapBase64(b64, stripped))).toBe(joined(chunks));
  });
});

describe("encodeBase64", () => {
  it.each([0, 1, 2, 3, 4, 56, 57, 58, 171, 47_880, 47_881, 100_000])(
    "encodes %i bytes exactly like Buffer, wrapped, with the announced size",
    (n) => {
      const bytes = randomBytes(n, n + 1);
      const out = joined(encodeBase64(bytes));
      expect(out).toBe(reference(Buffer.from(bytes).toString("base64")));
      expect(out.length).toBe(encodedBase64Size(n));
    },
  );

  it("yields chunks of at most 64 KiB", () => {
    for (const c of encodeBase64(randomBytes(500_000))) expect(c.length).toBeLessThanOrEqual(65536);
  });

  it("toBase64 matches Buffer for small inputs", () => {
    for (let n = 0; n < 20; n++) {
      const bytes = randomBytes(n, 40 + n);
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    }
  });
});

// Long strings take the fast paths: validation four characters per 32-bit element past one
// 64 KiB block, and re-wrapping chunk by chunk. Both are checked against straightforward
// references over random inputs, with every kind of fault at awkward offsets.
describe("base64 fast paths against references", () => {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  /** Deterministic random base64-alphabet text of `n` characters. */
  function alphabetText(n: number, seed: number): string {
    const bytes = randomBytes(n, seed);
    let s = "";
    for (let i = 0; i < n; i++) s += ALPHABET[bytes[i]! & 63];
    return s;
  }
  /** What checkBase64 should say: the stripped length, or that the string is invalid. */
  function referenceCheck(value: string): number | "invalid" {
    const stripped = value.replace(/[\r\n \t]/g, "");
    return /^[A-Za-z0-9+/]*={0,2}$/.test(stripped) && stripped.length % 4 === 0 ? stripped.length : "invalid";
  }
  function outcome(value: string): { length: number } | { message: string } {
    try {
      return { length: checkBase64(value, "attachments[1].content") };
    } catch (error) {
      const e = validationError(() => {
        throw error;
      });
      expect(e.field).toBe("attachments[1].content");
      expect(e.code).toBe("EATTACHMENT");
      return { message: e.message };
    }
  }

  // Around the 64 KiB validation block, the 63,840-character wrap chunk, and odd lengths.
  const lengths = [65_532, 65_536, 65_540, 65_544, 63_840, 127_680, 131_072, 131_076, 200_000];
  const bad = ["$", "-", "_", ".", "\0", "\f", "é", "\u0100", "😀", "\u2028", "\x7f", "*", "@", "[", "`", "{"];

  it("accepts long clean and padded strings with their full length", () => {
    for (const [i, n] of lengths.entries()) {
      for (const pad of ["", "=", "=="]) {
        const value = alphabetText(n - pad.length, i + 1) + pad;
        expect(referenceCheck(value)).toBe(n);
        expect(outcome(value)).toEqual({ length: n });
      }
    }
  });

  it("finds one bad character anywhere in a long string and names its offset", () => {
    let seed = 100;
    for (const n of lengths) {
      // Every position within a 32-bit element, the block edges, the very start and end.
      const offsets = [0, 1, 2, 3, 65_534, 65_535, 65_536, 65_537, n - 2, n - 1];
      for (let k = 0; k < 6; k++) offsets.push(randomBytes(4, seed++).reduce((a, b) => a * 256 + b, 0) % n);
      for (const at of offsets.filter((o) => o >= 0 && o < n)) {
        const ch = bad[seed++ % bad.length]!;
        const text = alphabetText(n, seed);
        const got = outcome(text.slice(0, at) + ch + text.slice(at + 1));
        expect(got).toHaveProperty("message");
        expect((got as { message: string }).message).toContain(`at offset ${at}`);
      }
    }
  });

  it("checks the odd character left before the padding of a long string", () => {
    for (const n of [65_540, 131_076, 200_000]) {
      for (const pad of ["=", "=="]) {
        const end = n - pad.length;
        for (const at of [end - 1, end - 2, end - 3]) {
          const text = alphabetText(end, at);
          const got = outcome(text.slice(0, at) + "$" + text.slice(at + 1) + pad);
          expect((got as { message: string }).message).toContain(`at offset ${at}`);
        }
      }
    }
  });

  it("refuses padding in the middle of a long string, naming the offset after it", () => {
    for (const at of [0, 1, 65_535, 65_536, 100_001, 199_996]) {
      const text = alphabetText(200_000, at + 3);
      const got = outcome(text.slice(0, at) + "=" + text.slice(at + 1));
      expect((got as { message: string }).message).toContain(`"=" padding in the middle (offset ${at + 1})`);
    }
  });

  it("agrees with the reference on random long strings with random faults and whitespace", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = randomBytes(16, seed * 7919);
      const n = 65_000 + ((r[0]! << 8) | r[1]!) * 2; // 65,000 to about 196,000
      let value = alphabetText(n, seed);
      const kind = r[2]! % 5;
      if (kind === 1) value = value.slice(0, -1) + "=";
      if (kind === 2) value = value.slice(0, -2) + "==";
      if (kind === 3) {
        const at = ((r[3]! << 16) | (r[4]! << 8) | r[5]!) % n;
        value = value.slice(0, at) + bad[r[6]! % bad.length] + value.slice(at + 1);
      }
      if (kind === 4) {
        const at = ((r[3]! << 16) | (r[4]! << 8) | r[5]!) % n;
        value = value.slice(0, at) + ["\r\n", " ", "\t", "\n"][r[7]! % 4] + value.slice(at);
      }
      const expected = referenceCheck(value);
      const got = outcome(value);
      if (expected === "invalid") expect(got).toHaveProperty("message");
      else expect(got).toEqual({ length: expected });
    }
  });

  it("re-wraps long clean and whitespace-laden strings exactly like the reference, chunk boundaries included", () => {
    // One 63,840-character chunk is 840 lines: just under, exactly, a partial or a whole line over.
    const sizes = [63_836, 63_840, 63_844, 63_916, 127_676, 127_680, 127_684, 127_756, 191_524];
    for (const [i, n] of sizes.entries()) {
      const clean = alphabetText(n, i + 500);
      const stripped = checkBase64(clean, "x");
      const out = joined(wrapBase64(clean, stripped));
      expect(out).toBe(reference(clean));
      expect(out.length).toBe(wrappedBase64Size(stripped));
      const chunks = [...wrapBase64(clean, stripped)];
      for (const c of chunks) expect(c.length).toBeLessThanOrEqual(65_536);
      // The same text broken by whitespace at random places.
      const messy = clean.replace(/(.{61})/g, "$1\r\n").replace(/(.{997})/g, "$1 \t");
      const messyStripped = checkBase64(messy, "x");
      expect(messyStripped).toBe(clean.length);
      expect(joined(wrapBase64(messy, messyStripped))).toBe(reference(clean));
    }
  });
});

describe("transient reading (one reused output buffer)", () => {
  /** Reads `chunks` one at a time as a socket writer does: each is copied before the next is asked for. */
  function copiedOneByOne(chunks: Iterable<Uint8Array>): { copies: Uint8Array[]; buffers: ArrayBufferLike[] } {
    const copies: Uint8Array[] = [];
    const buffers: ArrayBufferLike[] = [];
    for (const c of chunks) {
      copies.push(c.slice());
      buffers.push(c.buffer);
    }
    return { copies, buffers };
  }

  it("wrapBase64 yields the same chunks as the fresh form, from one buffer, for clean and whitespace-laden strings", () => {
    for (const [i, n] of [76, 63_840, 63_844, 127_680, 200_000].entries()) {
      const clean = Buffer.from(randomBytes(n, i + 40)).toString("base64");
      const messy = clean.replace(/(.{61})/g, "$1\r\n");
      for (const text of [clean, messy]) {
        const stripped = checkBase64(text, "x");
        const fresh = [...wrapBase64(text, stripped)];
        const { copies, buffers } = copiedOneByOne(wrapBase64(text, stripped, true));
        expect(copies.map((c) => Buffer.from(c).toString("latin1"))).toEqual(fresh.map((c) => Buffer.from(c).toString("latin1")));
        expect(new Set(buffers).size).toBe(1);
        // The fresh chunks were kept while later ones were made: each still holds its own bytes.
        expect(joined(fresh)).toBe(reference(clean));
        if (fresh.length > 1) expect(new Set(fresh.map((c) => c.buffer)).size).toBe(fresh.length);
      }
    }
  });

  it("encodeBase64 yields the same chunks as the fresh form, from one buffer", () => {
    for (const n of [1, 57, 47_880, 47_881, 200_000]) {
      const bytes = randomBytes(n, n);
      const fresh = [...encodeBase64(bytes)];
      const { copies, buffers } = copiedOneByOne(encodeBase64(bytes, true));
      expect(copies.map((c) => Buffer.from(c).toString("latin1"))).toEqual(fresh.map((c) => Buffer.from(c).toString("latin1")));
      expect(new Set(buffers).size).toBe(1);
      expect(joined(fresh)).toBe(reference(Buffer.from(bytes).toString("base64")));
    }
  });
});
