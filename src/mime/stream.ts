/**
 * The composed message as a list of segments of known size, and the generator that turns
 * them into chunks of at most 64 KiB. Sizes are known before any byte is produced, so the
 * message size (for SIZE / BDAT) is exact up front.
 *
 * @module
 */

/** A run of message bytes whose length is known in advance. */
export interface Segment {
  /** Exact number of bytes {@link Segment.bytes} yields. */
  readonly size: number;
  /** Yields the bytes; may be called again to start over. */
  bytes(): Iterable<Uint8Array>;
}

/** Largest chunk {@link chunkSegments} yields. */
export const CHUNK_SIZE = 65536;
// Pieces at least this long are passed through rather than copied into the chunk buffer.
const PASS_THROUGH = CHUNK_SIZE / 2;

const encoder = new TextEncoder();

/** A segment of fixed text (UTF-8 encoded once, up front). */
export function textSegment(text: string): Segment {
  return bytesSegment(encoder.encode(text));
}

/** A segment of fixed bytes, yielded in slices of at most {@link CHUNK_SIZE}. */
export function bytesSegment(bytes: Uint8Array): Segment {
  return {
    size: bytes.length,
    *bytes(): Generator<Uint8Array, void, undefined> {
      for (let i = 0; i < bytes.length; i += CHUNK_SIZE) yield bytes.subarray(i, i + CHUNK_SIZE);
    },
  };
}

/** A segment produced on demand by `produce`, which must yield exactly `size` bytes. */
export function lazySegment(size: number, produce: () => Iterable<Uint8Array>): Segment {
  return { size, bytes: produce };
}

/** Total size of `segments`. */
export function totalSize(segments: readonly Segment[]): number {
  let n = 0;
  for (const s of segments) n += s.size;
  return n;
}

/**
 * Yields the bytes of `segments` in order: small pieces are gathered into chunks of up to
 * {@link CHUNK_SIZE}, large ones pass through as they are. Every yielded array is either
 * fresh or a view of composer-owned data; consumers must not modify them.
 */
export function* chunkSegments(segments: readonly Segment[]): Generator<Uint8Array, void, undefined> {
  let buffer = new Uint8Array(CHUNK_SIZE);
  let used = 0;
  for (const segment of segments) {
    for (const piece of segment.bytes()) {
      if (piece.length >= PASS_THROUGH && piece.length <= CHUNK_SIZE) {
        if (used > 0) {
          yield buffer.subarray(0, used);
          buffer = new Uint8Array(CHUNK_SIZE);
          used = 0;
        }
        yield piece;
        continue;
      }
      let offset = 0;
      while (offset < piece.length) {
        const take = Math.min(piece.length - offset, CHUNK_SIZE - used);
        buffer.set(piece.subarray(offset, offset + take), used);
        used += take;
        offset += take;
        if (used === CHUNK_SIZE) {
          yield buffer;
          buffer = new Uint8Array(CHUNK_SIZE);
          used = 0;
        }
      }
    }
  }
  if (used > 0) yield buffer.subarray(0, used);
}
