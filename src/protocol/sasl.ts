/**
 * SASL payloads for AUTH PLAIN (RFC 4616) and AUTH LOGIN. Credentials are UTF-8 encoded
 * before base64: `btoa` on a JavaScript string would throw or mangle non-Latin-1 input.
 *
 * @module
 */

const ENCODER = new TextEncoder();

/** Base64 of raw bytes, with Web APIs only. */
export function base64FromBytes(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** Base64 of a string's UTF-8 bytes. */
export function base64Utf8(text: string): string {
  return base64FromBytes(ENCODER.encode(text));
}

/** The PLAIN initial response: base64(authzid NUL authcid NUL password), with an empty authzid. */
export function plainToken(username: string, password: string): string {
  return base64Utf8(`\0${username}\0${password}`);
}
