/**
 * Parses caller addresses into exactly one mailbox. Deliberately narrower than RFC 5322:
 * a display name and an RFC 5321 Mailbox (dot-string local part, domain or address
 * literal), nothing else. Groups, lists, comments, source routes and quoted local parts are
 * refused, so what reaches MAIL FROM / RCPT TO and the headers is always unambiguous. One
 * linear pass, no backtracking regular expressions.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { isAtext } from "./encoded-word.ts";
import { utf8Length } from "./utf8.ts";

/** One parsed mailbox. */
export interface Mailbox {
  /** Display name, trimmed; absent when there is none. */
  name?: string;
  /** The address (`local@domain`), as given. */
  address: string;
  /**
   * Set when the address has non-ASCII characters and so needs SMTPUTF8 (RFC 6531). Never
   * set today: {@link checkInternationalisedAddress} refuses such addresses.
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

/**
 * The single place that decides whether a non-ASCII (RFC 6531 SMTPUTF8) address may be
 * used. Not yet: sending one needs the server's SMTPUTF8 extension.
 *
 * @throws {SmtpValidationError} always, for now
 */
export function checkInternationalisedAddress(address: string, field: string): void {
  throw new SmtpValidationError(
    field,
    `internationalised addresses (non-ASCII in "${address}") are not supported yet`,
  );
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

function parseMailboxString(text: string, field: string): Mailbox {
  rejectControls(text, field);
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
  return display === "" ? mailbox : { name: display, ...mailbox };
}

function addrSpec(spec: string, field: string): Mailbox {
  const international = checkAddrSpec(spec, field);
  if (!international) return { address: spec };
  checkInternationalisedAddress(spec, field);
  return { address: spec, international: true };
}

/**
 * Validates an addr-spec: RFC 5321 §4.1.2 Dot-string local part "@" a Domain or an
 * address literal, with the §4.5.3.1 length limits. Non-ASCII (RFC 6531 UTF-8 local parts
 * and U-label domains) passes this check and is reported instead.
 *
 * @returns true when the address has non-ASCII characters
 * @throws {SmtpValidationError} naming `field`
 */
export function checkAddrSpec(spec: string, field: string): boolean {
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
  let international = checkLocalPart(local, field);
  if (domain[0] === "[") checkAddressLiteral(domain, field);
  else international = checkDomain(domain, field) || international;
  if (utf8Length(local) > MAX_LOCAL_PART) {
    throw new SmtpValidationError(field, `local part is longer than ${MAX_LOCAL_PART} octets`);
  }
  if (utf8Length(spec) > MAX_ADDRESS) throw new SmtpValidationError(field, `is longer than ${MAX_ADDRESS} octets`);
  return international;
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

/** Domain: LDH labels separated by dots (RFC 5321 §4.1.2). Returns true when non-ASCII was seen. */
function checkDomain(domain: string, field: string): boolean {
  let international = false;
  let labelStart = 0;
  for (let i = 0; i <= domain.length; i++) {
    const c = i < domain.length ? domain.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const label = domain.slice(labelStart, i);
      if (label === "") throw new SmtpValidationError(field, "domain has an empty label (leading, trailing or doubled dot)");
      if (label[0] === "-" || label[label.length - 1] === "-") {
        throw new SmtpValidationError(field, "domain labels must not start or end with a hyphen");
      }
      if (utf8Length(label) > 63) throw new SmtpValidationError(field, "domain label is longer than 63 octets");
      labelStart = i + 1;
    } else if (c >= 0x80) international = true;
    else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d)) {
      throw new SmtpValidationError(field, `domain must not contain ${describe(domain[i]!)}`);
    }
  }
  return international;
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
