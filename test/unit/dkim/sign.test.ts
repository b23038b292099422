// DKIM signatures made by buildMessage / DkimSigner, checked by mailauth (an independent
// verifier) against the DNS TXT record a test resolver serves.
import { describe, expect, it } from "vitest";
import { buildMessage, type BuildOptions } from "../../../src/mime/build.ts";
import { composeMessage } from "../../../src/mime/compose.ts";
import { DkimSigner } from "../../../src/dkim/sign.ts";
import type { DkimOptions } from "../../../src/dkim/options.ts";
import { SmtpValidationError } from "../../../src/errors.ts";
import type { MailMessage } from "../../../src/message.ts";
import { signatureTags, testKey, verify, type TestKey } from "./support.ts";

const DATE = new Date(Date.UTC(2025, 2, 10, 12, 0, 0));
const KEYS: [string, TestKey][] = [
  ["rsa-sha256", testKey("rsa")],
  ["ed25519-sha256", testKey("ed25519")],
];

function dkim(key: TestKey, extra: Partial<DkimOptions> = {}): DkimOptions {
  return { domainName: "example.com", keySelector: "mail2025", privateKey: key.pem, ...extra };
}

const records = (key: TestKey, selector = "mail2025", domain = "example.com"): Record<string, string> => ({
  [`${selector}._domainkey.${domain}`]: key.txt,
});

async function signed(message: MailMessage, key: TestKey, options: BuildOptions = {}): Promise<string> {
  const built = await buildMessage({ from: "Ada <ada@example.com>", ...message }, { date: DATE, dkim: dkim(key), ...options });
  const bytes = await built.bytes();
  expect(bytes.length).toBe(built.size);
  return Buffer.from(bytes).toString("latin1");
}

const CASES: [string, MailMessage][] = [
  ["simple text", { to: "bob@example.org", subject: "Hello", text: "Hi Bob,\nsee you soon.\n" }],
  ["html and text", { to: "bob@example.org", subject: "Report", text: "plain", html: "<h1>Report</h1>\n<p>Fine</p>" }],
  [
    "attachments, inline and attached",
    {
      to: ["bob@example.org", "Carol <carol@example.net>"],
      cc: "dan@example.com",
      replyTo: "replies@example.com",
      subject: "Files",
      text: "see attached",
      html: '<img src="cid:logo@example.com">',
      attachments: [
        { filename: "report.pdf", content: new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff) },
        { filename: "logo.png", content: "iVBORw0KGgo=", cid: "logo@example.com" },
      ],
    },
  ],
  ["a non-ASCII subject and names", { to: "Zoë Ünïcødé <zoe@example.org>", subject: "Grüße aus Köln — 東京 ✓", text: "Grüße\n" }],
  [
    "long folded headers",
    {
      to: Array.from({ length: 12 }, (_, i) => `Recipient Number ${i} <recipient${i}@example.org>`),
      subject: "A very long subject line ".repeat(8).trim(),
      text: "x",
      headers: { "X-Long": "word ".repeat(60).trim(), "List-Unsubscribe": "<https://example.com/unsubscribe?id=" + "a".repeat(120) + ">" },
    },
  ],
  [
    "trailing blank lines and whitespace-only lines",
    { to: "bob@example.org", subject: "Spaces", text: "line one   \n\t \nline  three\t\n\n   \n\n\n" },
  ],
  ["an empty-looking body", { to: "bob@example.org", subject: "Empty", text: "\n\n" }],
];

describe.each(KEYS)("%s signatures verified by mailauth", (algorithm, key) => {
  it.each(CASES)("%s", async (_name, message) => {
    const raw = await signed(message, key);
    expect(raw.startsWith("DKIM-Signature: v=1; a=" + algorithm + "; c=relaxed/relaxed; d=example.com;")).toBe(true);
    const verdicts = await verify(raw, records(key));
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ result: "pass" });
    expect(verdicts[0]!.lookups).toEqual(["mail2025._domainkey.example.com"]);
  });

  it("fails when the body is tampered with", async () => {
    const raw = await signed(CASES[0]![1], key);
    const tampered = raw.replace("see you soon", "see you later");
    expect(tampered).not.toBe(raw);
    const [verdict] = await verify(tampered, records(key));
    expect(verdict!.result).not.toBe("pass");
    expect(verdict!.comment).toMatch(/body hash/);
  });

  it("fails when a signed header is tampered with, or the key in DNS is another one", async () => {
    const raw = await signed(CASES[0]![1], key);
    const [verdict] = await verify(raw.replace("Subject: Hello", "Subject: Hellp"), records(key));
    expect(verdict!.result).toBe("fail");
    const other = key.type === "rsa" ? testKey("rsa", 1024) : testKey("rsa");
    const [wrong] = await verify(raw, records(other));
    expect(wrong!.result).not.toBe("pass");
  });

  it("still passes when an unsigned header is added or whitespace is relaxed in transit", async () => {
    const raw = await signed(CASES[1]![1], key);
    const [added] = await verify("Received: from relay.example.net\r\n" + raw, records(key));
    expect(added!.result).toBe("pass");
    const relaxed = raw.replace("Subject: Report", "Subject:   Report  ");
    const [r] = await verify(relaxed, records(key));
    expect(r!.result).toBe("pass");
  });
});

