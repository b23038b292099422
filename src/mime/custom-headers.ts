/**
 * Caller-supplied header fields (`message.headers`): names checked against RFC 5322 §3.6.8
 * (ftext), the fields the library writes itself refused, values checked for CR, LF and
 * NUL, then encoded (RFC 2047 for anything but printable ASCII) and folded.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { unstructuredTokens } from "./encoded-word.ts";
import { firstLineRoom, foldHeader, MAX_LINE } from "./headers.ts";

/** A custom header once checked: the name as given, the value unchanged. */
export interface CheckedHeader {
  /** The field name, as the caller spelled it. */
  name: string;
  /** The value, without CR, LF or NUL. */
  value: string;
}

/** Longest accepted field name. */
export const MAX_HEADER_NAME = 76;

// Names the composer writes (or, for Bcc, deliberately never writes), compared in lower case.
const RESERVED: ReadonlySet<string> = new Set([
  "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
  "dkim-signature", "importance", "x-priority", "x-msmail-priority",
]);

// RFC 5322 §3.6.8: ftext is %d33-57 / %d59-126, printable ASCII except ":".
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

function pathOf(name: string): string {
  return FIELD_NAME.test(name) && !/["[\]\\]/.test(name) ? `headers.${name}` : `headers[${JSON.stringify(name)}]`;
}

function checkName(name: string, field: string): void {
  if (name === "") throw new SmtpValidationError(field, "a header name must not be empty");
  if (!FIELD_NAME.test(name)) {
    throw new SmtpValidationError(field, "a header name may only contain printable ASCII other than \":\" (RFC 5322 ftext)");
  }
  if (name.length > MAX_HEADER_NAME) throw new SmtpValidationError(field, `a header name may have at most ${MAX_HEADER_NAME} characters`);
  const lower = name.toLowerCase();
  if (RESERVED.has(lower) || lower.startsWith("content-")) {
    throw new SmtpValidationError(field, `${name} is written by the library; set it through its own message field`);
  }
}

function checkValue(value: unknown, field: string): string {
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string");
  const bad = /[\r\n\0]/.exec(value);
  if (bad) throw new SmtpValidationError(field, `must not contain ${bad[0] === "\r" ? "CR" : bad[0] === "\n" ? "LF" : "NUL"}`);
  return value;
}

function isPlainAscii(value: string): boolean {
  return /^[\x20-\x7e\t]*$/.test(value);
}

/**
 * Checks `message.headers`: a record of name to value, or a list of `[name, value]` pairs
 * (which may repeat a name). Only own enumerable properties of a record count.
 *
 * @throws {SmtpValidationError} naming `headers.<Name>` (or `headers[i]` for a malformed
 *   pair)
 */
export function checkHeaders(headers: unknown): CheckedHeader[] {
  if (headers === undefined || headers === null) return [];
  const pairs: [unknown, unknown, string | undefined][] = [];
  if (Array.isArray(headers)) {
    headers.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new SmtpValidationError(`headers[${i}]`, "must be a [name, value] pair");
      }
      pairs.push([pair[0], pair[1], `headers[${i}]`]);
    });
  } else if (typeof headers === "object") {
    for (const name of Object.keys(headers)) pairs.push([name, (headers as Record<string, unknown>)[name], undefined]);
  } else {
    throw new SmtpValidationError("headers", "must be an object of name to value, or an array of [name, value] pairs");
  }
  return pairs.map(([name, value, at]) => {
    if (typeof name !== "string") throw new SmtpValidationError(at ?? "headers", "a header name must be a string");
    const field = pathOf(name);
    checkName(name, field);
    const text = checkValue(value, field);
    // Edge whitespace means nothing in a header value and would end up alone on a line.
    const trimmed = isPlainAscii(text) ? text.replace(/^[ \t]+|[ \t]+$/g, "") : text;
    checkLength(name, trimmed, field);
    return { name, value: trimmed };
  });
}

// Plain values fold only at spaces, so their longest space-free run must fit a line.
function checkLength(name: string, value: string, field: string): void {
  if (!isPlainAscii(value)) return;
  const tokens = splitAtSpaces(value);
  const first = tokens[0]!.length + name.length + 2;
  if (first > MAX_LINE || tokens.some((t) => t.length + 1 > MAX_LINE)) {
    throw new SmtpValidationError(field, `has a run of more than ${MAX_LINE - name.length - 2} characters without a space, too long for a header line`);
  }
}

/**
 * The header lines for checked custom headers, in the caller's order. Printable ASCII
 * (tabs included) is kept as it is and folded at spaces; anything else is sent as RFC 2047
 * encoded words.
 */
export function customHeaderLines(headers: readonly CheckedHeader[]): string {
  let out = "";
  for (const { name, value } of headers) {
    if (isPlainAscii(value)) {
      out += foldHeader(name, value === "" ? [] : splitAtSpaces(value));
    } else {
      const room = Math.min(75, Math.max(24, firstLineRoom(name)));
      out += foldHeader(name, unstructuredTokens(value, room, 75));
    }
  }
  return out;
}

// Tokens joined by single spaces give back `value`; a run of spaces stays inside a token
// so that a fold never leaves a line of only whitespace.
function splitAtSpaces(value: string): string[] {
  return value.split(/ (?=[^ ])/);
}
