/**
 * SHA-256 (FIPS 180-4 §6.2) that can be fed piece by piece. WebCrypto's `digest` needs the
 * whole input at once; the DKIM body hash is taken over a message that may be tens of
 * megabytes and is produced lazily, so it is hashed here as it streams past, in constant
 * memory.
 *
 * @module
 */

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
// Held as signed 32-bit integers so that the arithmetic stays in small-integer form.
const K: Int32Array = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// FIPS 180-4 §5.3.3: the initial hash value.
const H0: readonly number[] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Incremental SHA-256: call {@link Sha256.update} any number of times, then {@link Sha256.digest} once. */
export class Sha256 {
  readonly #h = new Int32Array(H0);
  readonly #w = new Int32Array(64);
  readonly #block = new Uint8Array(64);
  #blockUsed = 0;
  // Total input length in bytes; a double holds every length up to 2^53 exactly.
  #length = 0;
  #done = false;

  /** Adds `data` to the hashed input. The array is only read, never kept. */
  update(data: Uint8Array): this {
    if (this.#done) throw new Error("Sha256: update after digest");
    this.#length += data.length;
    let i = 0;
    if (this.#blockUsed > 0) {
      const take = Math.min(64 - this.#blockUsed, data.length);
      this.#block.set(data.subarray(0, take), this.#blockUsed);
      this.#blockUsed += take;
      i = take;
      if (this.#blockUsed < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockUsed = 0;
    }
    const whole = i + Math.floor((data.length - i) / 64) * 64;
    this.#compress(data, i, whole);
    i = whole;
    if (i < data.length) {
      this.#block.set(data.subarray(i), 0);
      this.#blockUsed = data.length - i;
    }
    return this;
  }

  /** Pads the input (FIPS 180-4 §5.1.1) and returns the 32-byte hash; the object is then spent. */
  digest(): Uint8Array {
    if (this.#done) throw new Error("Sha256: digest called twice");
    this.#done = true;
    const bits = this.#length * 8;
    const block = this.#block;
    block[this.#blockUsed++] = 0x80;
    if (this.#blockUsed > 56) {
      block.fill(0, this.#blockUsed);
      this.#compress(block, 0);
      this.#blockUsed = 0;
    }
    block.fill(0, this.#blockUsed, 56);
    const view = new DataView(block.buffer, block.byteOffset, 64);
    view.setUint32(56, Math.floor(bits / 0x100000000));
    view.setUint32(60, bits >>> 0);
    this.#compress(block, 0);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let j = 0; j < 8; j++) outView.setInt32(j * 4, this.#h[j]!);
    return out;
  }

  // FIPS 180-4 §6.2.2 for every whole 64-byte block in data[offset, end); the state lives
  // in locals across blocks.
  #compress(data: Uint8Array, offset: number, end: number = offset + 64): void {
    const w = this.#w;
    const h = this.#h;
    let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!;
    for (; offset + 64 <= end; offset += 64) {
      for (let t = 0; t < 16; t++) {
        const o = offset + t * 4;
        w[t] = (data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
      }
      for (let t = 16; t < 64; t++) {
        const x = w[t - 15]!;
        const y = w[t - 2]!;
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
      }
      let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
      for (let t = 0; t < 64; t++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const ch = (e & f) ^ (~e & g);
        const t1 = (hh + S1 + ch + K[t]! + w[t]!) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const maj = (a & b) ^ (a & c) ^ (b & c);
        const t2 = (S0 + maj) | 0;
        hh = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0;
      h1 = (h1 + b) | 0;
      h2 = (h2 + c) | 0;
      h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0;
      h5 = (h5 + f) | 0;
      h6 = (h6 + g) | 0;
      h7 = (h7 + hh) | 0;
    }
    h[0] = h0;
    h[1] = h1;
    h[2] = h2;
    h[3] = h3;
    h[4] = h4;
    h[5] = h5;
    h[6] = h6;
    h[7] = h7;
  }
}

/** SHA-256 of `data` in one call. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Sha256().update(data).digest();
}
