/**
 * RFC 2047 encoded words (always UTF-8) and the display-name / unstructured-text forms
 * built on them. Output is pure ASCII, split into tokens that the header folder may put on
 * separate lines: whitespace between adjacent encoded words is dropped by decoders
 * (RFC 2047 §6.2), so folding between them never changes the decoded text.
 *
 * @module
 */

import { toBase64 } from "./base64.ts";
import { forEachUtf8CodePoint } from "./utf8.ts";

/** Longest encoded word RFC 2047 §2 allows. */
export const MAX_ENCODED_WORD = 75;
const PREFIX_Q = "=?utf-8?Q?";
const PREFIX_B = "=?utf-8?B?";
const OVERHEAD = PREFIX_Q.length + 2; // "?=" closes the word
const HEX = "0123456789ABCDEF";

// Q encoding literals: the most restrictive set, the one RFC 2047 §5(3) allows inside a
// phrase, so the same words are safe in Subject, display names and parameters.
const Q_LITERAL: Uint8Array = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9!*+\-/]/.test(ch)) Q_LITERAL[c] = 1;
}

function qLength(byte: number): number {
  return byte === 0x20 || (byte < 128 && Q_LITERAL[byte] === 1) ? 1 : 3;
}

function qEncode(bytes: Uint8Array, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) {
    const b = bytes[i]!;
    if (b === 0x20) s += "_";
    else if (b < 128 && Q_LITERAL[b] === 1) s += String.fromCharCode(b);
    else s += "=" + HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

/**
 * Encodes `text` as a sequence of UTF-8 encoded words, choosing whichever of B or Q is
 * shorter for the whole text. A code point (and so a surrogate pair or a multi-byte UTF-8
 * sequence) is never split across two words, and no word is longer than its budget.
 *
 * @param text any string; lone surrogates become U+FFFD
 * @param firstMax longest allowed first word (room left on the header's first line), at least 24
 * @param restMax longest allowed later word, at least 24 and at most 75
 * @returns the words, in order; empty for an empty text
 */
export function encodeWords(text: string, firstMax: number = MAX_ENCODED_WORD, restMax: number = MAX_ENCODED_WORD): string[] {
  if (firstMax < 24 || restMax < 24 || firstMax > MAX_ENCODED_WORD || restMax > MAX_ENCODED_WORD) {
    throw new RangeError("encoded word budget must be between 24 and 75");
  }
  let qTotal = 0;
  let byteTotal = 0;
  forEachUtf8CodePoint(text, (bytes, n) => {
    byteTotal += n;
    for (let i = 0; i < n; i++) qTotal += qLength(bytes[i]!);
  });
  const useQ = qTotal <= 4 * Math.ceil(byteTotal / 3);

  const words: string[] = [];
  let max = firstMax;
  // Q: the payload built so far. B: the raw bytes of the current word.
  let payload = "";
  let pending = new Uint8Array(64);
  let pendingLength = 0;
  const flush = (): void => {
    if (useQ) {
      if (payload !== "") words.push(PREFIX_Q + payload + "?=");
      payload = "";
    } else if (pendingLength > 0) {
      words.push(PREFIX_B + toBase64(pending.subarray(0, pendingLength)) + "?=");
      pendingLength = 0;
    }
    max = restMax;
  };
  forEachUtf8CodePoint(text, (bytes, n) => {
    if (useQ) {
      const unit = qEncode(bytes, n);
      if (payload !== "" && OVERHEAD + payload.length + unit.length > max) flush();
      payload += unit;
    } else {
      if (pendingLength > 0 && OVERHEAD + 4 * Math.ceil((pendingLength + n) / 3) > max) flush();
      if (pendingLength + n > pending.length) {
        const bigger = new Uint8Array(pending.length * 2);
        bigger.set(pending.subarray(0, pendingLength));
        pending = bigger;
      }
      pending.set(bytes.subarray(0, n), pendingLength);
      pendingLength += n;
    }
  });
  flush();
  return words;
}

// RFC 5322 §3.2.3 atext.
const ATEXT: Uint8Array = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (/[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]/.test(String.fromCharCode(c))) ATEXT[c] = 1;
}

/** True when `c` (a UTF-16 unit) is RFC 5322 atext. */
export function isAtext(c: number): boolean {
  return c < 128 && ATEXT[c] === 1;
}

/** True for printable ASCII, space included (0x20 to 0x7E). */
function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** True when the words of `text` are atoms separated by single spaces. */
function isAtomPhrase(text: string): boolean {
  if (text === "" || text[0] === " " || text[text.length - 1] === " ") return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20) {
      if (text.charCodeAt(i + 1) === 0x20) return false;
    } else if (!isAtext(c)) return false;
  }
  return true;
}

/**
 * Display-name tokens for a mailbox (RFC 5322 §3.4 phrase): plain atoms when that is all
 * it is, a quoted string with `\` escapes when it has specials, or encoded words when it
 * is not printable ASCII, looks like an encoded word itself, or is too long to fit a line.
 *
 * @param name the display name (no CR, LF or other controls: validated before)
 * @param maxToken longest token allowed (so that it fits a folded line)
 */
export function phraseTokens(name: string, maxToken: number): string[] {
  if (isPrintableAscii(name) && !name.includes("=?")) {
    if (isAtomPhrase(name)) {
      const atoms = name.split(" ");
      if (atoms.every((a) => a.length <= maxToken)) return atoms;
    } else {
      let quoted = '"';
      for (const ch of name) quoted += ch === '"' || ch === "\\" ? "\\" + ch : ch;
      quoted += '"';
      if (quoted.length <= maxToken) return [quoted];
    }
  }
  const budget = Math.min(maxToken, MAX_ENCODED_WORD);
  return encodeWords(name, budget, budget);
}

/**
 * Tokens for an unstructured header such as Subject (RFC 5322 §3.2.5). Plain text is kept
 * as words when it is printable ASCII with single spaces between words and no leading or
 * trailing space, nothing that looks like an encoded word, and no word too long for a
 * line. Anything else (tabs, runs of spaces, edge spaces, controls, non-ASCII, a long run
 * without spaces) is sent as encoded words, which carry every character exactly: unfolding
 * turns folding whitespace into one space and parsers trim the value, so plain text could
 * not.
 *
 * @param value the header text (no CR, LF or NUL: validated before)
 * @param firstMax room for the first token on the header's first line
 * @param restMax room for a token on a continuation line
 */
export function unstructuredTokens(value: string, firstMax: number, restMax: number): string[] {
  if (value === "") return [];
  if (isPrintableAscii(value) && !value.includes("=?") && isSingleSpaced(value)) {
    const words = value.split(" ");
    if (words[0]!.length <= firstMax && words.every((w) => w.length <= restMax)) return words;
  }
  return encodeWords(value, Math.min(firstMax, MAX_ENCODED_WORD), Math.min(restMax, MAX_ENCODED_WORD));
}

function isSingleSpaced(text: string): boolean {
  if (text[0] === " " || text[text.length - 1] === " ") return false;
  return !text.includes("  ");
}
