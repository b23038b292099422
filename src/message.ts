/**
 * The shape of a message as callers give it, and of a composed message as the session
 * sends it.
 *
 * @module
 */

import type { DsnRequest } from "./dsn.ts";

/** A mailbox: `"ada@example.com"`, `"Ada <ada@example.com>"` or `{ name, address }`. */
export type Address = string | { name?: string; address: string };

/** Message importance; `"normal"` adds no header. */
export type Importance = "normal" | "high" | "low";

/** A file attached to the message. */
export interface Attachment {
  /** File name including its extension, for example `"report.pdf"`. */
  filename: string;
  /**
   * The content: a base64 string (strictly validated), raw bytes, or a stream of bytes.
   * A `ReadableStream` is read once, while the message is sent, and needs `size`.
   */
  content: string | Uint8Array | ReadableStream<Uint8Array>;
  /**
   * Exact length of the content in bytes (decoded). Required for a `ReadableStream`, whose
   * bytes are counted as they pass: a stream that yields more or fewer fails the send.
   * Optional otherwise, and then it must match.
   */
  size?: number;
  /** MIME type; guessed from the file extension when omitted. */
  contentType?: string;
  /**
   * Content-ID for an inline part, such as `"logo@example.com"` (angle brackets optional):
   * the HTML refers to it as `cid:logo@example.com`. The part is sent with
   * `Content-Disposition: inline` inside multipart/related, next to the HTML.
   */
  cid?: string;
}

/**
 * Extra header fields: a record of name to value, or `[name, value]` pairs (a name may
 * repeat). Names are RFC 5322 field names; fields the library writes itself (From, To, Cc,
 * Bcc, Reply-To, Subject, Date, Message-ID, MIME-Version, Content-*, DKIM-Signature and
 * the importance headers) are refused. Values must not contain CR, LF or NUL; they are
 * folded, and sent as RFC 2047 encoded words unless they are printable ASCII.
 */
export type HeaderFields = Record<string, string> | [name: string, value: string][];

/** A condition that triggers a delivery status notification (RFC 3461 §4.1). */
export type DsnNotify = "SUCCESS" | "FAILURE" | "DELAY";

/**
 * Delivery status notifications to ask for (RFC 3461). Used only when the server offers
 * the DSN extension; otherwise the message is sent without them and the receipt says
 * `dsn: false`.
 */
export interface DsnOptions {
  /** When to notify, for every recipient: `"NEVER"`, or any of SUCCESS, FAILURE, DELAY. */
  notify?: readonly DsnNotify[] | "NEVER";
  /** What a failure report returns: the full message or only its headers. */
  ret?: "FULL" | "HDRS";
  /** An envelope identifier echoed in reports: printable ASCII, at most 100 characters xtext-encoded. */
  envid?: string;
  /** Also send each recipient's address as the original recipient (ORCPT). */
  orcpt?: boolean;
}

/** A message to send. */
export interface MailMessage {
  /** Sender; defaults to the authenticated username. */
  from?: Address;
  /** Recipients; at least one across `to`, `cc` and `bcc`, and `to` must not be empty. */
  to: Address | Address[];
  /** Carbon-copy recipients. */
  cc?: Address | Address[];
  /** Blind carbon-copy recipients: in the envelope only, never in a header. */
  bcc?: Address | Address[];
  /** Where replies should go. */
  replyTo?: Address | Address[];
  /** Subject line; non-ASCII is encoded (RFC 2047). */
  subject: string;
  /** Plain-text body. */
  text?: string;
  /** HTML body; with `text` too, the message is multipart/alternative. */
  html?: string;
  /** `"high"` or `"low"` add Importance, X-Priority and X-MSMail-Priority headers. */
  importance?: Importance;
  /** Files to attach. */
  attachments?: Attachment[];
  /** Extra header fields, written after MIME-Version in the order given. */
  headers?: HeaderFields;
  /** Delivery status notifications to ask for (RFC 3461), when the server offers DSN. */
  dsn?: DsnOptions;
}

/** The SMTP envelope: who the server is told the message is from and for (RFC 5321 §2.3.1). */
export interface Envelope {
  /** Reverse path (MAIL FROM). */
  from: string;
  /** Forward paths (RCPT TO): every to, cc and bcc address, without duplicates. */
  to: string[];
}

/** A message ready for the wire: headers and body as CRLF lines, not yet dot-stuffed. */
export interface ComposedMessage {
  /** The Message-ID header value, with angle brackets. */
  messageId: string;
  /** Envelope derived from the message. */
  envelope: Envelope;
  /** Exact size in octets of what `chunks()` and `stream()` yield. */
  size: number;
  /**
   * Yields the message bytes; may be called again to restart from the beginning. A message
   * with a `ReadableStream` attachment cannot be read this way: it throws (a plain
   * `Error`, before yielding anything); use {@link ComposedMessage.stream}.
   *
   * With `transient`, attachment encoders reuse their buffers: a chunk of 32 KiB or more
   * may be overwritten once the next chunk is requested, so the caller must be done with
   * it first (shorter chunks are always fresh). Without it, chunks can be kept.
   */
  chunks(transient?: boolean): Iterable<Uint8Array>;
  /**
   * Yields the same bytes asynchronously, reading stream attachments as it goes. Without
   * stream attachments it may be called again; with them, only once. An error thrown
   * part-way (a stream yielding the wrong number of bytes, or failing) means the bytes
   * already yielded must not be sent as a message. `transient` as for `chunks()`.
   */
  stream?(transient?: boolean): AsyncIterable<Uint8Array>;
  /**
   * Addresses (envelope or header) with a non-ASCII local part: sending needs the server's
   * SMTPUTF8 extension (RFC 6531). Absent when there are none.
   */
  utf8Addresses?: string[];
  /** True when the bytes are not all ASCII (raw UTF-8 headers, RFC 6532): sent as `BODY=8BITMIME`. */
  eightBit?: boolean;
  /** The checked DSN request (RFC 3461), when one was made. */
  dsn?: DsnRequest;
}
