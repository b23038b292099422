/**
 * Delivery status notification requests (RFC 3461): the `dsn` message option, checked
 * before any connection, and the MAIL FROM / RCPT TO parameters it turns into when the
 * server offers the DSN extension.
 *
 * @module
 */

import { SmtpValidationError } from "./errors.ts";
import type { DsnNotify } from "./message.ts";
import { encodeUtf8AddrXtext, encodeXtext } from "./protocol/xtext.ts";

/** A checked DSN request, values in canonical (upper) case. */
export interface DsnRequest {
  /** `NOTIFY=` for every recipient: `["NEVER"]` or a list of SUCCESS, FAILURE, DELAY. */
  notify?: readonly (DsnNotify | "NEVER")[];
  /** `RET=`: return the full message or only its headers in a failure report. */
  ret?: "FULL" | "HDRS";
  /** `ENVID=`, already xtext-encoded. */
  envid?: string;
  /** Send `ORCPT=` with each recipient's address. */
  orcpt: boolean;
}

/** Longest ENVID value, counted once xtext-encoded (RFC 3461 §4.4). */
export const MAX_ENVID = 100;
/** Longest ORCPT value, `addr-type;xtext` (RFC 3461 §4.2). */
export const MAX_ORCPT = 500;

const NOTIFY_VALUES: readonly DsnNotify[] = ["SUCCESS", "FAILURE", "DELAY"];
const KEYS = ["notify", "ret", "envid", "orcpt"];

function own(object: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

function checkNotify(value: unknown): (DsnNotify | "NEVER")[] {
  const field = "dsn.notify";
  if (typeof value === "string") {
    if (value.toUpperCase() === "NEVER") return ["NEVER"];
    throw new SmtpValidationError(field, 'must be "NEVER" or an array of "SUCCESS", "FAILURE" and "DELAY"');
  }
  if (!Array.isArray(value)) throw new SmtpValidationError(field, 'must be "NEVER" or an array of "SUCCESS", "FAILURE" and "DELAY"');
  if (value.length === 0) throw new SmtpValidationError(field, 'must not be empty (use "NEVER" for no notifications)');
  const seen: (DsnNotify | "NEVER")[] = [];
  value.forEach((item: unknown, i) => {
    const upper = typeof item === "string" ? item.toUpperCase() : undefined;
    if (upper === "NEVER") {
      if (value.length > 1) throw new SmtpValidationError(field, '"NEVER" cannot be combined with other values');
      seen.push("NEVER");
      return;
    }
    const known = NOTIFY_VALUES.find((v) => v === upper);
    if (!known) throw new SmtpValidationError(`${field}[${i}]`, 'must be "SUCCESS", "FAILURE" or "DELAY"');
    if (seen.includes(known)) throw new SmtpValidationError(`${field}[${i}]`, `repeats "${known}"`);
    seen.push(known);
  });
  return seen;
}

function checkEnvid(value: unknown): string {
  const field = "dsn.envid";
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string");
  if (value === "") throw new SmtpValidationError(field, "must not be empty");
  // RFC 3461 §4.4: printable US-ASCII before xtext encoding (space included).
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new SmtpValidationError(field, "must be printable ASCII (no controls, no non-ASCII)");
  }
  const encoded = encodeXtext(value);
  if (encoded.length > MAX_ENVID) {
    throw new SmtpValidationError(field, `is ${encoded.length} characters once xtext-encoded; at most ${MAX_ENVID} are allowed`);
  }
  return encoded;
}

/**
 * Checks the `dsn` option. Absent (undefined or null) means no DSN request. Unknown keys
 * are refused so that a typo does not silently drop a request.
 *
 * @param value the caller's `message.dsn`
 * @param recipients the envelope recipients, to check each ORCPT length when `orcpt` is set
 * @returns the checked request, or undefined when none was asked for
 * @throws {SmtpValidationError} naming `dsn`, `dsn.notify`, `dsn.ret`, `dsn.envid` or `dsn.orcpt`
 */
export function checkDsn(value: unknown, recipients: readonly string[]): DsnRequest | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SmtpValidationError("dsn", "must be an object like { notify, ret, envid, orcpt }");
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) throw new SmtpValidationError(`dsn.${key}`, "is not a DSN option (notify, ret, envid or orcpt)");
  }
  const request: DsnRequest = { orcpt: false };
  const notify = own(value, "notify");
  if (notify !== undefined) request.notify = checkNotify(notify);
  const ret = own(value, "ret");
  if (ret !== undefined) {
    const upper = typeof ret === "string" ? ret.toUpperCase() : "";
    if (upper !== "FULL" && upper !== "HDRS") throw new SmtpValidationError("dsn.ret", 'must be "FULL" or "HDRS"');
    request.ret = upper;
  }
  const envid = own(value, "envid");
  if (envid !== undefined) request.envid = checkEnvid(envid);
  const orcpt = own(value, "orcpt");
  if (orcpt !== undefined) {
    if (typeof orcpt !== "boolean") throw new SmtpValidationError("dsn.orcpt", "must be true or false");
    request.orcpt = orcpt;
  }
  if (request.orcpt) {
    for (const address of recipients) {
      if (orcptValue(address).length > MAX_ORCPT) {
        throw new SmtpValidationError("dsn.orcpt", `the ORCPT value for <${address}> would be longer than ${MAX_ORCPT} characters`);
      }
    }
  }
  return request;
}

/**
 * The ORCPT value for an envelope recipient: `rfc822;` and the xtext address when it is
 * ASCII, `utf-8;` and the utf-8-addr-xtext form (RFC 6533) when its local part is not.
 */
export function orcptValue(address: string): string {
  return /^[\x00-\x7f]*$/.test(address) ? `rfc822;${encodeXtext(address)}` : `utf-8;${encodeUtf8AddrXtext(address)}`;
}
