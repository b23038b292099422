import { describe, expect, it } from "vitest";
import { addressListTokens, foldHeader, formatDate, parameterTokens } from "../../../src/mime/headers.ts";
import { createBoundary, createMessageId, FALLBACK_DOMAIN } from "../../../src/mime/ids.ts";
import { checkContentType, contentTypeFor } from "../../../src/mime/mime-types.ts";
import { checkFilename, filenameParameters, nameParameter } from "../../../src/mime/filename.ts";
import { validationError } from "./support.ts";

describe("foldHeader", () => {
  it("folds before a token that would pass 76 columns, and unfolds to the joined tokens", () => {
    const tokens = Array.from({ length: 40 }, (_, i) => `word${i}`);
    const folded = foldHeader("Subject", tokens);
    expect(folded.endsWith("\r\n")).toBe(true);
    const lines = folded.slice(0, -2).split("\r\n");
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(76);
    for (const line of lines.slice(1)) expect(line.startsWith(" ")).toBe(true);
    expect(folded.slice(0, -2).replace(/\r\n /g, " ")).toBe("Subject: " + tokens.join(" "));
  });

  it("writes an empty value without trailing space and keeps a long first token on the first line", () => {
    expect(foldHeader("Subject", [])).toBe("Subject:\r\n");
    const long = "x".repeat(200);
    expect(foldHeader("To", [long, "y"])).toBe(`To: ${long}\r\n y\r\n`);
  });

  it("refuses to produce a line over 998 octets", () => {
    expect(() => foldHeader("X", ["y".repeat(996)])).toThrow(/998/);
  });
});

describe("formatDate", () => {
  it("formats RFC 5322 dates in UTC", () => {
    expect(formatDate(new Date(Date.UTC(2025, 2, 9, 7, 5, 3)))).toBe("Sun, 09 Mar 2025 07:05:03 +0000");
    expect(formatDate(new Date(0))).toBe("Thu, 01 Jan 1970 00:00:00 +0000");
  });
});

describe("addressListTokens and parameterTokens", () => {
  it("puts commas after every mailbox but the last", () => {
    expect(addressListTokens([{ address: "a@b.c" }, { name: "Ada Lovelace", address: "d@e.f" }])).toEqual([
      "a@b.c,",
      "Ada",
      "Lovelace",
      "<d@e.f>",
    ]);
  });
  it("separates parameters with semicolons", () => {
    expect(parameterTokens("text/plain", [["charset=utf-8"]])).toEqual(["text/plain;", "charset=utf-8"]);
    expect(parameterTokens("a/b", [["x=1"], ["y=2", "z"]])).toEqual(["a/b;", "x=1;", "y=2", "z"]);
  });
});

describe("ids", () => {
  it("makes Message-IDs with 160 random bits on the sender's domain", () => {
    const a = createMessageId("ada@Example.COM");
    expect(a).toMatch(/^<[0-9a-f]{40}@example\.com>$/);
    expect(createMessageId("ada@example.com")).not.toBe(a);
  });
  it("falls back to a safe domain for address literals", () => {
    expect(createMessageId("a@[192.0.2.1]")).toMatch(new RegExp(`^<[0-9a-f]{40}@${FALLBACK_DOMAIN.replace(/\./g, "\\.")}>$`));
  });
  it("makes distinct boundaries starting with =_ (impossible in base64 and quoted-printable)", () => {
    const b = createBoundary();
    expect(b).toMatch(/^=_[A-Za-z0-9_]+$/);
    expect(b.length).toBeLessThanOrEqual(70);
    expect(b.length).toBeGreaterThanOrEqual(2 + 32);
    expect(createBoundary()).not.toBe(b);
  });
});

describe("mime types", () => {
  it.each([
    ["report.pdf", "application/pdf"],
    ["REPORT.PDF", "application/pdf"],
    ["data.csv", "text/csv"],
    ["a.tar.gz", "application/gzip"],
    ["photo.JPEG", "image/jpeg"],
    ["x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
    ["invite.ics", "text/calendar"],
    ["forwarded.eml", "application/octet-stream"],
    ["noextension", "application/octet-stream"],
    ["trailingdot.", "application/octet-stream"],
    ["weird.constructor", "application/octet-stream"],
    ["x.__proto__", "application/octet-stream"],
  ])("%s → %s", (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });

  it("checks caller content types", () => {
    expect(checkContentType("Application/PDF", "attachments[0].contentType")).toBe("application/pdf");
    for (const bad of ["pdf", "text/plain; charset=utf-8", "a/b\r\nX: y", "multipart/mixed", "message/rfc822", 3, "a/" + "b".repeat(128)]) {
      const error = validationError(() => checkContentType(bad, "attachments[0].contentType"));
      expect(error.field).toBe("attachments[0].contentType");
      expect(error.code).toBe("EATTACHMENT");
    }
  });
});

describe("filename parameters", () => {
  it("quotes short plain names", () => {
    expect(nameParameter("report.pdf")).toEqual(['name="report.pdf"']);
    expect(filenameParameters("my report.pdf")).toEqual([['filename="my report.pdf"']]);
  });

  it("uses RFC 2231 for names with quotes, backslashes or non-ASCII", () => {
    expect(filenameParameters('a"b\\c/d.txt')).toEqual([["filename*=utf-8''a%22b%5Cc%2Fd.txt"]]);
    expect(filenameParameters("é.txt")).toEqual([["filename*=utf-8''%C3%A9.txt"]]);
    expect(nameParameter("é.txt")[0]).toMatch(/^name="=\?utf-8\?[BQ]\?.*\?="$/);
  });

  it("splits long names into continuations without splitting a character", () => {
    const name = "€".repeat(40) + ".pdf";
    const params = filenameParameters(name);
    expect(params.length).toBeGreaterThan(1);
    params.forEach(([p], i) => {
      expect(p!.length).toBeLessThanOrEqual(72);
      expect(p!.startsWith(i === 0 ? "filename*0*=utf-8''" : `filename*${i}*=`)).toBe(true);
      const value = p!.slice(p!.indexOf("=") + 1).replace("utf-8''", "");
      expect(() => decodeURIComponent(value)).not.toThrow(); // whole UTF-8 sequences in each segment
    });
    const joined = params.map(([p]) => p!.slice(p!.indexOf("=") + 1).replace("utf-8''", "")).join("");
    expect(decodeURIComponent(joined)).toBe(name);
  });

  it("validates names", () => {
    expect(checkFilename("a.txt", "attachments[1].filename")).toBe("a.txt");
    for (const [bad, pattern] of [
      [undefined, /required/],
      ["", /empty/],
      ["   ", /empty/],
      [5, /string/],
      ["a\r\nb.txt", /CR/],
      ["a\nb.txt", /LF/],
      ["a\0.txt", /NUL/],
      ["a\tb.txt", /control/],
    ] as const) {
      const error = validationError(() => checkFilename(bad, "attachments[1].filename"));
      expect(error.field).toBe("attachments[1].filename");
      expect(error.code).toBe("EATTACHMENT");
      expect(error.message).toMatch(pattern);
    }
  });
});
