import { describe, expect, it } from "vitest";
import type { AddressObject } from "mailparser";
import { composeMessage } from "../../../src/mime/compose.ts";
import { BASE, checkWire, collect, headerLines, headerNames, randomBytes, roundTrip } from "./support.ts";

function addresses(field: AddressObject | AddressObject[] | undefined): { name: string; address: string }[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => ({ name: v.name, address: v.address ?? "" })));
}

describe("headers", () => {
  it("come in the documented order, with no Bcc header", async () => {
    const { raw, parsed, composed } = await roundTrip(
      {
        from: "Ada <ada@example.com>",
        to: ["bob@example.com"],
        cc: "carol@example.com",
        bcc: ["secret@example.com"],
        replyTo: "replies@example.com",
        subject: "Order",
        text: "hi",
      },
      { date: new Date(Date.UTC(2025, 2, 10, 12, 0, 0)) },
    );
    expect(headerNames(raw)).toEqual([
      "Date",
      "From",
      "To",
      "Cc",
      "Reply-To",
      "Subject",
      "Message-ID",
      "MIME-Version",
      "Content-Type",
      "Content-Transfer-Encoding",
    ]);
    expect(raw.toString("latin1")).not.toMatch(/^bcc:/im);
    expect(raw.toString("latin1")).not.toContain("secret@example.com");
    expect(parsed.bcc).toBeUndefined();
    expect(headerLines(raw)[0]).toBe("Date: Mon, 10 Mar 2025 12:00:00 +0000");
    expect(parsed.date?.toISOString()).toBe("2025-03-10T12:00:00.000Z");
    expect(composed.envelope).toEqual({
      from: "ada@example.com",
      to: ["bob@example.com", "carol@example.com", "secret@example.com"],
    });
  });

  it("omits Cc and Reply-To when there are none", async () => {
    const { raw } = await roundTrip(BASE);
    expect(headerNames(raw)).not.toContain("Cc");
    expect(headerNames(raw)).not.toContain("Reply-To");
  });

  it("sets Message-ID from the sender's domain and returns it", async () => {
    const { parsed, composed } = await roundTrip({ ...BASE, from: "ada@Mail.Example.org" });
    expect(composed.messageId).toMatch(/^<[0-9a-f]{40}@mail\.example\.org>$/);
    expect(parsed.messageId).toBe(composed.messageId);
  });

  it("uses the default sender when from is absent, and from when given", async () => {
    const a = await roundTrip(BASE, { defaultFrom: "user@example.net" });
    expect(addresses(a.parsed.from)).toEqual([{ name: "", address: "user@example.net" }]);
    expect(a.composed.envelope.from).toBe("user@example.net");
    const b = await roundTrip({ ...BASE, from: "Other <other@example.org>" }, { defaultFrom: "user@example.net" });
    expect(addresses(b.parsed.from)).toEqual([{ name: "Other", address: "other@example.org" }]);
    expect(b.composed.envelope.from).toBe("other@example.org");
  });

  it("deduplicates envelope recipients case-insensitively, keeping the first spelling and order", () => {
    const { envelope } = composeMessage(
      {
        ...BASE,
        to: ["B@Example.com", "a@example.com"],
        cc: ["b@example.com", "c@example.com"],
        bcc: ["A@EXAMPLE.COM", "d@example.com", "c@example.com"],
      },
      { defaultFrom: "s@example.com" },
    );
    expect(envelope.to).toEqual(["B@Example.com", "a@example.com", "c@example.com", "d@example.com"]);
  });
});

