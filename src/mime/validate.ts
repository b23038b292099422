/**
 * Checks a whole {@link MailMessage} before anything is built, turning it into a form the
 * composer can trust. Every problem throws {@link SmtpValidationError} naming the exact
 * input path (`to[1]`, `attachments[0].content`, …).
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import type { Importance, MailMessage } from "../message.ts";
import { parseAddress, type Mailbox } from "./address.ts";
import { checkBase64 } from "./base64.ts";
import { checkHeaders, type CheckedHeader } from "./custom-headers.ts";
import { checkFilename } from "./filename.ts";
import { checkContentType, contentTypeFor } from "./mime-types.ts";
import { isReadableStream } from "./stream-attachment.ts";

/** Attachment content once checked. */
export type CheckedContent =
  | { kind: "base64"; text: string; stripped: number }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "stream"; stream: ReadableStream<Uint8Array>; size: number };

/** An attachment once checked. */
export interface CheckedAttachment {
  /** The file name as given. */
  filename: string;
  /** Lower-case `type/subtype`. */
  contentType: string;
  /** The content, still undecoded. */
  content: CheckedContent;
  /** The Content-ID without angle brackets, for an inline part. */
  cid?: string;
}

/** A message once checked. */
export interface CheckedMessage {
  /** The sender (header From and envelope MAIL FROM). */
  from: Mailbox;
  /** To recipients, in order (at least one). */
  to: Mailbox[];
  /** Cc recipients. */
  cc: Mailbox[];
  /** Bcc recipients (envelope only). */
  bcc: Mailbox[];
  /** Reply-To mailboxes. */
  replyTo: Mailbox[];
  /** The subject, unchanged. */
  subject: string;
  /** Plain-text body. */
  text?: string;
  /** HTML body. */
  html?: string;
  /** Importance. */
  importance: Importance;
  /** Attachments, in order. */
  attachments: CheckedAttachment[];
  /** Custom header fields, in order. */
  headers: CheckedHeader[];
}

function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function addressList(value: unknown, field: string): Mailbox[] {
  if (isAbsent(value)) return [];
  if (Array.isArray(value)) return value.map((item, i) => parseAddress(item, `${field}[${i}]`));
  return [parseAddress(value, field)];
}

function sender(message: MailMessage, defaultFrom: string | undefined): Mailbox {
  if (!isAbsent(message.from)) {
    if (Array.isArray(message.from)) throw new SmtpValidationError("from", "must be a single address");
    return parseAddress(message.from, "from");
  }
  if (isAbsent(defaultFrom)) {
    throw new SmtpValidationError("from", "a sender address is needed: set from (there is no username to default to)");
  }
  try {
    return parseAddress(defaultFrom, "from");
  } catch {
    throw new SmtpValidationError(
      "from",
      "a sender address is needed: set from, because the username is not an email address",
    );
  }
}

function optionalString(value: unknown, field: string): string | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string");
  return value;
}

// RFC 5322 §3.6.4 msg-id without its brackets: dot-atom-text "@" (dot-atom-text / no-fold-literal).
const DOT_ATOM = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+(?:\\.[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+)*";
const CONTENT_ID = new RegExp(`^${DOT_ATOM}@(?:${DOT_ATOM}|\\[[\\x21-\\x5a\\x5e-\\x7e]*\\])$`);
/** Longest accepted Content-ID. */
const MAX_CID = 250;

function checkCid(value: unknown, field: string): string {
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string", "EATTACHMENT");
  const bare = value.startsWith("<") && value.endsWith(">") ? value.slice(1, -1) : value;
  if (bare.length > MAX_CID || !CONTENT_ID.test(bare)) {
    throw new SmtpValidationError(
      field,
      `must look like "part@domain" (RFC 2392 / RFC 5322 msg-id, at most ${MAX_CID} characters), for example "logo@example.com"`,
      "EATTACHMENT",
    );
  }
  return bare;
}

// Decoded length of a base64 string already accepted by checkBase64.
function decodedLength(text: string, stripped: number): number {
  let padding = 0;
  for (let i = text.length - 1; i >= 0 && padding < 3; i--) {
    const c = text.charCodeAt(i);
    if (c === 61) padding++;
    else if (c !== 9 && c !== 10 && c !== 13 && c !== 32) break;
  }
  return (stripped / 4) * 3 - padding;
}

function checkSize(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new SmtpValidationError(field, "must be a whole number of bytes (0 or more)", "EATTACHMENT");
  }
  return value;
}

