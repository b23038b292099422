// The NINA send operation against a real Postfix, on every port × encryption × auth method
// that must work. Each message is read back from the Maildir (one copy per recipient) and
// checked with mailparser: headers, bodies, attachments byte for byte, Bcc handling.
import { randomBytes } from "node:crypto";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { describe, it } from "vitest";
import { createTransport, SmtpMessageError, type MailMessage, type SendReceipt } from "../../entries/node.ts";
import { composeMessage } from "../../src/mime/compose.ts";
import { executeSmtpNode } from "../../entries/node.ts";
import { credential, interopEnv, modes, readCopy, removeCopies, transcript, uniqueTag, waitForCopies, type AuthMethod } from "./helpers.ts";

const env = interopEnv();

// Attachments shared by every send (the 5 MB one is generated once).
const CSV_BASE64 = "aWQsdGltZXN0YW1wLGV2ZW50LHNldmVyaXR5CjEsMjAyNS0wMy0wMVQxMDowMDowMFosImxvZ2luX2ZhaWx1cmUiLCJoaWdoIg==";
const ALL_BYTES = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
const PDFISH = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(3000)]);
const BIG = randomBytes(5 * 1024 * 1024);
const BIG_BASE64 = BIG.toString("base64");

const ATTACHMENTS = [
  { filename: "audit-report-march-2025.csv", bytes: Buffer.from(CSV_BASE64, "base64"), type: "text/csv" },
  { filename: "all bytes 0-255.bin", bytes: ALL_BYTES, type: "application/octet-stream" },
  { filename: "Résumé – Ünïcode 日本.pdf", bytes: PDFISH, type: "application/pdf" },
  { filename: "big-5MiB.bin", bytes: BIG, type: "application/octet-stream" },
];

const BODY = [
  "Hello from the @nina/smtp interop suite.",
  ".this line starts with a dot",
  ".",
  "..two dots, then a lone dot above",
  "Non-ASCII: Grüße aus Köln – 日本語 – 📬",
  `A long line: ${"0123456789".repeat(120)}`,
  "From the start of a line (mbox would quote this)",
  "last line",
].join("\n") + "\n";

function addresses(field: AddressObject | AddressObject[] | undefined): { address: string; name: string }[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((group) => group.value.map((v) => ({ address: (v.address ?? "").toLowerCase(), name: v.name })));
}

function headerLine(parsed: ParsedMail, key: string): string[] {
  return parsed.headerLines.filter((h) => h.key === key).map((h) => h.line);
}

