// Shared DKIM test helpers (not a test file itself): key pairs, DNS TXT records for them,
// and verification by mailauth, an independent DKIM implementation.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// mailauth is CommonJS; this entry verifies DKIM signatures only.
const { dkimVerify } = require("mailauth/lib/dkim/verify") as {
  dkimVerify(input: Buffer, options: { resolver: (name: string, type: string) => Promise<string[][]> }): Promise<{
    results: { signingDomain?: string; selector?: string; status: { result: string; comment?: string | false }; algo?: string }[];
  }>;
};

/** A generated key pair with what a test needs of it. */
export interface TestKey {
  /** "rsa" or "ed25519". */
  type: "rsa" | "ed25519";
  /** PKCS#8 PEM of the private key. */
  pem: string;
  /** The Node key object (for making CryptoKeys). */
  privateKey: KeyObject;
  /** The DNS TXT record that publishes the public key (RFC 6376 §3.6.1, RFC 8463 §4.2). */
  txt: string;
}

const cache = new Map<string, TestKey>();

/** A key pair of `type` (RSA 2048 bits by default), generated once per test file. */
export function testKey(type: "rsa" | "ed25519", bits = 2048): TestKey {
  const id = `${type}:${bits}`;
  const cached = cache.get(id);
  if (cached) return cached;
  const { privateKey, publicKey } =
    type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: bits }) : generateKeyPairSync("ed25519");
  const spki = publicKey.export({ type: "spki", format: "der" });
  // Ed25519 keys are published as the raw 32-byte key (RFC 8463 §4.2), the end of the SPKI.
  const p = type === "rsa" ? spki.toString("base64") : spki.subarray(spki.length - 32).toString("base64");
  const key: TestKey = {
    type,
    pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    privateKey,
    txt: `v=DKIM1; k=${type}; p=${p}`,
  };
  cache.set(id, key);
  return key;
}

/** The outcome mailauth reports for each signature of `raw`. */
export interface Verdict {
  /** "pass", "fail", "neutral", … */
  result: string;
  /** Why, when not a pass. */
  comment?: string | false;
  /** Names mailauth's DNS lookups asked for. */
  lookups: string[];
}

/**
 * Verifies `raw` with mailauth, answering DNS TXT queries from `records` (name → TXT).
 * Returns one verdict per DKIM-Signature.
 */
export async function verify(raw: Uint8Array | string, records: Record<string, string>): Promise<Verdict[]> {
  const lookups: string[] = [];
  const resolver = async (name: string, type: string): Promise<string[][]> => {
    lookups.push(name);
    const txt = type === "TXT" ? records[name] : undefined;
    if (txt === undefined) throw Object.assign(new Error(`no ${type} record for ${name}`), { code: "ENOTFOUND" });
    return [[txt]];
  };
  const input = typeof raw === "string" ? Buffer.from(raw, "latin1") : Buffer.from(raw);
  const { results } = await dkimVerify(input, { resolver });
  return results.map((r) => ({ result: r.status.result, comment: r.status.comment, lookups }));
}

/** The DKIM-Signature field of a raw message, unfolded, as tag → value. */
export function signatureTags(raw: string): Record<string, string> {
  const match = /^DKIM-Signature:((?:[^\r\n]|\r\n[ \t])*)\r\n/m.exec(raw);
  if (!match) throw new Error("no DKIM-Signature field");
  const tags: Record<string, string> = {};
  for (const part of match[1]!.replace(/\r\n/g, "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) tags[part.slice(0, eq).trim()] = part.slice(eq + 1).replace(/[ \t]/g, "");
  }
  return tags;
}
