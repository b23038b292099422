/**
 * The server's EHLO capabilities (RFC 5321 §4.1.1.1): keyword → parameters.
 *
 * @module
 */

import type { SmtpReply } from "./reply.ts";

/** Parsed EHLO response. */
export class Capabilities {
  /** The server's name from the first EHLO line. */
  readonly serverName: string;
  readonly #map: Map<string, string[]>;

  /** @param serverName greeting name; @param map upper-case keyword → parameters */
  constructor(serverName: string, map: Map<string, string[]>) {
    this.serverName = serverName;
    this.#map = map;
  }

  /** Parses an EHLO reply (or a HELO reply, which has no extensions). */
  static fromReply(reply: SmtpReply): Capabilities {
    const [first = "", ...rest] = reply.lines;
    const map = new Map<string, string[]>();
    for (const line of rest) {
      const words = line.trim().split(/\s+/).filter(Boolean);
      const keyword = words.shift()?.toUpperCase();
      if (!keyword) continue;
      // Some servers advertise "AUTH=LOGIN PLAIN" (a pre-standard form): merge it into AUTH.
      if (keyword.startsWith("AUTH=")) {
        words.unshift(keyword.slice(5));
        map.set("AUTH", [...(map.get("AUTH") ?? []), ...words.map((w) => w.toUpperCase())]);
        continue;
      }
      const params = keyword === "AUTH" ? words.map((w) => w.toUpperCase()) : words;
      map.set(keyword, keyword === "AUTH" ? [...(map.get("AUTH") ?? []), ...params] : params);
    }
    return new Capabilities(first.trim().split(/\s+/)[0] ?? "", map);
  }

  /** True when the keyword was advertised. */
  has(keyword: string): boolean {
    return this.#map.has(keyword.toUpperCase());
  }

  /** The keyword's parameters, or undefined when not advertised. */
  params(keyword: string): readonly string[] | undefined {
    return this.#map.get(keyword.toUpperCase());
  }

  /** Advertised SASL mechanisms, upper case. */
  get authMechanisms(): readonly string[] {
    return [...new Set(this.#map.get("AUTH") ?? [])];
  }

  /** The SIZE limit in octets; 0 when SIZE is advertised without a limit; undefined when not advertised (RFC 1870). */
  get sizeLimit(): number | undefined {
    const params = this.#map.get("SIZE");
    if (!params) return undefined;
    const value = Number(params[0] ?? 0);
    return Number.isSafeInteger(value) && value > 0 ? value : 0;
  }

  /** Every advertised keyword with its parameters, for reports. */
  toJSON(): Record<string, string[]> {
    return Object.fromEntries(this.#map);
  }
}
