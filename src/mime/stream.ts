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
  /**
   * Yields the bytes; may be called again to start over. With `transient`, a yielded array
   * may be overwritten once the next one is requested (see {@link chunkSegments}).
   */
  bytes(transient?: boolean): Iterable<Uint8Array>;
  /** True when the bytes can never contain "." (base64 text), so DATA needs no dot-stuffing scan. */
  readonly dotFree?: boolean;
}

/** Largest chunk {@link chunkSegments} yields. */
export const CHUNK_SIZE = 65536;
/**
 * Pieces at least this long are passed through rather than copied into a chunk buffer, so
 * they are also the only chunks that can be reused buffers when read as `transient`.
 */
export const PASS_THROUGH: number = CHUNK_SIZE / 2;

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

/**
 * A segment produced on demand by `produce`, which must yield exactly `size` bytes (and
 * may reuse its buffers when asked for `transient` bytes). `dotFree` promises that they
 * never contain "." (see {@link isDotFree}).
 */
export function lazySegment(size: number, produce: (transient?: boolean) => Iterable<Uint8Array>, dotFree = false): Segment {
  return dotFree ? { size, bytes: produce, dotFree } : { size, bytes: produce };
}

/** Total size of `segments`. */
export function totalSize(segments: readonly AnySegment[]): number {
  let n = 0;
  for (const s of segments) n += s.size;
  return n;
}

/**
 * A run of message bytes that can only be produced asynchronously, and only once: a
 * caller's `ReadableStream` encoded on the fly. Its size is still known in advance.
 */
export interface StreamSegment {
  /** Exact number of bytes {@link StreamSegment.stream} yields. */
  readonly size: number;
  /** The input path it comes from, such as `attachments[1].content`, for errors. */
  readonly field: string;
  /** Yields the bytes; a second call fails. `transient` as in {@link Segment.bytes}. */
  stream(transient?: boolean): AsyncIterable<Uint8Array>;
  /** As {@link Segment.dotFree}. */
  readonly dotFree?: boolean;
}

/** Either kind of segment. */
export type AnySegment = Segment | StreamSegment;

/** True for a segment that can only be read asynchronously. */
export function isStreamSegment(segment: AnySegment): segment is StreamSegment {
  return typeof (segment as Partial<StreamSegment>).stream === "function";
}

/**
 * Gathers pieces into chunks of at most {@link CHUNK_SIZE}. Each buffer is allocated only
 * when a piece needs it and sized to what is left of the message, so a 700-octet message
 * costs one 700-octet buffer rather than a zeroed 64 KiB one (and no spare buffer at the end).
 */
class Chunker {
  #buffer: Uint8Array | undefined;
  #used = 0;
  /** Every piece gathered in the current buffer came from a dot-free segment. */
  #dotFree = true;
  /** Bytes not yet pushed: an upper bound on what the next buffer must hold. */
  #remaining: number;

  // Never used, kept for its object shape (see `SmtpSession.idle` in ../client.ts).
  static readonly idle: Chunker = new Chunker(0);

  /** @param total the exact number of bytes that will be pushed */
  constructor(total: number) {
    this.#remaining = total;
  }

