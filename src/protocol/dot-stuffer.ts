/**
 * Transparency for DATA (RFC 5321 §4.5.2): a line that starts with "." gets another ".".
 * The state carries across chunks, so a line start at a chunk boundary is still seen.
 * Input must already be CRLF-only (the composer guarantees it).
 *
 * @module
 */

const DOT = 0x2e;
const LF = 0x0a;
const CR = 0x0d;

/** The end-of-data marker sent after the stuffed body. */
export const END_OF_DATA: Uint8Array = new Uint8Array([CR, LF, DOT, CR, LF]);

/** Stateful dot-stuffer for one message. */
export class DotStuffer {
  #atLineStart = true;
  #lastByte = LF;

  /** A stuffer that is never used, kept for its object shape (see `SmtpSession.idle` in ../client.ts). */
  static readonly idle: DotStuffer = new DotStuffer();

  /**
   * Returns the chunk with every line-leading "." doubled (the same array when nothing changed).
   *
   * @param chunk the next bytes of the body
   * @param dotFree the caller knows `chunk` holds no "." at all (base64 text): it is passed
   *   through without a scan, only its last byte is noted for the next chunk's line start
   */
  stuff(chunk: Uint8Array, dotFree = false): Uint8Array {
    if (chunk.length === 0) return chunk;
    // No dot at all: known (base64 chunks), or found by one native scan instead of one
    // per line. Only the line-start state for the next chunk changes.
    if (dotFree || chunk.indexOf(DOT) === -1) {
      this.#lastByte = chunk[chunk.length - 1] as number;
      this.#atLineStart = this.#lastByte === LF;
      return chunk;
    }
    const dots: number[] = [];
    if (this.#atLineStart && chunk[0] === DOT) dots.push(0);
    let at = chunk.indexOf(LF);
    while (at !== -1) {
      if (at + 1 < chunk.length && chunk[at + 1] === DOT) dots.push(at + 1);
      at = chunk.indexOf(LF, at + 1);
    }
    this.#lastByte = chunk[chunk.length - 1] as number;
    this.#atLineStart = this.#lastByte === LF;
    if (dots.length === 0) return chunk;
    const out = new Uint8Array(chunk.length + dots.length);
    let from = 0;
    let to = 0;
    for (const index of dots) {
      out.set(chunk.subarray(from, index), to);
      to += index - from;
      out[to++] = DOT;
      from = index;
    }
    out.set(chunk.subarray(from), to);
    return out;
  }

  /** The bytes that end DATA: CRLF "." CRLF, without the first CRLF when the body already ended a line. */
  terminator(): Uint8Array {
    return this.#lastByte === LF ? END_OF_DATA.subarray(2) : END_OF_DATA;
  }
}
