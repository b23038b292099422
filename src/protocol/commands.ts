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
  return ENCODER.encode(lines.map((line) => `${line}\r\n`).join(""));
}

/** `EHLO name` / `HELO name`. */
export function helloCommand(verb: "EHLO" | "HELO", clientName: string): string {
  return `${verb} ${clientName}`;
}

/** Parameters for MAIL FROM (RFC 5321 §4.1.1.2, RFC 1870 SIZE). */
export interface MailParams {
  /** Declared message size, when the server advertises SIZE. */
  size?: number;
}

/** `MAIL FROM:<address> [SIZE=n]`. */
export function mailCommand(address: string, params: MailParams = {}): string {
  let line = `MAIL FROM:${path(address)}`;
  if (params.size !== undefined) line += ` SIZE=${params.size}`;
  return line;
}

/** `RCPT TO:<address>`. */
export function rcptCommand(address: string): string {
  return `RCPT TO:${path(address)}`;
}
