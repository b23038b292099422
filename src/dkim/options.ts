/**
 * The `dkim` option and its validation. Everything but the key import happens
 * synchronously, so a bad option fails when the transport is created.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { Secret } from "../secret.ts";
import { cryptoKeyAlgorithm, isCryptoKey, parsePrivateKeyPem, type DkimAlgorithm, type ParsedPem } from "./key.ts";

/** How to DKIM-sign outgoing messages (RFC 6376, with RFC 8463 for Ed25519). */
export interface DkimOptions {
  /** The signing domain, `d=`: the DNS domain that publishes the public key, such as `"example.com"`. */
  domainName: string;
  /** The selector, `s=`: the key is looked up at `<selector>._domainkey.<domainName>`. */
  keySelector: string;
  /**
   * The private key: a WebCrypto `CryptoKey` (`RSASSA-PKCS1-v1_5` with SHA-256, or
   * `Ed25519`, with the `"sign"` usage), or an unencrypted PKCS#8 PEM string
   * (`-----BEGIN PRIVATE KEY-----`), optionally wrapped in a {@link Secret}.
   */
  privateKey: CryptoKey | string | Secret;
  /** `"rsa-sha256"` or `"ed25519-sha256"`; taken from the key when omitted, and must match it. */
  algorithm?: DkimAlgorithm;
  /**
   * Header fields to sign, `h=`, case-insensitive; each one present in the message is
   * signed (every instance of it). Must include `from`. Defaults to
   * {@link DEFAULT_DKIM_HEADER_FIELDS}.
   */
  headerFields?: readonly string[];
}

/** The header fields signed by default. */
export const DEFAULT_DKIM_HEADER_FIELDS: readonly string[] = Object.freeze([
  "from", "to", "cc", "subject", "date", "message-id", "reply-to", "mime-version", "content-type",
]);

/** Validated DKIM options; the key is either ready or waiting to be imported. */
export interface ResolvedDkim {
  /** Lower-case signing domain. */
  domainName: string;
  /** The selector, as given. */
  keySelector: string;
  /** The algorithm. */
  algorithm: DkimAlgorithm;
  /** Lower-case field names, without duplicates, `from` among them. */
  headerFields: string[];
  /** A caller's key, or a PEM to import (kept out of sight until then). */
  key: { kind: "crypto"; key: CryptoKey } | { kind: "pem"; pem: Secret };
}

// A DNS name of LDH labels (RFC 6376 §3.5 d= is a domain-name; A-labels only).
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
// RFC 6376 §3.1 selector: sub-domain *("." sub-domain); underscores are tolerated, as DNS allows them.
const SELECTOR_LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
const SELECTOR = new RegExp(`^${SELECTOR_LABEL}(?:\\.${SELECTOR_LABEL})*$`);
// RFC 5322 §3.6.8 field name.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkHeaderFields(value: unknown): string[] {
  if (value === undefined) return [...DEFAULT_DKIM_HEADER_FIELDS];
  if (!Array.isArray(value) || value.length === 0) {
    throw new SmtpValidationError("dkim.headerFields", "must be a non-empty array of header names");
  }
  const fields: string[] = [];
  value.forEach((name: unknown, i) => {
    if (typeof name !== "string" || !FIELD_NAME.test(name)) {
      throw new SmtpValidationError(`dkim.headerFields[${i}]`, "must be a header field name (printable ASCII, no colon)");
    }
    const lower = name.toLowerCase();
    if (lower === "dkim-signature") {
      throw new SmtpValidationError(`dkim.headerFields[${i}]`, "must not be dkim-signature (a signature does not sign itself)");
    }
    if (!fields.includes(lower)) fields.push(lower);
  });
  if (!fields.includes("from")) throw new SmtpValidationError("dkim.headerFields", 'must include "from" (RFC 6376 §5.4)');
  return fields;
}

/**
 * Validates the `dkim` option: domain and selector shapes, the key's kind and algorithm,
 * the header list. A PEM string is recognised here but imported later, on first use.
 *
 * @throws {SmtpValidationError} naming the field (`dkim.domainName`, `dkim.privateKey`, …);
 *   never quoting the key
 */
export function resolveDkim(options: unknown): ResolvedDkim {
  if (!isPlainObject(options)) throw new SmtpValidationError("dkim", "must be an object");
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(options, key) ? options[key] : undefined);

  const domainName = own("domainName");
  if (typeof domainName !== "string" || !DOMAIN.test(domainName) || domainName.length > 253) {
    throw new SmtpValidationError("dkim.domainName", "must be a domain name such as example.com (IDNs in their xn-- form)");
  }
  const keySelector = own("keySelector");
  if (typeof keySelector !== "string" || !SELECTOR.test(keySelector) || keySelector.length > 253) {
    throw new SmtpValidationError("dkim.keySelector", "must be a DNS label or dotted labels, such as 2024a");
  }

  const given = own("privateKey");
  let key: ResolvedDkim["key"];
  let keyAlgorithm: DkimAlgorithm;
  if (isCryptoKey(given)) {
    keyAlgorithm = cryptoKeyAlgorithm(given, "dkim.privateKey");
    key = { kind: "crypto", key: given };
  } else if (typeof given === "string" || given instanceof Secret) {
    const pem = given instanceof Secret ? given : new Secret(given);
    const parsed: ParsedPem = parsePrivateKeyPem(pem.reveal(), "dkim.privateKey");
    keyAlgorithm = parsed.algorithm;
    key = { kind: "pem", pem };
  } else {
    throw new SmtpValidationError("dkim.privateKey", given === undefined ? "is required" : "must be a CryptoKey or a PKCS#8 PEM string");
  }

  const algorithm = own("algorithm");
  if (algorithm !== undefined) {
    if (algorithm !== "rsa-sha256" && algorithm !== "ed25519-sha256") {
      throw new SmtpValidationError("dkim.algorithm", 'must be "rsa-sha256" or "ed25519-sha256"');
    }
    if (algorithm !== keyAlgorithm) {
      throw new SmtpValidationError("dkim.algorithm", `is "${algorithm}" but the key is for "${keyAlgorithm}"`);
    }
  }

  return {
    domainName: domainName.toLowerCase(),
    keySelector,
    algorithm: keyAlgorithm,
    headerFields: checkHeaderFields(own("headerFields")),
    key,
  };
}

/**
 * The options that resolve to `resolved` again: a frozen copy taken when a transport is
 * created, so later changes to the caller's object do not reach the signer.
 */
export function dkimOptionsOf(resolved: ResolvedDkim): DkimOptions {
  return Object.freeze({
    domainName: resolved.domainName,
    keySelector: resolved.keySelector,
    algorithm: resolved.algorithm,
    headerFields: Object.freeze([...resolved.headerFields]),
    privateKey: resolved.key.kind === "crypto" ? resolved.key.key : resolved.key.pem,
  });
}
