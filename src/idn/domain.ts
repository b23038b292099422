/**
 * Internationalised domain names to their ASCII form (A-labels) for the SMTP envelope and
 * the headers: a documented subset of UTS #46 processing, non-transitional, with the
 * STD3 (letters, digits, hyphen) rules, CheckHyphens and the DNS length checks on.
 *
 * Mapping (the subset implemented, instead of the full IdnaMappingTable):
 * - the full stops U+3002, U+FF0E and U+FF61 separate labels like "."; a character that
 *   would only map to a full stop (such as U+2488 "⒈") is refused rather than splitting;
 * - per label: NFKC, then lower case one code point at a time (no locale, no context:
 *   "Σ" is always "σ"), then NFKC again, so width variants, compatibility forms and upper
 *   case fold the way UTS #46 folds them in nearly every case; "ß" and "ς" are kept
 *   (non-transitional);
 * - nothing is silently removed: default-ignorable characters (soft hyphen, zero-width
 *   joiners and spaces, variation selectors, bidi controls) are refused instead.
 *
 * Validity: each non-ASCII label may hold only letters (`\p{L}`), combining marks
 * (`\p{Mn}`, `\p{Mc}`, not first), decimal digits (`\p{Nd}`) and "-"; an ASCII label only
 * `a-z 0-9 -`. So controls, spaces, "@", punctuation, symbols, private-use and unassigned
 * code points (as of the JavaScript engine's Unicode version) are refused. No label may
 * start or end with "-", a non-ASCII one may not have "--" in positions 3-4, and an
 * `xn--` label must decode to a valid U-label that encodes back to itself. A-labels are at
 * most 63 octets, the whole name at most 253.
 * Not implemented: the CONTEXTJ/CONTEXTO rules (the characters they govern are refused or,
 * for digits and the middle dot, not checked for context) and the Bidi rule (RFC 5893).
 *
 * @module
 */

import { decodePunycode, encodePunycode, PunycodeError } from "./punycode.ts";

/** Longest label, in octets (RFC 1035 §2.3.4). */
export const MAX_LABEL = 63;
/** Longest domain name in text form, without a final dot (RFC 1035 §2.3.4 less the length octets). */
export const MAX_DOMAIN = 253;
/** The ACE prefix of an A-label (RFC 5890 §2.3.2.5). */
export const ACE_PREFIX = "xn--";

/** Why a domain name has no valid ASCII form. */
export class IdnaError extends Error {
  /** @param message what is wrong, sentence case without a final period */
  constructor(message: string) {
    super(message);
    this.name = "IdnaError";
  }
}

const SEPARATORS = /[\u3002\uff0e\uff61]/g;
// Characters UTS #46 ignores or that change rendering invisibly: refused, never dropped.
const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/u;
const LABEL_CHAR = /^[\p{L}\p{Mn}\p{Mc}\p{Nd}-]$/u;
const MARK = /^\p{M}$/u;

/** True when `text` is all ASCII. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

function describeCodePoint(ch: string): string {
  const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
  return printable ? `"${ch}" (U+${hex})` : `U+${hex}`;
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

/**
 * The UTS #46 mapping step, as far as implemented here (see the module notes), label by
 * label: the dot variants separate labels, then each label gets NFKC, context-free lower
 * case and NFKC again. A label whose mapping would produce a "." is refused (UTS #46 does
 * not let a mapped character split a label either).
 *
 * @returns the mapped labels, in order
 * @throws {IdnaError} on a lone surrogate, an invisible character or a mapped full stop
 */
export function mapDomain(domain: string): string[] {
  if (hasLoneSurrogate(domain)) throw new IdnaError("Domain has a lone surrogate");
  const invisible = INVISIBLE.exec(domain);
  if (invisible) throw new IdnaError(`Domain has the invisible character ${describeCodePoint(invisible[0])}`);
  return domain.replace(SEPARATORS, ".").split(".").map((label) => {
    let lower = "";
    for (const ch of label.normalize("NFKC")) lower += ch.toLowerCase();
    const mapped = lower.normalize("NFKC");
    if (mapped.includes(".")) throw new IdnaError(`Label "${label}" has a character that stands for a full stop`);
    return mapped;
  });
}

