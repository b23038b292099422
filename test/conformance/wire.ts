/**
 * A minimal SMTP line reader over an {@link SmtpSocket}, for the socket-level cases. It
 * keeps its own byte buffer across reads, as the real core must.
 *
 * @module
 */

import type { SmtpSocket } from "../../src/socket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A parsed reply. */
export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

/** Line and byte reader plus command writer. */
export class Wire {
  private buf: Uint8Array = new Uint8Array(0);

  constructor(public sock: SmtpSocket) {}

  /** Bytes received but not consumed yet. */
  get leftover(): number {
    return this.buf.byteLength;
  }

  private async fill(): Promise<boolean> {
    const chunk = await this.sock.read();
    if (chunk === null) return false;
    const next = new Uint8Array(this.buf.byteLength + chunk.byteLength);
    next.set(this.buf, 0);
    next.set(chunk, this.buf.byteLength);
    this.buf = next;
    return true;
  }

  /** One CRLF-terminated line, without the CRLF. Throws `Error("EOF")` at end of stream. */
  async line(): Promise<string> {
    for (;;) {
      for (let i = 0; i + 1 < this.buf.byteLength; i++) {
        if (this.buf[i] === 13 && this.buf[i + 1] === 10) {
          const text = decoder.decode(this.buf.subarray(0, i));
          this.buf = this.buf.slice(i + 2);
          return text;
        }
      }
      if (!(await this.fill())) throw new Error("EOF");
    }
  }

  /** One complete (possibly multi-line) reply. */
  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      if (!/^\d{3}([ -]|$)/.test(line)) throw new Error(`Malformed reply line ${JSON.stringify(line)}`);
      lines.push(line);
      if (line[3] !== "-") {
        return { code: Number(line.slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join("\n") };
      }
    }
  }

  /** Writes raw bytes. */
  write(bytes: Uint8Array): Promise<void> {
    return this.sock.write(bytes);
  }

  /** Sends a command line and reads the reply. */
  async cmd(line: string): Promise<Reply> {
    await this.sock.write(encoder.encode(`${line}\r\n`));
    return this.reply();
  }

  /** Exactly `n` bytes. Between reads, `onChunk` may slow the consumer down. */
  async exact(n: number, onChunk?: (received: number) => Promise<void>): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = Math.min(n, this.buf.byteLength);
    out.set(this.buf.subarray(0, got), 0);
    this.buf = this.buf.slice(got);
    while (got < n) {
      const chunk = await this.sock.read();
      if (chunk === null) throw new Error(`EOF after ${got} of ${n} bytes`);
      const take = Math.min(chunk.byteLength, n - got);
      out.set(chunk.subarray(0, take), got);
      got += take;
      if (take < chunk.byteLength) this.buf = chunk.slice(take);
      if (onChunk) await onChunk(got);
    }
    return out;
  }

  /** Reads until EOF; returns whether EOF came without extra data (throws on error). */
  async expectEof(): Promise<boolean> {
    if (this.buf.byteLength > 0) return false;
    return (await this.sock.read()) === null;
  }
}

/** SHA-256 of bytes as lowercase hex, with WebCrypto. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `n` random bytes (getRandomValues takes at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}
