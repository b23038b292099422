// Custom header fields: names, reserved fields, values (CR/LF/NUL refused, non-ASCII
// encoded, long values folded) and exact read-back by mailparser.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { composeMessage as composeWith } from "../../../src/mime/compose.ts";
import type { ComposedMessage, MailMessage } from "../../../src/message.ts";
import { BASE, checkWire, headerLines, headerNames, roundTrip, validationError } from "./support.ts";

// The raw value of a field as received, unfolded, with RFC 2047 words decoded (whitespace
// between adjacent words dropped, RFC 2047 §6.2). mailparser leaves X- fields encoded.
function decodedValue(raw: Buffer, name: string): string {
  const lines = raw.toString("latin1").slice(0, raw.indexOf("\r\n\r\n")).split(/\r\n(?![ \t])/);
  const field = lines.find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ":"))!;
  const value = field.slice(name.length + 1).replace(/\r\n/g, "").replace(/^ /, "");
  const word = /=\?utf-8\?([QB])\?([^?]*)\?=/gi;
  if (!/^=\?/.test(value)) return value;
  return value
    .split(/[ \t]+/)
    .map((w) => {
      const m = new RegExp(word.source, "i").exec(w)!;
      const bytes =
        m[1]!.toUpperCase() === "B"
          ? Buffer.from(m[2]!, "base64")
          : Buffer.from(m[2]!.replace(/_/g, " ").replace(/=([0-9A-F]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
      return bytes;
    })
    .reduce((acc, b) => Buffer.concat([acc, b]), Buffer.alloc(0))
    .toString("utf8");
}

const composeMessage = (message: MailMessage): ComposedMessage => composeWith(message, { defaultFrom: "sender@example.com" });
const withHeaders = (headers: unknown): MailMessage => ({ ...BASE, headers: headers as MailMessage["headers"] });

describe("custom headers", () => {
  it("come after MIME-Version (and the importance headers), before Content-*, in the given order", async () => {
    const { raw, parsed } = await roundTrip({
      ...BASE,
      importance: "high",
      headers: { "X-Campaign": "spring-2025", "List-Unsubscribe": "<mailto:unsub@example.com>", "X-Mailer": "nina" },
    });
    const names = headerNames(raw);
    expect(names.slice(names.indexOf("MIME-Version"))).toEqual([
      "MIME-Version", "Importance", "X-Priority", "X-MSMail-Priority", "X-Campaign", "List-Unsubscribe", "X-Mailer",
      "Content-Type", "Content-Transfer-Encoding",
    ]);
    expect(parsed.headers.get("x-campaign")).toBe("spring-2025");
    expect(headerLines(raw)).toContain("List-Unsubscribe: <mailto:unsub@example.com>");
  });

  it("accept [name, value] pairs, repeating a name, and keep the caller's spelling", async () => {
    const { raw, parsed } = await roundTrip(withHeaders([["X-Tag", "a"], ["x-TAG", "b"], ["Keywords", "one, two"]]));
    expect(headerLines(raw)).toEqual(expect.arrayContaining(["X-Tag: a", "x-TAG: b", "Keywords: one, two"]));
    expect(parsed.headerLines.filter((h) => h.key === "x-tag").map((h) => h.line)).toEqual(["X-Tag: a", "x-TAG: b"]);
  });

  it("encode non-ASCII values as RFC 2047 words that decode back exactly", async () => {
    const value = "Grüße aus Köln — 東京 ✓ with some more words to make it fold across lines";
    const { raw, parsed } = await roundTrip(withHeaders({ "X-Greeting": value }));
    const lines = headerLines(raw);
    const start = lines.findIndex((l) => l.startsWith("X-Greeting:"));
    expect(lines[start]).toMatch(/^X-Greeting: =\?utf-8\?[QB]\?/);
    expect(lines[start + 1]).toMatch(/^ =\?utf-8\?/);
    expect(decodedValue(raw, "X-Greeting")).toBe(value);
    expect(parsed.headerLines.some((h) => h.key === "x-greeting")).toBe(true);
  });

  it("fold long ASCII values at spaces without changing them, keeping long words whole", async () => {
    const url = "<https://example.com/unsubscribe?token=" + "a".repeat(150) + ">";
    const words = "lorem ipsum ".repeat(30).trim();
    const { raw, parsed } = await roundTrip(withHeaders({ "List-Unsubscribe": `${url}, <mailto:u@example.com>`, "X-Words": words }));
    for (const line of headerLines(raw)) expect(line.length).toBeLessThanOrEqual(998);
    expect(headerLines(raw)).toContain(`List-Unsubscribe: ${url},`);
    const unfolded = (name: string): string =>
      parsed.headerLines.find((h) => h.key === name)!.line.replace(/\r\n/g, "").replace(/^[^:]+: /, "");
    expect(unfolded("list-unsubscribe")).toBe(`${url}, <mailto:u@example.com>`);
    expect(unfolded("x-words")).toBe(words);
  });

  it("trim edge whitespace of ASCII values and allow an empty value", () => {
    const raw = checkWire(composeMessage(withHeaders({ "X-Padded": "  padded  ", "X-Empty": "" })));
    expect(headerLines(raw)).toEqual(expect.arrayContaining(["X-Padded: padded", "X-Empty:"]));
  });

  it.each([
    ["From"], ["to"], ["CC"], ["Bcc"], ["Reply-To"], ["Subject"], ["Date"], ["Message-ID"], ["MIME-Version"],
    ["Content-Type"], ["content-transfer-encoding"], ["Content-Disposition"], ["Content-ID"], ["DKIM-Signature"],
    ["Importance"], ["X-Priority"], ["X-MSMail-Priority"],
  ])("refuse the library's own field %s, naming headers.<Name>", (name) => {
    const error = validationError(() => composeMessage(withHeaders({ [name]: "x" })));
    expect(error.field).toBe(`headers.${name}`);
    expect(error.message).toMatch(/written by the library/);
  });

  it.each([
    ["a colon", "X:Y", 'headers["X:Y"]'],
    ["a space", "X Y", 'headers["X Y"]'],
    ["CRLF", "X\r\nBcc", 'headers["X\\r\\nBcc"]'],
    ["non-ASCII", "X-Grüße", 'headers["X-Grüße"]'],
    ["nothing", "", 'headers[""]'],
  ])("refuse a name with %s", (_what, name, field) => {
    const error = validationError(() => composeMessage(withHeaders({ [name]: "x" })));
    expect(error.field).toBe(field);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it("refuse a name longer than 76 characters", () => {
    expect(validationError(() => composeMessage(withHeaders({ ["X-" + "a".repeat(80)]: "x" }))).message).toMatch(/76/);
  });

  it.each([
    ["CR", "a\rb"],
    ["LF", "a\nBcc: evil@example.com"],
    ["NUL", "a\0b"],
  ])("refuse a value with %s", (what, value) => {
    const error = validationError(() => composeMessage(withHeaders({ "X-Test": value })));
    expect(error.field).toBe("headers.X-Test");
    expect(error.message).toContain(what);
  });

  it.each([
    ["a string", "X-Test: 1", "headers"],
    ["a number value", { "X-Test": 1 }, "headers.X-Test"],
    ["a pair of three", [["X-Test", "1", "2"]], "headers[0]"],
    ["a non-string name in a pair", [[1, "x"]], "headers[0]"],
  ])("refuse %s", (_what, headers, field) => {
    expect(validationError(() => composeMessage(withHeaders(headers))).field).toBe(field);
  });

  it("refuse a space-free run that cannot fit a line", () => {
    const error = validationError(() => composeMessage(withHeaders({ "X-Blob": "x".repeat(1000) })));
    expect(error.field).toBe("headers.X-Blob");
  });

  it("ignore inherited properties of a record", () => {
    const headers = Object.create({ "X-Inherited": "evil" }) as Record<string, string>;
    headers["X-Own"] = "ok";
    const raw = checkWire(composeMessage(withHeaders(headers))).toString("latin1");
    expect(raw).toContain("X-Own: ok");
    expect(raw).not.toContain("X-Inherited");
  });

  it("read back exactly for any value (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200, unit: "grapheme" }), async (value) => {
        const clean = value.replace(/[\r\n\0]/g, "");
        const { raw } = await roundTrip(withHeaders({ "X-Any": clean }));
        const expected = /^[\x20-\x7e\t]*$/.test(clean) ? clean.replace(/^[ \t]+|[ \t]+$/g, "") : clean;
        expect(decodedValue(raw, "X-Any")).toBe(expected);
      }),
      { numRuns: 150 },
    );
  });
});
