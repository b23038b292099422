/**
 * DKIM private keys: recognising a PKCS#8 PEM (and which algorithm it is for) without
 * importing it, checking a caller's `CryptoKey`, and importing with WebCrypto. No error
 * here ever quotes key material.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";

/** A DKIM signing algorithm (RFC 6376 §3.3, RFC 8463). */
export type DkimAlgorithm = "rsa-sha256" | "ed25519-sha256";

/** Smallest RSA modulus accepted, in bits (RFC 8301 §3.2). */
export const MIN_RSA_BITS = 1024;

const RSA_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]; // 1.2.840.113549.1.1.1
const ED25519_OID = [0x2b, 0x65, 0x70]; // 1.3.101.112

/** A PKCS#8 key recognised but not yet imported. */
export interface ParsedPem {
  /** The DER bytes of the PrivateKeyInfo. */
  der: Uint8Array<ArrayBuffer>;
  /** The algorithm the key is for. */
  algorithm: DkimAlgorithm;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  const clean = text.replace(/[\s]+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) return undefined;
  const binary = atob(clean);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Reads one DER tag-length at `at`; returns where the value starts and ends, or undefined. */
function tlv(der: Uint8Array, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  return end > der.length ? undefined : { tag, start, end };
}

/** The algorithm OID of a PKCS#8 PrivateKeyInfo (RFC 5208 §5), or undefined if malformed. */
function algorithmOid(der: Uint8Array): number[] | undefined {
  const info = tlv(der, 0);
  if (!info || info.tag !== 0x30) return undefined;
  const version = tlv(der, info.start);
  if (!version || version.tag !== 0x02) return undefined;
  const algorithmId = tlv(der, version.end);
  if (!algorithmId || algorithmId.tag !== 0x30) return undefined;
  const oid = tlv(der, algorithmId.start);
  if (!oid || oid.tag !== 0x06) return undefined;
  return Array.from(der.subarray(oid.start, oid.end));
}

/** The RSA facts of a key's `algorithm` (not declared in every runtime's lib). */
interface RsaAlgorithmFacts {
  name: string;
  modulusLength?: number;
  hash?: { name: string };
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Recognises an unencrypted PKCS#8 private key in PEM form (`-----BEGIN PRIVATE KEY-----`)
 * for RSA or Ed25519.
 *
 * @param pem the PEM text
 * @param field the option path used in errors, `dkim.privateKey`
 * @throws {SmtpValidationError} for anything else, with a hint on how to convert it
 */
export function parsePrivateKeyPem(pem: string, field: string): ParsedPem {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/.exec(pem);
  if (!match) throw new SmtpValidationError(field, "must be a CryptoKey or a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)");
  const label = match[1]!;
  if (label !== "PRIVATE KEY") {
    const hint =
      label === "ENCRYPTED PRIVATE KEY"
        ? "an encrypted key cannot be used; decrypt it (openssl pkcs8 -in key.pem -out plain.pem)"
        : `a "${label}" PEM is not PKCS#8; convert it (openssl pkcs8 -topk8 -nocrypt -in key.pem -out pkcs8.pem)`;
    throw new SmtpValidationError(field, hint);
  }
  const der = decodeBase64(match[2]!);
  const oid = der && algorithmOid(der);
  if (!der || !oid) throw new SmtpValidationError(field, "is not a well-formed PKCS#8 private key");
  if (same(oid, RSA_OID)) return { der, algorithm: "rsa-sha256" };
  if (same(oid, ED25519_OID)) return { der, algorithm: "ed25519-sha256" };
  throw new SmtpValidationError(field, "must be an RSA or Ed25519 key (DKIM has no other signing algorithms)");
}

/** True when `value` has the shape of a WebCrypto `CryptoKey` (from any realm). */
export function isCryptoKey(value: unknown): value is CryptoKey {
  if (value === null || typeof value !== "object") return false;
  const key = value as Partial<CryptoKey>;
  return typeof key.type === "string" && typeof key.algorithm === "object" && Array.isArray(key.usages);
}

/**
 * The DKIM algorithm a caller's `CryptoKey` signs with.
 *
 * @throws {SmtpValidationError} unless it is a private `RSASSA-PKCS1-v1_5`/SHA-256 key of
 *   at least {@link MIN_RSA_BITS} bits or a private `Ed25519` key, usable for signing
 */
export function cryptoKeyAlgorithm(key: CryptoKey, field: string): DkimAlgorithm {
  if (key.type !== "private") throw new SmtpValidationError(field, "must be a private key");
  if (!key.usages.includes("sign")) throw new SmtpValidationError(field, 'must allow the "sign" usage');
  const algorithm = key.algorithm as RsaAlgorithmFacts;
  if (algorithm.name === "Ed25519") return "ed25519-sha256";
  if (algorithm.name === "RSASSA-PKCS1-v1_5") {
    if (algorithm.hash?.name !== "SHA-256") throw new SmtpValidationError(field, "must be an RSASSA-PKCS1-v1_5 key for SHA-256");
    checkModulus(algorithm.modulusLength, field);
    return "rsa-sha256";
  }
  throw new SmtpValidationError(field, 'must be an "RSASSA-PKCS1-v1_5" (SHA-256) or "Ed25519" key');
}

function checkModulus(bits: number | undefined, field: string): void {
  if (typeof bits === "number" && bits < MIN_RSA_BITS) {
    throw new SmtpValidationError(field, `is a ${bits}-bit RSA key; DKIM needs at least ${MIN_RSA_BITS} bits (RFC 8301), 2048 recommended`);
  }
}

/**
 * Imports a recognised PKCS#8 key as a non-extractable signing key.
 *
 * @throws {SmtpValidationError} when WebCrypto refuses it (the reason's name only)
 */
export async function importPrivateKey(parsed: ParsedPem, field: string): Promise<CryptoKey> {
  const params: RsaHashedImportParams | Algorithm =
    parsed.algorithm === "rsa-sha256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "Ed25519" };
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", parsed.der, params, false, ["sign"]);
  } catch (error) {
    const reason = error instanceof Error ? error.name : "unknown error";
    throw new SmtpValidationError(field, `could not be imported by WebCrypto (${reason})`);
  }
  if (parsed.algorithm === "rsa-sha256") checkModulus((key.algorithm as RsaAlgorithmFacts).modulusLength, field);
  return key;
}

/**
 * Signs `data` (RFC 6376 §3.7 `data-hash` input). RSA: RSASSA-PKCS1-v1_5 over SHA-256 of
 * the data. Ed25519 (RFC 8463 §3): PureEdDSA over the SHA-256 hash of the data.
 */
export async function signData(algorithm: DkimAlgorithm, key: CryptoKey, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  if (algorithm === "rsa-sha256") {
    return new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, key, data));
  }
  const hash = await crypto.subtle.digest("SHA-256", data);
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, hash));
}
