/**
 * Attachment file names: validation, the `name=` parameter of Content-Type (RFC 2047 words
 * for old clients) and the `filename` parameter of Content-Disposition (RFC 2183), with
 * RFC 2231 extended values and continuations when the name is not short plain ASCII.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { encodeWords } from "./encoded-word.ts";
import { forEachUtf8CodePoint } from "./utf8.ts";

const HEX = "0123456789ABCDEF";
// Longest plain name that still fits `filename="…"` (and `name="…"`) on one folded line.
const MAX_PLAIN = 60;
// Longest parameter token, leaving room for the leading space and a trailing ";" (76 total).
const MAX_PARAM_TOKEN = 72;

/**
 * Checks an attachment file name: a non-empty string without control characters (CR, LF
 * and NUL above all). Quotes, backslashes and slashes are allowed; they are encoded, never
 * interpreted.
 *
 * @returns the name unchanged
 * @throws {SmtpValidationError} with code `EATTACHMENT`
 */
export function checkFilename(value: unknown, field: string): string {
  if (value === undefined || value === null) throw new SmtpValidationError(field, "is required", "EATTACHMENT");
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string", "EATTACHMENT");
  if (value.trim() === "") throw new SmtpValidationError(field, "must not be empty", "EATTACHMENT");
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      const what = c === 13 ? "CR" : c === 10 ? "LF" : c === 0 ? "NUL" : "control characters";
      throw new SmtpValidationError(field, `must not contain ${what}`, "EATTACHMENT");
    }
  }
  return value;
}

/** Short printable ASCII that survives a quoted string unchanged in every parser. */
function isPlain(name: string): boolean {
  if (name.length > MAX_PLAIN || name.includes("=?") || name.includes("  ")) return false;
  if (name[0] === " " || name[name.length - 1] === " ") return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/**
 * The `name=` parameter for Content-Type, as tokens: `name="plain"`, or encoded words in a
 * quoted string (folded between the words) for anything else.
 */
export function nameParameter(filename: string): string[] {
  if (isPlain(filename)) return [`name="${filename}"`];
  const words = encodeWords(filename, 66, 66);
  words[0] = 'name="' + words[0];
  words[words.length - 1] += '"';
  return words;
}

// RFC 2231 §7 attribute-char: CHAR except space, controls, "*", "'", "%" and tspecials.
const ATTRIBUTE_CHAR: Uint8Array = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (/[A-Za-z0-9!#$&+\-.^_`{|}~]/.test(String.fromCharCode(c))) ATTRIBUTE_CHAR[c] = 1;
}

/**
 * The `filename` parameter(s) for Content-Disposition: `filename="plain"` for short plain
 * ASCII, else RFC 2231 `filename*=utf-8''…`, split into `filename*0*=`, `filename*1*=`…
 * when long. Segments never split a character's UTF-8 bytes.
 *
 * @returns one entry per parameter, each a single token
 */
export function filenameParameters(filename: string): string[][] {
  if (isPlain(filename)) return [[`filename="${filename}"`]];
  const units: string[] = [];
  forEachUtf8CodePoint(filename, (bytes, n) => {
    let unit = "";
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      unit += b < 128 && ATTRIBUTE_CHAR[b] === 1 ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15];
    }
    units.push(unit);
  });
  const whole = "filename*=utf-8''" + units.join("");
  if (whole.length <= MAX_PARAM_TOKEN) return [[whole]];
  const params: string[][] = [];
  let current = "filename*0*=utf-8''";
  let hasUnit = false;
  for (const unit of units) {
    if (hasUnit && current.length + unit.length > MAX_PARAM_TOKEN) {
      params.push([current]);
      current = `filename*${params.length}*=`;
      hasUnit = false;
    }
    current += unit;
    hasUnit = true;
  }
  params.push([current]);
  return params;
}
