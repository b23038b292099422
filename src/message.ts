/**
 * The shape of a message as callers give it, and of a composed message as the session
 * sends it.
 *
 * @module
 */

/** A mailbox: `"ada@example.com"`, `"Ada <ada@example.com>"` or `{ name, address }`. */
export type Address = string | { name?: string; address: string };

/** Message importance; `"normal"` adds no header. */
export type Importance = "normal" | "high" | "low";

/** A file attached to the message. */
export interface Attachment {
  /** File name including its extension, for example `"report.pdf"`. */
  filename: string;
  /** The content: a base64 string (strictly validated) or raw bytes. */
  content: string | Uint8Array;
  /** MIME type; guessed from the file extension when omitted. */
  contentType?: string;
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
  /** Exact size in octets of what `chunks()` yields. */
  size: number;
  /** Yields the message bytes; may be called again to restart from the beginning. */
  chunks(): Iterable<Uint8Array>;
}
