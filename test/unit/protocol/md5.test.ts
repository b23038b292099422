// MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) against the RFCs' own vectors, then against
// node:crypto (an independent implementation) on every length around the padding edges.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacMd5, md5, toHex } from "../../../src/protocol/md5.ts";

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const repeat = (byte: number, count: number): Uint8Array => new Uint8Array(count).fill(byte);

describe("md5: RFC 1321 appendix A.5 test suite", () => {
  it.each([
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ])("MD5(%j)", (input, digest) => {
    expect(toHex(md5(ascii(input)))).toBe(digest);
  });

  it("returns 16 bytes", () => {
    expect(md5(ascii("abc"))).toHaveLength(16);
  });
});

describe("md5 agrees with node:crypto", () => {
  it("on every length from 0 to 300 bytes (each padding case: 55, 56, 63, 64, 119, 120 …)", () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = randomBytes(length);
      expect(toHex(md5(bytes)), `length ${length}`).toBe(createHash("md5").update(bytes).digest("hex"));
    }
  });

  it("on a 1 MiB input", () => {
    const bytes = randomBytes(1 << 20);
    expect(toHex(md5(bytes))).toBe(createHash("md5").update(bytes).digest("hex"));
  });

  it("does not modify its input", () => {
    const bytes = ascii("unchanged");
    md5(bytes);
    expect(new TextDecoder().decode(bytes)).toBe("unchanged");
  });
});

describe("hmacMd5: RFC 2202 §2 test cases", () => {
  const key4 = Uint8Array.from({ length: 25 }, (_, i) => i + 1);
  it.each([
    [1, repeat(0x0b, 16), ascii("Hi There"), "9294727a3638bb1c13f48ef8158bfc9d"],
    [2, ascii("Jefe"), ascii("what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738"],
    [3, repeat(0xaa, 16), repeat(0xdd, 50), "56be34521d144c88dbb8c733f0e8b3f6"],
    [4, key4, repeat(0xcd, 50), "697eaf0aca3a3aea3a75164746ffaa79"],
    [5, repeat(0x0c, 16), ascii("Test With Truncation"), "56461ef2342edc00f9bab995690efd4c"],
    [6, repeat(0xaa, 80), ascii("Test Using Larger Than Block-Size Key - Hash Key First"), "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"],
    [7, repeat(0xaa, 80), ascii("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"), "6f630fad67cda0ee1fb1f562db3aa53e"],
  ])("test case %i", (_n, key, data, digest) => {
    expect(toHex(hmacMd5(key, data))).toBe(digest);
  });

  it("agrees with node:crypto for keys of 0 to 130 bytes (shorter than, equal to and longer than a block)", () => {
    for (let length = 0; length <= 130; length++) {
      const key = randomBytes(length);
      const data = randomBytes(length * 2 + 1);
      expect(toHex(hmacMd5(key, data)), `key length ${length}`).toBe(createHmac("md5", key).update(data).digest("hex"));
    }
  });
});

describe("toHex", () => {
  it("writes two lower-case digits per byte", () => {
    expect(toHex(Uint8Array.from([0, 9, 10, 255]))).toBe("00090aff");
    expect(toHex(new Uint8Array(0))).toBe("");
  });
});
