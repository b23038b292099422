// Delivery status notifications (RFC 3461): the xtext encodings, the exact MAIL FROM / RCPT TO
// parameters when the server offers DSN, none when it does not (the receipt says so), and a
// validation error naming the field, before any connection, for every bad value.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { orcptValue } from "../../src/dsn.ts";
import { encodeUtf8AddrXtext, encodeXtext } from "../../src/protocol/xtext.ts";
import { createTransport, SmtpValidationError, type MailMessage, type TransportOptions } from "../../entries/node.ts";
import { startRecordingServer, type RecordingServer } from "../helpers/recording-server.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function recording(extensions: string[]): Promise<RecordingServer> {
  const s = await startRecordingServer({ extensions });
  servers.push(s);
  return s;
}

const opts = (s: { port: number }): TransportOptions => ({ host: "127.0.0.1", port: s.port, encryption: "none" });
const utf8 = (latin1: string): string => Buffer.from(latin1, "latin1").toString("utf8");
const envelopeLines = (s: RecordingServer): string[] => s.commands.map(utf8).filter((c) => /^(MAIL|RCPT) /.test(c));
const base: MailMessage = { from: "a@example.com", to: ["b@example.com", "c+tag@example.com"], subject: "s", text: "t" };

describe("xtext (RFC 3461 §4) and utf-8-addr-xtext (RFC 6533 §3)", () => {
  it.each([
    ["plain", "abc-123.XYZ", "abc-123.XYZ"],
    ["plus and equals", "a+b=c", "a+2Bb+3Dc"],
    ["space and tilde", "a b~", "a+20b~"],
    ["every printable but + and = stays", "!\"#$%&'()*,-./:;<>?@[\\]^_`{|}", "!\"#$%&'()*,-./:;<>?@[\\]^_`{|}"],
    ["controls", "\t\r\n\x7f", "+09+0D+0A+7F"],
    ["UTF-8 octets", "é", "+C3+A9"],
  ])("encodeXtext: %s", (_what, input, expected) => {
    expect(encodeXtext(input)).toBe(expected);
  });

  it.each([
    ["ASCII", "a.b@example.com", "a.b@example.com"],
    ["non-ASCII, shortest upper-case hex", "jörg@example.de", "j\\x{F6}rg@example.de"],
    ["BMP and astral", "用户😀@example.cn", "\\x{7528}\\x{6237}\\x{1F600}@example.cn"],
    ["backslash, plus and equals", "a\\b+c=d", "a\\x{5C}b\\x{2B}c\\x{3D}d"],
  ])("encodeUtf8AddrXtext: %s", (_what, input, expected) => {
    expect(encodeUtf8AddrXtext(input)).toBe(expected);
  });

  it("ORCPT is rfc822 for ASCII addresses and utf-8 for UTF-8 local parts", () => {
    expect(orcptValue("c+tag@example.com")).toBe("rfc822;c+2Btag@example.com");
    expect(orcptValue("jörg@xn--bcher-kva.example")).toBe("utf-8;j\\x{F6}rg@xn--bcher-kva.example");
  });
});