describe("subject round-trips exactly through mailparser", () => {
  it.each([
    ["ASCII", "Security Alert: Suspicious Login Detected"],
    ["non-ASCII", "Grüße aus Köln – Übersicht"],
    ["emoji", "Deploy ✅ done 🚀🎉 👩‍👩‍👧‍👦"],
    ["CJK", "週報：すべて順調です"],
    ["2000-char without spaces", "x".repeat(2000)],
    ["2000-char mixed", "ab".repeat(500) + " " + "é".repeat(999)],
    ["looks like an encoded word", "=?utf-8?B?x?="],
    ["looks like a Q word", "=?iso-8859-1?Q?caf=E9?= and more"],
    ["leading and trailing spaces", "  padded  "],
    ["tabs", "a\tb\t\tc"],
    ["many spaces", "a     b      c"],
    ["only spaces", "   "],
    ["long ASCII with spaces", "word ".repeat(100).trim()],
    ["long words", "a".repeat(70) + " " + "b".repeat(80) + " c"],
    ["specials", 'Re: [ticket #42] "quoted" (paren) <angle> a,b;c: 100% =?'],
    ["underscores and question marks", "_a_?_b_?="],
    ["controls", "bell\x07 esc\x1b del\x7f"],
  ])("%s", async (_label, subject) => {
    const { parsed, raw } = await roundTrip({ ...BASE, subject });
    expect(parsed.subject).toBe(subject);
    for (const line of headerLines(raw)) expect(line.length).toBeLessThanOrEqual(78);
  });

  it("an empty subject is an empty header", async () => {
    const { raw, parsed } = await roundTrip({ ...BASE, subject: "" });
    expect(headerLines(raw)).toContain("Subject:");
    expect(parsed.subject ?? "").toBe("");
  });

  it("keeps a plain ASCII subject readable", async () => {
    const { raw } = await roundTrip({ ...BASE, subject: "Weekly Threat Intelligence Report" });
    expect(headerLines(raw)).toContain("Subject: Weekly Threat Intelligence Report");
  });
});

describe("addresses round-trip through mailparser", () => {
  it("keeps display names with quotes, commas, backslashes and non-ASCII", async () => {
    const to = [
      '"Doe, John" <john@example.com>',
      { name: 'He said "hi"', address: "hi@example.com" },
      { name: "back\\slash", address: "bs@example.com" },
      "Zoë Ünïcode 😀 <zoe@example.com>",
      { name: "O'Brien & Sons, Ltd.", address: "ob@example.com" },
      { name: "=?utf-8?B?QUJD?=", address: "ew@example.com" },
      { name: "n".repeat(120), address: "long@example.com" },
      "plain@example.com",
    ];
    const { parsed } = await roundTrip({ ...BASE, to });
    expect(addresses(parsed.to)).toEqual([
      { name: "Doe, John", address: "john@example.com" },
      { name: 'He said "hi"', address: "hi@example.com" },
      { name: "back\\slash", address: "bs@example.com" },
      { name: "Zoë Ünïcode 😀", address: "zoe@example.com" },
      { name: "O'Brien & Sons, Ltd.", address: "ob@example.com" },
      { name: "=?utf-8?B?QUJD?=", address: "ew@example.com" },
      { name: "n".repeat(120), address: "long@example.com" },
      { name: "", address: "plain@example.com" },
    ]);
  });

  it("writes To, Cc and Reply-To, each folded within 78 columns", async () => {
    const many = Array.from({ length: 30 }, (_, i) => `Person ${i} <person${i}@example.com>`);
    const { parsed, raw } = await roundTrip({
      ...BASE,
      to: many,
      cc: ["Ćirić <c@example.com>", "d@example.com"],
      replyTo: ["Support Team <support@example.com>", "backup@example.com"],
    });
    expect(addresses(parsed.to).map((a) => a.address)).toEqual(many.map((_, i) => `person${i}@example.com`));
    expect(addresses(parsed.cc)).toEqual([
      { name: "Ćirić", address: "c@example.com" },
      { name: "", address: "d@example.com" },
    ]);
    expect(addresses(parsed.replyTo)).toEqual([
      { name: "Support Team", address: "support@example.com" },
      { name: "", address: "backup@example.com" },
    ]);
    for (const line of headerLines(raw)) expect(line.length).toBeLessThanOrEqual(78);
  });

  it("keeps a 254-octet address whole on its line", async () => {
    const address = `a@${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(60)}`;
    expect(address.length).toBe(254);
    const { parsed } = await roundTrip({ ...BASE, to: { name: "Long", address } });
    expect(addresses(parsed.to)).toEqual([{ name: "Long", address }]);
  });
});