function checkHyphens(label: string, unicode: boolean): void {
  if (label.startsWith("-") || label.endsWith("-")) throw new IdnaError(`Label "${label}" starts or ends with a hyphen`);
  if (unicode && label.slice(2, 4) === "--") throw new IdnaError(`Label "${label}" has "--" in the third and fourth positions`);
}

/** Checks a U-label (already mapped): letters, marks, digits, hyphens, and not a mark first. */
function checkULabel(label: string): void {
  checkHyphens(label, true);
  if (label.normalize("NFC") !== label) throw new IdnaError(`Label "${label}" is not in Unicode normalization form C`);
  let first = true;
  for (const ch of label) {
    if (ch.charCodeAt(0) < 0x80 ? !/^[a-z0-9-]$/.test(ch) : !LABEL_CHAR.test(ch)) {
      throw new IdnaError(`Label "${label}" has the disallowed character ${describeCodePoint(ch)}`);
    }
    if (first && MARK.test(ch)) throw new IdnaError(`Label "${label}" starts with a combining mark`);
    first = false;
  }
}

function checkALabel(label: string): string {
  const lower = label.toLowerCase();
  let unicode: string;
  try {
    unicode = decodePunycode(lower.slice(ACE_PREFIX.length));
  } catch (error) {
    if (error instanceof PunycodeError) throw new IdnaError(`Label "${label}" is not valid Punycode: ${error.message}`);
    throw error;
  }
  if (isAscii(unicode)) throw new IdnaError(`Label "${label}" is an A-label for an ASCII label`);
  if (mapDomain(unicode).join(".") !== unicode) throw new IdnaError(`Label "${label}" decodes to a label that is not in mapped form`);
  checkULabel(unicode);
  if (ACE_PREFIX + encodePunycode(unicode) !== lower) throw new IdnaError(`Label "${label}" does not encode back to itself`);
  return lower;
}

function labelToAscii(label: string): string {
  if (label === "") throw new IdnaError("Domain has an empty label (a leading, trailing or doubled dot)");
  if (isAscii(label)) {
    if (!/^[a-z0-9-]+$/.test(label)) {
      const bad = /[^a-z0-9-]/.exec(label)![0];
      throw new IdnaError(`Label "${label}" has the disallowed character ${describeCodePoint(bad)}`);
    }
    if (label.startsWith(ACE_PREFIX)) return checkALabel(label);
    checkHyphens(label, false);
    return label;
  }
  checkULabel(label);
  return ACE_PREFIX + encodePunycode(label);
}

/**
 * Converts a domain name to its ASCII form: U-labels become `xn--` A-labels, everything in
 * lower case. `"Bücher。Example"` gives `"xn--bcher-kva.example"`.
 *
 * @param domain a domain name (not an address literal), as the caller wrote it
 * @returns the A-label form
 * @throws {IdnaError} naming the label and the reason when there is no valid ASCII form
 */
export function domainToAscii(domain: string): string {
  const labels = mapDomain(domain).map(labelToAscii);
  for (const label of labels) {
    if (label.length > MAX_LABEL) throw new IdnaError(`Label "${label}" is longer than ${MAX_LABEL} octets`);
  }
  const ascii = labels.join(".");
  if (ascii.length > MAX_DOMAIN) throw new IdnaError(`Domain is longer than ${MAX_DOMAIN} octets in ASCII form`);
  return ascii;
}

/**
 * Checks the `xn--` labels of an ASCII domain name (other labels are left to the caller's
 * own LDH check), so a malformed A-label is refused rather than sent.
 *
 * @throws {IdnaError} naming the bad label
 */
export function checkAsciiDomainALabels(domain: string): void {
  for (const label of domain.split(".")) {
    if (label.slice(0, ACE_PREFIX.length).toLowerCase() === ACE_PREFIX) checkALabel(label);
  }
}
