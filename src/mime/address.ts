/**
 * Parses caller addresses into exactly one mailbox. Deliberately narrower than RFC 5322:
 * a display name and an RFC 5321 Mailbox (dot-string local part, domain or address
 * literal), nothing else. Groups, lists, comments, source routes and quoted local parts are
 * refused, so what reaches MAIL FROM / RCPT TO and the headers is always unambiguous. One
 * linear pass, no backtracking regular expressions.
 *
 * International addresses: a non-ASCII domain is converted to A-labels (see
 * `../idn/domain.ts`) for the envelope and the headers alike, so it never needs SMTPUTF8; a
 * non-ASCII local part is kept exactly as given and marks the mailbox `international`: the
 * message then needs the server's SMTPUTF8 extension (RFC 6531) and carries the address
 * as raw UTF-8 in its headers (RFC 6532).
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { checkAsciiDomainALabels, domainToAscii, IdnaError } from "../idn/domain.ts";
import { isAtext } from "./encoded-word.ts";
import { utf8Length } from "./utf8.ts";

/** One parsed mailbox. */
export interface Mailbox {
  /** Display name, trimmed; absent when there is none. */
  name?: string;
  /**
   * The address (`local@domain`) as it goes on the wire: the local part as given, a
   * non-ASCII domain converted to lower-case A-labels (`bücher.example` becomes
   * `xn--bcher-kva.example`); an ASCII domain is kept as given.
   */
  address: string;
  /**
   * Set when the local part has non-ASCII characters: the message needs SMTPUTF8
   * (RFC 6531) and its headers carry this address as raw UTF-8 (RFC 6532).
   */
  international?: true;
}

/** Longest local part, in octets (RFC 5321 §4.5.3.1.1). */
export const MAX_LOCAL_PART = 64;
/** Longest address, in octets (RFC 5321 §4.5.3.1.3 path limit minus the angle brackets). */
export const MAX_ADDRESS = 254;

/**
 * Parses `"a@b.c"`, `"Name <a@b.c>"`, `"\"Quoted, Name\" <a@b.c>"` or `{ name, address }`
 * into one mailbox.
 *
 * @param input the caller's value
 * @param field the input path named in errors, such as `to[1]`
 * @throws {SmtpValidationError} naming `field`
 */
export function parseAddress(input: unknown, field: string): Mailbox {
  if (typeof input === "string") return parseMailboxString(input, field);
  if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    const { name, address } = input as { name?: unknown; address?: unknown };
    if (typeof address !== "string") {
      throw new SmtpValidationError(field, "must have an address string");
    }
    rejectControls(address, field);
    const mailbox = addrSpec(address.trim(), field);
    if (name === undefined || name === null) return mailbox;
    if (typeof name !== "string") throw new SmtpValidationError(field, "name must be a string");
    rejectControls(name, field);
    return withName(name, mailbox);
  }
  throw new SmtpValidationError(field, 'must be an email address string or an object like { name, address }');
}

// Characters refused in a UTF-8 local part even though RFC 6532 would let them through:
// C1 controls, every kind of space and line/paragraph separator, bidi controls, the byte
// order mark and noncharacters. They are invisible or reorder text, and some software
// treats them as line breaks.
const BAD_LOCAL = /[\p{Cc}\p{Z}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]/u;

/**
 * The single place that decides whether a non-ASCII local part (RFC 6531 SMTPUTF8) may be
 * used. It may, unless it holds a lone surrogate (not UTF-8 at all) or a character that
 * is invisible, reorders text or breaks lines (C1 controls, spaces and separators, bidi
 * controls, U+FEFF, noncharacters). The local part is never normalised: it is the
 * receiving domain's to interpret, so it is sent exactly as given (write it in NFC).
 *
 * @param address the address (`local@domain`)
 * @param field the input path named in errors
 * @throws {SmtpValidationError} naming `field`
 */
export function checkInternationalisedAddress(address: string, field: string): void {
  const local = address.slice(0, address.lastIndexOf("@"));
  for (let i = 0; i < local.length; i++) {
    const c = local.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < local.length) {
      const next = local.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) throw new SmtpValidationError(field, "local part has a lone surrogate (not valid UTF-16 text)");
  }
  const bad = BAD_LOCAL.exec(local);
  if (bad) {
    const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new SmtpValidationError(field, `local part must not contain U+${hex} (an invisible, space, control or bidi character)`);
  }
}