  /** Yields the chunks completed by `piece`; `dotFree`: it comes from a dot-free segment. */
  *push(piece: Uint8Array, dotFree: boolean): Generator<Uint8Array, void, undefined> {
    this.#remaining -= piece.length;
    if (piece.length >= PASS_THROUGH && piece.length <= CHUNK_SIZE) {
      yield* this.end();
      if (dotFree) dotFreeChunks.add(piece);
      yield piece;
      return;
    }
    let offset = 0;
    while (offset < piece.length) {
      // What is buffered plus everything still to come (this piece's rest included).
      const buffer = (this.#buffer ??= new Uint8Array(
        Math.min(CHUNK_SIZE, Math.max(0, this.#remaining) + piece.length - offset),
      ));
      if (!dotFree) this.#dotFree = false;
      const take = Math.min(piece.length - offset, buffer.length - this.#used);
      buffer.set(piece.subarray(offset, offset + take), this.#used);
      this.#used += take;
      offset += take;
      if (this.#used === buffer.length) yield* this.end();
    }
  }

  /** Yields what is gathered so far, if anything; the next piece starts a new buffer. */
  *end(): Generator<Uint8Array, void, undefined> {
    const buffer = this.#buffer;
    if (buffer === undefined || this.#used === 0) return;
    const chunk = this.#used === buffer.length ? buffer : buffer.subarray(0, this.#used);
    if (this.#dotFree) dotFreeChunks.add(chunk);
    this.#buffer = undefined;
    this.#used = 0;
    this.#dotFree = true;
    yield chunk;
  }
}

/**
 * Yields the bytes of `segments` in order: small pieces are gathered into chunks of up to
 * {@link CHUNK_SIZE}, large ones pass through as they are. Every yielded array is either
 * fresh or a view of composer-owned data; consumers must not modify them.
 *
 * With `transient`, encoders reuse their output buffers: a chunk of {@link PASS_THROUGH}
 * octets or more may be overwritten once the next chunk is requested, so a consumer must
 * be done with it (written, hashed, copied) first. Shorter chunks are always fresh. This
 * keeps a large attachment from allocating a new 64 KiB buffer per chunk.
 *
 * @throws {Error} before yielding anything when a segment is a {@link StreamSegment}
 *   (use {@link streamSegments}); deliberately not an `SmtpError`, so that a session
 *   writer that calls this mid-transaction treats it as fatal to the connection
 */
export function* chunkSegments(segments: readonly AnySegment[], transient = false): Generator<Uint8Array, void, undefined> {
  const streamed = segments.find(isStreamSegment);
  if (streamed) {
    throw new Error(
      `${streamed.field} is a ReadableStream: this message can only be read asynchronously, once (use stream())`,
    );
  }
  const chunker = new Chunker(totalSize(segments));
  for (const segment of segments as readonly Segment[]) {
    const dotFree = segment.dotFree === true;
    for (const piece of segment.bytes(transient)) yield* chunker.push(piece, dotFree);
  }
  yield* chunker.end();
}

// Chunks yielded by chunkSegments / streamSegments that hold no "." at all: only bytes of
// dot-free segments. A WeakSet rather than a property, so chunks stay plain Uint8Arrays.
const dotFreeChunks = new WeakSet<Uint8Array>();

/**
 * Whether `chunk`, as yielded by a composed message's `chunks()` or `stream()`, is known to
 * contain no "." (base64 attachment text), so a DATA writer can skip scanning it for
 * dot-stuffing. False means "not known", not "has a dot".
 */
export function isDotFree(chunk: Uint8Array): boolean {
  return dotFreeChunks.has(chunk);
}

// Composed messages whose chunks() can be read (no stream attachment), so that a writer can
// iterate them synchronously instead of through stream(): `for await` costs microtasks per chunk.
const synchronous = new WeakSet<object>();

/** Records that `message.chunks()` yields the same bytes as `message.stream()`. */
export function markSynchronous<T extends object>(message: T): T {
  synchronous.add(message);
  return message;
}

/** Whether {@link markSynchronous} was called for `message`. */
export function isSynchronous(message: object): boolean {
  return synchronous.has(message);
}

/**
 * The asynchronous form of {@link chunkSegments}: the same chunks (`transient` alike), and
 * it also reads {@link StreamSegment}s (each only once).
 */
export async function* streamSegments(segments: readonly AnySegment[], transient = false): AsyncGenerator<Uint8Array, void, undefined> {
  const chunker = new Chunker(totalSize(segments));
  for (const segment of segments) {
    const dotFree = segment.dotFree === true;
    if (isStreamSegment(segment)) {
      for await (const piece of segment.stream(transient)) yield* chunker.push(piece, dotFree);
    } else {
      for (const piece of segment.bytes(transient)) yield* chunker.push(piece, dotFree);
    }
  }
  yield* chunker.end();
}
