import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AddressObject } from "mailparser";
import { composeMessage } from "../../../src/mime/compose.ts";
import { normalizeNewlines } from "../../../src/mime/quoted-printable.ts";
import { BASE, checkWire, headerLines, roundTrip } from "./support.ts";

const RUNS = 1000;
// mailparser takes a few milliseconds per message; leave room on a loaded machine.
const TIMEOUT = 120_000;

/** Any string of any code points (no lone surrogates), favouring the awkward ones. */
const anyText = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: "binary-ascii", maxLength }),
    fc.string({ unit: fc.constantFrom(" ", "\t", "=", "?", "_", "=?", "?=", "é", "😀", "a", ".", "\r", "\n", "From "), maxLength }),
  );

describe("properties (fast-check)", () => {
  it("any subject without CR, LF or NUL round-trips exactly, with every header line within 78 octets", async () => {
    await fc.assert(
      fc.asyncProperty(anyText(300).map((s) => s.replace(/[\r\n\0]/g, "")), async (subject) => {
        const { parsed, raw } = await roundTrip({ ...BASE, subject });
        expect(parsed.subject ?? "").toBe(subject);
        for (const line of headerLines(raw)) expect(line.length).toBeLessThanOrEqual(78);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("any text body round-trips after newline normalisation (multipart keeps it exact)", async () => {
    await fc.assert(
      fc.asyncProperty(anyText(500), async (text) => {
        const { parsed } = await roundTrip({ ...BASE, text, html: "<p>x</p>" });
        const expected = normalizeNewlines(text).replace(/\r\n/g, "\n");
        // An empty part is empty on the wire (RFC 2046 §5.1.1); mailparser reports it as "\n".
        expect(parsed.text).toBe(expected === "" ? "\n" : expected);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("any display name without controls round-trips (trimmed)", async () => {
    const name = anyText(120).map((s) => s.replace(/[\x00-\x1f\x7f]/g, ""));
    await fc.assert(
      fc.asyncProperty(name, async (n) => {
        const { parsed } = await roundTrip({ ...BASE, to: { name: n, address: "rcpt@example.com" } });
        const to = parsed.to as AddressObject;
        expect(to.value).toEqual([{ name: n.trim(), address: "rcpt@example.com" }]);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("any filename without controls round-trips", async () => {
    const filename = anyText(150)
      .map((s) => s.replace(/[\x00-\x1f\x7f]/g, ""))
      .filter((s) => s.trim() !== "");
    await fc.assert(
      fc.asyncProperty(filename, async (f) => {
        const { parsed } = await roundTrip({ ...BASE, attachments: [{ filename: f, content: "QUJD" }] });
        expect(parsed.attachments[0]?.filename).toBe(f);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("size always equals the bytes produced, and the wire is CRLF-only with lines of at most 998", () => {
    const message = fc.record({
      subject: anyText(200).map((s) => s.replace(/[\r\n\0]/g, "")),
      text: fc.option(anyText(2000), { nil: undefined }),
      html: fc.option(anyText(2000), { nil: undefined }),
      importance: fc.constantFrom("normal", "high", "low", undefined),
      attachments: fc.array(
        fc.record({
          filename: fc.string({ minLength: 1, maxLength: 80 }).map((s) => "f" + s.replace(/[\x00-\x1f\x7f]/g, "")),
          content: fc.oneof(
            fc.uint8Array({ maxLength: 3000 }),
            fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString("base64").replace(/(.{50})/g, "$1\n")),
          ),
        }),
        { maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(message, (m) => {
        const composed = composeMessage(
          { to: "a@example.com", ...m, text: m.text ?? (m.html === undefined ? "" : undefined) },
          { defaultFrom: "s@example.com" },
        );
        checkWire(composed);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});
