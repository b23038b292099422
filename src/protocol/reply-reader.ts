/**
 * Frames server bytes into complete replies. Bytes arrive in arbitrary chunks: a reply may
 * be split mid-line and several replies may share one chunk, so a buffer is kept across
 * reads (RFC 5321 §4.2).
 *
 * @module
 */

import { splitEnhancedCode, type SmtpReply } from "./reply.ts";

/** Limits that protect the client from a hostile server. */
export interface ReplyLimits {
  /** Longest accepted reply line in octets (RFC 5321 §4.5.3.1.5 says 512; servers exceed it). */
  maxLineLength: number;
  /** Most lines in one reply. */
  maxLines: number;
}

/** Default reply limits. */
export const DEFAULT_REPLY_LIMITS: Readonly<ReplyLimits> = Object.freeze({
  maxLineLength: 8192,
  maxLines: 512,
});

/** Why a reply could not be framed. */
export class ReplyFormatError extends Error {
  /** The offending line, when one was read. */
  readonly line?: string;

  /** @param message what was wrong; @param line the offending line */
  constructor(message: string, line?: string) {
    super(message);
    this.name = "ReplyFormatError";
    if (line !== undefined) this.line = line;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const REPLY_LINE = /^([2-5][0-9][0-9])([ -]|$)(.*)$/s;

/** Accumulates bytes and yields complete replies. */
export class ReplyReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #start = 0;
  #lines: string[] = [];
  #code = 0;
  readonly #limits: ReplyLimits;
  readonly #decoder = new TextDecoder("utf-8");

  /** @param limits size caps */
  constructor(limits: ReplyLimits = DEFAULT_REPLY_LIMITS) {
    this.#limits = limits;
  }

  /** Bytes received but not yet part of a returned reply. */
  get buffered(): number {
    return this.#buffer.length - this.#start;
  }

  /** Adds bytes from the socket. */
  push(chunk: Uint8Array): void {
    if (this.buffered === 0) {
      this.#buffer = chunk;
    } else {
      const rest = this.#buffer.subarray(this.#start);
      const joined = new Uint8Array(rest.length + chunk.length);
      joined.set(rest, 0);
      joined.set(chunk, rest.length);
      this.#buffer = joined;
    }
    this.#start = 0;
  }

  /** The next complete reply, or undefined when more bytes are needed. Throws {@link ReplyFormatError}. */
  next(): SmtpReply | undefined {
    for (;;) {
      const end = this.#buffer.indexOf(LF, this.#start);
      if (end === -1) {
        if (this.buffered > this.#limits.maxLineLength) {
          throw new ReplyFormatError(`Reply line longer than ${this.#limits.maxLineLength} octets`);
        }
        return undefined;
      }
      const lineEnd = end > this.#start && this.#buffer[end - 1] === CR ? end - 1 : end;
      if (lineEnd - this.#start > this.#limits.maxLineLength) {
        throw new ReplyFormatError(`Reply line longer than ${this.#limits.maxLineLength} octets`);
      }
      const line = this.#decoder.decode(this.#buffer.subarray(this.#start, lineEnd));
      this.#start = end + 1;
      const reply = this.#accept(line);
      if (reply) return reply;
    }
  }

  #accept(line: string): SmtpReply | undefined {
    const match = REPLY_LINE.exec(line);
    if (!match) throw new ReplyFormatError(`Malformed reply line "${line.slice(0, 80)}"`, line);
    const code = Number(match[1]);
    if (this.#lines.length > 0 && code !== this.#code) {
      throw new ReplyFormatError(`Multi-line reply changed its code from ${this.#code} to ${code}`);
    }
    this.#code = code;
    this.#lines.push(match[3] ?? "");
    if (this.#lines.length > this.#limits.maxLines) {
      throw new ReplyFormatError(`Reply longer than ${this.#limits.maxLines} lines`);
    }
    if (match[2] === "-") return undefined;
    const lines = this.#lines;
    this.#lines = [];
    const reply: SmtpReply = { code, lines };
    const { enhancedCode } = splitEnhancedCode(code, lines[0] ?? "");
    if (enhancedCode) reply.enhancedCode = enhancedCode;
    return reply;
  }
}
