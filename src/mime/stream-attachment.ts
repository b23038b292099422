/**
 * Attachments whose content is a `ReadableStream<Uint8Array>`: base64-encoded as the
 * stream is read, with the byte count checked against the size the caller declared (the
 * message size is announced before the first byte is read, so it must be exact).
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { BYTES_PER_CHUNK, encodeBase64, encodedBase64Size } from "./base64.ts";
import type { StreamSegment } from "./stream.ts";

const CRLF: Uint8Array = new Uint8Array([13, 10]);

/** True when `value` looks like a WHATWG `ReadableStream` (any realm or runtime). */
export function isReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { getReader?: unknown }).getReader === "function" &&
    typeof (value as { cancel?: unknown }).cancel === "function"
  );
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || Object.prototype.toString.call(value) === "[object Uint8Array]";
}

/**
 * A segment that base64-encodes `stream` into 76-character CRLF lines (no CRLF after the
 * last), exactly like the encoder for in-memory bytes. It can be read once.
 *
 * Reading fails with {@link SmtpValidationError} (code `EATTACHMENT`, field
 * `<field>.size`) as soon as the stream yields more bytes than `size`, or ends with fewer;
 * the stream is cancelled. The same happens for a chunk that is not a `Uint8Array`
 * (field `<field>.content`). An error from the stream itself propagates unchanged.
 *
 * @param stream the caller's stream, not yet locked
 * @param size the exact number of bytes it will yield
 * @param field the attachment's input path, such as `attachments[2]`
 */
export function streamBase64Segment(stream: ReadableStream<Uint8Array>, size: number, field: string): StreamSegment {
  let used = false;
  return {
    size: encodedBase64Size(size),
    field: `${field}.content`,
    // Base64 text: never a ".", so the DATA writer need not scan it.
    dotFree: true,
    async *stream(): AsyncGenerator<Uint8Array, void, undefined> {
      if (used) {
        throw new SmtpValidationError(`${field}.content`, "the stream was already read: a ReadableStream can be sent only once", "EATTACHMENT");
      }
      used = true;
      const reader = stream.getReader();
      const block = new Uint8Array(BYTES_PER_CHUNK);
      let filled = 0;
      let total = 0;
      let first = true;
      let finished = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!isBytes(value)) {
            throw new SmtpValidationError(`${field}.content`, "the stream yielded something other than a Uint8Array", "EATTACHMENT");
          }
          total += value.length;
          if (total > size) {
            throw new SmtpValidationError(`${field}.size`, `the stream yielded more than the declared ${size} bytes`, "EATTACHMENT");
          }
          let offset = 0;
          while (offset < value.length) {
            const take = Math.min(value.length - offset, BYTES_PER_CHUNK - filled);
            block.set(value.subarray(offset, offset + take), filled);
            filled += take;
            offset += take;
            if (filled === BYTES_PER_CHUNK) {
              // A CRLF goes between blocks, never after the last line of the attachment.
              if (!first) yield CRLF;
              first = false;
              yield* encodeBase64(block);
              filled = 0;
            }
          }
        }
        if (total !== size) {
          throw new SmtpValidationError(`${field}.size`, `the stream ended after ${total} bytes, not the declared ${size}`, "EATTACHMENT");
        }
        if (filled > 0) {
          if (!first) yield CRLF;
          yield* encodeBase64(block.subarray(0, filled));
        }
        finished = true;
      } finally {
        if (finished) reader.releaseLock();
        else await reader.cancel().catch(() => undefined);
      }
    },
  };
}
