import { describe, expect, it } from "vitest";
import type { MailMessage } from "../../../src/message.ts";
import { composeMessage } from "../../../src/mime/compose.ts";
import { BASE, validationError } from "./support.ts";

type Case = [label: string, message: Record<string, unknown>, field: string, code?: "EVALIDATION" | "EATTACHMENT", pattern?: RegExp];

const att = (a: Record<string, unknown>): Record<string, unknown> => ({ ...BASE, attachments: [{ filename: "ok.txt", content: "QUJD" }, a] });

const cases: Case[] = [
  // recipients
  ["empty to", { ...BASE, to: [] }, "to", "EVALIDATION", /at least one/],
  ["missing to", { ...BASE, to: undefined }, "to", "EVALIDATION", /at least one/],
  ["only bcc", { ...BASE, to: [], bcc: "b@example.com" }, "to"],
  ["second to bad", { ...BASE, to: ["a@example.com", "not-an-address"] }, "to[1]", "EVALIDATION", /no "@"/],
  ["single to bad", { ...BASE, to: "a@example.com, b@example.com" }, "to", "EVALIDATION", /list/],
  ["header injection in to", { ...BASE, to: ["a@b.c\r\nBcc: x@y.z"] }, "to[0]", "EVALIDATION", /CR/],
  ["header injection in name", { ...BASE, to: [{ name: "Ada\r\nBcc: x@y.z", address: "a@b.c" }] }, "to[0]", "EVALIDATION", /CR/],
  ["LF in cc", { ...BASE, cc: ["a@b.c\nX: y"] }, "cc[0]", "EVALIDATION", /LF/],
  ["NUL in bcc", { ...BASE, bcc: ["a\0@b.c"] }, "bcc[0]", "EVALIDATION", /NUL/],
  ["group in cc", { ...BASE, cc: "team: a@b.c, d@e.f;" }, "cc", "EVALIDATION", /list|group/],
  ["comment in cc", { ...BASE, cc: ["ok@b.c", "a@b.c (x)"] }, "cc[1]", "EVALIDATION", /comment/],
  ["quoted local part in bcc", { ...BASE, bcc: ['"a b"@x.com'] }, "bcc[0]", "EVALIDATION", /quoted local/],
  ["source route in replyTo", { ...BASE, replyTo: "<@r.example:a@b.c>" }, "replyTo", "EVALIDATION", /source route/],
  ["empty angle in replyTo", { ...BASE, replyTo: ["ok@b.c", "<>"] }, "replyTo[1]", "EVALIDATION", /empty/],
  ["bad domain in replyTo", { ...BASE, replyTo: "a@b..c" }, "replyTo", "EVALIDATION", /empty label/],
  ["empty local part", { ...BASE, to: "@example.com" }, "to"],
  ["empty domain", { ...BASE, cc: ["x@"] }, "cc[0]", "EVALIDATION", /empty domain/],
  ["long local part", { ...BASE, to: ["a@b.c", `${"x".repeat(65)}@b.c`] }, "to[1]", "EVALIDATION", /64/],
  ["long address", { ...BASE, to: `a@${"d.".repeat(130)}com` }, "to", "EVALIDATION", /254/],
  ["invalid internationalised domain", { ...BASE, to: "jörg@ex☃mple.de" }, "to", "EVALIDATION", /IDNA/],
  ["recipient of wrong type", { ...BASE, to: [42] }, "to[0]"],
  // sender
  ["bad from", { ...BASE, from: "Ada <ada@>" }, "from", "EVALIDATION", /empty domain/],
  ["from list", { ...BASE, from: ["a@b.c"] }, "from", "EVALIDATION", /single/],
  ["from with injection", { ...BASE, from: "a@b.c\r\nX: y" }, "from", "EVALIDATION", /CR/],
  // subject
  ["missing subject", { ...BASE, subject: undefined }, "subject", "EVALIDATION", /required/],
  ["subject not a string", { ...BASE, subject: 7 }, "subject", "EVALIDATION", /string/],
  ["CR in subject", { ...BASE, subject: "a\rb" }, "subject", "EVALIDATION", /CR/],
  ["LF in subject", { ...BASE, subject: "Hi\nBcc: x@y.z" }, "subject", "EVALIDATION", /LF/],
  ["NUL in subject", { ...BASE, subject: "a\0" }, "subject", "EVALIDATION", /NUL/],
  // body
  ["missing body", { to: "a@b.c", subject: "s" }, "text", "EVALIDATION", /body is required/],
  ["text not a string", { ...BASE, text: 1 }, "text", "EVALIDATION", /string/],
  ["html not a string", { ...BASE, html: {} }, "html", "EVALIDATION", /string/],
  // importance
  ["unknown importance", { ...BASE, importance: "urgent" }, "importance", "EVALIDATION", /normal/],
  ["capitalised importance", { ...BASE, importance: "High" }, "importance"],
  // attachments
  ["attachments not an array", { ...BASE, attachments: { filename: "a", content: "" } }, "attachments", "EATTACHMENT"],
  ["attachment not an object", { ...BASE, attachments: ["x"] }, "attachments[0]", "EATTACHMENT"],
  ["missing filename", att({ content: "QUJD" }), "attachments[1].filename", "EATTACHMENT", /required/],
  ["empty filename", att({ filename: "", content: "QUJD" }), "attachments[1].filename", "EATTACHMENT", /empty/],
  ["CRLF in filename", att({ filename: "a\r\nb.txt", content: "QUJD" }), "attachments[1].filename", "EATTACHMENT", /CR/],
  ["NUL in filename", att({ filename: "a\0.txt", content: "QUJD" }), "attachments[1].filename", "EATTACHMENT", /NUL/],
  ["missing content", att({ filename: "a.txt" }), "attachments[1].content", "EATTACHMENT", /required/],
  ["content of wrong type", att({ filename: "a.txt", content: 5 }), "attachments[1].content", "EATTACHMENT"],
  ["bad alphabet", att({ filename: "a.txt", content: "ab$d" }), "attachments[1].content", "EATTACHMENT", /"\$"/],
  ["misplaced padding", att({ filename: "a.txt", content: "ab=d" }), "attachments[1].content", "EATTACHMENT", /middle/],
  ["wrong length", att({ filename: "a.txt", content: "abc==" }), "attachments[1].content", "EATTACHMENT", /multiple of 4/],
  ["trailing garbage", att({ filename: "a.txt", content: "QUJD!" }), "attachments[1].content", "EATTACHMENT", /"!"/],
  ["bad content type", att({ filename: "a.txt", content: "QUJD", contentType: "text/plain\r\nX: y" }), "attachments[1].contentType", "EATTACHMENT"],
];

