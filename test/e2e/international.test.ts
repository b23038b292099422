// International mail on the wire: A-labels in the envelope, SMTPUTF8 and BODY=8BITMIME when
// an address has a UTF-8 local part and the server offers them, a clear ESMTPUTF8 error
// before MAIL FROM when it does not, and mailparser reading the addresses back exactly.
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, nodeConnector, SmtpEnvelopeError, SmtpMessageError, type TransportOptions } from "../../entries/node.ts";
import { SmtpSession } from "../../src/client.ts";
import { composeMessage } from "../../src/mime/compose.ts";
import { resolveOptions } from "../../src/options.ts";
import { sendTransaction } from "../../src/transaction.ts";
import { startRecordingServer, type RecordingServer } from "../helpers/recording-server.ts";
import { startTestServer, type TestServer } from "../helpers/smtp-server.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function recording(extensions: string[]): Promise<RecordingServer> {
  const s = await startRecordingServer({ extensions });
  servers.push(s);
  return s;
}

async function real(): Promise<TestServer> {
  const s = await startTestServer({ mode: "plain", noAuth: true });
  servers.push(s);
  return s;
}

const opts = (s: { port: number }): TransportOptions => ({ host: "127.0.0.1", port: s.port, encryption: "none" });

// The recording server keeps what it received as latin1 text; these give back the UTF-8.
const utf8 = (latin1: string): string => Buffer.from(latin1, "latin1").toString("utf8");
const envelopeLines = (s: RecordingServer): string[] => s.commands.map(utf8).filter((c) => /^(MAIL|RCPT) /.test(c));

