/**
 * The two ASCII encodings of DSN parameter values: xtext (RFC 3461 §4, for ENVID and the
 * `rfc822` ORCPT address) and utf-8-addr-xtext (RFC 6533 §3, for an ORCPT address with a
 * non-ASCII local part).
 *
 * @module
 */

const HEX = "0123456789ABCDEF";

/**
 * Encodes `text` as xtext: "!" to "~" stay as they are except "+" and "=", and every other
 * octet of its UTF-8 form is written `+XX` in upper-case hex.
 *
 * @example encodeXtext("a+b=c d") === "a+2Bb+3Dc+20d"
 */
export function encodeXtext(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    if (byte >= 0x21 && byte <= 0x7e && byte !== 0x2b && byte !== 0x3d) out += String.fromCharCode(byte);
    else out += "+" + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}

/**
 * Encodes a UTF-8 address as utf-8-addr-xtext (RFC 6533 §3): printable ASCII stays except
 * "\\", "+" and "=", and every other character becomes `\x{HEX}` with its code point in
 * upper-case hex, shortest form (at least two digits). The result is itself valid xtext.
 *
 * @example encodeUtf8AddrXtext("jörg@example.de") === "j\\x{F6}rg@example.de"
 */
export function encodeUtf8AddrXtext(address: string): string {
  let out = "";
  for (const ch of address) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x21 && cp <= 0x7e && cp !== 0x5c && cp !== 0x2b && cp !== 0x3d) out += ch;
    else out += `\\x{${cp.toString(16).toUpperCase().padStart(2, "0")}}`;
  }
  return out;
}
