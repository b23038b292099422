/**
 * The MIME composer: turns a {@link MailMessage} into the exact bytes to send after DATA
 * (before dot-stuffing), with the envelope and Message-ID. Validation happens first and
 * completely; building never fails on caller input.
 *
 * Structure: a text or HTML part alone; text and HTML together as multipart/alternative
 * (RFC 2046 §5.1.4, plain text first); with inline attachments (those with a `cid`), that
 * as the root of multipart/related (RFC 2387) followed by the inline parts; with other
 * attachments, all of that as the first part of multipart/mixed followed by one base64
 * part per file. So at most mixed > related > alternative.
 *
 * @module
 */

import { checkDsn } from "../dsn.ts";
import { SmtpValidationError } from "../errors.ts";
import type { ComposedMessage, Envelope, MailMessage } from "../message.ts";
import { internationalFlags, type Mailbox } from "./address.ts";
import { encodedBase64Size, encodeBase64, wrapBase64, wrappedBase64Size } from "./base64.ts";
import { encodeTextBody } from "./body.ts";
import { unstructuredTokens } from "./encoded-word.ts";
import { filenameParameters, nameParameter } from "./filename.ts";
import { customHeaderLines } from "./custom-headers.ts";
import { addressListTokens, firstLineRoom, foldHeader, formatDate, parameterTokens } from "./headers.ts";
import { createBoundary, createMessageId } from "./ids.ts";
import { streamBase64Segment } from "./stream-attachment.ts";
import {
  bytesSegment,
  chunkSegments,
  isStreamSegment,
  lazySegment,
  markSynchronous,
  streamSegments,
  textSegment,
  totalSize,
  type AnySegment,
} from "./stream.ts";
import { checkMessage, type CheckedAttachment, type CheckedMessage } from "./validate.ts";

/** Options for {@link composeMessage}. */
export interface ComposeOptions {
  /** Sender when `message.from` is absent: the SMTP username, used only if it is an address. */
  defaultFrom?: string;
  /** The Date header's time; now by default (set it in tests). */
  date?: Date;
}

/** A MIME entity: its Content-* header lines (each ending in CRLF) and its body. */
interface Part {
  headers: string;
  body: AnySegment[];
  /** True when the body's last bytes are CRLF. */
  endsWithCrlf: boolean;
}

// RFC 2156 / common-practice importance headers; "normal" adds none.
const IMPORTANCE_HEADERS: Record<"high" | "low", string> = {
  high: "Importance: High\r\nX-Priority: 1 (Highest)\r\nX-MSMail-Priority: High\r\n",
  low: "Importance: Low\r\nX-Priority: 5 (Lowest)\r\nX-MSMail-Priority: Low\r\n",
};

function textPart(text: string, subtype: "plain" | "html"): Part {
  const { encoding, bytes } = encodeTextBody(text);
  const n = bytes.length;
  return {
    headers:
      foldHeader("Content-Type", parameterTokens(`text/${subtype}`, [["charset=utf-8"]])) +
      foldHeader("Content-Transfer-Encoding", [encoding]),
    body: [bytesSegment(bytes)],
    endsWithCrlf: n >= 2 && bytes[n - 2] === 13 && bytes[n - 1] === 10,
  };
}

// The size was announced from the length at compose time; a buffer detached or resized
// since then must fail loudly rather than send fewer bytes than promised.
function* encodeBytes(bytes: Uint8Array, length: number, transient?: boolean): Generator<Uint8Array, void, undefined> {
  if (bytes.length !== length) throw new Error("attachment bytes changed length after the message was composed");
  yield* encodeBase64(bytes, transient);
}

function attachmentPart(attachment: CheckedAttachment, index: number): Part {
  const { content } = attachment;
  let body: AnySegment;
  // Base64 lines never hold a ".", so the DATA writer need not scan them (dotFree).
  if (content.kind === "base64") {
    body = lazySegment(wrappedBase64Size(content.stripped), (transient) => wrapBase64(content.text, content.stripped, transient), true);
  } else if (content.kind === "bytes") {
    const length = content.bytes.length;
    body = lazySegment(encodedBase64Size(length), (transient) => encodeBytes(content.bytes, length, transient), true);
  } else {
    body = streamBase64Segment(content.stream, content.size, `attachments[${index}]`);
  }
  const inline = attachment.cid !== undefined;
  return {
    headers:
      foldHeader("Content-Type", parameterTokens(attachment.contentType, [nameParameter(attachment.filename)])) +
      foldHeader("Content-Transfer-Encoding", ["base64"]) +
      (inline ? foldHeader("Content-ID", [`<${attachment.cid}>`]) : "") +
      foldHeader(
        "Content-Disposition",
        parameterTokens(inline ? "inline" : "attachment", filenameParameters(attachment.filename)),
      ),
    body: [body],
    endsWithCrlf: false,
  };
}

// RFC 2046 §5.1.1: each part follows "--boundary" CRLF; the CRLF before a delimiter
// belongs to the delimiter, and the body ends with the close delimiter "--boundary--".
// `extra` holds parameters before the boundary (multipart/related's type).
function multipart(subtype: "mixed" | "alternative" | "related", parts: readonly Part[], extra: string[][] = []): Part {
  const boundary = createBoundary();
  const body: AnySegment[] = [];
  for (const part of parts) {
    body.push(textSegment(`--${boundary}\r\n${part.headers}\r\n`), ...part.body, textSegment("\r\n"));
  }
  body.push(textSegment(`--${boundary}--`));
  return {
    headers: foldHeader("Content-Type", parameterTokens(`multipart/${subtype}`, [...extra, [`boundary="${boundary}"`]])),
    body,
    endsWithCrlf: false,
  };
}

