/**
 * Base64 for attachments (RFC 2045 §6.8): strict validation of caller strings, lazy
 * re-wrapping of those strings to 76-column lines, and lazy encoding of raw bytes. Nothing
 * here decodes a caller's string or copies it whole: chunks are built straight from the
 * source, so memory stays bounded by the chunk size.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENCODE: Uint8Array = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENCODE[i] = ALPHABET.charCodeAt(i);

// 1 for alphabet characters, 2 for ignorable whitespace (CR, LF, space, tab), 0 otherwise.
const CLASS: Uint8Array = new Uint8Array(128);
for (let i = 0; i < 64; i++) CLASS[ALPHABET.charCodeAt(i)] = 1;
for (const ws of [9, 10, 13, 32]) CLASS[ws] = 2;

// 0 for the 64 alphabet octets, 1 for every other octet (for the clean-string fast path).
const NOT_ALPHABET: Uint8Array = new Uint8Array(256).fill(1);
for (let i = 0; i < 64; i++) NOT_ALPHABET[ALPHABET.charCodeAt(i)] = 0;
// The same for two octets at once, indexed by 16 bits of a Uint32Array element: 0 only
// when both are alphabet octets. Symmetric, so the platform's byte order does not matter.
// 64 KiB, built on first use.
let notAlphabetPair: Uint8Array | undefined;
const ENCODER = new TextEncoder();
// Characters checked per encodeInto in isClean (a multiple of 4: whole 32-bit elements).
const CLEAN_BLOCK = 65536;

/** Encoded characters per output line (RFC 2045 §6.8 allows at most 76). */
export const LINE_LENGTH = 76;
/** Lines per yielded chunk: 840 lines of 78 octets stay just under 64 KiB. */
const LINES_PER_CHUNK = 840;
/** Input bytes per encoded line: 57 bytes are 76 characters. */
const BYTES_PER_LINE = (LINE_LENGTH / 4) * 3;
/** Input bytes that {@link encodeBase64} turns into one chunk (whole lines, about 47 KiB). */
export const BYTES_PER_CHUNK: number = BYTES_PER_LINE * LINES_PER_CHUNK;
const CRLF_CR = 13;
const CRLF_LF = 10;

/**
 * Validates a caller's base64 string: standard alphabet only, CR/LF/space/tab ignored,
 * `=` padding only at the end and only to complete a 4-character group, nothing after it,
 * and a whole number of 4-character groups. The empty string is valid (an empty file).
 * One linear pass; no copy is made.
 *
 * @param value the base64 text
 * @param field the input path used in the error, such as `attachments[2].content`
 * @returns the number of base64 characters once whitespace is removed (padding included)
 * @throws {SmtpValidationError} with code `EATTACHMENT`
 */
export function checkBase64(value: string, field: string): number {
  // Fast path for the common case, a string with no whitespace.
  if (value.length % 4 === 0 && isClean(value)) return value.length;
  let data = 0;
  let padding = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const kind = c < 128 ? CLASS[c] : 0;
    if (kind === 2) continue;
    if (kind === 1) {
      if (padding > 0) {
        throw new SmtpValidationError(field, `is not valid base64: "=" padding in the middle (offset ${i})`, "EATTACHMENT");
      }
      data++;
      continue;
    }
    if (c === 61 /* = */) {
      padding++;
      if (padding > 2) throw new SmtpValidationError(field, "is not valid base64: more than two \"=\" padding characters", "EATTACHMENT");
      continue;
    }
    const shown = c < 32 || c > 126 ? `U+${c.toString(16).toUpperCase().padStart(4, "0")}` : `"${value[i]}"`;
    const hint = c === 45 || c === 95 ? " (the URL-safe alphabet is not accepted; use + and /)" : "";
    throw new SmtpValidationError(field, `is not valid base64: character ${shown} at offset ${i}${hint}`, "EATTACHMENT");
  }
  const total = data + padding;
  if (total % 4 !== 0) {
    throw new SmtpValidationError(
      field,
      `is not valid base64: its length without whitespace (${total}) is not a multiple of 4`,
      "EATTACHMENT",
    );
  }
  // "xy==" and "xyz=" are the only legal final groups with padding; "x===" was refused above.
  return total;
}