describe("importance", () => {
  const lines = (raw: Buffer): string[] => headerLines(raw).filter((l) => /^(Importance|X-Priority|X-MSMail-Priority):/i.test(l));

  it("high adds the three headers", async () => {
    const { raw, parsed } = await roundTrip({ ...BASE, importance: "high" });
    expect(lines(raw)).toEqual(["Importance: High", "X-Priority: 1 (Highest)", "X-MSMail-Priority: High"]);
    expect(parsed.headers.get("priority")).toBe("high");
  });

  it("low adds the three headers", async () => {
    const { raw, parsed } = await roundTrip({ ...BASE, importance: "low" });
    expect(lines(raw)).toEqual(["Importance: Low", "X-Priority: 5 (Lowest)", "X-MSMail-Priority: Low"]);
    expect(parsed.headers.get("priority")).toBe("low");
  });

  it("normal or absent adds none", async () => {
    for (const importance of ["normal", undefined] as const) {
      const { raw } = await roundTrip({ ...BASE, importance });
      expect(lines(raw)).toEqual([]);
    }
  });

  it("sits after MIME-Version and before Content-Type", async () => {
    const { raw } = await roundTrip({ ...BASE, importance: "high" });
    const names = headerNames(raw);
    expect(names.indexOf("MIME-Version")).toBeLessThan(names.indexOf("Importance"));
    expect(names.indexOf("X-MSMail-Priority")).toBeLessThan(names.indexOf("Content-Type"));
  });
});

describe("bodies", () => {
  it("text alone is text/plain; charset=utf-8", async () => {
    const { parsed, raw } = await roundTrip({ ...BASE, text: "Hello\nworld" });
    expect(headerLines(raw)).toContain("Content-Type: text/plain; charset=utf-8");
    expect(headerLines(raw)).toContain("Content-Transfer-Encoding: 7bit");
    expect(parsed.text).toBe("Hello\nworld\n");
    expect(parsed.html).toBe(false);
  });

  it("html alone is text/html; charset=utf-8", async () => {
    const html = "<h1>Threat Intelligence Report</h1><p>Week of March 10, 2025</p>";
    const { parsed, raw } = await roundTrip({ to: "a@example.com", subject: "s", html });
    expect(headerLines(raw)).toContain("Content-Type: text/html; charset=utf-8");
    expect(parsed.html).toBe(html + "\n");
  });

  it("text and html together are multipart/alternative, text first, both exact", async () => {
    const text = "Plain ünïcode\nsecond line";
    const html = "<p>HTML ünïcode</p>\n<p>second</p>";
    const { parsed, raw } = await roundTrip({ ...BASE, text, html });
    const wire = raw.toString("latin1");
    expect(headerLines(raw).join("\n")).toMatch(/Content-Type: multipart\/alternative;\n boundary="=_[^"]+"/);
    expect(wire.indexOf("text/plain")).toBeLessThan(wire.indexOf("text/html"));
    expect(parsed.text).toBe(text);
    expect(parsed.html).toBe(html);
  });

  it("keeps a line starting with a dot (dot-stuffing is the session's job)", async () => {
    const { parsed, raw } = await roundTrip({ ...BASE, text: "before\n.\n..two\n.hidden", html: "<p>x</p>" });
    expect(raw.toString("latin1")).toContain("\r\n.\r\n..two\r\n.hidden");
    expect(parsed.text).toBe("before\n.\n..two\n.hidden");
  });

  it("delivers a 4000-character line intact", async () => {
    const line = Array.from({ length: 4000 }, (_, i) => String.fromCharCode(33 + (i % 90))).join("");
    const { parsed, raw } = await roundTrip({ ...BASE, text: line, html: "<p>x</p>" });
    expect(raw.toString("latin1")).toMatch(/Content-Transfer-Encoding: quoted-printable/);
    expect(parsed.text).toBe(line);
  });

  it("keeps a 998-octet ASCII line as 7bit", async () => {
    const { raw, parsed } = await roundTrip({ ...BASE, text: "y".repeat(998) });
    expect(headerLines(raw)).toContain("Content-Transfer-Encoding: 7bit");
    expect(parsed.text).toBe("y".repeat(998) + "\n");
  });

  it("encodes non-ASCII bodies as quoted-printable", async () => {
    const text = "Grüße 😀 — 日本語\nnext line with = sign and trailing space ";
    const { parsed, raw } = await roundTrip({ ...BASE, text, html: "<p>é</p>" });
    expect(raw.toString("latin1")).toMatch(/Content-Transfer-Encoding: quoted-printable/);
    expect(parsed.text).toBe(text);
    expect(parsed.html).toBe("<p>é</p>");
  });

  it("normalises bare CR, bare LF and CRLF to CRLF", async () => {
    const text = "a\rb\nc\r\nd\n\re\r\r\nf";
    const { parsed, raw } = await roundTrip({ ...BASE, text, html: "<p>x\ry</p>" });
    expect(raw.toString("latin1")).toContain("a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\nf\r\n--");
    expect(parsed.text).toBe("a\nb\nc\nd\n\ne\n\nf");
    expect(parsed.html).toBe("<p>x\ny</p>");
  });

  it("encodes NUL and other controls instead of sending them", async () => {
    const text = "nul\0 esc\x1b";
    const { parsed } = await roundTrip({ ...BASE, text, html: "<p></p>" });
    expect(parsed.text).toBe(text);
  });

  it("allows an empty body string", async () => {
    const { parsed } = await roundTrip({ ...BASE, text: "" });
    expect(parsed.text).toBe("\n");
  });
});

