// DKIM end to end: a transport with the dkim option signs, a real smtp-server receives,
// and mailauth (an independent verifier) checks the captured bytes against the DNS TXT
// record the test serves.
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, SmtpValidationError, type MailMessage, type TransportOptions } from "../../entries/node.ts";
import type { DkimOptions } from "../../src/dkim/options.ts";
import { startTestServer, type TestServer } from "../helpers/smtp-server.ts";
import { signatureTags, testKey, verify, type TestKey } from "../unit/dkim/support.ts";

const USER = "user@example.com";
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  servers.push(s);
  return s;
}

// `dkim` is a transport option (CoreTransportOptions); the bound entries pass it through.
function options(s: TestServer, dkim: DkimOptions): TransportOptions {
  return {
    host: "localhost",
    port: s.port,
    encryption: "starttls",
    ca: s.caPem,
    auth: { username: USER, password: "secret" },
    dkim,
  } as TransportOptions;
}

const dkimFor = (key: TestKey): DkimOptions => ({ domainName: "example.com", keySelector: "relay", privateKey: key.pem });
const records = (key: TestKey): Record<string, string> => ({ "relay._domainkey.example.com": key.txt });

const MESSAGES: [string, MailMessage][] = [
  ["plain text", { to: "bob@example.org", subject: "Signed", text: "Hello Bob.\n.\n..leading dots survive dot-stuffing\n\n\n" }],
  [
    "html, text, inline image, attachment, custom headers and a non-ASCII subject",
    {
      to: ["bob@example.org", "Zoë <zoe@example.net>"],
      cc: "carol@example.com",
      subject: "Grüße — signed report",
      text: "See the report.",
      html: '<p>Report <img src="cid:chart@example.com"></p>',
      headers: { "List-Unsubscribe": "<mailto:unsub@example.com>", "X-Campaign": "März" },
      attachments: [
        { filename: "chart.png", content: new Uint8Array(5000).map((_, i) => i & 0xff), cid: "chart@example.com" },
        { filename: "report.pdf", content: new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff) },
      ],
    },
  ],
];

describe.each([
  ["RSA", testKey("rsa")],
  ["Ed25519", testKey("ed25519")],
] as [string, TestKey][])("messages signed with %s and sent through smtp-server", (_name, key) => {
  it.each(MESSAGES)("%s: the captured bytes verify", async (_what, message) => {
    const s = await server();
    const smtp = createTransport(options(s, dkimFor(key)));
    try {
      const receipt = await smtp.send(message);
      const [captured] = await s.waitForMessages(1);
      const raw = captured!.raw.toString("latin1");
      expect(raw.startsWith("DKIM-Signature: v=1; a=")).toBe(true);
      expect(signatureTags(raw)).toMatchObject({ d: "example.com", s: "relay", c: "relaxed/relaxed" });
      expect(captured!.parsed.messageId).toBe(receipt.messageId);
      const [verdict] = await verify(captured!.raw, records(key));
      expect(verdict).toMatchObject({ result: "pass" });
      const [tampered] = await verify(raw.replace("Hello Bob", "Hello Eve").replace("See the report", "See the rep0rt"), records(key));
      expect(tampered!.result).not.toBe("pass");
    } finally {
      await smtp.close();
    }
  });
});

describe("the dkim transport option", () => {
  it("signs every message of a transport, each with its own body hash", async () => {
    const s = await server();
    const key = testKey("ed25519");
    const smtp = createTransport(options(s, dkimFor(key)));
    try {
      await smtp.send({ to: "a@example.org", subject: "one", text: "first" });
      await smtp.send({ to: "b@example.org", subject: "two", text: "second" });
      const captured = await s.waitForMessages(2);
      const verdicts = await Promise.all(captured.map((c) => verify(c.raw, records(key))));
      expect(verdicts.map((v) => v[0]!.result)).toEqual(["pass", "pass"]);
      const [a, b] = captured.map((c) => signatureTags(c.raw.toString("latin1")).bh);
      expect(a).not.toBe(b);
    } finally {
      await smtp.close();
    }
  });

  it("keeps the key out of an inspected transport", async () => {
    const key = testKey("rsa");
    const smtp = createTransport({ host: "localhost", dkim: dkimFor(key) } as TransportOptions);
    const body = key.pem.split("\n")[5]!;
    expect(inspect(smtp, { showHidden: true, depth: 10 })).not.toContain(body);
    expect(JSON.stringify(smtp)).not.toContain(body);
    await smtp.close();
  });

  it("is validated when the transport is created, naming the field", () => {
    const bad = { host: "localhost", dkim: { domainName: "example.com", keySelector: "s", privateKey: "not a key" } } as TransportOptions;
    expect(() => createTransport(bad)).toThrow(SmtpValidationError);
    try {
      createTransport(bad);
    } catch (error) {
      expect((error as SmtpValidationError).field).toBe("dkim.privateKey");
    }
  });

  it("refuses a stream attachment before connecting", async () => {
    const s = await server();
    const smtp = createTransport(options(s, dkimFor(testKey("rsa"))));
    try {
      const content = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      await expect(
        smtp.send({ to: "a@example.org", subject: "s", text: "x", attachments: [{ filename: "a", content, size: 0 }] }),
      ).rejects.toMatchObject({ field: "attachments[0].content", code: "EATTACHMENT" });
      expect(s.sessions).toBe(0);
    } finally {
      await smtp.close();
    }
  });
});
