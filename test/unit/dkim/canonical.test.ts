// Relaxed canonicalisation (RFC 6376 §3.4.2, §3.4.4): the RFC's own example, edge cases,
// and the streaming body form against a line-by-line reference for any input and split.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RelaxedBody, relaxedBody, relaxedHeader } from "../../../src/dkim/canonical.ts";
import { HeaderSplitter, splitFields } from "../../../src/dkim/header-section.ts";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);
const canon = (s: string): string => text(relaxedBody(bytes(s)));

// The reference: split into CRLF lines, fix each line, drop trailing empty lines.
function reference(body: string): string {
  const lines = body.split("\r\n");
  const out = lines.map((l) => l.replace(/[ \t]+/g, " ").replace(/ $/, ""));
  // The part after the last CRLF is an unterminated line (maybe empty).
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.length === 0 ? "" : out.join("\r\n") + "\r\n";
}

describe("relaxed header canonicalisation", () => {
  it("RFC 6376 §3.4.5 example", () => {
    expect(relaxedHeader("A: X")).toBe("a:X\r\n");
    expect(relaxedHeader("B : Y\t\r\n\tZ  ")).toBe("b:Y Z\r\n");
  });

  it("lower-cases the name, unfolds, squeezes whitespace, trims around the value", () => {
    expect(relaxedHeader("Subject:   Hello \t  World\r\n  again  ")).toBe("subject:Hello World again\r\n");
    expect(relaxedHeader("X-Empty:")).toBe("x-empty:\r\n");
    expect(relaxedHeader("DKIM-Signature: v=1; b=", false)).toBe("dkim-signature:v=1; b=");
  });
});

describe("relaxed body canonicalisation", () => {
  it("RFC 6376 §3.4.5 example", () => {
    expect(canon(" C \r\nD \t E\r\n\r\n\r\n")).toBe(" C\r\nD E\r\n");
  });

  it.each([
    ["empty body", "", ""],
    ["only empty lines", "\r\n\r\n\r\n", ""],
    ["only whitespace lines", " \r\n\t\t\r\n  \r\n", ""],
    ["no final CRLF: one is added", "abc", "abc\r\n"],
    ["trailing whitespace without a final CRLF", "abc  \t", "abc\r\n"],
    ["leading empty lines are kept", "\r\n\r\nabc\r\n", "\r\n\r\nabc\r\n"],
    ["whitespace-only lines inside become empty", "a\r\n   \r\nb\r\n", "a\r\n\r\nb\r\n"],
    ["trailing blank and whitespace-only lines are dropped", "a\r\n \r\n\t\r\n\r\n", "a\r\n"],
    ["leading whitespace becomes one space", "\t\t x\r\n", " x\r\n"],
    ["a lone LF or CR is ordinary content", "a\nb\rc\r\n", "a\nb\rc\r\n"],
    ["a CR just before the end", "a\r", "a\r\r\n"],
  ])("%s", (_name, input, expected) => {
    expect(canon(input)).toBe(expected);
    expect(canon(input)).toBe(reference(input));
  });

  it("matches the reference for any body and any split into pieces", () => {
    const alphabet = fc.constantFrom("a", "b", " ", "\t", "\r", "\n", "\r\n", "\r\n\r\n", ".", "é");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }).map((a) => a.join("")), fc.array(fc.nat(200), { maxLength: 6 }), (body, cuts) => {
        const input = bytes(body.replace(/é/g, "\xe9"));
        const parts: number[] = [];
        const c = new RelaxedBody((b) => parts.push(...b));
        let at = 0;
        for (const cut of [...cuts].sort((x, y) => x - y)) {
          const end = Math.min(cut, input.length);
          if (end > at) c.update(input.subarray(at, end));
          at = Math.max(at, end);
        }
        c.update(input.subarray(at));
        c.finish();
        expect(String.fromCharCode(...parts)).toBe(reference(text(input)));
      }),
      { numRuns: 500 },
    );
  });

  it("emits its output in bounded pieces for a large body", () => {
    let largest = 0;
    let total = 0;
    const c = new RelaxedBody((b) => {
      largest = Math.max(largest, b.length);
      total += b.length;
    });
    const line = bytes("x".repeat(998) + "\r\n");
    for (let i = 0; i < 10_000; i++) c.update(line);
    c.finish();
    expect(total).toBe(10_000 * 1000);
    expect(largest).toBeLessThanOrEqual(65536);
  });
});

describe("header section", () => {
  it("splits at the first empty line, whatever the chunking", () => {
    const message = "A: 1\r\nB: 2\r\n folded\r\n\r\nbody\r\n\r\nmore\r\n";
    for (let size = 1; size <= message.length; size++) {
      const body: number[] = [];
      const s = new HeaderSplitter((b) => body.push(...b));
      for (let i = 0; i < message.length; i += size) s.push(bytes(message.slice(i, i + size)));
      expect(s.header()).toBe("A: 1\r\nB: 2\r\n folded\r\n");
      expect(String.fromCharCode(...body)).toBe("body\r\n\r\nmore\r\n");
    }
  });

  it("splits fields, keeping folded lines with their field", () => {
    expect(splitFields("A: 1\r\nSubject : x\r\n\ty\r\nB:\r\n")).toEqual([
      { name: "a", text: "A: 1" },
      { name: "subject", text: "Subject : x\r\n\ty" },
      { name: "b", text: "B:" },
    ]);
  });
});
