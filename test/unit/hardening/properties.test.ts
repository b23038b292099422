// Properties over hostile caller input (fast-check). Every caller string that reaches a
// header or the body either gets a validation error or comes out as well-formed bytes that
// mailparser reads back exactly. Runs: PROPERTY_RUNS (10,000 by default).
import fc from "fast-check";
import { simpleParser, type AddressObject } from "mailparser";
import { describe, expect, it } from "vitest";
import { SmtpValidationError } from "../../../src/errors.ts";
import type { MailMessage } from "../../../src/message.ts";
import { composeMessage } from "../../../src/mime/compose.ts";
import { DotStuffer } from "../../../src/protocol/dot-stuffer.ts";
import { concat } from "../../helpers/bytes.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 10_000);
const TIMEOUT = 600_000;

// The characters that break naive composers: line breaks of every kind, NUL, quotes,
// backslashes, encoded-word look-alikes, lone surrogates, separators.
const nasty = fc.constantFrom(
  "\r", "\n", "\r\n", "\0", "\u2028", "\u0085", "\ud800", "\udc00", "\"", "\\", "=?", "?=", "=?utf-8?B?QUJD?=",
  "<", ">", ",", ";", ":", "@", "(", ")", ".", " ", "\t", "é", "😀", "日本", "a", "Z", "0",
);
const hostile = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(nasty, { maxLength }).map((parts) => parts.join("")) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("x", "-", "."), minLength: 900, maxLength: 1200 }) },
  );

// The same awkward characters without the ones that may never reach a header.
const awkward = fc.constantFrom(
  "\u2028", "\u0085", "\ud800", "\"", "\\", "=?", "?=", "=?utf-8?B?QUJD?=", "<", ">", ",", ";", ":", "@", "(", ")", ".", " ", "\t", "é", "😀", "日本", "a", "Z", "0",
);
/** Mostly strings that are allowed but awkward; sometimes outright hostile ones. */
const field = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.array(awkward, { maxLength }).map((parts) => parts.join("")) },
    { weight: 1, arbitrary: hostile(maxLength) },
  );

function bytesOf(message: MailMessage): Uint8Array {
  return concat([...composeMessage(message).chunks()]);
}

/** CR only before LF, LF only after CR, no NUL, no line over 998 octets (RFC 5322 §2.1.1, §2.3). */
function checkWellFormed(bytes: Uint8Array): void {
  let lineLength = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    expect(b).not.toBe(0);
    if (b === 13) expect(bytes[i + 1]).toBe(10);
    if (b === 10) {
      expect(bytes[i - 1]).toBe(13);
      lineLength = 0;
    } else if (b !== 13 && ++lineLength > 998) {
      throw new Error(`line over 998 octets at byte ${i}`);
    }
  }
}

function headerNames(bytes: Uint8Array): string[] {
  const text = new TextDecoder("latin1").decode(bytes);
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  return head.split("\r\n").filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(":")).toLowerCase());
}

const wellFormedText = (s: string): string => s.toWellFormed();
let cases = 0;

