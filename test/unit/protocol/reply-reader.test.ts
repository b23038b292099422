import { describe, expect, it } from "vitest";
import { ReplyFormatError, ReplyReader } from "../../../src/protocol/reply-reader.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("ReplyReader", () => {
  it("assembles a reply split mid-line across chunks", () => {
    const reader = new ReplyReader();
    reader.push(bytes("25"));
    expect(reader.next()).toBeUndefined();
    reader.push(bytes("0-first\r\n250 sec"));
    expect(reader.next()).toBeUndefined();
    reader.push(bytes("ond\r\n"));
    expect(reader.next()).toEqual({ code: 250, lines: ["first", "second"] });
    expect(reader.buffered).toBe(0);
  });

  it("returns two replies that arrived in one chunk, one at a time", () => {
    const reader = new ReplyReader();
    reader.push(bytes("250 2.1.0 Ok\r\n554 5.7.1 No\r\n"));
    expect(reader.next()).toEqual({ code: 250, lines: ["2.1.0 Ok"], enhancedCode: "2.1.0" });
    expect(reader.buffered).toBeGreaterThan(0);
    expect(reader.next()).toEqual({ code: 554, lines: ["5.7.1 No"], enhancedCode: "5.7.1" });
    expect(reader.next()).toBeUndefined();
  });

  it("reports bytes left after a reply (the STARTTLS injection check relies on it)", () => {
    const reader = new ReplyReader();
    reader.push(bytes("220 Go ahead\r\n250 INJECTED\r\n"));
    expect(reader.next()?.code).toBe(220);
    expect(reader.buffered).toBe("250 INJECTED\r\n".length);
  });

  it("ignores an enhanced code whose class does not match the reply", () => {
    const reader = new ReplyReader();
    reader.push(bytes("550 2.1.0 odd\r\n"));
    expect(reader.next()?.enhancedCode).toBeUndefined();
  });

  it("accepts a bare code line and bare LF endings", () => {
    const reader = new ReplyReader();
    reader.push(bytes("250\n"));
    expect(reader.next()).toEqual({ code: 250, lines: [""] });
  });

  it.each([
    ["garbage", "hello world\r\n", /Malformed/],
    ["a code outside 2xx-5xx", "199 no\r\n", /Malformed/],
    ["a multi-line reply that changes code", "250-a\r\n251 b\r\n", /changed its code/],
  ])("rejects %s", (_name, input, message) => {
    const reader = new ReplyReader();
    reader.push(bytes(input));
    let error: unknown;
    try {
      reader.next();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ReplyFormatError);
    expect((error as Error).message).toMatch(message);
  });

  it("rejects a line over the limit even before its end arrives", () => {
    const reader = new ReplyReader({ maxLineLength: 100, maxLines: 10 });
    reader.push(bytes("250 " + "x".repeat(200)));
    expect(() => reader.next()).toThrow(/longer than 100/);
  });

  it("rejects a reply with too many lines", () => {
    const reader = new ReplyReader({ maxLineLength: 100, maxLines: 3 });
    reader.push(bytes("250-a\r\n250-b\r\n250-c\r\n250-d\r\n250 e\r\n"));
    expect(() => reader.next()).toThrow(/longer than 3 lines/);
  });
});
