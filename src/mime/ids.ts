/**
 * Random identifiers from the platform CSPRNG (`crypto.getRandomValues`): Message-IDs and
 * multipart boundaries.
 *
 * @module
 */

/** Used when the sender's domain cannot name the message (an address literal). */
export const FALLBACK_DOMAIN = "localhost.localdomain";

// Random octets are drawn from the CSPRNG a few KiB at a time and each is used once: one
// getRandomValues call per message and boundary costs more than the rest of the ID.
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let poolAt = 0;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  if (bytes > POOL_SIZE) {
    const buf = crypto.getRandomValues(new Uint8Array(bytes));
    let s = "";
    for (let i = 0; i < buf.length; i++) s += HEX[buf[i]!];
    return s;
  }
  if (poolAt + bytes > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE));
    poolAt = 0;
  }
  let s = "";
  for (let i = poolAt; i < poolAt + bytes; i++) s += HEX[pool[i]!];
  // Used octets are wiped, so nothing already handed out stays readable in the pool.
  pool.fill(0, poolAt, poolAt + bytes);
  poolAt += bytes;
  return s;
}

/**
 * A new Message-ID (RFC 5322 §3.6.4), `<random@domain>` with 160 random bits, the domain
 * being the sender address's domain in lower case.
 *
 * @param senderAddress the From address (already validated)
 */
export function createMessageId(senderAddress: string): string {
  const domain = senderAddress.slice(senderAddress.lastIndexOf("@") + 1).toLowerCase();
  const right = domain === "" || domain.startsWith("[") ? FALLBACK_DOMAIN : domain;
  return `<${randomHex(20)}@${right}>`;
}

/**
 * A new multipart boundary (RFC 2046 §5.1.1) with 128 random bits. It starts with `=_`:
 * that pair can never occur in base64, and in quoted-printable `=` is always followed by
 * two hex digits or a line break, so no encoded part can contain the delimiter. (7bit text
 * could only by guessing the random part.) It needs quoting in the header because of `=`.
 */
export function createBoundary(): string {
  return `=_nina_${randomHex(16)}`;
}