describe("the DKIM-Signature field", () => {
  it("has d=, s=, t= from the date, the present default fields in h=, and a 44-character bh=", async () => {
    const raw = await signed({ to: "bob@example.org", cc: "c@example.org", subject: "Tags", text: "x" }, testKey("ed25519"));
    const tags = signatureTags(raw);
    expect(tags).toMatchObject({ v: "1", a: "ed25519-sha256", c: "relaxed/relaxed", d: "example.com", s: "mail2025", t: String(DATE.getTime() / 1000) });
    expect(tags.h!.split(":")).toEqual(["from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type"]);
    expect(tags.bh).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(tags.b!, "base64")).toHaveLength(64);
  });

  it("is folded into lines of at most 78 octets, and the size grows by exactly its length", async () => {
    const key = testKey("rsa");
    const message: MailMessage = { from: "ada@example.com", to: "bob@example.org", subject: "Size", text: "x" };
    const composed = composeMessage(message, { date: DATE });
    const signer = new DkimSigner(dkim(key));
    const result = await signer.sign(composed, DATE);
    const chunks = [...result.chunks()];
    const raw = Buffer.concat(chunks.map((c) => Buffer.from(c))).toString("latin1");
    const field = /^DKIM-Signature:(?:[^\r\n]|\r\n[ \t])*\r\n/.exec(raw)![0];
    expect(result.size).toBe(composed.size + field.length);
    expect(raw.length).toBe(result.size);
    expect(raw.slice(field.length)).toBe(Buffer.concat([...composed.chunks()].map((c) => Buffer.from(c))).toString("latin1"));
    for (const line of field.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
    const streamed: Buffer[] = [];
    for await (const chunk of result.stream!()) streamed.push(Buffer.from(chunk));
    expect(Buffer.concat(streamed).toString("latin1")).toBe(raw);
    expect((await verify(raw, records(key)))[0]!.result).toBe("pass");
  });

  it("signs every instance of a repeated field, bottom-up, with a custom list", async () => {
    const key = testKey("ed25519");
    const raw = await signed(
      { to: "bob@example.org", subject: "Tags", text: "x", headers: [["X-Tag", "one"], ["X-Tag", "two"], ["X-Other", "unsigned"]] },
      key,
      { dkim: dkim(key, { headerFields: ["From", "Subject", "X-Tag"] }) },
    );
    expect(signatureTags(raw).h).toBe("from:subject:x-tag:x-tag");
    expect((await verify(raw, records(key)))[0]!.result).toBe("pass");
    expect((await verify(raw.replace("X-Tag: two", "X-Tag: 2"), records(key)))[0]!.result).toBe("fail");
    expect((await verify(raw.replace("X-Other: unsigned", "X-Other: changed"), records(key)))[0]!.result).toBe("pass");
  });

  it("works with a CryptoKey and a long selector under a subdomain", async () => {
    const key = testKey("rsa");
    const cryptoKey = await crypto.subtle.importKey("pkcs8", key.privateKey.export({ type: "pkcs8", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    const raw = await signed({ to: "bob@example.org", subject: "CryptoKey", text: "x" }, key, {
      dkim: { domainName: "mail.example.com", keySelector: "2025-03.eu", privateKey: cryptoKey },
    });
    expect((await verify(raw, records(key, "2025-03.eu", "mail.example.com")))[0]!.result).toBe("pass");
  });

  it("signs raw 8-bit header bytes (RFC 6532 UTF-8 headers) as they are", async () => {
    const key = testKey("rsa");
    const raw = Buffer.from("From: Zoë <zoë@example.com>\r\nTo: bob@example.org\r\nSubject: Grüße  aus\t Köln \r\n\r\nBody \r\n", "utf8");
    const message = { messageId: "<1@example.com>", envelope: { from: "zoë@example.com", to: ["bob@example.org"] }, size: raw.length, eightBit: true, chunks: () => [new Uint8Array(raw)] };
    const result = await new DkimSigner(dkim(key)).sign(message, DATE);
    expect(result).toMatchObject({ eightBit: true, messageId: "<1@example.com>" });
    const out = Buffer.concat([...result.chunks()].map((c) => Buffer.from(c)));
    expect(out.length).toBe(result.size);
    expect((await verify(out, records(key)))[0]!.result).toBe("pass");
  });

  it("signs a 25 MB message, hashing the body as it streams", async () => {
    const key = testKey("ed25519");
    const content = new Uint8Array(25 * 1024 * 1024);
    for (let i = 0; i < content.length; i += 997) content[i] = i & 0xff;
    const built = await buildMessage(
      { from: "ada@example.com", to: "bob@example.org", subject: "Big", text: "x", attachments: [{ filename: "big.bin", content }] },
      { dkim: dkim(key) },
    );
    const raw = await built.bytes();
    expect(raw.length).toBe(built.size);
    expect((await verify(raw, records(key)))[0]!.result).toBe("pass");
  }, 60_000);

  it("refuses a ReadableStream attachment (the body would be read twice), naming it", async () => {
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.close() });
    await expect(
      buildMessage(
        { from: "ada@example.com", to: "bob@example.org", subject: "S", text: "x", attachments: [{ filename: "a.txt", content: stream, size: 0 }] },
        { dkim: dkim(testKey("rsa")) },
      ),
    ).rejects.toSatisfy((e: unknown) => e instanceof SmtpValidationError && e.field === "attachments[0].content" && /DKIM/.test(e.message));
    expect(stream.locked).toBe(false);
  });
});
