import { describe, expect, it } from "vitest";
import { checkAddrSpec, parseAddress } from "../../../src/mime/address.ts";
import { validationError } from "./support.ts";

describe("parseAddress: accepted forms", () => {
  it.each([
    ["a@b.c", { address: "a@b.c" }],
    ["  a@b.c  ", { address: "a@b.c" }],
    ["Ada Lovelace <ada@example.com>", { name: "Ada Lovelace", address: "ada@example.com" }],
    ["<ada@example.com>", { address: "ada@example.com" }],
    ['"Quoted, Name" <a@b.c>', { name: "Quoted, Name", address: "a@b.c" }],
    ['"He said \\"hi\\"" <a@b.c>', { name: 'He said "hi"', address: "a@b.c" }],
    ["Ada L. Lovelace <a@b.c>", { name: "Ada L. Lovelace", address: "a@b.c" }],
    ["Zoë <z@example.com>", { name: "Zoë", address: "z@example.com" }],
    ["first.last+tag@sub.example.co.uk", { address: "first.last+tag@sub.example.co.uk" }],
    ["!#$%&'*+-/=?^_`{|}~@example.com", { address: "!#$%&'*+-/=?^_`{|}~@example.com" }],
    ["user@localhost", { address: "user@localhost" }],
    ["user@[192.0.2.1]", { address: "user@[192.0.2.1]" }],
    ["user@[IPv6:2001:db8::1]", { address: "user@[IPv6:2001:db8::1]" }],
    ["user@[IPv6:::ffff:192.0.2.1]", { address: "user@[IPv6:::ffff:192.0.2.1]" }],
  ])("%s", (input, expected) => {
    expect(parseAddress(input, "to")).toEqual(expected);
  });

  it("accepts { name, address } objects and trims the name", () => {
    expect(parseAddress({ name: "  Ada  ", address: "a@b.c" }, "to")).toEqual({ name: "Ada", address: "a@b.c" });
    expect(parseAddress({ address: "a@b.c" }, "to")).toEqual({ address: "a@b.c" });
    expect(parseAddress({ name: "", address: "a@b.c" }, "to")).toEqual({ address: "a@b.c" });
    expect(parseAddress({ name: 'x "y", z', address: "a@b.c" }, "to")).toEqual({ name: 'x "y", z', address: "a@b.c" });
  });

  it("reports non-ASCII addresses; only a non-ASCII local part marks the mailbox international", () => {
    expect(checkAddrSpec("zoë@example.com", "to")).toBe(true);
    expect(checkAddrSpec("a@bücher.example", "to")).toBe(true);
    expect(checkAddrSpec("a@b.c", "to")).toBe(false);
    expect(parseAddress("Zoë <zoë@example.com>", "to")).toEqual({ name: "Zoë", address: "zoë@example.com", international: true });
    expect(parseAddress("a@bücher.example", "to")).toEqual({ address: "a@xn--bcher-kva.example" });
  });

  it("accepts the length limits exactly and no more", () => {
    const local64 = "l".repeat(64);
    expect(parseAddress(`${local64}@b.c`, "to").address).toBe(`${local64}@b.c`);
    const domain = `${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(58)}`; // 250
    expect(parseAddress(`abc@${domain}`, "to").address.length).toBe(254);
    expect(validationError(() => parseAddress(`abcd@${domain}`, "to")).message).toMatch(/254/);
    expect(validationError(() => parseAddress(`${local64}l@b.c`, "to")).message).toMatch(/64/);
  });
});