describe.concurrent("send through every port, encryption and auth method (executeSmtpNode)", () => {
  const cases = modes().flatMap((mode) => (["login", "plain"] as AuthMethod[]).map((authMethod) => ({ ...mode, authMethod })));

  it.for(cases)("$label: port $port, $encryption, AUTH $authMethod", async ({ port, encryption, authMethod, label }, { expect }) => {
    const tag = uniqueTag();
    const to1 = `to-${tag}@example.test`;
    const to2 = `to2-${tag}@example.test`;
    const cc = `cc-${tag}@example.test`;
    const bcc = `hidden-${tag}@example.test`;
    const replyTo = `replies-${tag}@example.test`;
    const subject = `Interop ${label}/${authMethod} ${tag} — Grüße aus Köln, 日本語のテスト, emoji 📬, and a tail long enough to be folded`;

    const result = await executeSmtpNode(
      {
        resource: "email",
        operation: "send",
        parameters: {
          to: [to1, `"Zoë Empfänger" <${to2}>`],
          subject,
          body: BODY,
          from: `"Nina Interop ✉" <${env.user}>`,
          cc: [cc],
          bcc: [bcc],
          replyTo,
          importance: "high",
          attachments: ATTACHMENTS.map((a) => ({ filename: a.filename, content: a === ATTACHMENTS[3] ? BIG_BASE64 : a.bytes.toString("base64") })),
        },
      },
      {
        credential: credential(port, encryption, authMethod),
        // Upstream data carries unrelated keys, and a subject the node's own must win over.
        inputData: { subject: "must not be used", incident: { id: 42 } },
        extractedParameters: { subject: "must not be used either" },
      },
      { ca: env.ca, timeout: 45_000 },
    );

    expect(result.accepted.sort()).toEqual([to1, to2, cc, bcc].sort());
    expect(result.rejected).toEqual([]);
    expect(result.envelope.from).toBe(env.user);
    expect(result.response).toMatch(/^250 /);

    const paths = await waitForCopies(result.messageId, 4);
    expect(paths).toHaveLength(4); // one per recipient, no duplicates
    const copies = await Promise.all(paths.map(readCopy));

    // Each recipient got exactly one copy; the Bcc recipient's copy names it only in Delivered-To.
    const deliveredTo = copies.map((c) => c.header("Delivered-To"));
    for (const d of deliveredTo) expect(d).toHaveLength(1);
    expect(deliveredTo.map((d) => (d[0] as string).toLowerCase()).sort()).toEqual([to1, to2, cc, bcc].sort());
    for (const copy of copies) {
      expect(copy.header("Bcc"), "no Bcc header in any copy").toEqual([]);
      // Apart from what Postfix adds at delivery, no header may name the Bcc address.
      const ours = copy.headerText.split(/\r?\n/).filter((l) => !/^(delivered-to|x-original-to|return-path|received):/i.test(l));
      expect(ours.join("\n").toLowerCase()).not.toContain(bcc);
      // Postfix's own Received header says how the message came in: TLS ("S") and AUTH ("A").
      const received = copy.header("Received").join("\n");
      if (encryption === "none") {
        expect(received).toMatch(/ with ESMTPA /);
        expect(received).not.toMatch(/using TLS/);
      } else {
        expect(received).toMatch(/ with ESMTPSA /);
        expect(received).toMatch(/using TLSv1\.[23] /);
      }
    }
    // Every copy carries the same message: only the delivery headers differ.
    for (const copy of copies.slice(1)) expect(copy.body.equals((copies[0] as (typeof copies)[0]).body)).toBe(true);

    // The full parse of one copy, and a header parse of the others.
    const toCopy = copies[deliveredTo.findIndex((d) => (d[0] as string).toLowerCase() === to1)] as (typeof copies)[0];
    const parsed = await simpleParser(toCopy.raw);
    expect(parsed.messageId).toBe(result.messageId);
    expect(parsed.subject).toBe(subject);
    expect(addresses(parsed.from)).toEqual([{ address: env.user.toLowerCase(), name: "Nina Interop ✉" }]);
    expect(addresses(parsed.to)).toEqual([{ address: to1, name: "" }, { address: to2, name: "Zoë Empfänger" }]);
    expect(addresses(parsed.cc)).toEqual([{ address: cc, name: "" }]);
    expect(parsed.bcc).toBeUndefined();
    expect(addresses(parsed.replyTo)).toEqual([{ address: replyTo, name: "" }]);
    expect(headerLine(parsed, "importance")).toEqual(["Importance: High"]);
    expect(headerLine(parsed, "x-priority")).toEqual(["X-Priority: 1 (Highest)"]);
    expect(headerLine(parsed, "x-msmail-priority")).toEqual(["X-MSMail-Priority: High"]);
    expect(headerLine(parsed, "bcc")).toEqual([]);
    expect((parsed.text ?? "").replace(/\r\n/g, "\n").replace(/\n+$/, "")).toBe(BODY.replace(/\n+$/, ""));
    expect(parsed.html).toBe(false);

    expect(parsed.attachments.map((a) => a.filename)).toEqual(ATTACHMENTS.map((a) => a.filename));
    ATTACHMENTS.forEach((want, i) => {
      const got = parsed.attachments[i];
      expect(got?.contentType, want.filename).toBe(want.type);
      expect(got?.contentDisposition, want.filename).toBe("attachment");
      expect(got?.size, want.filename).toBe(want.bytes.length);
      expect(got?.content.equals(want.bytes), `${want.filename} byte-exact`).toBe(true);
    });

    for (const copy of copies) {
      if (copy === toCopy) continue;
      const head = await simpleParser(Buffer.from(`${copy.headerText}\n\n`, "utf8"));
      expect(head.messageId).toBe(result.messageId);
      expect(head.subject).toBe(subject);
      expect(headerLine(head, "bcc")).toEqual([]);
    }

    await removeCopies(paths); // only reached when everything above passed: a failure leaves them for inspection
  });
});

describe("message shapes", () => {
  it("an HTML body with low importance, sender defaulting to the username (port 10587, STARTTLS)", async ({ expect }) => {
    const tag = uniqueTag();
    const to = `html-${tag}@example.test`;
    const html = `<h1>Threat report ${tag}</h1><p>Critical: <strong>3</strong> CVEs &amp; one phish — Grüße</p>\n<p>.dot at the start of a line</p>`;
    const result = await executeSmtpNode(
      { resource: "email", operation: "send", parameters: { to: [to], subject: `HTML ${tag}`, body: html, contentType: "html", importance: "low" } },
      { credential: credential(env.ports.submission, "starttls", "login") },
      { ca: env.ca, timeout: 30_000 },
    );
    const paths = await waitForCopies(result.messageId, 1);
    expect(paths).toHaveLength(1);
    const parsed = await simpleParser((await readCopy(paths[0] as string)).raw);
    expect(parsed.subject).toBe(`HTML ${tag}`);
    expect(addresses(parsed.from)).toEqual([{ address: env.user.toLowerCase(), name: "" }]);
    expect((parsed.html || "").replace(/\r\n/g, "\n").trim()).toBe(html);
    expect(parsed.attachments).toEqual([]);
    expect(headerLine(parsed, "importance")).toEqual(["Importance: Low"]);
    expect(headerLine(parsed, "x-priority")).toEqual(["X-Priority: 5 (Lowest)"]);
    expect(headerLine(parsed, "x-msmail-priority")).toEqual(["X-MSMail-Priority: Low"]);
    await removeCopies(paths);
  });
});

