/**
 * Line-break normalisation and the quoted-printable encoder (RFC 2045 §6.7) for text
 * bodies. Every CRLF, bare CR and bare LF in the input is a hard line break and comes out
 * as CRLF.
 *
 * @module
 */

import { encodeCodePoint } from "./utf8.ts";

/** Longest encoded line, CRLF excluded (RFC 2045 §6.7 rule 5). */
export const QP_LINE_LENGTH = 76;
const HEX = "0123456789ABCDEF";

/** Replaces every CRLF, bare CR and bare LF with CRLF. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

/**
 * True when `text` can go as 7bit (RFC 2045 §2.7): printable ASCII and tabs only, and no
 * line longer than 998 octets once line breaks are normalised.
 */
export function isSevenBitText(text: string): boolean {
  let lineLength = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 || c === 10) {
      lineLength = 0;
      continue;
    }
    if ((c < 0x20 && c !== 9) || c > 0x7e) return false;
    if (++lineLength > 998) return false;
  }
  return true;
}

function hex(b: number): string {
  return "=" + HEX[b >> 4] + HEX[b & 15];
}

/**
 * Quoted-printable encodes `text` as UTF-8. Literal: printable ASCII but `=`, and space or
 * tab unless it ends a line (rule 3). Lines are at most 76 characters, using soft breaks
 * (`=` CRLF) that never fall inside one character's `=XX` sequence. A line that starts
 * with `From ` gets its `F` encoded so mbox tools cannot mangle it. Lone surrogates become
 * U+FFFD.
 *
 * @returns ASCII text with CRLF line breaks and no CRLF added at the end
 */
export function encodeQuotedPrintable(text: string): string {
  let out = "";
  let column = 0;
  const bytes = new Uint8Array(4);
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c === 13 || c === 10) {
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      out += "\r\n";
      column = 0;
      continue;
    }
    let width = 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        width = 2;
      } else {
        c = 0xfffd;
      }
    }
    const after = i + width;
    const endsLine = after >= n || text.charCodeAt(after) === 13 || text.charCodeAt(after) === 10;
    let unit = encodeUnit(text, c, i, column === 0, endsLine, bytes);
    // Room for the unit, plus the "=" of a soft break unless the line ends right here.
    if (column + unit.length > QP_LINE_LENGTH - (endsLine ? 0 : 1)) {
      out += "=\r\n";
      column = 0;
      unit = encodeUnit(text, c, i, true, endsLine, bytes);
    }
    out += unit;
    column += unit.length;
    i = after;
  }
  return out;
}

function encodeUnit(text: string, cp: number, index: number, lineStart: boolean, endsLine: boolean, bytes: Uint8Array): string {
  if (cp === 0x20 || cp === 0x09) return endsLine ? hex(cp) : String.fromCharCode(cp);
  if (cp > 0x20 && cp < 0x7f && cp !== 0x3d) {
    if (cp === 0x46 && lineStart && text.startsWith("rom ", index + 1)) return hex(cp);
    return String.fromCharCode(cp);
  }
  if (cp < 0x80) return hex(cp);
  const length = encodeCodePoint(cp, bytes);
  let s = "";
  for (let k = 0; k < length; k++) s += hex(bytes[k]!);
  return s;
}
