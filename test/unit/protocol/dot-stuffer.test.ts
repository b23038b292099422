import { describe, expect, it } from "vitest";
import { DotStuffer } from "../../../src/protocol/dot-stuffer.ts";
import { rng } from "../../helpers/bytes.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function stuffAll(parts: string[]): string {
  const stuffer = new DotStuffer();
  return parts.map((p) => dec(stuffer.stuff(enc(p)))).join("") + dec(stuffer.terminator());
}

describe("DotStuffer", () => {
  it("doubles a dot at the start of the message and of each line", () => {
    expect(stuffAll([".a\r\nb\r\n.\r\n..c\r\n"])).toBe("..a\r\nb\r\n..\r\n...c\r\n.\r\n");
  });

  it("leaves dots inside lines alone", () => {
    expect(stuffAll(["a.b\r\nc .\r\n"])).toBe("a.b\r\nc .\r\n.\r\n");
  });

  it("sees a line start at a chunk boundary", () => {
    expect(stuffAll(["a\r\n", ".b\r\n"])).toBe("a\r\n..b\r\n.\r\n");
    expect(stuffAll(["a\r", "\n.", "b\r\n"])).toBe("a\r\n..b\r\n.\r\n");
  });

  it("gives the same bytes however the input is split", () => {
    const text = ".x\r\n..\r\nabc\r\n.\r\nend.\r\n.";
    const whole = stuffAll([text]);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(stuffAll([text.slice(0, cut), text.slice(cut)])).toBe(whole);
    }
  });

  it("adds a CRLF before the final dot when the body does not end a line", () => {
    expect(stuffAll(["no newline"])).toBe("no newline\r\n.\r\n");
    expect(stuffAll([])).toBe(".\r\n");
  });

  it("returns the same array when nothing needs stuffing", () => {
    const stuffer = new DotStuffer();
    const chunk = enc("plain\r\nlines\r\n");
    expect(stuffer.stuff(chunk)).toBe(chunk);
  });
});

describe("DotStuffer with chunks marked dot-free", () => {
  /** RFC 5321 §4.5.2 on the whole body at once: a "." at the start of any line is doubled. */
  function reference(body: string): string {
    const stuffed = ("\n" + body).replace(/\n\./g, "\n..").slice(1);
    return stuffed + (body === "" || body.endsWith("\n") ? ".\r\n" : "\r\n.\r\n");
  }


  // Base64-like lines (never a ".") next to text whose lines often start with ".", split
  // at random points so that line starts, CR/LF pairs and dots fall on chunk boundaries.
  function body(random: () => number): string {
    let out = "";
    const parts = 1 + Math.floor(random() * 8);
    for (let p = 0; p < parts; p++) {
      if (random() < 0.5) {
        const lines = Math.floor(random() * 5);
        for (let l = 0; l < lines; l++) out += "QUJDRA+/=".slice(0, 1 + Math.floor(random() * 9)).repeat(1 + Math.floor(random() * 3)) + "\r\n";
        if (random() < 0.5) out += "QUJD";
      } else {
        const lines = Math.floor(random() * 5);
        for (let l = 0; l < lines; l++) out += [".", "..", ".x", "a.b", "", "x", ".\r\n."][Math.floor(random() * 7)] + "\r\n";
        if (random() < 0.5) out += ".";
      }
    }
    return out;
  }

  it("gives the reference bytes however the body is cut, whichever dot-free chunks are marked", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const random = rng(seed);
      const text = body(random);
      const bytes = enc(text);
      const cuts = [0, ...Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * (bytes.length + 1))), bytes.length];
      cuts.sort((a, b) => a - b);
      const stuffer = new DotStuffer();
      let out = "";
      for (let i = 1; i < cuts.length; i++) {
        const chunk = bytes.subarray(cuts[i - 1], cuts[i]);
        // Claim dot-free for most chunks that really are, as the composer does for base64.
        const dotFree = !chunk.includes(0x2e) && random() < 0.8;
        out += dec(stuffer.stuff(chunk, dotFree));
      }
      out += dec(stuffer.terminator());
      expect(out, JSON.stringify(text)).toBe(reference(text));
    }
  });

  it("passes a dot-free chunk through as the same array and still sees the line start after it", () => {
    const stuffer = new DotStuffer();
    const b64 = enc("QUJD\r\nREVG\r\n");
    expect(stuffer.stuff(b64, true)).toBe(b64);
    expect(dec(stuffer.stuff(enc(".next\r\n")))).toBe("..next\r\n");
    const mid = enc("QUJD");
    expect(stuffer.stuff(mid, true)).toBe(mid);
    expect(dec(stuffer.stuff(enc(".not a line start\r\n")))).toBe(".not a line start\r\n");
    expect(dec(stuffer.terminator())).toBe(".\r\n");
    const open = new DotStuffer();
    open.stuff(enc("QUJD"), true);
    expect(dec(open.terminator())).toBe("\r\n.\r\n");
  });
});
