// International addresses through the parser and the composer: A-labels for non-ASCII
// domains everywhere, UTF-8 local parts kept as given and flagged for SMTPUTF8.
import { simpleParser, type AddressObject } from "mailparser";
import { describe, expect, it } from "vitest";
import { SmtpValidationError } from "../../src/errors.ts";
import { parseAddress } from "../../src/mime/address.ts";
import { composeMessage } from "../../src/mime/compose.ts";
import type { ComposedMessage, MailMessage } from "../../src/message.ts";

function bytes(composed: ComposedMessage): Buffer {
  return Buffer.concat([...composed.chunks()]);
}

function refusal(run: () => unknown): SmtpValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof SmtpValidationError) return error;
    throw error;
  }
  throw new Error("expected a validation error");
}

const first = (a: AddressObject | AddressObject[] | undefined): { name: string; address?: string } | undefined =>
  (Array.isArray(a) ? a[0] : a)?.value[0];

describe("parseAddress with international addresses", () => {
  it.each([
    ["a@bücher.example", { address: "a@xn--bcher-kva.example" }],
    ["A@BÜCHER.Example", { address: "A@xn--bcher-kva.example" }], // the local part keeps its case
    ["a@bücher。example", { address: "a@xn--bcher-kva.example" }],
    ["Jörg <jörg@example.de>", { name: "Jörg", address: "jörg@example.de", international: true }],
    ["δοκιμή@παράδειγμα.δοκιμή", { address: "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp", international: true }],
    ["用户@例子.广告", { address: "用户@xn--fsqu00a.xn--4rr70v", international: true }],
    ["a@xn--bcher-kva.example", { address: "a@xn--bcher-kva.example" }],
    ["a@Example.COM", { address: "a@Example.COM" }], // an ASCII domain stays as given
  ])("%s", (input, expected) => {
    expect(parseAddress(input, "to")).toEqual(expected);
  });

  it("keeps a UTF-8 local part exactly, without normalising it", () => {
    expect(parseAddress("jo\u0308rg@example.de", "to").address).toBe("jo\u0308rg@example.de");
  });

  it("counts the limits on the wire form: 64 octets of local part, 254 of address", () => {
    expect(parseAddress(`${"é".repeat(32)}@b.c`, "to").address).toBe(`${"é".repeat(32)}@b.c`);
    expect(refusal(() => parseAddress(`${"é".repeat(32)}x@b.c`, "to")).message).toMatch(/64 octets/);
    // A U-label that is short in UTF-8 but whose A-label is longer than 63 octets.
    expect(refusal(() => parseAddress(`a@ü${"a".repeat(56)}.example`, "to")).message).toMatch(/longer than 63/);
  });

  it.each([
    ["a C1 control", "zo\u0085e@example.com", /U\+0085/],
    ["a no-break space", "zo\u00a0e@example.com", /U\+00A0/],
    ["a line separator", "zo\u2028e@example.com", /U\+2028/],
    ["a bidi override", "zo\u202ee@example.com", /U\+202E/],
    ["a byte order mark", "zo\ufeffe@example.com", /U\+FEFF/],
    ["a lone surrogate", "zo\ud800e@example.com", /lone surrogate/],
    ["a bad IDN label", "a@bü--cher.example", /IDNA.*third and fourth/],
    ["a symbol in the domain", "a@bü☃cher.example", /IDNA.*disallowed/],
    ["an invalid A-label", "a@xn--bcher-k.example", /IDNA.*Punycode/],
  ])("refuses %s, naming the field", (_what, input, pattern) => {
    const error = refusal(() => parseAddress(input, "cc[2]"));
    expect(error.field).toBe("cc[2]");
    expect(error.message).toMatch(pattern);
  });
});

describe("composeMessage with international addresses", () => {
  const base: MailMessage = { from: "a@example.com", to: "b@example.com", subject: "s", text: "t" };

  it("puts A-labels in the envelope and the headers, and needs nothing more for a non-ASCII domain", async () => {
    const composed = composeMessage({ ...base, from: "Ada <ada@bücher.example>", to: "jörg@münchen.de".replace("jörg", "joerg") });
    expect(composed.envelope).toEqual({ from: "ada@xn--bcher-kva.example", to: ["joerg@xn--mnchen-3ya.de"] });
    expect(composed.utf8Addresses).toBeUndefined();
    expect(composed.eightBit).toBeUndefined();
    const raw = bytes(composed);
    expect([...raw].every((b) => b < 128)).toBe(true);
    expect(raw.toString()).toContain("From: Ada <ada@xn--bcher-kva.example>\r\n");
    expect(composed.messageId).toMatch(/@xn--bcher-kva\.example>$/);
    const parsed = await simpleParser(raw);
    expect(first(parsed.from)).toEqual({ name: "Ada", address: "ada@bücher.example" });
  });

  it("flags a UTF-8 local part and writes it as raw UTF-8 in the headers (RFC 6532)", async () => {
    const composed = composeMessage({ ...base, from: "Jörg <jörg@bücher.example>", to: ["b@example.com", "δοκιμή@example.gr"], cc: "zoë@example.com" });
    expect(composed.utf8Addresses).toEqual(["jörg@xn--bcher-kva.example", "δοκιμή@example.gr", "zoë@example.com"]);
    expect(composed.eightBit).toBe(true);
    const raw = bytes(composed);
    expect(composed.size).toBe(raw.length);
    expect(raw.toString("utf8")).toMatch(/\r\nFrom: =\?utf-8\?[BQ]\?[^?]+\?= <jörg@xn--bcher-kva\.example>\r\n/);
    expect(raw.toString("utf8")).toContain("To: b@example.com, δοκιμή@example.gr\r\n");
    const parsed = await simpleParser(raw);
    expect(first(parsed.from)).toEqual({ name: "Jörg", address: "jörg@bücher.example" });
    expect((Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.value.map((v) => v.address)).toEqual(["b@example.com", "δοκιμή@example.gr"]);
    expect(first(parsed.cc)?.address).toBe("zoë@example.com");
  });

  it("a UTF-8 Bcc needs SMTPUTF8 for the envelope only: the headers stay 7-bit", () => {
    const composed = composeMessage({ ...base, bcc: "zoë@example.com" });
    expect(composed.utf8Addresses).toEqual(["zoë@example.com"]);
    expect(composed.eightBit).toBeUndefined();
    expect([...bytes(composed)].every((b) => b < 128)).toBe(true);
  });

  it("de-duplicates the envelope across U-label and A-label spellings", () => {
    const composed = composeMessage({ ...base, to: ["a@bücher.example", "a@xn--bcher-kva.example", "A@BÜCHER.example"] });
    expect(composed.envelope.to).toEqual(["a@xn--bcher-kva.example"]);
  });
});
