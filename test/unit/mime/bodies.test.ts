// Richer bodies: text + HTML as multipart/alternative, inline images in multipart/related,
// and the mixed > related > alternative nesting, read back by mailparser.
import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { BASE, checkWire, headerLines, randomBytes, roundTrip, validationError } from "./support.ts";
import { composeMessage as composeWith } from "../../../src/mime/compose.ts";
import type { ComposedMessage, MailMessage } from "../../../src/message.ts";

const composeMessage = (message: MailMessage): ComposedMessage => composeWith(message, { defaultFrom: "sender@example.com" });

const PNG = randomBytes(3000, 7);

// The MIME tree of a raw message, as nested content types (mailparser flattens it).
function tree(raw: string): string {
  const top = raw.slice(0, raw.indexOf("\r\n\r\n"));
  return entity(top, raw.slice(raw.indexOf("\r\n\r\n") + 4));
}
function contentType(headers: string): { type: string; boundary?: string; rootType?: string } {
  const unfolded = headers.replace(/\r\n[ \t]/g, " ");
  const m = /^content-type:\s*([^;\r\n]+)(.*)$/im.exec(unfolded);
  const type = m ? m[1]!.trim().toLowerCase() : "text/plain";
  const boundary = m && /boundary="([^"]+)"/.exec(m[2]!)?.[1];
  const rootType = m && /[; ]type="([^"]+)"/.exec(m[2]!)?.[1];
  return { type, ...(boundary ? { boundary } : {}), ...(rootType ? { rootType } : {}) };
}
function entity(headers: string, body: string): string {
  const { type, boundary } = contentType(headers);
  if (!boundary) return type;
  const parts = body.split(`--${boundary}`).slice(1, -1).map((p) => p.replace(/^\r\n/, "").replace(/\r\n$/, ""));
  return `${type}(${parts.map((p) => entity(p.slice(0, p.indexOf("\r\n\r\n")), p.slice(p.indexOf("\r\n\r\n") + 4))).join(", ")})`;
}

describe("text and html", () => {
  it("together form multipart/alternative with the plain text first, both round-tripping", async () => {
    const text = "Hello Ada,\nthe report is ready.\nÜmlauts too.";
    const html = "<p>Hello Ada,</p>\n<p>the report is <b>ready</b>. Ümlauts too.</p>";
    const { raw, parsed } = await roundTrip({ ...BASE, text, html });
    expect(tree(raw.toString("latin1"))).toBe("multipart/alternative(text/plain, text/html)");
    expect(parsed.text?.replace(/\r\n/g, "\n").trimEnd()).toBe(text);
    expect(parsed.html).toBe(html.replace(/\n/g, "\n"));
  });

  it("alone is a single part", async () => {
    const { raw } = await roundTrip({ ...BASE, text: undefined, html: "<p>x</p>" });
    expect(tree(raw.toString("latin1"))).toBe("text/html");
  });
});

describe("inline images", () => {
  const inline = (extra: Partial<MailMessage> = {}): MailMessage => ({
    ...BASE,
    text: "Our logo",
    html: '<p>Our logo: <img src="cid:logo@example.com"></p>',
    attachments: [{ filename: "logo.png", content: PNG, cid: "logo@example.com" }],
    ...extra,
  });

  it("go in multipart/related after the alternative, with Content-ID and inline disposition", async () => {
    const { raw, parsed } = await roundTrip(inline());
    const text = raw.toString("latin1");
    expect(tree(text)).toBe("multipart/related(multipart/alternative(text/plain, text/html), image/png)");
    expect(contentType(text.slice(0, text.indexOf("\r\n\r\n"))).rootType).toBe("multipart/alternative");
    expect(text).toContain("\r\nContent-ID: <logo@example.com>\r\n");
    expect(text).toMatch(/\r\nContent-Disposition: inline; filename="?logo\.png"?\r\n/);
    const [image] = parsed.attachments;
    expect(image).toMatchObject({ contentId: "<logo@example.com>", cid: "logo@example.com", contentDisposition: "inline", related: true });
    expect(Buffer.compare(image!.content, Buffer.from(PNG))).toBe(0);
  });

  it("with html only, related's type is text/html; angle brackets in cid are accepted", async () => {
    const { raw, parsed } = await roundTrip(inline({ text: undefined, attachments: [{ filename: "logo.png", content: PNG, cid: "<logo@example.com>" }] }));
    const text = raw.toString("latin1");
    expect(tree(text)).toBe("multipart/related(text/html, image/png)");
    expect(contentType(text.slice(0, text.indexOf("\r\n\r\n"))).rootType).toBe("text/html");
    expect(parsed.attachments[0]!.cid).toBe("logo@example.com");
  });

  it("and ordinary attachments nest as mixed > related > alternative, attachments in order", async () => {
    const { raw, parsed } = await roundTrip(
      inline({
        attachments: [
          { filename: "a.pdf", content: randomBytes(100, 1) },
          { filename: "logo.png", content: PNG, cid: "logo@example.com" },
          { filename: "b.txt", content: "aGVsbG8=" },
          { filename: "icon.gif", content: randomBytes(50, 3), cid: "icon.1@cdn.example.com" },
        ],
      }),
    );
    expect(tree(raw.toString("latin1"))).toBe(
      "multipart/mixed(multipart/related(multipart/alternative(text/plain, text/html), image/png, image/gif), application/pdf, text/plain)",
    );
    const names = parsed.attachments.map((a) => [a.filename, a.contentDisposition, a.cid ?? null]);
    expect(names).toEqual(
      expect.arrayContaining([
        ["a.pdf", "attachment", null],
        ["b.txt", "attachment", null],
        ["logo.png", "inline", "logo@example.com"],
        ["icon.gif", "inline", "icon.1@cdn.example.com"],
      ]),
    );
  });

  it.each([
    ["no @", "logo"],
    ["a space", "lo go@example.com"],
    ["an angle bracket inside", "lo<go@example.com"],
    ["CRLF", "logo@example.com\r\nX-Evil: 1"],
    ["a number", 42],
    ["too long", "a".repeat(250) + "@example.com"],
  ])("refuses a cid with %s", (_name, cid) => {
    const error = validationError(() => composeMessage({ ...BASE, attachments: [{ filename: "a.png", content: PNG, cid: cid as string }] }));
    expect(error.field).toBe("attachments[0].cid");
    expect(error.code).toBe("EATTACHMENT");
  });

  it("refuses two parts with the same Content-ID (case-insensitive)", () => {
    const error = validationError(() =>
      composeMessage({
        ...BASE,
        attachments: [
          { filename: "a.png", content: PNG, cid: "x@example.com" },
          { filename: "b.png", content: PNG, cid: "X@Example.com" },
        ],
      }),
    );
    expect(error.field).toBe("attachments[1].cid");
    expect(error.message).toMatch(/attachments\[0\]/);
  });

  it("keep the wire invariants with a literal domain part", async () => {
    const composed = composeMessage({ ...BASE, html: "<img src='cid:part1@[192.0.2.1]'>", attachments: [{ filename: "a.png", content: PNG, cid: "part1@[192.0.2.1]" }] });
    const raw = checkWire(composed);
    expect(raw.toString("latin1")).toContain("Content-ID: <part1@[192.0.2.1]>");
    const parsed = await simpleParser(raw);
    expect(parsed.attachments[0]!.cid).toBe("part1@[192.0.2.1]");
  });

  it("leave the top-level headers alone", async () => {
    const { raw } = await roundTrip(inline());
    expect(headerLines(raw).some((l) => /^Content-ID/i.test(l))).toBe(false);
  });
});
