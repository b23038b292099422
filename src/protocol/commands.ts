/**
 * Command line builders. Every argument that comes from a caller has already been
 * validated; these builders check again that nothing can break the line (no CR, LF, NUL,
 * no angle brackets inside a path).
 *
 * @module
 */

const ENCODER = new TextEncoder();
const UNSAFE_PATH = /[\x00-\x20<>\x7f]/;

function path(address: string): string {
  if (UNSAFE_PATH.test(address)) throw new TypeError("Unsafe address in SMTP command");
  return `<${address}>`;
}

/** Encodes one command line (the caller gives it without CRLF). */
export function commandBytes(...lines: string[]): Uint8Array {
  return ENCODER.encode(lines.length === 0 ? "" : lines.join("\r\n") + "\r\n");
}

/** `EHLO name` / `HELO name`. */
export function helloCommand(verb: "EHLO" | "HELO", clientName: string): string {
  return `${verb} ${clientName}`;
}

// ESMTP parameter values (RFC 5321 §4.1.2 esmtp-value): printable ASCII without "=" or space.
const SAFE_VALUE = /^[\x21-\x3c\x3e-\x7e]+$/;

function value(keyword: string, text: string): string {
  if (!SAFE_VALUE.test(text)) throw new TypeError(`Unsafe ${keyword} value in SMTP command`);
  return `${keyword}=${text}`;
}

/** Parameters for MAIL FROM (RFC 5321 §4.1.1.2 and the extensions below). */
export interface MailParams {
  /** Declared message size, when the server advertises SIZE (RFC 1870). */
  size?: number;
  /** `BODY=8BITMIME` for a message with 8-bit octets (RFC 6152). */
  body?: "8BITMIME";
  /** The `SMTPUTF8` flag: UTF-8 addresses and headers (RFC 6531 §3.4). */
  smtpUtf8?: boolean;
  /** `RET=` of a DSN request (RFC 3461 §4.3). */
  ret?: "FULL" | "HDRS";
  /** `ENVID=`, already xtext-encoded (RFC 3461 §4.4). */
  envid?: string;
}

/** `MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8] [RET=…] [ENVID=…]`. */
export function mailCommand(address: string, params: MailParams = {}): string {
  let line = `MAIL FROM:${path(address)}`;
  if (params.size !== undefined) line += ` SIZE=${params.size}`;
  if (params.body !== undefined) line += ` BODY=${params.body}`;
  if (params.smtpUtf8) line += " SMTPUTF8";
  if (params.ret !== undefined) line += " " + value("RET", params.ret);
  if (params.envid !== undefined) line += " " + value("ENVID", params.envid);
  return line;
}

/** Parameters for RCPT TO: the DSN ones (RFC 3461 §4.1, §4.2). */
export interface RcptParams {
  /** `NOTIFY=`: `["NEVER"]` or any of SUCCESS, FAILURE, DELAY. */
  notify?: readonly string[];
  /** `ORCPT=`, already in `addr-type;xtext` form. */
  orcpt?: string;
}

/** `RCPT TO:<address> [NOTIFY=…] [ORCPT=…]`. */
export function rcptCommand(address: string, params: RcptParams = {}): string {
  let line = `RCPT TO:${path(address)}`;
  if (params.notify !== undefined) line += " " + value("NOTIFY", params.notify.join(","));
  if (params.orcpt !== undefined) line += " " + value("ORCPT", params.orcpt);
  return line;
}
