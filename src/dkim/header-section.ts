/**
 * Splitting a message into its header section and body as the bytes stream past, and the
 * header section into fields.
 *
 * @module
 */

const CR = 13;
const LF = 10;
const PATTERN: readonly number[] = [CR, LF, CR, LF];
/** Largest header section accepted, in octets. */
export const MAX_HEADER_SECTION: number = 1 << 20;

/**
 * Feeds message bytes in order: the header section (up to and including the CRLF that
 * ends the last field) is gathered; everything after the empty line goes to `onBody`.
 */
export class HeaderSplitter {
  readonly #onBody: (bytes: Uint8Array) => void;
  #head = new Uint8Array(4096);
  #headUsed = 0;
  #matched = 0;
  #inBody = false;

  /** @param onBody receives body bytes in order */
  constructor(onBody: (bytes: Uint8Array) => void) {
    this.#onBody = onBody;
  }

  /** Feeds the next bytes of the message. */
  push(chunk: Uint8Array): void {
    if (this.#inBody) {
      this.#onBody(chunk);
      return;
    }
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      this.#matched = b === PATTERN[this.#matched] ? this.#matched + 1 : b === CR ? 1 : 0;
      if (this.#matched === 4) {
        this.#append(chunk.subarray(0, i + 1));
        this.#inBody = true;
        if (i + 1 < chunk.length) this.#onBody(chunk.subarray(i + 1));
        return;
      }
    }
    this.#append(chunk);
  }

  /**
   * The header section as a string of one character per octet, ending with the CRLF of
   * its last field (the empty line excluded). Without an empty line, the whole message.
   */
  header(): string {
    const end = this.#inBody ? this.#headUsed - 2 : this.#headUsed;
    let s = "";
    for (let i = 0; i < end; i += 8192) {
      s += String.fromCharCode(...this.#head.subarray(i, Math.min(end, i + 8192)));
    }
    return s;
  }

  #append(bytes: Uint8Array): void {
    const need = this.#headUsed + bytes.length;
    if (need > MAX_HEADER_SECTION) throw new Error(`header section larger than ${MAX_HEADER_SECTION} octets`);
    if (need > this.#head.length) {
      const bigger = new Uint8Array(Math.max(need, this.#head.length * 2));
      bigger.set(this.#head.subarray(0, this.#headUsed));
      this.#head = bigger;
    }
    this.#head.set(bytes, this.#headUsed);
    this.#headUsed = need;
  }
}

/** One header field: its lower-case name and its full text (folding kept, no final CRLF). */
export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** The whole field as it appears, without the CRLF that ends it. */
  text: string;
}

/** Splits a header section (as returned by {@link HeaderSplitter.header}) into fields. */
export function splitFields(section: string): HeaderField[] {
  const body = section.endsWith("\r\n") ? section.slice(0, -2) : section;
  if (body === "") return [];
  const fields: HeaderField[] = [];
  for (const text of body.split(/\r\n(?![ \t])/)) {
    const colon = text.indexOf(":");
    if (colon <= 0) continue;
    fields.push({ name: text.slice(0, colon).replace(/[ \t]+$/, "").toLowerCase(), text });
  }
  return fields;
}