function rootPart(message: CheckedMessage): Part {
  const bodies: Part[] = [];
  if (message.text !== undefined) bodies.push(textPart(message.text, "plain"));
  if (message.html !== undefined) bodies.push(textPart(message.html, "html"));
  let main = bodies.length === 1 ? bodies[0]! : multipart("alternative", bodies);
  const inline: Part[] = [];
  const attached: Part[] = [];
  message.attachments.forEach((a, i) => (a.cid === undefined ? attached : inline).push(attachmentPart(a, i)));
  if (inline.length > 0) {
    // RFC 2387 §3.1: "type" names the root part's media type.
    const rootType = bodies.length > 1 ? "multipart/alternative" : message.html !== undefined ? "text/html" : "text/plain";
    main = multipart("related", [main, ...inline], [[`type="${rootType}"`]]);
  }
  if (attached.length === 0) return main;
  return multipart("mixed", [main, ...attached]);
}

function envelopeOf(message: CheckedMessage): Envelope {
  const seen = new Set<string>();
  const to: string[] = [];
  for (const mailbox of [...message.to, ...message.cc, ...message.bcc]) {
    const key = mailbox.address.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      to.push(mailbox.address);
    }
  }
  return { from: message.from.address, to };
}

function topHeaders(message: CheckedMessage, date: Date, messageId: string): string {
  const list = (name: string, mailboxes: Mailbox[]): string =>
    mailboxes.length === 0 ? "" : foldHeader(name, addressListTokens(mailboxes));
  return (
    foldHeader("Date", [formatDate(date)]) +
    list("From", [message.from]) +
    list("To", message.to) +
    list("Cc", message.cc) +
    list("Reply-To", message.replyTo) +
    foldHeader("Subject", unstructuredTokens(message.subject, firstLineRoom("Subject"), 75)) +
    foldHeader("Message-ID", [messageId]) +
    "MIME-Version: 1.0\r\n" +
    (message.importance === "normal" ? "" : IMPORTANCE_HEADERS[message.importance]) +
    customHeaderLines(message.headers)
  );
}

/** A composed message, and what the sending side needs to know about how it can be read. */
export interface ComposeResult {
  /** The message. */
  message: ComposedMessage;
  /**
   * The input path of the first `ReadableStream` attachment (`attachments[2].content`),
   * when there is one: the message can then only be read once, through `stream()`.
   */
  streamedField?: string;
}

/**
 * {@link composeMessage}, also saying whether the message holds a stream attachment.
 *
 * @throws {SmtpValidationError} naming the bad field, before anything is built
 */
export function composeWithInfo(message: MailMessage, options: ComposeOptions = {}): ComposeResult {
  const checked = checkMessage(message, options.defaultFrom);
  const envelope = envelopeOf(checked);
  // The RFC 3461 DSN request, checked with the rest of the input.
  const dsn = checkDsn(Object.prototype.hasOwnProperty.call(message, "dsn") ? message.dsn : undefined, envelope.to);
  const date = options.date ?? new Date();
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new SmtpValidationError("date", "must be a valid Date");
  }
  const messageId = createMessageId(checked.from.address);
  const root = rootPart(checked);
  const segments: AnySegment[] = [
    textSegment(topHeaders(checked, date, messageId) + root.headers + "\r\n"),
    ...root.body,
  ];
  if (!root.endsWithCrlf) segments.push(textSegment("\r\n"));
  const size = totalSize(segments);
  const composed: ComposedMessage = {
    messageId,
    envelope,
    size,
    chunks: (transient) => chunkSegments(segments, transient),
    stream: (transient) => streamSegments(segments, transient),
    // The SMTPUTF8 / 8-bit needs of UTF-8 local parts (RFC 6531, RFC 6532).
    ...internationalFlags([checked.from, ...checked.to, ...checked.cc, ...checked.replyTo], checked.bcc),
    ...(dsn ? { dsn } : {}),
  };
  const streamed = segments.find(isStreamSegment);
  return streamed ? { message: composed, streamedField: streamed.field } : { message: markSynchronous(composed) };
}

/**
 * Validates and composes a message. Headers come in this order: Date, From, To, Cc,
 * Reply-To, Subject, Message-ID, MIME-Version, the importance headers, the custom
 * `headers`, then Content-*. There is never a Bcc header: Bcc addresses are only in
 * `envelope.to`.
 *
 * The result's `size` is exact and known before generation; `chunks()` and `stream()`
 * yield CRLF-only ASCII (raw UTF-8 only in addresses with a non-ASCII local part, flagged
 * `eightBit`, RFC 6532) with no line over 998 octets, ending in CRLF. Attachments are
 * produced lazily, chunk by chunk, from the caller's string, bytes or stream. Without a
 * stream attachment both can be restarted; with one, only `stream()` works, once.
 *
 * @param message what to send
 * @param options the default sender and, for tests, the date
 * @throws {SmtpValidationError} naming the bad field, before anything is built
 */
export function composeMessage(message: MailMessage, options: ComposeOptions = {}): ComposedMessage {
  return composeWithInfo(message, options).message;
}
