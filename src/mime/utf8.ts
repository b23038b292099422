/**
 * UTF-8 helpers that work one code point at a time, so encoders can keep a character's
 * bytes together (never splitting a multi-byte sequence or a surrogate pair).
 *
 * @module
 */

/**
 * Calls `visit` once per code point of `text` with its UTF-8 bytes. A lone surrogate is
 * encoded as U+FFFD, exactly as `TextEncoder` does.
 *
 * @param text the string to walk
 * @param visit receives the code point's 1 to 4 bytes (a reused array: copy to keep) and its length
 */
export function forEachUtf8CodePoint(text: string, visit: (bytes: Uint8Array, length: number) => void): void {
  const buf = new Uint8Array(4);
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        cp = 0xfffd;
      }
    }
    visit(buf, encodeCodePoint(cp, buf));
  }
}

/** Writes the UTF-8 form of one code point into `out` and returns its length (1 to 4). */
export function encodeCodePoint(cp: number, out: Uint8Array): number {
  if (cp < 0x80) {
    out[0] = cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = 0xc0 | (cp >> 6);
    out[1] = 0x80 | (cp & 63);
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = 0xe0 | (cp >> 12);
    out[1] = 0x80 | ((cp >> 6) & 63);
    out[2] = 0x80 | (cp & 63);
    return 3;
  }
  out[0] = 0xf0 | (cp >> 18);
  out[1] = 0x80 | ((cp >> 12) & 63);
  out[2] = 0x80 | ((cp >> 6) & 63);
  out[3] = 0x80 | (cp & 63);
  return 4;
}

/** Number of UTF-8 octets `text` encodes to (lone surrogates count as U+FFFD, 3 octets). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