function attachment(value: unknown, i: number): CheckedAttachment {
  const field = `attachments[${i}]`;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SmtpValidationError(field, "must be an object with filename and content", "EATTACHMENT");
  }
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined);
  const [filename, content, contentType, size, cid] = [own("filename"), own("content"), own("contentType"), own("size"), own("cid")];
  const name = checkFilename(filename, `${field}.filename`);
  const declared = isAbsent(size) ? undefined : checkSize(size, `${field}.size`);
  let checked: CheckedContent;
  let length: number | undefined;
  if (typeof content === "string") {
    const stripped = checkBase64(content, `${field}.content`);
    checked = { kind: "base64", text: content, stripped };
    length = decodedLength(content, stripped);
  } else if (content instanceof Uint8Array || Object.prototype.toString.call(content) === "[object Uint8Array]") {
    // The tag check also accepts a Uint8Array from another realm (iframe, vm context).
    checked = { kind: "bytes", bytes: content as Uint8Array };
    length = (content as Uint8Array).length;
  } else if (content instanceof ArrayBuffer) {
    checked = { kind: "bytes", bytes: new Uint8Array(content) };
    length = content.byteLength;
  } else if (isReadableStream(content)) {
    if (declared === undefined) {
      throw new SmtpValidationError(`${field}.size`, "is required with a ReadableStream: the exact length in bytes", "EATTACHMENT");
    }
    if (content.locked) throw new SmtpValidationError(`${field}.content`, "is a ReadableStream that is already locked (being read)", "EATTACHMENT");
    checked = { kind: "stream", stream: content, size: declared };
  } else {
    const what = isAbsent(content) ? "is required" : "must be a base64 string, a Uint8Array or a ReadableStream";
    throw new SmtpValidationError(`${field}.content`, what, "EATTACHMENT");
  }
  if (declared !== undefined && length !== undefined && declared !== length) {
    throw new SmtpValidationError(`${field}.size`, `is ${declared} but the content has ${length} bytes`, "EATTACHMENT");
  }
  const type = isAbsent(contentType) ? contentTypeFor(name) : checkContentType(contentType, `${field}.contentType`);
  const result: CheckedAttachment = { filename: name, contentType: type, content: checked };
  if (!isAbsent(cid)) result.cid = checkCid(cid, `${field}.cid`);
  return result;
}

const MESSAGE_FIELDS = ["from", "to", "cc", "bcc", "replyTo", "subject", "text", "html", "importance", "attachments", "headers"] as const;

function ownFields(message: MailMessage): MailMessage {
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of MESSAGE_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(message, key)) copy[key] = (message as unknown as Record<string, unknown>)[key];
  }
  return copy as unknown as MailMessage;
}

/**
 * Validates `message` completely (sender, recipients, subject, body, importance,
 * attachments) and returns it in checked form.
 *
 * @param message the caller's message
 * @param defaultFrom the sender to use when `message.from` is absent (the SMTP username)
 * @throws {SmtpValidationError} naming the first bad field
 */
export function checkMessage(message: MailMessage, defaultFrom?: string): CheckedMessage {
  if (message === null || typeof message !== "object" || Array.isArray(message)) {
    throw new SmtpValidationError("message", "must be an object");
  }
  // Only own properties count: a polluted Object.prototype must not add a recipient.
  message = ownFields(message);
  const from = sender(message, defaultFrom);
  const to = addressList(message.to, "to");
  if (to.length === 0) throw new SmtpValidationError("to", "at least one recipient is required");
  const cc = addressList(message.cc, "cc");
  const bcc = addressList(message.bcc, "bcc");
  const replyTo = addressList(message.replyTo, "replyTo");

  const subject: unknown = message.subject;
  if (isAbsent(subject)) throw new SmtpValidationError("subject", "is required");
  if (typeof subject !== "string") throw new SmtpValidationError("subject", "must be a string");
  const bad = /[\r\n\0]/.exec(subject);
  if (bad) {
    const what = bad[0] === "\r" ? "CR" : bad[0] === "\n" ? "LF" : "NUL";
    throw new SmtpValidationError("subject", `must not contain ${what}`);
  }

  const text = optionalString(message.text, "text");
  const html = optionalString(message.html, "html");
  if (text === undefined && html === undefined) {
    throw new SmtpValidationError("text", "a body is required: give text, html or both");
  }

  const importance: unknown = message.importance ?? "normal";
  if (importance !== "normal" && importance !== "high" && importance !== "low") {
    throw new SmtpValidationError("importance", 'must be "normal", "high" or "low"');
  }

  const rawAttachments: unknown = message.attachments;
  let attachments: CheckedAttachment[] = [];
  if (!isAbsent(rawAttachments)) {
    if (!Array.isArray(rawAttachments)) throw new SmtpValidationError("attachments", "must be an array", "EATTACHMENT");
    attachments = rawAttachments.map((a, i) => attachment(a, i));
    const seen = new Map<string, number>();
    attachments.forEach((a, i) => {
      if (a.cid === undefined) return;
      const key = a.cid.toLowerCase();
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        throw new SmtpValidationError(`attachments[${i}].cid`, `repeats the Content-ID of attachments[${earlier}]`, "EATTACHMENT");
      }
      seen.set(key, i);
    });
  }

  const headers = checkHeaders(message.headers);

  // Every field in one literal, absent bodies as undefined: one object shape for every message.
  return { from, to, cc, bcc, replyTo, subject, text, html, importance, attachments, headers };
}
