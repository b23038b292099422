/**
 * Describes a delivered message as mailparser parsed it, for the main job's printout:
 * headers, envelope (so Bcc shows as delivered but absent from the headers),
 * importance, reply-to, body and attachments.
 *
 * @module
 */

import type { AddressObject, ParsedMail } from "mailparser";

/** What the demo server captured for one message. */
export interface Delivered {
  /** Raw bytes received. */
  raw: Buffer;
  /** Envelope sender (MAIL FROM). */
  mailFrom: string;
  /** Envelope recipients (RCPT TO). */
  rcptTo: string[];
  /** mailparser's view. */
  parsed: ParsedMail;
  /** Whether the session was encrypted. */
  secure: boolean;
  /** The authenticated user. */
  user?: string;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((group) => group.value.map((a) => (a.name ? `${a.name} <${a.address ?? ""}>` : (a.address ?? ""))));
}

function bare(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((group) => group.value.map((a) => (a.address ?? "").toLowerCase()));
}

/** The raw value of a header line (mailparser folds Importance and X-Priority into `priority`). */
function rawHeader(parsed: ParsedMail, name: string): string | undefined {
  const line = parsed.headerLines.find((h) => h.key === name)?.line;
  return line?.slice(line.indexOf(":") + 1).trim();
}

function show(list: string[]): string {
  return list.length > 0 ? list.join(", ") : "-";
}

/** The printout lines for one delivered message (without a trailing newline). */
export function describeDelivered(message: Delivered): string[] {
  const { parsed } = message;
  const headerSection = message.raw.toString("latin1").split("\r\n\r\n")[0]?.toLowerCase() ?? "";
  const inHeaders = new Set([...bare(parsed.to), ...bare(parsed.cc)]);
  const hidden = message.rcptTo.filter((r) => !inHeaders.has(r.toLowerCase()));
  const leaked = hidden.filter((r) => headerSection.includes(r.toLowerCase()));
  const importance = rawHeader(parsed, "importance");
  const priority = rawHeader(parsed, "x-priority");
  const level = parsed.headers.get("priority");
  const body = parsed.html !== false && parsed.html !== undefined
    ? `text/html, ${parsed.html.length} characters`
    : `text/plain, ${(parsed.text ?? "").length} characters`;
  const lines = [
    `    subject:     ${parsed.subject ?? "-"}`,
    `    from:        ${show(addresses(parsed.from))}`,
    `    to:          ${show(addresses(parsed.to))}`,
    `    cc:          ${show(addresses(parsed.cc))}`,
    `    reply-to:    ${show(addresses(parsed.replyTo))}`,
    `    importance:  ${typeof level === "string" ? level : "normal"}${importance || priority
      ? ` (headers Importance: ${importance ?? "-"}, X-Priority: ${priority ?? "-"})`
      : " (no Importance / X-Priority header)"}`,
    `    envelope:    MAIL FROM <${message.mailFrom}>, RCPT TO ${message.rcptTo.map((r) => `<${r}>`).join(" ")}`,
  ];
  if (hidden.length === 0) {
    lines.push("    bcc:         none (every envelope recipient is in To or Cc)");
  } else {
    const verdict = leaked.length === 0
      ? "delivered (in the envelope) and absent from every header: no Bcc header, not in To or Cc"
      : `WARNING: ${leaked.join(", ")} appears in the headers`;
    lines.push(`    bcc:         ${hidden.join(", ")}: ${verdict}`);
  }
  lines.push(`    body:        ${body}`);
  if (parsed.attachments.length === 0) lines.push("    attachments: none");
  for (const a of parsed.attachments) {
    lines.push(`    attachment:  ${a.filename ?? "(no name)"}, ${a.size} bytes, ${a.contentType}`);
  }
  lines.push(`    session:     ${message.secure ? "encrypted (STARTTLS)" : "NOT encrypted"}, authenticated as ${message.user ?? "(nobody)"}`);
  return lines;
}