/**
 * True when `value` is alphabet characters then at most two "=". Several times faster than
 * the equivalent regex on a long string: blocks are encoded natively into one octet per
 * character (or fail to fit: non-ASCII) and checked by table without a branch per octet.
 */
function isClean(value: string): boolean {
  let end = value.length;
  if (end > 0 && value.charCodeAt(end - 1) === 61) end--;
  if (end > 0 && value.charCodeAt(end - 1) === 61) end--;
  const buffer = new ArrayBuffer(Math.min(CLEAN_BLOCK, end));
  const block = new Uint8Array(buffer);
  // Up to one block, one octet per lookup; beyond, four per element read, two per lookup,
  // with a 64 KiB table that is only worth building for a long string.
  const words = end > CLEAN_BLOCK ? new Uint32Array(buffer) : undefined;
  const pairs = words ? (notAlphabetPair ??= pairTable()) : undefined;
  for (let start = 0; start < end; start += CLEAN_BLOCK) {
    const length = Math.min(end - start, CLEAN_BLOCK);
    const { read, written } = ENCODER.encodeInto(value.substring(start, start + length), block);
    // Anything non-ASCII takes more than one octet, so not every character fits.
    if (read !== length) return false;
    if (words && pairs) {
      let bad = notAlphabetQuads(words, written >> 2, pairs);
      for (let i = written & ~3; i < written; i++) bad |= NOT_ALPHABET[block[i]!]!;
      if (bad !== 0) return false;
    } else if (notAlphabet(block, written) !== 0) {
      return false;
    }
  }
  return true;
}

function pairTable(): Uint8Array {
  const table = new Uint8Array(65536).fill(1);
  for (let i = 0; i < 64; i++) {
    const high = ALPHABET.charCodeAt(i) << 8;
    for (let j = 0; j < 64; j++) table[high | ALPHABET.charCodeAt(j)] = 0;
  }
  return table;
}

// Functions of their own, so that they are optimised as a whole on a cold start rather
// than through on-stack replacement of the caller's loop (about 27 -> 17 ms on a 14 MB
// string for the one-octet form). Four characters per iteration cut the iterations again,
// which matters most before the optimised code arrives (about 15 -> 12.5 ms in S4).
function notAlphabet(octets: Uint8Array, length: number): number {
  let bad = 0;
  for (let i = 0; i < length; i++) bad |= NOT_ALPHABET[octets[i]!]!;
  return bad;
}

function notAlphabetQuads(words: Uint32Array, length: number, pairs: Uint8Array): number {
  let bad = 0;
  for (let i = 0; i < length; i++) {
    const w = words[i]!;
    bad |= pairs[w & 0xffff]! | pairs[w >>> 16]!;
  }
  return bad;
}

/**
 * Octets of a chunk of `chars` base64 characters in 76-character lines: every line ends
 * with CRLF except the very last one of the output (`last`).
 */
function chunkSize(chars: number, last: boolean): number {
  const lines = Math.ceil(chars / LINE_LENGTH);
  return chars + 2 * (last ? lines - 1 : lines);
}

/** Octets produced by {@link wrapBase64} for a string with `stripped` base64 characters. */
export function wrappedBase64Size(stripped: number): number {
  return stripped === 0 ? 0 : chunkSize(stripped, true);
}

/**
 * Re-wraps an already validated base64 string into 76-character lines joined by CRLF (no
 * CRLF after the last line), skipping any whitespace in the source as it goes. Each call
 * starts from the beginning; chunks are at most ~64 KiB.
 *
 * @param value a string accepted by {@link checkBase64}
 * @param stripped the length {@link checkBase64} returned
 * @param transient reuse one output buffer: each chunk is valid only until the next one is
 *   requested (for a consumer that is done with a chunk before it asks for the next)
 */
