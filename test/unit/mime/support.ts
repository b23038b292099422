// Shared helpers for the MIME composer tests (not a test file itself).
import { simpleParser, type ParsedMail } from "mailparser";
import { expect } from "vitest";
import type { ComposedMessage, MailMessage } from "../../../src/message.ts";
import { composeMessage, type ComposeOptions } from "../../../src/mime/compose.ts";
import { SmtpValidationError } from "../../../src/errors.ts";

/** All chunks of a composed message joined into one Buffer. */
export function collect(message: ComposedMessage): Buffer {
  return Buffer.concat([...message.chunks()].map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
}

/**
 * Checks the wire invariants: size equals the bytes produced, CRLF only, no NUL, no line
 * over 998 octets, ends with CRLF, and only ASCII.
 */
export function checkWire(message: ComposedMessage): Buffer {
  const raw = collect(message);
  expect(raw.length).toBe(message.size);
  expect(raw.subarray(-2).toString("latin1")).toBe("\r\n");
  let lineStart = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0) throw new Error(`NUL at ${i}`);
    if (b > 0x7f) throw new Error(`8-bit octet at ${i}`);
    if (b === 13) {
      if (raw[i + 1] !== 10) throw new Error(`bare CR at ${i}`);
      if (i - lineStart > 998) throw new Error(`line of ${i - lineStart} octets at ${lineStart}`);
      i++;
      lineStart = i + 1;
    } else if (b === 10) {
      throw new Error(`bare LF at ${i}`);
    }
  }
  return raw;
}

/** Composes, checks the wire invariants and parses with mailparser. */
export async function roundTrip(
  message: MailMessage,
  options: ComposeOptions = { defaultFrom: "sender@example.com" },
): Promise<{ raw: Buffer; parsed: ParsedMail; composed: ComposedMessage }> {
  const composed = composeMessage(message, options);
  const raw = checkWire(composed);
  const parsed = await simpleParser(raw);
  return { raw, parsed, composed };
}

/** The top-level header block of raw message bytes, as lines (unfolded lines kept apart). */
export function headerLines(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  return text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
}

/** Header names of the top-level block, in order. */
export function headerNames(raw: Buffer): string[] {
  return headerLines(raw)
    .filter((l) => !/^[ \t]/.test(l))
    .map((l) => l.slice(0, l.indexOf(":")));
}

/** Runs `fn` and returns the SmtpValidationError it throws (fails otherwise). */
export function validationError(fn: () => unknown): SmtpValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpValidationError);
    return error as SmtpValidationError;
  }
  throw new Error("expected a SmtpValidationError, nothing was thrown");
}

/** A minimal valid message, to spread and override. */
export const BASE: MailMessage = { to: "rcpt@example.com", subject: "Hello", text: "Body" };

export { randomBytes } from "../../helpers/bytes.ts";
