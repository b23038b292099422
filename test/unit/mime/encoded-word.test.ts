import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeWords, phraseTokens, unstructuredTokens } from "../../../src/mime/encoded-word.ts";

const WORD = /^=\?utf-8\?([BQ])\?([^?\s]*)\?=$/;

/** Decodes one encoded word to its bytes (a strict test decoder). */
function wordBytes(word: string): Buffer {
  const m = WORD.exec(word);
  if (!m) throw new Error(`not an encoded word: ${word}`);
  if (m[1] === "B") return Buffer.from(m[2]!, "base64");
  const bytes: number[] = [];
  const payload = m[2]!;
  for (let i = 0; i < payload.length; i++) {
    const ch = payload[i]!;
    if (ch === "_") bytes.push(0x20);
    else if (ch === "=") {
      bytes.push(parseInt(payload.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      expect(ch).toMatch(/[A-Za-z0-9!*+\-/]/); // RFC 2047 §5(3) phrase-safe literals only
      bytes.push(ch.charCodeAt(0));
    }
  }
  return Buffer.from(bytes);
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** Decodes every word on its own (so a split character would throw) and joins them. */
function decodeAll(words: string[]): string {
  return words.map((w) => strict.decode(wordBytes(w))).join("");
}

describe("encodeWords", () => {
  it("returns no words for empty text", () => {
    expect(encodeWords("")).toEqual([]);
  });

  it("uses Q for mostly-ASCII text and B for mostly non-ASCII text", () => {
    expect(encodeWords("Hello Zoë, how are you")[0]).toMatch(/^=\?utf-8\?Q\?/);
    expect(encodeWords("日本語のテキスト")[0]).toMatch(/^=\?utf-8\?B\?/);
    expect(encodeWords("😀😀😀")[0]).toMatch(/^=\?utf-8\?B\?/);
  });

  it("keeps every word within its budget and never splits a character", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.integer({ min: 24, max: 75 }),
        fc.integer({ min: 24, max: 75 }),
        (text, first, rest) => {
          const words = encodeWords(text, first, rest);
          words.forEach((w, i) => expect(w.length).toBeLessThanOrEqual(i === 0 ? first : rest));
          expect(decodeAll(words)).toBe(text);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("keeps surrogate pairs and 4-byte sequences whole even with the smallest budget", () => {
    const text = "a😀b😀😀c" + "😀".repeat(30);
    for (const budget of [24, 25, 26, 27, 30, 75]) {
      const words = encodeWords(text, budget, budget);
      expect(decodeAll(words)).toBe(text);
    }
  });

  it("turns a lone surrogate into U+FFFD like TextEncoder", () => {
    expect(decodeAll(encodeWords("a\ud800b"))).toBe("a\ufffdb");
  });

  it("refuses budgets outside 24..75", () => {
    expect(() => encodeWords("x", 23, 75)).toThrow(RangeError);
    expect(() => encodeWords("x", 75, 76)).toThrow(RangeError);
  });
});

describe("phraseTokens", () => {
  it.each([
    ["Ada Lovelace", ["Ada", "Lovelace"]],
    ["O'Brien", ["O'Brien"]],
    ["Ada L. Lovelace", ['"Ada L. Lovelace"']],
    ["Doe, John", ['"Doe, John"']],
    ['say "hi"', ['"say \\"hi\\""']],
    ["back\\slash", ['"back\\\\slash"']],
    ["two  spaces", ['"two  spaces"']],
  ])("%j", (name, tokens) => {
    expect(phraseTokens(name, 66)).toEqual(tokens);
  });

  it("encodes non-ASCII, encoded-word look-alikes and over-long names", () => {
    for (const name of ["Zoë", "=?utf-8?B?QUJD?=", "x".repeat(70), '"'.repeat(40)]) {
      const tokens = phraseTokens(name, 66);
      for (const t of tokens) expect(t).toMatch(WORD);
      expect(decodeAll(tokens)).toBe(name);
    }
  });
});

describe("unstructuredTokens", () => {
  it("keeps single-spaced printable ASCII as words", () => {
    expect(unstructuredTokens("Weekly report: all good!", 67, 75)).toEqual(["Weekly", "report:", "all", "good!"]);
    expect(unstructuredTokens("", 67, 75)).toEqual([]);
  });

  it.each([
    [" leading"],
    ["trailing "],
    ["two  spaces"],
    ["tab\there"],
    ["=?utf-8?B?x?="],
    ["café"],
    ["bell\x07"],
    ["x".repeat(68)],
  ])("encodes %j so every character survives", (value) => {
    const tokens = unstructuredTokens(value, 67, 75);
    for (const t of tokens) expect(t).toMatch(WORD);
    expect(decodeAll(tokens)).toBe(value);
    expect(tokens[0]!.length).toBeLessThanOrEqual(67);
  });
});