describe("composeMessage validation", () => {
  it.each(cases)("%s → %s", (_label, message, field, code = "EVALIDATION", pattern) => {
    const error = validationError(() => composeMessage(message as unknown as MailMessage, { defaultFrom: "sender@example.com" }));
    expect(error.field).toBe(field);
    expect(error.code).toBe(code);
    expect(error.phase).toBe("validation");
    expect(error.retryable).toBe(false);
    expect(error.message.startsWith(`Invalid ${field}: `)).toBe(true);
    if (pattern) expect(error.message).toMatch(pattern);
  });

  it("needs a sender address when from is absent and the username is not one", () => {
    for (const options of [{ defaultFrom: "jdoe" }, { defaultFrom: "DOMAIN\\jdoe" }, {}]) {
      const error = validationError(() => composeMessage(BASE, options));
      expect(error.field).toBe("from");
      expect(error.message).toMatch(/sender address is needed/);
    }
    expect(composeMessage(BASE, { defaultFrom: "Ops <ops@example.com>" }).envelope.from).toBe("ops@example.com");
  });

  it("refuses a non-object message and an invalid date", () => {
    expect(validationError(() => composeMessage(null as unknown as MailMessage)).field).toBe("message");
    expect(validationError(() => composeMessage(BASE, { defaultFrom: "a@b.c", date: new Date(NaN) })).field).toBe("date");
  });

  it("validates everything before building: a bad last attachment stops a valid large one", () => {
    const error = validationError(() =>
      composeMessage(
        { ...BASE, attachments: [{ filename: "big.bin", content: new Uint8Array(1_000_000) }, { filename: "bad.bin", content: "@@@@" }] },
        { defaultFrom: "s@example.com" },
      ),
    );
    expect(error.field).toBe("attachments[1].content");
  });

  it("accepts optional fields given as null", () => {
    const message = { ...BASE, cc: null, bcc: null, replyTo: null, importance: null, attachments: null, html: null };
    expect(() => composeMessage(message as unknown as MailMessage, { defaultFrom: "s@example.com" })).not.toThrow();
  });
});