function rejectControls(text: string, field: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      const what = c === 13 ? "CR" : c === 10 ? "LF" : c === 0 ? "NUL" : `control character U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
      throw new SmtpValidationError(field, `must not contain ${what}`);
    }
  }
}

function isSpace(c: number): boolean {
  return c === 0x20;
}

// What makes the loop below do more than copy the text: quotes, angle brackets, list and
// group separators, comments and domain literals. Without any of them the text is a bare
// address, and the loop would only rebuild it character by character.
const MAILBOX_SPECIALS = /["<>,:;()[]/;

function parseMailboxString(text: string, field: string): Mailbox {
  rejectControls(text, field);
  if (!MAILBOX_SPECIALS.test(text)) return addrSpec(text.trim(), field);
  let name = "";
  let quoted = false; // a quoted string was seen in the name part
  let badNameChar = ""; // a special that would need quoting in a display name
  let open = -1;
  let close = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (open >= 0 && close < 0) {
      // Inside <...>: the addr-spec parser checks the characters.
      if (ch === ">") close = i;
      else if (ch === "<") throw new SmtpValidationError(field, 'has an unexpected "<" inside the angle brackets');
      continue;
    }
    if (close >= 0) {
      if (isSpace(text.charCodeAt(i))) continue;
      if (ch === "," || ch === "<") throw new SmtpValidationError(field, "must be a single address, not a list");
      throw new SmtpValidationError(field, 'has unexpected text after ">"');
    }
    switch (ch) {
      case '"': {
        // RFC 5322 §3.2.4 quoted-string: backslash escapes the next character.
        let j = i + 1;
        for (; j < text.length && text[j] !== '"'; j++) {
          if (text[j] === "\\") j++;
          if (j < text.length) name += text[j];
        }
        if (j >= text.length) throw new SmtpValidationError(field, "has an unterminated quoted string");
        if (text[j + 1] === "@") throw new SmtpValidationError(field, "quoted local parts are not supported");
        quoted = true;
        i = j;
        break;
      }
      case "<":
        open = i;
        break;
      case ",":
        throw new SmtpValidationError(field, "must be a single address, not a list (give each address as its own item)");
      case ":":
      case ";":
        throw new SmtpValidationError(field, "must be a single mailbox; groups are not supported");
      case "(":
      case ")":
        throw new SmtpValidationError(field, "must not contain comments (parentheses outside quotes)");
      case ">":
        throw new SmtpValidationError(field, 'has a ">" without a matching "<"');
      case "[": {
        // A domain literal of a bare address ("a@[IPv6:…]"): its ":" are not a group.
        const end = text.indexOf("]", i);
        const stop = end < 0 ? text.length : end + 1;
        if (badNameChar === "") badNameChar = "[";
        name += text.slice(i, stop);
        i = stop - 1;
        break;
      }
      default:
        if (badNameChar === "" && (ch === "@" || ch === "]" || ch === "\\" || ch === ".")) badNameChar = ch;
        name += ch;
    }
  }
  if (open >= 0) {
    if (close < 0) throw new SmtpValidationError(field, 'has a "<" without a matching ">"');
    if (badNameChar === "@") throw new SmtpValidationError(field, "must be a single address");
    // "." is common in unquoted names ("Ada L. Lovelace", RFC 5322 §4.1 obs-phrase); the others are not.
    if (badNameChar !== "" && badNameChar !== ".") {
      throw new SmtpValidationError(field, `display name contains "${badNameChar}"; put the name in double quotes`);
    }
    return withName(name, addrSpec(text.slice(open + 1, close), field));
  }
  if (quoted) throw new SmtpValidationError(field, 'has a display name but no address in angle brackets (use "Name <address>")');
  return addrSpec(text.trim(), field);
}

function withName(name: string, mailbox: Mailbox): Mailbox {
  const display = name.trim();
  if (display === "") return mailbox;
  // Literals rather than a spread: each keeps one lasting object shape.
  return mailbox.international
    ? { name: display, address: mailbox.address, international: true }
    : { name: display, address: mailbox.address };
}

function addrSpec(spec: string, field: string): Mailbox {
  const checked = checkedAddrSpec(spec, field);
  return checked.utf8Local ? { address: checked.address, international: true } : { address: checked.address };
}

/**
 * Validates an addr-spec: RFC 5321 §4.1.2 Dot-string local part "@" a Domain or an
 * address literal, with the §4.5.3.1 length limits (counted on the wire form). A UTF-8
 * local part (RFC 6531) is checked by {@link checkInternationalisedAddress}; a non-ASCII
 * domain must have a valid A-label form.
 *
 * @returns true when the address as given has non-ASCII characters (local part or domain)
 * @throws {SmtpValidationError} naming `field`
 */
export function checkAddrSpec(spec: string, field: string): boolean {
  return checkedAddrSpec(spec, field).nonAscii;
}

interface CheckedAddrSpec {
  /** The wire form: local part as given, domain in ASCII. */
  address: string;
  /** The local part is not ASCII (needs SMTPUTF8). */
  utf8Local: boolean;
  /** Anything in the address as given was not ASCII. */
  nonAscii: boolean;
}

function checkedAddrSpec(spec: string, field: string): CheckedAddrSpec {
  if (spec === "") throw new SmtpValidationError(field, "must not be an empty address");
  if (spec[0] === '"') throw new SmtpValidationError(field, "quoted local parts are not supported");
  if (spec[0] === "@") throw new SmtpValidationError(field, "source routes are not supported");
  const at = spec.indexOf("@");
  if (at < 0) throw new SmtpValidationError(field, `"${spec}" is not an email address (no "@")`);
  if (spec.indexOf("@", at + 1) >= 0) {
    throw new SmtpValidationError(field, spec.includes(" ") ? "must be a single address" : 'has more than one "@"');
  }
  const local = spec.slice(0, at);
  const domain = spec.slice(at + 1);
  if (local === "") throw new SmtpValidationError(field, "has an empty local part (before the @)");
  if (domain === "") throw new SmtpValidationError(field, "has an empty domain (after the @)");
  const utf8Local = checkLocalPart(local, field);
  if (utf8Local) checkInternationalisedAddress(spec, field);
  let wireDomain = domain;
  let utf8Domain = false;
  if (domain[0] === "[") checkAddressLiteral(domain, field);
  else if (checkDomain(domain, field)) {
    utf8Domain = true;
    wireDomain = idnToAscii(domain, field);
  } else idnCheckALabels(domain, field);
  if (utf8Length(local) > MAX_LOCAL_PART) {
    throw new SmtpValidationError(field, `local part is longer than ${MAX_LOCAL_PART} octets`);
  }
  const address = `${local}@${wireDomain}`;
  if (utf8Length(address) > MAX_ADDRESS) throw new SmtpValidationError(field, `is longer than ${MAX_ADDRESS} octets`);
  return { address, utf8Local, nonAscii: utf8Local || utf8Domain };
}

function idnMessage(domain: string, error: IdnaError): string {
  return `domain "${domain}" has no valid ASCII (IDNA) form: ${error.message[0]!.toLowerCase()}${error.message.slice(1)}`;
}

function idnToAscii(domain: string, field: string): string {
  try {
    return domainToAscii(domain);
  } catch (error) {
    if (error instanceof IdnaError) throw new SmtpValidationError(field, idnMessage(domain, error));
    throw error;
  }
}

function idnCheckALabels(domain: string, field: string): void {
  // Every A-label starts with "xn--": a domain without "--" has none to check.
  if (!domain.includes("--")) return;
  try {
    checkAsciiDomainALabels(domain);
  } catch (error) {
    if (error instanceof IdnaError) throw new SmtpValidationError(field, idnMessage(domain, error));
    throw error;
  }
}

function describe(ch: string): string {
  if (ch === " ") return "a space";
  if (ch === "(" || ch === ")") return "a comment";
  if (ch === '"') return "a quote";
  return `"${ch}"`;
}

/** Dot-string: atoms separated by single dots. Returns true when non-ASCII was seen. */
function checkLocalPart(local: string, field: string): boolean {
  let international = false;
  for (let i = 0; i < local.length; i++) {
    const c = local.charCodeAt(i);
    if (c === 0x2e) {
      if (i === 0 || i === local.length - 1 || local.charCodeAt(i + 1) === 0x2e) {
        throw new SmtpValidationError(field, "local part has a leading, trailing or doubled dot");
      }
    } else if (c >= 0x80) international = true;
    else if (!isAtext(c)) {
      throw new SmtpValidationError(field, `local part must not contain ${describe(local[i]!)}`);
    }
  }
  return international;
}

/**
 * Domain: LDH labels separated by dots (RFC 5321 §4.1.2). A domain with any non-ASCII
 * character is left to the IDN conversion, which checks every label itself.
 *
 * @returns true when non-ASCII was seen (and nothing was checked)
 */
function checkDomain(domain: string, field: string): boolean {
  for (let i = 0; i < domain.length; i++) if (domain.charCodeAt(i) >= 0x80) return true;
  let labelStart = 0;
  for (let i = 0; i <= domain.length; i++) {
    const c = i < domain.length ? domain.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const label = domain.slice(labelStart, i);
      if (label === "") throw new SmtpValidationError(field, "domain has an empty label (leading, trailing or doubled dot)");
      if (label[0] === "-" || label[label.length - 1] === "-") {
        throw new SmtpValidationError(field, "domain labels must not start or end with a hyphen");
      }
      if (label.length > 63) throw new SmtpValidationError(field, "domain label is longer than 63 octets");
      labelStart = i + 1;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d)) {
      throw new SmtpValidationError(field, `domain must not contain ${describe(domain[i]!)}`);
    }
  }
  return false;
}

/** `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3). */
function checkAddressLiteral(domain: string, field: string): void {
  const fail = (): never => {
    throw new SmtpValidationError(field, "domain literal must be [IPv4] or [IPv6:address]");
  };
  if (domain[domain.length - 1] !== "]") fail();
  const inner = domain.slice(1, -1);
  if (inner.slice(0, 5).toLowerCase() === "ipv6:") {
    if (!isIpv6(inner.slice(5))) fail();
  } else if (!isIpv4(inner)) fail();
}

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

