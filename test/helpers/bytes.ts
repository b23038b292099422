/**
 * Byte helpers shared by the tests: deterministic pseudo-random data, joining chunks, and
 * a ReadableStream over bytes.
 *
 * @module
 */

/** xorshift32 from `seed` (0 counts as 1): the next unsigned 32-bit value on each call. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  const next = xorshift(seed);
  return () => next() / 2 ** 32;
}

/** `n` deterministic pseudo-random bytes. */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const next = xorshift(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** The chunks joined into one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A stream that yields copies of `content` in pieces of `piece` bytes, as it is read. */
export function streamOf(content: Uint8Array, piece = 16_384): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= content.length) return controller.close();
      controller.enqueue(content.slice(at, at + piece));
      at += piece;
    },
  });
}