export function* wrapBase64(value: string, stripped: number, transient = false): Generator<Uint8Array, void, undefined> {
  if (stripped === value.length) {
    yield* wrapClean(value, transient);
    return;
  }
  let src = 0;
  let remaining = stripped;
  let reused: Uint8Array | undefined;
  while (remaining > 0) {
    const chars = Math.min(remaining, LINES_PER_CHUNK * LINE_LENGTH);
    const size = chunkSize(chars, chars === remaining);
    const out = transient ? (reused ??= new Uint8Array(size)).subarray(0, size) : new Uint8Array(size);
    let o = 0;
    let col = 0;
    for (let n = 0; n < chars; n++) {
      let c = value.charCodeAt(src++);
      while (c === 9 || c === 10 || c === 13 || c === 32) c = value.charCodeAt(src++);
      out[o++] = c;
      if (++col === LINE_LENGTH && o < size) {
        out[o++] = CRLF_CR;
        out[o++] = CRLF_LF;
        col = 0;
      }
    }
    remaining -= chars;
    yield out;
  }
}

/**
 * {@link wrapBase64} for a string without whitespace: each chunk's characters are encoded
 * natively into a scratch buffer and copied line by line into an output buffer that
 * already has the CRLFs in place (a fresh copy of it per chunk, or the same one when
 * `transient`).
 */
function* wrapClean(value: string, transient: boolean): Generator<Uint8Array, void, undefined> {
  const perChunk = LINES_PER_CHUNK * LINE_LENGTH;
  const lines = Math.min(LINES_PER_CHUNK, Math.ceil(value.length / LINE_LENGTH));
  const scratch = new Uint8Array(lines * LINE_LENGTH);
  // One view per scratch line, made once: a copy is then one native call per line. Making
  // the view on each line cost more than the copy itself (S4: ~23 -> ~8 ms cold).
  const sourceLines: Uint8Array[] = [];
  for (let at = 0; at < scratch.length; at += LINE_LENGTH) sourceLines.push(scratch.subarray(at, at + LINE_LENGTH));
  const template = new Uint8Array(lines * (LINE_LENGTH + 2));
  for (let o = LINE_LENGTH; o < template.length; o += LINE_LENGTH + 2) {
    template[o] = CRLF_CR;
    template[o + 1] = CRLF_LF;
  }
  for (let start = 0; start < value.length; start += perChunk) {
    const chars = Math.min(perChunk, value.length - start);
    // The template has a CRLF after every line; the final line's falls outside the size.
    const size = chunkSize(chars, start + chars === value.length);
    // Copying lines over the template keeps its CRLFs, so it can serve as the output itself.
    const out = transient ? template.subarray(0, size) : template.slice(0, size);
    // ASCII only (checked), so one character is one byte. Called here rather than in
    // placeLines: optimising that would otherwise inline the runtime's encodeInto wrapper,
    // which made that compilation (on a background thread, during the send) take 15-40 ms
    // instead of about 2.
    ENCODER.encodeInto(value.substring(start, start + chars), scratch);
    placeLines(out, sourceLines, chars);
    yield out;
  }
}

// Copies `chars` characters from the scratch lines into `out`, one line per 78 octets.
function placeLines(out: Uint8Array, sourceLines: Uint8Array[], chars: number): void {
  const full = Math.floor(chars / LINE_LENGTH);
  for (let k = 0; k < full; k++) out.set(sourceLines[k]!, k * (LINE_LENGTH + 2));
  const rest = chars - full * LINE_LENGTH;
  if (rest > 0) out.set(sourceLines[full]!.subarray(0, rest), full * (LINE_LENGTH + 2));
}

