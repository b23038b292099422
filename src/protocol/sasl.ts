/**
 * SASL payloads for AUTH PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), XOAUTH2 and
 * OAUTHBEARER (RFC 7628). Credentials are UTF-8 encoded before base64: `btoa` on a
 * JavaScript string would throw or mangle non-Latin-1 input.
 *
 * @module
 */

import { hmacMd5, toHex } from "./md5.ts";

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

/** The bytes of a base64 string; throws for anything that is not base64. */
export function bytesFromBase64(text: string): Uint8Array {
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The CRAM-MD5 response (RFC 2195): the user name, a space and the lower-case hex HMAC-MD5
 * of the server's challenge (given here as the base64 text of its 334 reply) keyed with the
 * UTF-8 password, all in base64. The password itself never goes on the wire.
 */
export function cramMd5Response(username: string, password: string, challenge: string): string {
  const digest = hmacMd5(ENCODER.encode(password), bytesFromBase64(challenge));
  return base64Utf8(`${username} ${toHex(digest)}`);
}

/**
 * A user name as a GS2 `saslname` (RFC 5801 §4, used by RFC 7628): "=" becomes "=3D" and
 * "," becomes "=2C", so neither can end the authorization identity early.
 */
export function saslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/**
 * The XOAUTH2 initial response (the Google and Microsoft format): base64 of
 * `user=<username>^Aauth=Bearer <token>^A^A`, where ^A is the byte 0x01.
 */
export function xoauth2Token(username: string, accessToken: string): string {
  return base64Utf8(`user=${username}\x01auth=Bearer ${accessToken}\x01\x01`);
}

/** Where the client connected, as OAUTHBEARER reports it (RFC 7628 §3.1 `host` and `port`). */
export interface OAuthBearerTarget {
  /** The server's host name. */
  host: string;
  /** The server's port. */
  port: number;
}

/**
 * The OAUTHBEARER initial client response (RFC 7628 §3.1): a GS2 header naming the user
 * (`n,a=<saslname>,`), then `host`, `port` and `auth=Bearer <token>` key/value pairs, each
 * ended by 0x01, and a final 0x01; all in base64.
 */
export function oauthBearerToken(username: string, accessToken: string, target: OAuthBearerTarget): string {
  const pairs = [`host=${target.host}`, `port=${target.port}`, `auth=Bearer ${accessToken}`];
  return base64Utf8(`n,a=${saslName(username)},\x01${pairs.join("\x01")}\x01\x01`);
}

/**
 * What the client answers to an OAuth error challenge (a 334 carrying a JSON status) to
 * let the server finish with its failure reply: an empty line for XOAUTH2, base64 of the
 * single byte 0x01 for OAUTHBEARER (RFC 7628 §3.2.3).
 */
export const OAUTH_ERROR_ACK: Readonly<Record<"XOAUTH2" | "OAUTHBEARER", string>> = Object.freeze({
  XOAUTH2: "",
  OAUTHBEARER: base64Utf8("\x01"),
});

/** The JSON an OAuth server sends in its error challenge (RFC 7628 §3.2.2; Google adds `schemes`). */
export interface OAuthErrorChallenge {
  /** The HTTP-like status, for example `"401"` (token invalid or expired) or `"403"` (missing scope). */
  status?: string;
  /** The scope the token needs, when the server names it. */
  scope?: string;
  /** The accepted token schemes (Google). */
  schemes?: string;
}

/** Reads an OAuth error challenge (the base64 text of a 334 reply); undefined when it is not one. */
export function parseOAuthError(challenge: string): OAuthErrorChallenge | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytesFromBase64(challenge)));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: OAuthErrorChallenge = {};
  for (const key of ["status", "scope", "schemes"] as const) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field === "string" && field.length <= 1000) out[key] = field;
    else if (typeof field === "number" && key === "status") out.status = String(field);
  }
  return out;
}

/** SASL mechanisms that work with a password, strongest first (what `"auto"` prefers). */
export const PASSWORD_MECHANISMS: readonly string[] = Object.freeze(["CRAM-MD5", "PLAIN", "LOGIN"]);

/** SASL mechanisms that work with an OAuth2 bearer token, strongest first. */
export const TOKEN_MECHANISMS: readonly string[] = Object.freeze(["OAUTHBEARER", "XOAUTH2"]);

/** The first of `candidates` (in their order of preference) that the server offers. */
export function strongestOffered(candidates: readonly string[], offered: readonly string[]): string | undefined {
  return candidates.find((mechanism) => offered.includes(mechanism));
}