describe("parseAddress: refused forms name the field", () => {
  const bad: [string, unknown, RegExp][] = [
    ["CR", "a@b.c\r", /CR/],
    ["LF", "a@b.c\n", /LF/],
    ["header injection", "a@b.c\r\nBcc: x@y.z", /CR/],
    ["NUL", "a\0@b.c", /NUL/],
    ["tab", "Ada\t<a@b.c>", /control/],
    ["DEL", "a\x7f@b.c", /control/],
    ["control in object name", { name: "A\nB", address: "a@b.c" }, /LF/],
    ["control in object address", { address: "a@b.c\r\nBcc: x@y.z" }, /CR/],
    ["two addresses", "a@b.c d@e.f", /single/],
    ["list with comma", "a@b.c, d@e.f", /list/],
    ["list after brackets", "A <a@b.c>, d@e.f", /list/],
    ["two bracketed", "A <a@b.c> <d@e.f>", /list|single/],
    ["group", "friends: a@b.c;", /group/],
    ["empty group", "undisclosed-recipients:;", /group/],
    ["comment", "a@b.c (Ada)", /comment/],
    ["comment in name", "Ada (x) <a@b.c>", /comment/],
    ["source route", "<@relay.example:a@b.c>", /source route/],
    ["empty angle", "<>", /empty/],
    ["empty string", "", /empty/],
    ["blank string", "   ", /empty/],
    ["quoted local part", '"a b"@x.com', /quoted local/],
    ["quoted local part in brackets", 'A <"a b"@x.com>', /quoted local/],
    ["empty local part", "@b.c", /source route|empty/],
    ["empty local part in brackets", "A <@b.c>", /source route|empty/],
    ["empty domain", "a@", /empty domain/],
    ["no at sign", "username", /no "@"/],
    ["two at signs", "a@b@c.d", /more than one/],
    ["leading dot", ".a@b.c", /dot/],
    ["double dot", "a..b@c.d", /dot/],
    ["trailing dot in domain", "a@b.c.", /empty label/],
    ["underscore in domain", "a@b_c.d", /domain/],
    ["hyphen edge in domain", "a@-b.c", /hyphen/],
    ["space in domain", "A <a@b c>", /domain/],
    ["bad literal", "a@[999.1.1.1]", /literal/],
    ["general literal", "a@[tag:stuff]", /literal/],
    ["unterminated bracket", "A <a@b.c", /matching/],
    ["stray closing bracket", "A a@b.c>", /matching/],
    ["text after brackets", "A <a@b.c> extra", /after/],
    ["unterminated quote", '"Ada <a@b.c>', /unterminated/],
    ["unquoted @ in name", "a@b <c@d.e>", /single/],
    ["unquoted backslash in name", "A\\B <c@d.e>", /quotes/],
    ["name without brackets", '"Ada" a@b.c', /angle brackets/],
    ["local part over 64", `${"x".repeat(65)}@b.c`, /64/],
    ["address over 254", `a@${"d".repeat(60)}.${"d".repeat(60)}.${"d".repeat(60)}.${"d".repeat(60)}.${"d".repeat(20)}`, /254/],
    ["C1 control in a UTF-8 local part", "zo\u0085ë@example.com", /U\+0085/],
    ["disallowed character in a non-ASCII domain", "a@ex☃mple.com", /IDNA/],
    ["number", 42, /address/],
    ["null", null, /address/],
    ["array", ["a@b.c"], /address/],
    ["object without address", { name: "Ada" }, /address/],
    ["object with bracketed address", { address: "<a@b.c>" }, /local part/],
    ["object with non-string name", { name: 3, address: "a@b.c" }, /name/],
  ];
  it.each(bad)("%s", (_label, input, pattern) => {
    const error = validationError(() => parseAddress(input, "cc[3]"));
    expect(error.field).toBe("cc[3]");
    expect(error.code).toBe("EVALIDATION");
    expect(error.message).toMatch(pattern);
  });

  it("is linear on long hostile input", () => {
    // Patterns that make naive regular expressions backtrack: this finishes instantly.
    const inputs = ['"' + "\\".repeat(100_000), "a".repeat(100_000) + "@" + "-".repeat(100_000), "<".repeat(1) + "a.".repeat(100_000)];
    const start = performance.now();
    for (const input of inputs) validationError(() => parseAddress(input, "to"));
    expect(performance.now() - start).toBeLessThan(5000); // anything super-linear would take minutes
  });
});
