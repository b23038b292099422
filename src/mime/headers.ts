/**
 * Header lines: folding (RFC 5322 §2.2.3), the Date format (§3.3), address lists (§3.4)
 * and parameterised values such as Content-Type (RFC 2045 §5.1). Every value arrives here
 * as tokens that are already ASCII and free of CR/LF; folding only ever happens at the
 * single space between two tokens, so unfolding gives back exactly the joined tokens.
 *
 * @module
 */

import type { Mailbox } from "./address.ts";
import { phraseTokens } from "./encoded-word.ts";

/** Preferred longest header line; 76 also satisfies RFC 2047 §2 for lines with encoded words. */
export const FOLD_LENGTH = 76;
/** Hard limit on any line, CRLF excluded (RFC 5322 §2.1.1). */
export const MAX_LINE = 998;

/**
 * Builds one header field, `Name: token token…` plus CRLF, folding before a token whenever
 * it would push the line past {@link FOLD_LENGTH}. The first token always stays on the
 * first line; token producers size it to fit.
 *
 * @throws {Error} if a line would still exceed {@link MAX_LINE} (a bug in a token producer)
 */
export function foldHeader(name: string, tokens: readonly string[]): string {
  let out = name + ":";
  let lineLength = out.length;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (i === 0 || lineLength + 1 + token.length <= FOLD_LENGTH) {
      out += " " + token;
      lineLength += 1 + token.length;
    } else {
      out += "\r\n " + token;
      lineLength = 1 + token.length;
    }
    if (lineLength > MAX_LINE) throw new Error(`internal: ${name} header line exceeds ${MAX_LINE} octets`);
  }
  return out + "\r\n";
}

/** Room left on a header's first line after `Name: `. */
export function firstLineRoom(name: string): number {
  return FOLD_LENGTH - name.length - 2;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// The last date formatted, by its whole second: messages composed in the same second share it.
let lastSecond = NaN;
let lastFormatted = "";

/** RFC 5322 §3.3 date-time in UTC, for example `Tue, 25 Nov 2025 16:26:00 +0000`. */
export function formatDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second === lastSecond) return lastFormatted;
  const two = (n: number): string => String(n).padStart(2, "0");
  lastFormatted =
    `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCFullYear()).padStart(4, "0")} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
  lastSecond = second;
  return lastFormatted;
}

// Display-name tokens must fit a continuation line and also the first line of the longest
// address header we write ("Reply-To: ").
const NAME_TOKEN_MAX = FOLD_LENGTH - "Reply-To: ".length;

/**
 * Tokens of an address list: for each mailbox its display-name tokens then `<address>`, or
 * the bare address when it has no name; a comma ends every mailbox but the last.
 */
export function addressListTokens(mailboxes: readonly Mailbox[]): string[] {
  const tokens: string[] = [];
  mailboxes.forEach((mailbox, i) => {
    const comma = i < mailboxes.length - 1 ? "," : "";
    if (mailbox.name === undefined) {
      tokens.push(mailbox.address + comma);
    } else {
      tokens.push(...phraseTokens(mailbox.name, NAME_TOKEN_MAX), `<${mailbox.address}>${comma}`);
    }
  });
  return tokens;
}

/**
 * Tokens of a parameterised value: `value;` then each parameter, `;` after every one but
 * the last. A parameter is given as its tokens (usually one, such as `charset=utf-8`; a
 * long `name="…"` of encoded words may be several, folded between the words).
 */
export function parameterTokens(value: string, params: readonly (readonly string[])[]): string[] {
  const tokens = [value];
  for (const param of params) {
    tokens[tokens.length - 1] += ";";
    tokens.push(...param);
  }
  return tokens;
}