describe("hostile input properties", () => {
  it("every header and body string: a validation error, or well-formed bytes read back exactly", async () => {
    const input = fc.record({
      fromName: field(40),
      toName: field(40),
      ccName: field(40),
      replyName: field(40),
      toLocal: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("ada", "b.c", "x+tag") }, { weight: 1, arbitrary: hostile(12) }),
      subject: field(120),
      filename: field(60),
      body: hostile(300),
      html: fc.boolean(),
    });
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(input, async (v) => {
        cases++;
        const message: MailMessage = {
          from: { name: v.fromName, address: "me@example.com" },
          to: { name: v.toName, address: `${v.toLocal}@example.com` },
          cc: [{ name: v.ccName, address: "cc@example.com" }],
          bcc: ["hidden@example.com"],
          replyTo: { name: v.replyName, address: "reply@example.com" },
          subject: v.subject,
          ...(v.html ? { html: v.body } : { text: v.body }),
          attachments: [{ filename: v.filename, content: "QUJD" }],
        };
        let bytes: Uint8Array;
        try {
          bytes = bytesOf(message);
        } catch (error) {
          if (!(error instanceof SmtpValidationError)) throw error;
          refused++;
          return;
        }
        accepted++;
        checkWellFormed(bytes);
        const names = headerNames(bytes);
        expect(names.sort()).toEqual(["cc", "content-type", "date", "from", "message-id", "mime-version", "reply-to", "subject", "to"]);
        const parsed = await simpleParser(Buffer.from(bytes));
        expect(parsed.subject ?? "").toBe(wellFormedText(v.subject));
        const name = (a: AddressObject | AddressObject[] | undefined): string | undefined =>
          (Array.isArray(a) ? a[0] : a)?.value[0]?.name;
        expect(name(parsed.from)).toBe(wellFormedText(v.fromName).trim());
        expect(name(parsed.to)).toBe(wellFormedText(v.toName).trim());
        expect(name(parsed.cc)).toBe(wellFormedText(v.ccName).trim());
        expect(name(parsed.replyTo)).toBe(wellFormedText(v.replyName).trim());
        expect(parsed.attachments[0]?.filename).toBe(wellFormedText(v.filename));
        const body = wellFormedText(v.body).replace(/\r\n|\r|\n/g, "\n");
        const got = (v.html ? (parsed.html as string) : parsed.text) ?? "";
        expect(got.replace(/\n$/, "")).toBe(body.replace(/\n$/, ""));
      }),
      { numRuns: RUNS },
    );
    console.log(`composer property: ${cases} cases (${accepted} composed and read back, ${refused} refused with a validation error)`);
    expect(accepted).toBeGreaterThan(RUNS / 20);
  }, TIMEOUT);

  it("the DATA stream holds no end-of-data sequence, in any smuggling form, before the real one", () => {
    // <CR><LF>.<CR><LF> and the bare-LF / bare-CR variants that some servers accept.
    const endOfData = /(?:\r\n|\r|\n)\.(?:\r\n|\r|\n)/;
    let n = 0;
    fc.assert(
      fc.property(hostile(400), fc.array(fc.nat(), { maxLength: 6 }), (body, cuts) => {
        n++;
        let chunks: Uint8Array[];
        try {
          chunks = [...composeMessage({ from: "a@example.com", to: "b@example.com", subject: "s", text: `.${body}\n.` }).chunks()];
        } catch (error) {
          if (error instanceof SmtpValidationError) return;
          throw error;
        }
        // Re-split the message at arbitrary points: stuffing must not depend on chunking.
        const whole = Buffer.concat(chunks);
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let from = 0;
        for (const p of points) {
          pieces.push(whole.subarray(from, p));
          from = p;
        }
        pieces.push(whole.subarray(from));
        const stuffer = new DotStuffer();
        const out = Buffer.concat([...pieces.map((p) => stuffer.stuff(p)), stuffer.terminator()]).toString("latin1");
        expect(out.endsWith("\r\n.\r\n")).toBe(true);
        const beforeEnd = out.slice(0, -3);
        expect(endOfData.test(beforeEnd)).toBe(false);
        expect(beforeEnd.startsWith(".\r") || beforeEnd.startsWith(".\n")).toBe(false);
      }),
      { numRuns: RUNS },
    );
    console.log(`smuggling property: ${n} cases`);
  }, TIMEOUT);

  it("the streamed encoder gives the same bytes however the input is split", () => {
    let n = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
        n++;
        const base = { from: "a@example.com", to: "b@example.com", subject: "s", text: "t" };
        const fromBytes = Buffer.from(bytesOf({ ...base, attachments: [{ filename: "a.bin", content: data }] })).toString("latin1");
        // The same content given as base64 split into lines at arbitrary points.
        const b64 = Buffer.from(data).toString("base64");
        const points = [...new Set(cuts.map((c) => c % (b64.length + 1)))].sort((a, b) => a - b);
        let wrapped = "";
        let from = 0;
        for (const p of points) {
          wrapped += `${b64.slice(from, p)}\r\n`;
          from = p;
        }
        wrapped += b64.slice(from);
        const fromBase64 = Buffer.from(bytesOf({ ...base, attachments: [{ filename: "a.bin", content: wrapped }] })).toString("latin1");
        // Only the random Message-ID, boundary and date differ between two compositions.
        const strip = (s: string): string => s.replace(/=_nina_[0-9a-f]+/g, "B").replace(/<[^>]+@example\.com>/g, "ID").replace(/^Date: .*$/m, "");
        expect(strip(fromBase64)).toBe(strip(fromBytes));
      }),
      { numRuns: RUNS },
    );
    console.log(`chunking property: ${n} cases`);
  }, TIMEOUT);
});