describe("attachments", () => {
  it("are multipart/mixed after the body, base64, byte-exact", async () => {
    const csv = "aWQsdGltZXN0YW1wLGV2ZW50LHNldmVyaXR5CjEsMjAyNS0wMy0wMVQxMDowMDowMFosImxvZ2luX2ZhaWx1cmUiLCJoaWdoIg==";
    const { parsed, raw } = await roundTrip({
      ...BASE,
      text: "See attached.",
      attachments: [{ filename: "audit-report-march-2025.csv", content: csv }],
    });
    expect(headerLines(raw).join("\n")).toMatch(/Content-Type: multipart\/mixed;\n boundary="=_[^"]+"/);
    expect(parsed.text).toBe("See attached.");
    expect(parsed.attachments).toHaveLength(1);
    const [a] = parsed.attachments;
    expect(a!.filename).toBe("audit-report-march-2025.csv");
    expect(a!.contentType).toBe("text/csv");
    expect(a!.contentDisposition).toBe("attachment");
    expect(Buffer.compare(a!.content, Buffer.from(csv, "base64"))).toBe(0);
    const wire = raw.toString("latin1");
    expect(wire).toMatch(/Content-Type: text\/csv; name="audit-report-march-2025.csv"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="audit-report-march-2025.csv"\r\n/);
  });

  it("keep the text+html alternative as the first part", async () => {
    const { parsed } = await roundTrip({
      ...BASE,
      text: "plain",
      html: "<b>rich</b>",
      attachments: [{ filename: "a.bin", content: "AAEC" }],
    });
    expect(parsed.text).toBe("plain");
    expect(parsed.html).toBe("<b>rich</b>");
    expect(parsed.attachments.map((a) => a.filename)).toEqual(["a.bin"]);
  });

  it("handle base64 with embedded newlines and spaces, empty files and Uint8Array content", async () => {
    const bytes = randomBytes(3000, 5);
    const wrapped = Buffer.from(bytes).toString("base64").replace(/(.{60})/g, "$1\r\n").replace(/(.{200})/g, "$1 \t");
    const raw8 = randomBytes(1001, 6);
    const { parsed } = await roundTrip({
      ...BASE,
      attachments: [
        { filename: "wrapped.bin", content: wrapped },
        { filename: "empty.txt", content: "" },
        { filename: "raw.bin", content: raw8 },
        { filename: "empty-bytes.dat", content: new Uint8Array(0) },
        { filename: "typed.dat", content: "QUJD", contentType: "application/x-custom" },
      ],
    });
    const byName = new Map(parsed.attachments.map((a) => [a.filename, a]));
    expect(Buffer.compare(byName.get("wrapped.bin")!.content, Buffer.from(bytes))).toBe(0);
    expect(byName.get("empty.txt")!.content.length).toBe(0);
    expect(byName.get("empty.txt")!.contentType).toBe("text/plain");
    expect(Buffer.compare(byName.get("raw.bin")!.content, Buffer.from(raw8))).toBe(0);
    expect(byName.get("empty-bytes.dat")!.content.length).toBe(0);
    expect(byName.get("typed.dat")!.contentType).toBe("application/x-custom");
    expect(byName.get("typed.dat")!.content.toString()).toBe("ABC");
  });

  it("carry a 5 MB random file exactly, from a base64 string and from bytes", async () => {
    const big = randomBytes(5 * 1024 * 1024, 77);
    const b64 = Buffer.from(big).toString("base64");
    const { parsed, composed } = await roundTrip({
      ...BASE,
      attachments: [
        { filename: "big-string.bin", content: b64 },
        { filename: "big-bytes.bin", content: big },
      ],
    });
    expect(parsed.attachments).toHaveLength(2);
    for (const a of parsed.attachments) expect(Buffer.compare(a.content, Buffer.from(big))).toBe(0);
    let count = 0;
    for (const chunk of composed.chunks()) {
      expect(chunk.length).toBeLessThanOrEqual(65536);
      count++;
    }
    expect(count).toBeGreaterThan(100);
  });

  it.each([
    ["non-ASCII", "Überprüfung – résumé 😀.pdf"],
    ["long ASCII", "quarterly-security-audit-report-for-the-finance-department-" + "x".repeat(150) + ".xlsx"],
    ["long non-ASCII", "Отчёт о безопасности за первый квартал две тысячи двадцать пятого года.docx"],
    ["spaces", "my  report  final .pdf"],
    ["quotes and backslashes", 'the "final" report\\v2.pdf'],
    ["slashes", "../../etc/passwd"],
    ["looks like an encoded word", "=?utf-8?Q?evil?=.exe"],
    ["percent and plus", "100% a+b.txt"],
    ["semicolons and equals", "a;b=c.txt"],
    ["leading space", " lead.txt"],
  ])("keep a %s filename exactly", async (_label, filename) => {
    const { parsed, raw } = await roundTrip({ ...BASE, attachments: [{ filename, content: "QUJD" }] });
    expect(parsed.attachments[0]!.filename).toBe(filename);
    expect(parsed.attachments[0]!.content.toString()).toBe("ABC");
    const text = raw.toString("latin1");
    for (const line of text.slice(0, text.lastIndexOf("QUJD")).split("\r\n")) {
      // Only a long MIME type itself (one unbreakable token) may pass 78 columns.
      if (!line.startsWith("Content-Type: application/vnd.")) expect(line.length).toBeLessThanOrEqual(78);
    }
  });
});

