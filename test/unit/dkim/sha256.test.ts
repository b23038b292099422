// SHA-256 (FIPS 180-4) against the NIST example vectors, and against node:crypto for any
// input split into any pieces.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256, Sha256 } from "../../../src/dkim/sha256.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("SHA-256 NIST vectors (FIPS 180-4 examples, NIST CAVS short/long messages)", () => {
  it.each([
    ["empty message", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["one block: abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "two blocks: 448-bit message",
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "896-bit message",
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
  ])("%s", (_name, input, expected) => {
    expect(hex(sha256(ascii(input)))).toBe(expected);
  });

  it("one million times 'a', fed in uneven pieces", () => {
    const h = new Sha256();
    const piece = ascii("a".repeat(999));
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, piece.length);
      h.update(piece.subarray(0, n));
      left -= n;
    }
    expect(hex(h.digest())).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("NIST byte-oriented short messages (SHA256ShortMsg.rsp)", () => {
    expect(hex(sha256(Uint8Array.of(0xd3)))).toBe("28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1");
    expect(hex(sha256(Uint8Array.of(0x11, 0xaf)))).toBe("5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98");
  });
});

describe("SHA-256 as a stream", () => {
  it("matches node:crypto at every length around the padding boundaries", () => {
    for (let n = 0; n <= 200; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(hex(sha256(data))).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });

  it("gives the same digest however the input is split", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat({ max: 600 }), { maxLength: 8 }), (data, cuts) => {
        const h = new Sha256();
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          const end = Math.min(cut, data.length);
          if (end > at) {
            h.update(data.subarray(at, end));
            at = end;
          }
        }
        h.update(data.subarray(at));
        expect(hex(h.digest())).toBe(createHash("sha256").update(data).digest("hex"));
      }),
      { numRuns: 300 },
    );
  });

  it("hashes 25 MB in 64 KiB pieces and agrees with node:crypto", () => {
    const data = new Uint8Array(25 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
    const h = new Sha256();
    for (let i = 0; i < data.length; i += 65536) h.update(data.subarray(i, i + 65536));
    expect(hex(h.digest())).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("refuses to be used after digest()", () => {
    const h = new Sha256();
    h.digest();
    expect(() => h.update(ascii("x"))).toThrow(/after digest/);
    expect(() => h.digest()).toThrow(/twice/);
  });
});