/** Octets produced by {@link encodeBase64} for `byteLength` input bytes. */
export function encodedBase64Size(byteLength: number): number {
  return wrappedBase64Size(4 * Math.ceil(byteLength / 3));
}

/**
 * Base64-encodes bytes lazily into 76-character lines joined by CRLF (no CRLF after the
 * last line). Each call starts from the beginning; chunks are at most ~64 KiB.
 *
 * @param bytes what to encode
 * @param transient reuse one output buffer, as in {@link wrapBase64}
 */
export function* encodeBase64(bytes: Uint8Array, transient = false): Generator<Uint8Array, void, undefined> {
  let reused: Uint8Array | undefined;
  for (let start = 0; start < bytes.length; start += BYTES_PER_CHUNK) {
    const end = Math.min(bytes.length, start + BYTES_PER_CHUNK);
    const size = chunkSize(4 * Math.ceil((end - start) / 3), end === bytes.length);
    const out = transient ? (reused ??= new Uint8Array(size)).subarray(0, size) : new Uint8Array(size);
    encodeLines(bytes, start, end, out);
    yield out;
  }
}

// Two output characters per 16-bit store: the pair for each 12-bit half of a 3-byte group,
// in the platform's byte order. 8 KiB, built on first use.
let encodePairs: Uint16Array | undefined;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const CRLF_WORD = LITTLE_ENDIAN ? CRLF_CR | (CRLF_LF << 8) : (CRLF_CR << 8) | CRLF_LF;

function pairTable16(): Uint16Array {
  const table = new Uint16Array(4096);
  for (let i = 0; i < 4096; i++) {
    const first = ENCODE[i >> 6]!;
    const second = ENCODE[i & 63]!;
    table[i] = LITTLE_ENDIAN ? first | (second << 8) : (first << 8) | second;
  }
  return table;
}

// Encodes bytes[start, end) into `out` (which starts a line and is exactly the encoded
// size): 57-byte lines of 76 characters, CRLF between lines. Every line starts at an even
// offset (78 per line), so whole groups go out as 16-bit words, half the stores and
// lookups of one byte at a time (S4 with a 10 MB Uint8Array: about 25 -> 19 ms cold).
function encodeLines(bytes: Uint8Array, start: number, end: number, out: Uint8Array): void {
  const words = new Uint16Array(out.buffer, out.byteOffset, out.length >> 1);
  const pairs = (encodePairs ??= pairTable16());
  let w = 0;
  let i = start;
  while (i < end) {
    const lineEnd = Math.min(end, i + BYTES_PER_LINE);
    for (; i + 3 <= lineEnd; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      words[w++] = pairs[n >>> 12]!;
      words[w++] = pairs[n & 4095]!;
    }
    // One or two bytes left: the end of the data, padded (RFC 4648 §4).
    if (i < lineEnd) {
      encodeGroups(bytes, i, lineEnd, out, 2 * w);
      return;
    }
    if (2 * w < out.length) words[w++] = CRLF_WORD;
  }
}

/**
 * Base64 of a small byte array as one unwrapped string (for RFC 2047 encoded words).
 */
export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(4 * Math.ceil(bytes.length / 3));
  encodeGroups(bytes, 0, bytes.length, out, 0);
  let s = "";
  for (let i = 0; i < out.length; i++) s += String.fromCharCode(out[i]!);
  return s;
}

function encodeGroups(bytes: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let i = start;
  for (; i + 3 <= end; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = ENCODE[n >>> 18]!;
    out[o++] = ENCODE[(n >>> 12) & 63]!;
    out[o++] = ENCODE[(n >>> 6) & 63]!;
    out[o++] = ENCODE[n & 63]!;
  }
  const rest = end - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = ENCODE[n >>> 18]!;
    out[o++] = ENCODE[(n >>> 12) & 63]!;
    out[o++] = rest === 2 ? ENCODE[(n >>> 6) & 63]! : 61;
    out[o++] = 61;
  }
  return o;
}
