/**
 * Text and HTML body parts: choosing 7bit or quoted-printable and producing the bytes.
 *
 * @module
 */

import { encodeQuotedPrintable, isSevenBitText, normalizeNewlines } from "./quoted-printable.ts";

/** A body encoded for the wire. */
export interface EncodedBody {
  /** The Content-Transfer-Encoding. */
  encoding: "7bit" | "quoted-printable";
  /** CRLF-only ASCII bytes, with no CRLF added at the end. */
  bytes: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Encodes a text body: 7bit when it is printable ASCII (tabs allowed) with no line over 998
 * octets, quoted-printable otherwise. Line breaks of any kind become CRLF either way.
 */
export function encodeTextBody(text: string): EncodedBody {
  if (isSevenBitText(text)) return { encoding: "7bit", bytes: encoder.encode(normalizeNewlines(text)) };
  return { encoding: "quoted-printable", bytes: encoder.encode(encodeQuotedPrintable(text)) };
}