function isIpv6(text: string): boolean {
  let groups = 8;
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (lastColon >= 0 && body.indexOf(".", lastColon) >= 0) {
    // IPv4-mapped tail takes the room of two groups.
    if (!isIpv4(body.slice(lastColon + 1))) return false;
    body = body.slice(0, lastColon + 1) + "0";
    groups = 7;
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const count = (s: string): number => (s === "" ? 0 : s.split(":").length);
  const valid = (s: string): boolean => s === "" || s.split(":").every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g));
  if (!halves.every(valid)) return false;
  const n = halves.reduce((sum, h) => sum + count(h), 0);
  return halves.length === 2 ? n < groups : n === groups;
}

/** What the message needs because of its international addresses (flags of the composed message). */
export interface InternationalFlags {
  /** Every distinct address with a non-ASCII local part. */
  utf8Addresses?: string[];
  /** A header carries one of them as raw UTF-8. */
  eightBit?: true;
}

/**
 * Collects the addresses with a non-ASCII local part. Those in `headerMailboxes` also put
 * raw UTF-8 into the headers (RFC 6532), so the message is 8-bit; those only in
 * `envelopeOnly` (Bcc) need SMTPUTF8 for the envelope alone.
 *
 * @returns empty when every local part is ASCII
 */
export function internationalFlags(headerMailboxes: readonly Mailbox[], envelopeOnly: readonly Mailbox[]): InternationalFlags {
  const addresses = new Set<string>();
  let eightBit = false;
  for (const mailbox of headerMailboxes) {
    if (mailbox.international) {
      addresses.add(mailbox.address);
      eightBit = true;
    }
  }
  for (const mailbox of envelopeOnly) if (mailbox.international) addresses.add(mailbox.address);
  if (addresses.size === 0) return {};
  return eightBit ? { utf8Addresses: [...addresses], eightBit: true } : { utf8Addresses: [...addresses] };
}
