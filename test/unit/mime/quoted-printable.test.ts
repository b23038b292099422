import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeTextBody } from "../../../src/mime/body.ts";
import { encodeQuotedPrintable, isSevenBitText, normalizeNewlines } from "../../../src/mime/quoted-printable.ts";

/** A strict RFC 2045 §6.7 decoder for the tests: it checks the encoder's promises as it goes. */
function decodeQp(encoded: string): string {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const lines = encoded.split("\r\n");
  const bytes: number[] = [];
  lines.forEach((line, index) => {
    expect(line.length).toBeLessThanOrEqual(76);
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toMatch(/^[\x20-\x7e\t]*$/);
    const soft = line.endsWith("=");
    if (!soft) expect(line).not.toMatch(/[ \t]$/); // rule 3: no trailing whitespace
    const body = soft ? line.slice(0, -1) : line;
    const lineBytes: number[] = [];
    for (let i = 0; i < body.length; i++) {
      if (body[i] === "=") {
        expect(body.slice(i + 1, i + 3)).toMatch(/^[0-9A-F]{2}$/);
        lineBytes.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
      } else lineBytes.push(body.charCodeAt(i));
    }
    // Each physical line holds whole UTF-8 sequences: soft breaks never split a character.
    strict.decode(new Uint8Array(lineBytes));
    bytes.push(...lineBytes);
    if (!soft && index < lines.length - 1) bytes.push(13, 10);
  });
  return strict.decode(new Uint8Array(bytes));
}

describe("normalizeNewlines", () => {
  it("turns CRLF, bare CR and bare LF into CRLF", () => {
    expect(normalizeNewlines("a\r\nb\rc\nd\n\re\r\r\n")).toBe("a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\n");
  });
});

describe("isSevenBitText", () => {
  it("accepts printable ASCII and tabs with lines up to 998", () => {
    expect(isSevenBitText("plain\ttext\r\n" + "x".repeat(998) + "\n")).toBe(true);
  });
  it("refuses non-ASCII, controls, NUL and long lines", () => {
    expect(isSevenBitText("café")).toBe(false);
    expect(isSevenBitText("a\0b")).toBe(false);
    expect(isSevenBitText("a\x1bb")).toBe(false);
    expect(isSevenBitText("x".repeat(999))).toBe(false);
  });
});

describe("encodeQuotedPrintable", () => {
  it("encodes =, non-ASCII and trailing whitespace", () => {
    expect(encodeQuotedPrintable("a=b")).toBe("a=3Db");
    expect(encodeQuotedPrintable("é")).toBe("=C3=A9");
    expect(encodeQuotedPrintable("end \nx\t")).toBe("end=20\r\nx=09");
    expect(encodeQuotedPrintable("a b")).toBe("a b");
  });

  it("encodes From at a line start and leaves a leading dot to the session", () => {
    expect(encodeQuotedPrintable("From me\n.dot\nFromage")).toBe("=46rom me\r\n.dot\r\nFromage");
  });

  it("soft-breaks a 4000-character line into lines of at most 76", () => {
    const encoded = encodeQuotedPrintable("é" + "x".repeat(4000));
    expect(decodeQp(encoded)).toBe("é" + "x".repeat(4000));
    expect(encoded.split("\r\n").length).toBeGreaterThan(50);
  });

  it("never splits a multi-byte character at a soft break, whatever the offset", () => {
    for (let pad = 0; pad < 12; pad++) {
      const text = "a".repeat(pad) + "€😀日本".repeat(40);
      expect(decodeQp(encodeQuotedPrintable(text))).toBe(text);
    }
  });

  it("round-trips any text after newline normalisation", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        expect(decodeQp(encodeQuotedPrintable(text))).toBe(normalizeNewlines(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("handles long runs of spaces and = at the 76-column edge", () => {
    for (let pad = 60; pad < 80; pad++) {
      const text = "y".repeat(pad) + "= = =   \t\t  " + "z".repeat(pad) + "     ";
      expect(decodeQp(encodeQuotedPrintable(text))).toBe(text);
    }
  });
});

describe("encodeTextBody", () => {
  it("uses 7bit for short-lined ASCII and quoted-printable otherwise", () => {
    expect(encodeTextBody("hi\nthere").encoding).toBe("7bit");
    expect(Buffer.from(encodeTextBody("hi\nthere\r").bytes).toString()).toBe("hi\r\nthere\r\n");
    expect(encodeTextBody("héllo").encoding).toBe("quoted-printable");
    expect(encodeTextBody("x".repeat(999)).encoding).toBe("quoted-printable");
    expect(encodeTextBody("nul\0").encoding).toBe("quoted-printable");
  });
});
