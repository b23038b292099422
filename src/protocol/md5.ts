/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), written out because WebCrypto has no MD5 and
 * the core may use Web APIs only. They exist for CRAM-MD5 (RFC 2195) and nothing else:
 * MD5 has no collision resistance left, so never use them to protect anything new.
 *
 * @module
 */

// T[i] = floor(2^32 * |sin(i + 1)|) for i = 0..63 (RFC 1321 §3.4), written out so that the
// result never depends on a runtime's Math.sin.
const T = new Uint32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

// Left-rotation amounts: four per round, used in turn by the round's sixteen steps.
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/** The 16-byte MD5 digest of `bytes`. */
export function md5(bytes: Uint8Array): Uint8Array {
  // Padding (§3.1, §3.2): a 1 bit, zeros up to 56 mod 64 bytes, then the bit length as a
  // 64-bit little-endian number.
  const blocks = Math.floor((bytes.length + 8) / 64) + 1;
  const padded = new Uint8Array(blocks * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (bytes.length * 8) % 0x1_0000_0000, true);
  view.setUint32(padded.length - 4, Math.floor(bytes.length / 0x2000_0000), true);

  // Initial state A, B, C, D (§3.3).
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  const x = new Uint32Array(16);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(offset + i * 4, true);
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    // The four rounds of §3.4: each step updates one register and the roles rotate, so
    // that after the step the registers are renamed (a, b, c, d) <- (d, new, b, c).
    for (let i = 0; i < 64; i++) {
      const round = i >> 4;
      let f: number;
      let k: number;
      if (round === 0) {
        f = (b & c) | (~b & d);
        k = i;
      } else if (round === 1) {
        f = (b & d) | (c & ~d);
        k = (5 * i + 1) & 15;
      } else if (round === 2) {
        f = b ^ c ^ d;
        k = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        k = (7 * i) & 15;
      }
      const sum = (a + f + (T[i] as number) + (x[k] as number)) | 0;
      const s = SHIFTS[round * 4 + (i & 3)] as number;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
  }
  // The digest is A, B, C, D, each low-order byte first (§3.5).
  const digest = new Uint8Array(16);
  const out = new DataView(digest.buffer);
  out.setInt32(0, h0, true);
  out.setInt32(4, h1, true);
  out.setInt32(8, h2, true);
  out.setInt32(12, h3, true);
  return digest;
}

/** MD5's block size in bytes: HMAC pads the key to it (RFC 2104 §2, "B"). */
const BLOCK = 64;

/** HMAC-MD5 (RFC 2104) of `message` under `key`: 16 bytes. */
export function hmacMd5(key: Uint8Array, message: Uint8Array): Uint8Array {
  // A key longer than a block is hashed first; a shorter one is padded with zeros.
  const block = new Uint8Array(BLOCK);
  block.set(key.length > BLOCK ? md5(key) : key);
  const inner = new Uint8Array(BLOCK + message.length);
  const outer = new Uint8Array(BLOCK + 16);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (block[i] as number) ^ 0x36;
    outer[i] = (block[i] as number) ^ 0x5c;
  }
  inner.set(message, BLOCK);
  outer.set(md5(inner), BLOCK);
  return md5(outer);
}

/** Lower-case hexadecimal of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}
