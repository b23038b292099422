/**
 * Punycode (RFC 3492): the Bootstring encoding with the parameters IDNA uses, turning a
 * string of Unicode code points into letters, digits and hyphens and back. Written from the
 * algorithm in RFC 3492 §6 with its overflow checks; mixed-case annotation (Appendix A) is
 * not produced, and it is ignored when decoding.
 *
 * @module
 */

// RFC 3492 §5: the parameter values for Punycode.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
/** Largest value the integer variables may hold (RFC 3492 §6.4 asks for overflow detection). */
const MAX_INT = 0x7fffffff;

/** Why a Punycode string could not be encoded or decoded. */
export class PunycodeError extends Error {
  /** @param message what is wrong, sentence case without a final period */
  constructor(message: string) {
    super(message);
    this.name = "PunycodeError";
  }
}

// §3.4 bias adaptation after each delta.
function adapt(delta: number, points: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : Math.floor(delta / 2);
  d += Math.floor(d / points);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

// The threshold t for the digit at position k (§3.3, clamped to [tmin, tmax]).
function threshold(k: number, bias: number): number {
  if (k <= bias) return T_MIN;
  if (k >= bias + T_MAX) return T_MAX;
  return k - bias;
}

// Digit values 0..25 are a..z, 26..35 are 0..9 (§5); always written in lower case.
function digitChar(d: number): string {
  return String.fromCharCode(d < 26 ? 0x61 + d : 0x30 + d - 26);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 26;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  return BASE;
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new PunycodeError("Input has a lone surrogate");
    out.push(cp);
  }
  return out;
}

/**
 * Encodes a string (one DNS label, without the `xn--` prefix) as Punycode. Basic code
 * points (ASCII) are copied as they are, case included; the rest become deltas written in
 * lower case.
 *
 * @example encodePunycode("bücher") === "bcher-kva"
 * @throws {PunycodeError} on a lone surrogate or an arithmetic overflow
 */
export function encodePunycode(input: string): string {
  const points = codePoints(input);
  let output = "";
  for (const cp of points) if (cp < 0x80) output += String.fromCharCode(cp);
  const basic = output.length;
  let handled = basic;
  if (basic > 0) output += "-";
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < points.length) {
    let m = MAX_INT;
    for (const cp of points) if (cp >= n && cp < m) m = cp;
    if (m - n > Math.floor((MAX_INT - delta) / (handled + 1))) throw new PunycodeError("Overflow while encoding");
    delta += (m - n) * (handled + 1);
    n = m;
    for (const cp of points) {
      if (cp < n && ++delta > MAX_INT) throw new PunycodeError("Overflow while encoding");
      if (cp !== n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = threshold(k, bias);
        if (q < t) break;
        output += digitChar(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      output += digitChar(q);
      bias = adapt(delta, handled + 1, handled === basic);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return output;
}

/**
 * Decodes Punycode (one label, without the `xn--` prefix) back to Unicode. Digits are read
 * in either case. Fails rather than guessing on anything RFC 3492 §6.2 calls invalid: a
 * non-ASCII character, a bad digit, a truncated number, an overflow, or a result that would
 * be a basic code point or not a Unicode scalar value.
 *
 * @example decodePunycode("bcher-kva") === "bücher"
 * @throws {PunycodeError} naming what is wrong
 */
export function decodePunycode(input: string): string {
  const output: number[] = [];
  const last = input.lastIndexOf("-");
  const basic = last < 0 ? 0 : last;
  for (let j = 0; j < basic; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) throw new PunycodeError("Input has a non-ASCII character");
    output.push(c);
  }
  let n = INITIAL_N;
  let i = 0;
  let bias = INITIAL_BIAS;
  for (let at = basic > 0 ? basic + 1 : 0; at < input.length; ) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (at >= input.length) throw new PunycodeError("Input ends in the middle of a number");
      const digit = digitValue(input.charCodeAt(at++));
      if (digit >= BASE) throw new PunycodeError(`Input has an invalid character "${input[at - 1]}"`);
      if (digit > Math.floor((MAX_INT - i) / w)) throw new PunycodeError("Overflow while decoding");
      i += digit * w;
      const t = threshold(k, bias);
      if (digit < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) throw new PunycodeError("Overflow while decoding");
      w *= BASE - t;
    }
    const length = output.length + 1;
    bias = adapt(i - oldI, length, oldI === 0);
    if (Math.floor(i / length) > MAX_INT - n) throw new PunycodeError("Overflow while decoding");
    n += Math.floor(i / length);
    i %= length;
    if (n < 0x80) throw new PunycodeError("Input encodes a basic code point");
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) throw new PunycodeError("Input encodes an invalid code point");
    output.splice(i, 0, n);
    i++;
  }
  let text = "";
  for (const cp of output) text += String.fromCodePoint(cp);
  return text;
}