describe("DSN parameters on the wire", () => {
  it("when the server offers DSN: RET and ENVID on MAIL FROM, NOTIFY and ORCPT on every RCPT TO", async () => {
    const s = await recording(["PIPELINING", "DSN", "SIZE 100000"]);
    const smtp = createTransport(opts(s));
    const receipt = await smtp.send({ ...base, dsn: { notify: ["SUCCESS", "FAILURE", "DELAY"], ret: "HDRS", envid: "order 42+x=y", orcpt: true } });
    await smtp.close();
    expect(envelopeLines(s)).toEqual([
      `MAIL FROM:<a@example.com> SIZE=${s.messages[0]!.length} RET=HDRS ENVID=order+2042+2Bx+3Dy`,
      "RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;b@example.com",
      "RCPT TO:<c+tag@example.com> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;c+2Btag@example.com",
    ]);
    expect(receipt.dsn).toBe(true);
  });

  it("sends only what was asked for, and NOTIFY=NEVER alone", async () => {
    const s = await recording(["DSN"]);
    const smtp = createTransport(opts(s));
    await smtp.send({ ...base, to: "b@example.com", dsn: { notify: "NEVER" } });
    await smtp.send({ ...base, to: "b@example.com", dsn: { ret: "full" as "FULL", notify: ["failure" as "FAILURE"] } });
    await smtp.send({ ...base, to: "b@example.com", dsn: {} });
    await smtp.close();
    expect(envelopeLines(s)).toEqual([
      "MAIL FROM:<a@example.com>",
      "RCPT TO:<b@example.com> NOTIFY=NEVER",
      "MAIL FROM:<a@example.com> RET=FULL",
      "RCPT TO:<b@example.com> NOTIFY=FAILURE",
      "MAIL FROM:<a@example.com>",
      "RCPT TO:<b@example.com>",
    ]);
  });

  it("a UTF-8 recipient gets a utf-8 ORCPT (RFC 6533), next to SMTPUTF8", async () => {
    const s = await recording(["PIPELINING", "DSN", "SMTPUTF8", "8BITMIME"]);
    const smtp = createTransport(opts(s));
    await smtp.send({ ...base, to: "jörg@bücher.example", dsn: { notify: ["FAILURE"], orcpt: true } });
    await smtp.close();
    expect(envelopeLines(s)).toEqual([
      "MAIL FROM:<a@example.com> BODY=8BITMIME SMTPUTF8",
      "RCPT TO:<jörg@xn--bcher-kva.example> NOTIFY=FAILURE ORCPT=utf-8;j\\x{F6}rg@xn--bcher-kva.example",
    ]);
  });

  it("when the server does not offer DSN: no DSN parameters, and the receipt says dsn: false", async () => {
    const s = await recording(["PIPELINING", "CHUNKING"]);
    const smtp = createTransport(opts(s));
    const receipt = await smtp.send({ ...base, dsn: { notify: ["SUCCESS"], ret: "HDRS", envid: "x", orcpt: true } });
    await smtp.close();
    expect(envelopeLines(s)).toEqual(["MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "RCPT TO:<c+tag@example.com>"]);
    expect(receipt.dsn).toBe(false);
  });

  it("a message without a dsn option has no dsn in its receipt", async () => {
    const s = await recording(["DSN"]);
    const receipt = await createTransport(opts(s)).send(base);
    expect(receipt).not.toHaveProperty("dsn");
    expect(envelopeLines(s)).toEqual(["MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "RCPT TO:<c+tag@example.com>"]);
  });

  it("without PIPELINING each command still carries its parameters", async () => {
    const s = await recording(["DSN"]);
    await createTransport(opts(s)).send({ ...base, dsn: { notify: ["DELAY"], envid: "e1" } });
    expect(envelopeLines(s)).toEqual([
      "MAIL FROM:<a@example.com> ENVID=e1",
      "RCPT TO:<b@example.com> NOTIFY=DELAY",
      "RCPT TO:<c+tag@example.com> NOTIFY=DELAY",
    ]);
  });

  it("smtp-server with DSN on decodes every parameter back to what was asked for", async () => {
    const seen: { mail?: unknown; rcpts: unknown[]; data: number } = { rcpts: [], data: 0 };
    const smtp = new SMTPServer({
      hideDSN: false,
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      logger: false,
      onMailFrom(address, session, callback) {
        seen.mail = { address: address.address, dsn: { ...session.envelope.dsn }, smtpUtf8: session.envelope.smtpUtf8 };
        callback();
      },
      onRcptTo(address, _session, callback) {
        seen.rcpts.push({ address: address.address, dsn: (address as { dsn?: unknown }).dsn });
        callback();
      },
      onData(stream, _session, callback) {
        stream.on("data", (chunk: Buffer) => (seen.data += chunk.length));
        stream.on("end", () => callback());
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) });
    const port = (smtp.server.address() as AddressInfo).port;
    const transport = createTransport({ host: "127.0.0.1", port, encryption: "none" });
    const receipt = await transport.send({
      ...base,
      to: ["b@example.com", "jörg@bücher.example"],
      dsn: { notify: ["SUCCESS", "FAILURE"], ret: "HDRS", envid: "id 1+2", orcpt: true },
    });
    await transport.close();
    expect(receipt.dsn).toBe(true);
    expect(receipt.accepted).toEqual(["b@example.com", "jörg@xn--bcher-kva.example"]);
    expect(seen.mail).toEqual({ address: "a@example.com", dsn: { ret: "HDRS", envid: "id 1+2" }, smtpUtf8: true });
    expect(seen.rcpts).toEqual([
      { address: "b@example.com", dsn: { notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;b@example.com" } },
      { address: "jörg@bücher.example", dsn: { notify: ["SUCCESS", "FAILURE"], orcpt: "utf-8;j\\x{F6}rg@xn--bcher-kva.example" } },
    ]);
    expect(seen.data).toBeGreaterThan(0);
  });
});

describe("dsn validation: the field is named, before any connection", () => {
  const table: [string, unknown, string, RegExp][] = [
    ["not an object", "FAILURE", "dsn", /object/],
    ["an array", ["FAILURE"], "dsn", /object/],
    ["an unknown key", { notfy: ["FAILURE"] }, "dsn.notfy", /not a DSN option/],
    ["notify: a string other than NEVER", { notify: "FAILURE" }, "dsn.notify", /NEVER/],
    ["notify: a number", { notify: 1 }, "dsn.notify", /NEVER/],
    ["notify: empty", { notify: [] }, "dsn.notify", /empty/],
    ["notify: NEVER with others", { notify: ["NEVER", "FAILURE"] }, "dsn.notify", /cannot be combined/],
    ["notify: others with NEVER", { notify: ["SUCCESS", "NEVER"] }, "dsn.notify", /cannot be combined/],
    ["notify: an unknown value", { notify: ["SUCCESS", "BOUNCE"] }, "dsn.notify[1]", /SUCCESS/],
    ["notify: a non-string value", { notify: [null] }, "dsn.notify[0]", /SUCCESS/],
    ["notify: a repeated value", { notify: ["DELAY", "delay"] }, "dsn.notify[1]", /repeats "DELAY"/],
    ["ret: an unknown value", { ret: "BODY" }, "dsn.ret", /FULL/],
    ["ret: not a string", { ret: true }, "dsn.ret", /FULL/],
    ["envid: not a string", { envid: 42 }, "dsn.envid", /string/],
    ["envid: empty", { envid: "" }, "dsn.envid", /empty/],
    ["envid: a control character", { envid: "a\r\nRCPT TO:<x@y.z>" }, "dsn.envid", /printable ASCII/],
    ["envid: non-ASCII", { envid: "naïve" }, "dsn.envid", /printable ASCII/],
    ["envid: over 100 characters", { envid: "x".repeat(101) }, "dsn.envid", /101 characters.*100/],
    ["envid: over 100 once encoded", { envid: "+".repeat(34) }, "dsn.envid", /102 characters/],
    ["orcpt: not a boolean", { orcpt: "yes" }, "dsn.orcpt", /true or false/],
  ];

  it.each(table)("%s", async (_what, dsn, field, pattern) => {
    const s = await recording(["DSN"]);
    const error = await createTransport(opts(s)).send({ ...base, dsn: dsn as MailMessage["dsn"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpValidationError);
    expect(error).toMatchObject({ code: "EVALIDATION", field, phase: "validation" });
    expect((error as Error).message).toMatch(pattern);
    expect(s.connections).toBe(0);
  });

  it("accepts the limits exactly: ENVID of 100 characters once encoded", async () => {
    const s = await recording(["DSN"]);
    await createTransport(opts(s)).send({ ...base, to: "b@example.com", dsn: { envid: "x".repeat(97) + "+" } });
    expect(envelopeLines(s)[0]).toBe(`MAIL FROM:<a@example.com> ENVID=${"x".repeat(97)}+2B`);
  });

  it("refuses an ORCPT over 500 characters, naming the recipient", async () => {
    const s = await recording(["DSN", "SMTPUTF8"]);
    // "é" and 62 "+": 64 octets, but 6 characters each "+" as utf-8-addr-xtext.
    const local = "é" + "+".repeat(62);
    const domain = `${"d".repeat(63)}.${"d".repeat(63)}.${"d".repeat(58)}`;
    const error = await createTransport(opts(s)).send({ ...base, to: `${local}@${domain}`, dsn: { orcpt: true } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "EVALIDATION", field: "dsn.orcpt" });
    expect((error as Error).message).toContain(`<${local}@`);
    expect(s.connections).toBe(0);
    // Without orcpt the same recipient is fine.
    await createTransport(opts(s)).send({ ...base, to: `${local}@${domain}`, dsn: { notify: ["FAILURE"] } });
    expect(s.connections).toBe(1);
  });

  it("ignores a dsn inherited from the prototype", async () => {
    const s = await recording(["DSN"]);
    const message = Object.create({ dsn: { notify: "NEVER" } }) as MailMessage;
    Object.assign(message, { ...base, to: "b@example.com" });
    const receipt = await createTransport(opts(s)).send(message);
    expect(receipt).not.toHaveProperty("dsn");
    expect(envelopeLines(s)).toEqual(["MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>"]);
  });
});