describe("international addresses on the wire", () => {
  it("a non-ASCII domain alone goes out as A-labels, without SMTPUTF8 or BODY=8BITMIME", async () => {
    const s = await recording(["PIPELINING", "8BITMIME", "SMTPUTF8"]);
    const smtp = createTransport(opts(s));
    const receipt = await smtp.send({ from: "Ada <ada@Bücher.example>", to: "b@münchen.de", cc: "c@日本語.jp", subject: "s", text: "t" });
    await smtp.close();
    expect(envelopeLines(s)).toEqual([
      "MAIL FROM:<ada@xn--bcher-kva.example>",
      "RCPT TO:<b@xn--mnchen-3ya.de>",
      "RCPT TO:<c@xn--wgv71a119e.jp>",
    ]);
    expect(receipt.envelope).toEqual({ from: "ada@xn--bcher-kva.example", to: ["b@xn--mnchen-3ya.de", "c@xn--wgv71a119e.jp"] });
    expect(receipt.accepted).toEqual(["b@xn--mnchen-3ya.de", "c@xn--wgv71a119e.jp"]);
    const message = s.messages[0]!;
    expect(/^[\x00-\x7f]*$/.test(message)).toBe(true);
    expect(message).toContain("From: Ada <ada@xn--bcher-kva.example>\r\nTo: b@xn--mnchen-3ya.de\r\nCc: c@xn--wgv71a119e.jp\r\n");
  });

  it("a UTF-8 local part uses SMTPUTF8 and BODY=8BITMIME when offered, and the headers carry raw UTF-8", async () => {
    const s = await recording(["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 100000"]);
    const smtp = createTransport(opts(s));
    const receipt = await smtp.send({ from: "Jörg <jörg@bücher.example>", to: ["δοκιμή@παράδειγμα.δοκιμή", "plain@example.com"], subject: "Grüße", text: "t" });
    await smtp.close();
    const message = utf8(s.messages[0]!);
    expect(envelopeLines(s)).toEqual([
      `MAIL FROM:<jörg@xn--bcher-kva.example> SIZE=${s.messages[0]!.length} BODY=8BITMIME SMTPUTF8`,
      "RCPT TO:<δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp>",
      "RCPT TO:<plain@example.com>",
    ]);
    expect(message).toContain("To: δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp, plain@example.com\r\n");
    expect(receipt.accepted).toEqual(["δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp", "plain@example.com"]);
  });

  it("BODY=8BITMIME is left out when the server offers SMTPUTF8 without 8BITMIME, and for a 7-bit message", async () => {
    const s = await recording(["SMTPUTF8"]);
    const smtp = createTransport(opts(s));
    await smtp.send({ from: "zoë@example.com", to: "b@example.com", subject: "s", text: "t" });
    await smtp.close();
    expect(envelopeLines(s)[0]).toBe("MAIL FROM:<zoë@example.com> SMTPUTF8");

    const t = await recording(["8BITMIME", "SMTPUTF8"]);
    const plain = createTransport(opts(t));
    await plain.send({ from: "a@example.com", to: "b@example.com", subject: "Grüße", text: "ünïcode body" });
    await plain.close();
    expect(envelopeLines(t)[0]).toBe("MAIL FROM:<a@example.com>");
  });

  it("a UTF-8 Bcc needs SMTPUTF8 for the envelope only: no BODY=8BITMIME, 7-bit headers", async () => {
    const s = await recording(["PIPELINING", "8BITMIME", "SMTPUTF8"]);
    const smtp = createTransport(opts(s));
    await smtp.send({ from: "a@example.com", to: "b@example.com", bcc: "zoë@example.com", subject: "s", text: "t" });
    await smtp.close();
    expect(envelopeLines(s)).toEqual(["MAIL FROM:<a@example.com> SMTPUTF8", "RCPT TO:<b@example.com>", "RCPT TO:<zoë@example.com>"]);
    expect(/^[\x00-\x7f]*$/.test(s.messages[0]!)).toBe(true);
  });

  it("with CHUNKING the BDAT size counts the UTF-8 octets exactly", async () => {
    const s = await recording(["PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8"]);
    const smtp = createTransport(opts(s));
    await smtp.send({ from: "jörg@example.de", to: "用户@例子.广告", subject: "s", text: "t" });
    await smtp.close();
    const bdat = s.commands.find((c) => c.startsWith("BDAT "))!;
    expect(bdat).toBe(`BDAT ${s.messages[0]!.length} LAST`);
    expect(utf8(s.messages[0]!)).toContain("From: jörg@example.de\r\nTo: 用户@xn--fsqu00a.xn--4rr70v\r\n");
  });

  it("without SMTPUTF8 a UTF-8 local part fails with ESMTPUTF8 naming the address, before any MAIL FROM", async () => {
    const s = await recording(["PIPELINING", "8BITMIME"]);
    const smtp = createTransport({ ...opts(s), idleTimeout: 5000 });
    const error = await smtp.send({ from: "a@example.com", to: ["b@example.com", "jörg@bücher.example"], subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpEnvelopeError);
    expect(error).toMatchObject({ code: "ESMTPUTF8", phase: "envelope", retryable: false });
    expect((error as Error).message).toContain("<jörg@xn--bcher-kva.example>");
    expect((error as SmtpEnvelopeError).hint).toMatch(/ASCII local part/);
    // The session is still usable: an ASCII message goes through afterwards, on the same connection.
    const receipt = await smtp.send({ from: "a@example.com", to: "b@bücher.example", subject: "s", text: "t" });
    await smtp.close();
    expect(receipt.accepted).toEqual(["b@xn--bcher-kva.example"]);
    expect(s.chunks).toHaveLength(1);
    expect(envelopeLines(s)).toEqual(["MAIL FROM:<a@example.com>", "RCPT TO:<b@xn--bcher-kva.example>"]);
  });

  it("lists several addresses that need SMTPUTF8", async () => {
    const s = await recording([]);
    const error = await createTransport(opts(s))
      .send({ from: "zoë@example.com", to: ["jörg@example.de", "δοκιμή@example.gr", "用户@example.cn"], subject: "s", text: "t" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ESMTPUTF8" });
    expect((error as Error).message).toContain("<zoë@example.com>, <jörg@example.de>, <δοκιμή@example.gr> and 1 more");
    expect(s.commands.some((c) => c.startsWith("MAIL"))).toBe(false);
  });

  it("an invalid international domain is refused before any connection", async () => {
    const s = await recording(["SMTPUTF8"]);
    const error = await createTransport(opts(s)).send({ to: "a@bü☃cher.example", from: "a@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "EVALIDATION", field: "to" });
    expect(s.connections).toBe(0);
  });
});

describe("8-bit content without SMTPUTF8 (a composed message flagged eightBit)", () => {
  async function sendEightBit(extensions: string[]): Promise<{ s: RecordingServer; result: unknown }> {
    const s = await recording(extensions);
    const session = await SmtpSession.open(resolveOptions(opts(s)), nodeConnector);
    const message = { ...composeMessage({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t" }), eightBit: true };
    const result = await sendTransaction(session, message).catch((e: unknown) => e);
    await session.quit();
    return { s, result };
  }

  it("declares BODY=8BITMIME when the server offers it", async () => {
    const { s, result } = await sendEightBit(["8BITMIME"]);
    expect(result).toMatchObject({ accepted: ["b@example.com"] });
    expect(envelopeLines(s)[0]).toBe("MAIL FROM:<a@example.com> BODY=8BITMIME");
  });

  it("refuses before MAIL FROM when the server does not offer 8BITMIME", async () => {
    const { s, result } = await sendEightBit(["PIPELINING"]);
    expect(result).toBeInstanceOf(SmtpMessageError);
    expect(result).toMatchObject({ code: "EMESSAGE", phase: "envelope" });
    expect(s.commands.some((c) => c.startsWith("MAIL"))).toBe(false);
  });
});

describe("international addresses through smtp-server and mailparser", () => {
  it("the envelope and the parsed headers have the exact Unicode addresses", async () => {
    const server = await real();
    const smtp = createTransport(opts(server));
    await smtp.send({
      from: "Jörg Müller <jörg@bücher.example>",
      to: ["δοκιμή@παράδειγμα.δοκιμή", "b@münchen.de"],
      cc: "用户@例子.广告",
      replyTo: "zoë@example.com",
      subject: "Grüße",
      text: "Hallo",
    });
    await smtp.close();
    const [message] = await server.waitForMessages(1);
    // smtp-server turns A-labels back into U-labels.
    expect(message!.mailFrom).toBe("jörg@bücher.example");
    expect(message!.rcptTo).toEqual(["δοκιμή@παράδειγμα.δοκιμή", "b@münchen.de", "用户@例子.广告"]);
    const { parsed } = message!;
    const values = (a: typeof parsed.to): { name: string; address?: string }[] => (Array.isArray(a) ? a.flatMap((x) => x.value) : a?.value ?? []);
    expect(values(parsed.from)).toEqual([{ name: "Jörg Müller", address: "jörg@bücher.example" }]);
    expect(values(parsed.to).map((v) => v.address)).toEqual(["δοκιμή@παράδειγμα.δοκιμή", "b@münchen.de"]);
    expect(values(parsed.cc).map((v) => v.address)).toEqual(["用户@例子.广告"]);
    expect(values(parsed.replyTo).map((v) => v.address)).toEqual(["zoë@example.com"]);
    expect(parsed.subject).toBe("Grüße");
    expect(parsed.text?.trim()).toBe("Hallo");
  });
});
