// The dkim option: every bad input names its field, and no error, JSON or inspection
// ever shows the private key.
import { generateKeyPairSync } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { SmtpValidationError } from "../../../src/errors.ts";
import { DkimSigner } from "../../../src/dkim/sign.ts";
import { DEFAULT_DKIM_HEADER_FIELDS, type DkimOptions } from "../../../src/dkim/options.ts";
import { Secret } from "../../../src/secret.ts";
import { testKey } from "./support.ts";

const rsa = testKey("rsa");
const ed = testKey("ed25519");
const base = (extra: Partial<DkimOptions> = {}): DkimOptions => ({
  domainName: "example.com",
  keySelector: "sel",
  privateKey: rsa.pem,
  ...extra,
});

function refusal(options: unknown): SmtpValidationError {
  try {
    new DkimSigner(options as DkimOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpValidationError);
    return error as SmtpValidationError;
  }
  throw new Error("expected a SmtpValidationError");
}

const keyBody = (pem: string): string => pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");

describe("dkim options", () => {
  it("accepts RSA and Ed25519 PEM keys and takes the algorithm from the key", () => {
    expect(new DkimSigner(base()).algorithm).toBe("rsa-sha256");
    expect(new DkimSigner(base({ privateKey: ed.pem })).algorithm).toBe("ed25519-sha256");
    expect(new DkimSigner(base({ privateKey: new Secret(ed.pem), algorithm: "ed25519-sha256" })).algorithm).toBe("ed25519-sha256");
  });

  it("accepts CryptoKeys of both kinds", async () => {
    const r = await crypto.subtle.importKey("pkcs8", rsa.privateKey.export({ type: "pkcs8", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    const e = await crypto.subtle.importKey("pkcs8", ed.privateKey.export({ type: "pkcs8", format: "der" }), { name: "Ed25519" }, false, ["sign"]);
    expect(new DkimSigner(base({ privateKey: r })).algorithm).toBe("rsa-sha256");
    expect(new DkimSigner(base({ privateKey: e })).algorithm).toBe("ed25519-sha256");
  });

  it("uses the documented default header list, lower-cased and de-duplicated when given", () => {
    expect(new DkimSigner(base()).headerFields).toEqual([...DEFAULT_DKIM_HEADER_FIELDS]);
    expect(new DkimSigner(base({ headerFields: ["From", "Subject", "from", "List-Unsubscribe"] })).headerFields).toEqual([
      "from", "subject", "list-unsubscribe",
    ]);
    expect(new DkimSigner(base({ domainName: "Mail.Example.COM" })).domainName).toBe("mail.example.com");
  });

  it.each([
    ["not an object", "x", "dkim"],
    ["no domain", { keySelector: "s", privateKey: rsa.pem }, "dkim.domainName"],
    ["a single-label domain", base({ domainName: "localhost" }), "dkim.domainName"],
    ["a domain with a semicolon", base({ domainName: "example.com; x=y" }), "dkim.domainName"],
    ["a non-ASCII domain", base({ domainName: "exämple.com" }), "dkim.domainName"],
    ["no selector", { domainName: "example.com", privateKey: rsa.pem }, "dkim.keySelector"],
    ["a selector with a space", base({ keySelector: "a b" }), "dkim.keySelector"],
    ["a selector with an equals sign", base({ keySelector: "s=1" }), "dkim.keySelector"],
    ["no key", { domainName: "example.com", keySelector: "s" }, "dkim.privateKey"],
    ["a number as key", base({ privateKey: 42 as unknown as string }), "dkim.privateKey"],
    ["a string that is no PEM", base({ privateKey: "hunter2" }), "dkim.privateKey"],
    ["an unknown algorithm", base({ algorithm: "rsa-sha1" as "rsa-sha256" }), "dkim.algorithm"],
    ["an algorithm that does not match the key", base({ algorithm: "ed25519-sha256" }), "dkim.algorithm"],
    ["an empty header list", base({ headerFields: [] }), "dkim.headerFields"],
    ["a header list without from", base({ headerFields: ["subject"] }), "dkim.headerFields"],
    ["a header name with a colon", base({ headerFields: ["from", "x:y"] }), "dkim.headerFields[1]"],
    ["dkim-signature in the list", base({ headerFields: ["from", "DKIM-Signature"] }), "dkim.headerFields[1]"],
  ])("refuses %s, naming %s", (_name, options, field) => {
    expect(refusal(options).field).toBe(field);
  });

  it("explains how to convert a PKCS#1 or encrypted key, without quoting it", () => {
    const pkcs1 = rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    const error = refusal(base({ privateKey: pkcs1 }));
    expect(error.message).toMatch(/RSA PRIVATE KEY.*openssl pkcs8 -topk8/);
    expect(error.message).not.toContain(keyBody(pkcs1).slice(0, 20));
    const encrypted = rsa.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }) as string;
    expect(refusal(base({ privateKey: encrypted })).message).toMatch(/encrypted/);
  });

  it("refuses a PEM for another algorithm, and a corrupt PEM", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ec = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    expect(refusal(base({ privateKey: ec })).message).toMatch(/RSA or Ed25519/);
    const corrupt = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    expect(refusal(base({ privateKey: corrupt })).message).toMatch(/well-formed/);
  });

  it("refuses RSA keys under 1024 bits (RFC 8301)", async () => {
    const small = testKey("rsa", 512);
    const key = await crypto.subtle.importKey("pkcs8", small.privateKey.export({ type: "pkcs8", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    expect(refusal(base({ privateKey: key })).message).toMatch(/512-bit.*1024/);
    // A PEM is only imported on first use; the size is checked then.
    const signer = new DkimSigner(base({ privateKey: small.pem }));
    const message = { messageId: "<a@b>", envelope: { from: "a@b.c", to: ["d@e.f"] }, size: 9, chunks: () => [new TextEncoder().encode("A: b\r\n\r\nx")] };
    await expect(signer.sign(message)).rejects.toMatchObject({ field: "dkim.privateKey", message: expect.stringMatching(/1024/) });
  });

  it("refuses public keys, keys without the sign usage, and other algorithms", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    expect(refusal(base({ privateKey: pair.publicKey })).message).toMatch(/private/);
    const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    expect(refusal(base({ privateKey: hmac as CryptoKey })).message).toMatch(/private key/);
    const sha1 = await crypto.subtle.importKey("pkcs8", rsa.privateKey.export({ type: "pkcs8", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" }, false, ["sign"]);
    expect(refusal(base({ privateKey: sha1 })).message).toMatch(/SHA-256/);
  });

  it("never shows the key: not in errors, JSON or util.inspect", () => {
    const body = keyBody(rsa.pem);
    const signer = new DkimSigner(base());
    for (const shown of [inspect(signer, { showHidden: true, depth: 5 }), JSON.stringify(signer), String(signer)]) {
      expect(shown).not.toContain(body.slice(0, 40));
      expect(shown).not.toContain("PRIVATE KEY");
    }
    expect(JSON.parse(JSON.stringify(signer))).toEqual({ domainName: "example.com", keySelector: "sel", algorithm: "rsa-sha256" });
    const broken = rsa.pem.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!");
    const error = refusal(base({ privateKey: broken }));
    expect(`${error.message} ${JSON.stringify(error)} ${inspect(error)}`).not.toContain(body.slice(80, 120));
  });
});
