/**
 * Caps that keep one message, or one hostile server, from costing unbounded memory or
 * time. Every cap is configurable through the transport's `limits` option.
 *
 * @module
 */

import { SmtpValidationError } from "./errors.ts";
import type { MailMessage } from "./message.ts";

/** Configurable caps. */
export interface Limits {
  /** Most envelope recipients (to + cc + bcc) in one message. Default 1000. */
  maxRecipients?: number;
  /** Most attachments in one message. Default 100. */
  maxAttachments?: number;
  /** Largest single attachment, in decoded bytes. Default 50 MiB. */
  maxAttachmentBytes?: number;
  /** Longest accepted server reply line, in octets. Default 8192. */
  maxReplyLineLength?: number;
  /** Most lines in one server reply. Default 512. */
  maxReplyLines?: number;
}

/** Default caps. */
export const DEFAULT_LIMITS: Readonly<Required<Limits>> = Object.freeze({
  maxRecipients: 1000,
  maxAttachments: 100,
  maxAttachmentBytes: 50 * 1024 * 1024,
  maxReplyLineLength: 8192,
  maxReplyLines: 512,
});

/** Checks and fills in caps; throws a validation error naming `limits.<name>`. */
export function resolveLimits(limits: unknown): Required<Limits> {
  const out = { ...DEFAULT_LIMITS };
  if (limits === undefined) return out;
  if (limits === null || typeof limits !== "object") throw new SmtpValidationError("limits", "must be an object");
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = (limits as Limits)[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      throw new SmtpValidationError(`limits.${key}`, "must be a positive integer");
    }
    out[key] = value;
  }
  return out;
}

function count(value: unknown): number {
  if (value === undefined || value === null) return 0;
  return Array.isArray(value) ? value.length : 1;
}

// Decoded size without decoding: 3 bytes per 4 base64 characters; a stream declares its size.
function decodedSize(attachment: { content?: unknown; size?: unknown } | null): number {
  const content = attachment?.content;
  if (typeof content === "string") return Math.floor((content.length * 3) / 4);
  if (content instanceof Uint8Array) return content.byteLength;
  return typeof attachment?.size === "number" ? attachment.size : 0;
}

/** Refuses a message over the caps before any work is done on it. */
export function checkMessageLimits(message: MailMessage, limits: Required<Limits>): void {
  if (message === null || typeof message !== "object") return;
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(message, key) ? (message as unknown as Record<string, unknown>)[key] : undefined);
  const recipients = count(own("to")) + count(own("cc")) + count(own("bcc"));
  if (recipients > limits.maxRecipients) {
    throw new SmtpValidationError("to", `${recipients} recipients exceed the limit of ${limits.maxRecipients} (limits.maxRecipients)`);
  }
  const attachments = own("attachments");
  if (!Array.isArray(attachments)) return;
  if (attachments.length > limits.maxAttachments) {
    throw new SmtpValidationError("attachments", `${attachments.length} attachments exceed the limit of ${limits.maxAttachments} (limits.maxAttachments)`, "EATTACHMENT");
  }
  attachments.forEach((attachment: unknown, i) => {
    const size = decodedSize(attachment as { content?: unknown; size?: unknown } | null);
    if (size > limits.maxAttachmentBytes) {
      throw new SmtpValidationError(`attachments[${i}].content`, `about ${size} bytes exceed the limit of ${limits.maxAttachmentBytes} (limits.maxAttachmentBytes)`, "EATTACHMENT");
    }
  });
}
