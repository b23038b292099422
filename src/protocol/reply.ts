/**
 * SMTP replies: the parsed form and enhanced status codes (RFC 3463).
 *
 * @module
 */

import type { SmtpReplyInfo } from "../errors.ts";

/** One complete (possibly multi-line) server reply. */
export interface SmtpReply {
  /** Three-digit reply code. */
  code: number;
  /** Text of each line, without the code and separator. */
  lines: string[];
  /** RFC 3463 enhanced status code of the first line, when present. */
  enhancedCode?: string;
}

/** Where the run of ASCII digits that starts at `from` ends. */
function digitsEnd(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
  return i;
}

const SPACE = /\s/;

/**
 * The enhanced status code at the front of a reply line when it matches the reply class
 * (RFC 3463 §2: class.subject.detail, class 2, 4 or 5, each part at most 3 digits, then
 * white space or the end). Parsed by hand, because every reply goes through it.
 */
export function enhancedCodeOf(code: number, text: string): string | undefined {
  const cls = text.charCodeAt(0) - 0x30;
  if (cls !== Math.floor(code / 100) || (cls !== 2 && cls !== 4 && cls !== 5) || text.charCodeAt(1) !== 0x2e) return undefined;
  const subject = digitsEnd(text, 2);
  if (subject === 2 || subject > 5 || text.charCodeAt(subject) !== 0x2e) return undefined;
  const end = digitsEnd(text, subject + 1);
  if (end === subject + 1 || end > subject + 4) return undefined;
  if (end < text.length && text[end] !== " " && !SPACE.test(text[end] as string)) return undefined;
  return text.slice(0, end);
}

/** Splits an enhanced status code (see {@link enhancedCodeOf}) and the white space after it off a reply line. */
export function splitEnhancedCode(code: number, text: string): { enhancedCode?: string; text: string } {
  const enhancedCode = enhancedCodeOf(code, text);
  if (enhancedCode === undefined) return { text };
  let end = enhancedCode.length;
  while (end < text.length && SPACE.test(text[end] as string)) end++;
  return { enhancedCode, text: text.slice(end) };
}

/** The reply's text without codes, lines joined with `\n`. */
export function replyMessage(reply: SmtpReply): string {
  return reply.lines.map((line) => splitEnhancedCode(reply.code, line).text).join("\n");
}

/** The reply as attached to errors and receipts. */
export function replyInfo(reply: SmtpReply): SmtpReplyInfo {
  const info: SmtpReplyInfo = { code: reply.code, message: replyMessage(reply) };
  if (reply.enhancedCode) info.enhancedCode = reply.enhancedCode;
  return info;
}

/** The reply as the server sent it, one line, for receipts (`"250 2.0.0 Ok: queued"`). */
export function replyText(reply: SmtpReply): string {
  return `${reply.code} ${reply.lines.join(" ")}`.trim();
}