describe("several messages on one connection (PIPELINING + CHUNKING)", () => {
  it("10 concurrent sends over one implicit-TLS session, one of them refused by Postfix mid-pipeline", async ({ expect }) => {
    const tag = uniqueTag();
    const limit = env.sizeLimit;
    // Message 4 is under the announced SIZE but over what Postfix counts (its own headers
    // included), so Postfix answers 552 5.3.4 to its BDAT while later messages are in flight.
    const oversized = (pad: number): MailMessage => ({
      to: `pipe4-${tag}@example.test`, subject: `pipe 4 ${tag}`,
      text: `${"x".repeat(pad % 900)}\n${`${"y".repeat(899)}\n`.repeat(Math.floor(pad / 900))}`,
      attachments: [{ filename: "edge.bin", content: new Uint8Array(7_000_000) }],
    });
    let pad = 0;
    let big = oversized(pad);
    for (let i = 0; i < 20; i++) {
      const size = composeMessage(big, { defaultFrom: env.user }).size;
      if (size === limit - 64) break;
      pad += limit - 64 - size;
      big = oversized(pad);
    }
    const payloads = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? randomBytes(200_000 + i) : undefined));
    const messages: MailMessage[] = payloads.map((bytes, i) => i === 4 ? big : {
      to: `pipe${i}-${tag}@example.test`, subject: `pipe ${i} ${tag}`, text: `Message ${i} of the pipeline.\n.\n`,
      ...(bytes ? { attachments: [{ filename: `part-${i}.bin`, content: bytes }] } : {}),
    });

    const log = transcript();
    const smtp = createTransport({
      host: "localhost", port: env.ports.smtps, encryption: "tls", ca: env.ca, logger: log.logger, idleTimeout: 5_000,
      auth: { username: env.user, password: env.password, method: "login" },
    });
    let outcomes: PromiseSettledResult<SendReceipt>[];
    try {
      outcomes = await Promise.allSettled(messages.map((m) => smtp.send(m, { timeout: 45_000 })));
    } finally {
      await smtp.close();
    }
    const refused = outcomes[4] as PromiseRejectedResult;
    expect(refused.status, log.text()).toBe("rejected");
    expect(refused.reason).toBeInstanceOf(SmtpMessageError);
    expect(refused.reason.code).toBe("ESIZE");
    expect(refused.reason.replyCode).toBe(552);

    const client = log.client();
    expect(client.filter((l) => /^EHLO /.test(l)), log.text()).toHaveLength(1);
    expect(client.filter((l) => /^BDAT \d+ LAST$/.test(l))).toHaveLength(10);
    // Pipelined: some MAIL FROM went out before the reply to the first BDAT came back.
    const firstFinal = log.lines.findIndex((l) => l.direction === "server" && /^250 2\.0\.0 Ok: \d+ bytes queued/.test(l.line));
    const secondMail = log.lines.findIndex((l, i) => i > log.lines.findIndex((x) => x.line.startsWith("BDAT")) && l.line.startsWith("MAIL FROM:"));
    expect(secondMail, log.text()).toBeGreaterThan(-1);
    expect(secondMail, log.text()).toBeLessThan(firstFinal);

    const delivered: string[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if (i === 4) continue;
      expect(outcome.status, `message ${i}`).toBe("fulfilled");
      const receipt = (outcome as PromiseFulfilledResult<SendReceipt>).value;
      const [path] = await waitForCopies(receipt.messageId, 1);
      delivered.push(path as string);
      const parsed = await simpleParser((await readCopy(path as string)).raw);
      expect(parsed.subject).toBe(`pipe ${i} ${tag}`);
      expect(addresses(parsed.to)).toEqual([{ address: `pipe${i}-${tag}@example.test`, name: "" }]);
      const bytes = payloads[i];
      expect(parsed.attachments.length).toBe(bytes ? 1 : 0);
      if (bytes) expect(parsed.attachments[0]?.content.equals(bytes), `message ${i} attachment`).toBe(true);
    }
    await removeCopies(delivered);
  });
});
