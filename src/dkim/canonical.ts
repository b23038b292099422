/**
 * DKIM "relaxed" canonicalisation (RFC 6376 §3.4.2 for header fields, §3.4.4 for the body).
 * The body form is computed as a stream: bytes go in as they are produced and canonical
 * bytes come out to a sink, so a body of any size is processed in constant memory.
 *
 * @module
 */

const SP = 0x20;
const HTAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const OUT_SIZE = 65536;

/**
 * Streaming relaxed body canonicaliser (RFC 6376 §3.4.4): whitespace at the end of every
 * line is dropped, every other run of SP/HTAB becomes one SP, empty lines at the end of
 * the body are dropped, and a non-empty body that does not end in CRLF gets one. An empty
 * body (or one of only empty lines) canonicalises to nothing. Only CR LF ends a line; a
 * lone CR or LF is an ordinary character.
 */
export class RelaxedBody {
  readonly #sink: (bytes: Uint8Array) => void;
  readonly #out = new Uint8Array(OUT_SIZE);
  #used = 0;
  // Line ends seen but not yet written: the one ending the last non-empty line plus one per
  // empty line after it. They are written only when more content follows.
  #owedLineEnds = 0;
  // A run of whitespace inside the current line, written as one SP if content follows.
  #owedSpace = false;
  // The previous byte was a CR whose meaning depends on the next byte.
  #pendingCr = false;
  // Whether the current line has content yet.
  #lineHasContent = false;
  // Whether any content has been written at all.
  #wroteContent = false;

  /** @param sink receives the canonical body, in order, in pieces it must not keep */
  constructor(sink: (bytes: Uint8Array) => void) {
    this.#sink = sink;
  }

  /** Feeds the next piece of the body (as sent, CRLF line ends). */
  update(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (this.#pendingCr) {
        this.#pendingCr = false;
        if (b === LF) {
          this.#endLine();
          continue;
        }
        this.#content(CR);
      }
      if (b === CR) this.#pendingCr = true;
      else if (b === SP || b === HTAB) this.#owedSpace = true;
      else this.#content(b);
    }
  }

  /** Ends the body, writes what is still owed and flushes the sink. */
  finish(): void {
    if (this.#pendingCr) {
      this.#pendingCr = false;
      this.#content(CR);
    }
    if (this.#lineHasContent || (this.#wroteContent && this.#owedLineEnds > 0)) {
      this.#write(CR);
      this.#write(LF);
    }
    this.#owedLineEnds = 0;
    this.#owedSpace = false;
    this.#flush();
  }

  #endLine(): void {
    this.#owedLineEnds++;
    this.#owedSpace = false;
    this.#lineHasContent = false;
  }

  #content(b: number): void {
    if (this.#owedLineEnds > 0) {
      // Empty lines are only dropped at the end of the body; here content follows them.
      for (let n = this.#owedLineEnds; n > 0; n--) {
        this.#write(CR);
        this.#write(LF);
      }
      this.#owedLineEnds = 0;
    }
    if (this.#owedSpace) {
      this.#write(SP);
      this.#owedSpace = false;
    }
    this.#write(b);
    this.#lineHasContent = true;
    this.#wroteContent = true;
  }

  #write(b: number): void {
    if (this.#used === OUT_SIZE) this.#flush();
    this.#out[this.#used++] = b;
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#sink(this.#out.subarray(0, this.#used));
    this.#used = 0;
  }
}

/** The relaxed canonical form of a whole body (for tests and small inputs). */
export function relaxedBody(body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const canon = new RelaxedBody((bytes) => parts.push(bytes.slice()));
  canon.update(body);
  canon.finish();
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The relaxed canonical form of one header field (RFC 6376 §3.4.2): the name in lower
 * case, no whitespace around the colon, the value unfolded with every whitespace run made
 * one SP and none at either end, then CRLF (omitted with `withCrlf` false, as for the
 * DKIM-Signature field itself).
 *
 * @param field the whole field as it appears in the message, folding included, without
 *   its final CRLF; each character stands for one octet
 */
export function relaxedHeader(field: string, withCrlf = true): string {
  const colon = field.indexOf(":");
  if (colon < 0) throw new Error("internal: header field without a colon");
  const name = field.slice(0, colon).replace(/[ \t]+$/, "").toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r\n/g, "")
    .replace(/[ \t]+/g, " ")
    .replace(/^ /, "")
    .replace(/ $/, "");
  return `${name}:${value}${withCrlf ? "\r\n" : ""}`;
}
