import { describe, expect, it } from "vitest";
import { DotStuffer } from "../../../src/protocol/dot-stuffer.ts";

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
