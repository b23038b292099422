/**
 * Frames server bytes into complete replies. Bytes arrive in arbitrary chunks: a reply may
 * be split mid-line and several replies may share one chunk, so a buffer is kept across
 * reads (RFC 5321 §4.2).
 *
 * @module
 */

import { enhancedCodeOf, type SmtpReply } from "./reply.ts";

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
const ZERO = 0x30;
// decode() without { stream: true } keeps no state, so one decoder serves every reader.
const DECODER = new TextDecoder("utf-8");

/** The reply code of `line` when it starts like a reply line (`[2-5]dd` then space, `-` or its end), else 0. */
function replyCode(line: string): number {
  if (line.length < 3) return 0;
  const a = line.charCodeAt(0) - ZERO;
  const b = line.charCodeAt(1) - ZERO;
  const c = line.charCodeAt(2) - ZERO;
  if (a < 2 || a > 5 || b < 0 || b > 9 || c < 0 || c > 9) return 0;
  if (line.length > 3 && line[3] !== " " && line[3] !== "-") return 0;
  return a * 100 + b * 10 + c;
}

/** Accumulates bytes and yields complete replies. */
export class ReplyReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #start = 0;
  #lines: string[] = [];
  #code = 0;
  readonly #limits: ReplyLimits;

  /** A reader that is never used, kept for its object shape (see `SmtpSession.idle`). */
  static readonly idle: ReplyReader = new ReplyReader();

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
      const line = DECODER.decode(this.#buffer.subarray(this.#start, lineEnd));
      this.#start = end + 1;
      const reply = this.#accept(line);
      if (reply) return reply;
    }
  }

  // Parsed by hand rather than by a regular expression: this runs for every reply line.
  #accept(line: string): SmtpReply | undefined {
    const code = replyCode(line);
    if (code === 0) throw new ReplyFormatError(`Malformed reply line "${line.slice(0, 80)}"`, line);
    if (this.#lines.length > 0 && code !== this.#code) {
      throw new ReplyFormatError(`Multi-line reply changed its code from ${this.#code} to ${code}`);
    }
    this.#code = code;
    this.#lines.push(line.length > 4 ? line.slice(4) : "");
    if (this.#lines.length > this.#limits.maxLines) {
      throw new ReplyFormatError(`Reply longer than ${this.#limits.maxLines} lines`);
    }
    if (line.length > 3 && line[3] === "-") return undefined;
    const lines = this.#lines;
    this.#lines = [];
    const enhancedCode = enhancedCodeOf(code, lines[0] as string);
    // Either shape comes from a literal: a property added afterwards would make a shape that
    // lives only as long as such replies do (see SmtpSession.idle in ../client.ts).
    return enhancedCode === undefined ? { code, lines } : { code, lines, enhancedCode };
  }
}