describe("the composed message", () => {
  it("has an exact size and restartable chunks", () => {
    const composed = composeMessage(
      { ...BASE, html: "<p>x</p>", attachments: [{ filename: "a.bin", content: randomBytes(200_000) }] },
      { defaultFrom: "s@example.com" },
    );
    const first = checkWire(composed);
    const second = collect(composed);
    expect(second.equals(first)).toBe(true);
    expect(first.length).toBe(composed.size);
  });

  it("fails loudly if Uint8Array content is detached after composing", () => {
    const bytes = new Uint8Array(1000);
    const composed = composeMessage({ ...BASE, attachments: [{ filename: "a.bin", content: bytes }] }, { defaultFrom: "s@example.com" });
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    expect(() => collect(composed)).toThrow(/changed length/);
  });

  it("has size equal to the bytes produced for many shapes", () => {
    const shapes = [
      { text: "" },
      { text: "a" },
      { text: "a\n" },
      { html: "<p>\r\n</p>\r\n" },
      { text: "é".repeat(5000), html: "x".repeat(70_000) },
      { text: "t", attachments: [{ filename: "e", content: "" }] },
      { text: "t", attachments: Array.from({ length: 5 }, (_, i) => ({ filename: `f${i}.bin`, content: randomBytes(i * 40_000, i + 1) })) },
      { html: "h", attachments: [{ filename: "w.txt", content: " Q U J D \r\n".repeat(10_000) }] },
    ];
    for (const shape of shapes) {
      const composed = composeMessage({ to: "a@b.example", subject: "s", ...shape }, { defaultFrom: "s@example.com" });
      checkWire(composed);
    }
  });
});
