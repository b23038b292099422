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
