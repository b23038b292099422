// Bad input gets a typed error naming the field, and no socket is ever opened.
import { describe, expect, it } from "vitest";
import { createTransport, SmtpValidationError, type Connector, type MailMessage, type TransportOptions } from "../../src/mod.ts";

function spyConnector(): Connector & { calls: number } {
  const spy = {
    name: "spy",
    capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
    calls: 0,
    connect(): never {
      spy.calls++;
      throw new Error("connect must not be called");
    },
  };
  return spy;
}

const good: MailMessage = { to: ["a@example.com"], subject: "s", text: "t", from: "me@example.com" };
const transport: TransportOptions = { host: "smtp.example.com", auth: { username: "me@example.com", password: "pw" } };

const badMessages: [string, Partial<MailMessage> & Record<string, unknown>, string][] = [
  ["CR LF in an address", { to: ["a@example.com\r\nRCPT TO:<x@y.z>"] }, "to[0]"],
  ["a NUL in an address", { to: ["a\0@example.com"] }, "to[0]"],
  ["two addresses in one element", { to: ["a@example.com, b@example.com"] }, "to[0]"],
  ["a group in one element", { cc: ["team: a@example.com, b@example.com;"] }, "cc[0]"],
  ["a quoted local part", { bcc: ['"a b"@example.com'] }, "bcc[0]"],
  ["an address without a domain", { to: ["a@"] }, "to[0]"],
  ["not an address at all", { to: ["nobody"] }, "to[0]"],
  ["an empty to", { to: [] }, "to"],
  ["a header injection in the subject", { subject: "hi\r\nBcc: x@example.com" }, "subject"],
  ["a LF in the subject", { subject: "hi\nthere" }, "subject"],
  ["an injection in replyTo", { replyTo: "a@example.com\r\nX-Evil: 1" }, "replyTo"],
  ["an injection in from", { from: "me@example.com\nBcc: x@example.com" }, "from"],
  ["an unknown importance", { importance: "urgent" as never }, "importance"],
  ["a missing filename", { attachments: [{ filename: "", content: "QUJD" }] }, "attachments[0].filename"],
  ["a bad base64 alphabet", { attachments: [{ filename: "a.txt", content: "QU$D" }] }, "attachments[0].content"],
  ["misplaced base64 padding", { attachments: [{ filename: "a.txt", content: "QU=D" }] }, "attachments[0].content"],
  ["trailing base64 garbage", { attachments: [{ filename: "a.txt", content: "QUJD!" }] }, "attachments[0].content"],
  ["no body", { text: undefined }, "text"],
];

describe("validation before any connection", () => {
  it.each(badMessages)("%s", async (_name, patch, field) => {
    const connector = spyConnector();
    const smtp = createTransport({ ...transport, connector });
    const error = await smtp.send({ ...good, ...patch } as MailMessage).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpValidationError);
    expect((error as SmtpValidationError).field).toBe(field);
    expect(connector.calls).toBe(0);
  });

  const badOptions: [string, Record<string, unknown>, string][] = [
    ["port 0", { port: 0 }, "port"],
    ["port 65536", { port: 65536 }, "port"],
    ["a fractional port", { port: 25.5 }, "port"],
    ["an unknown encryption", { encryption: "ssl" }, "encryption"],
    ["an unknown auth method", { auth: { username: "u", password: "p", method: "gssapi" } }, "auth.method"],
    ["an empty password", { auth: { username: "u", password: "" } }, "auth.password"],
    ["a host with CR LF", { host: "smtp.example.com\r\nQUIT" }, "host"],
    ["an empty host", { host: "" }, "host"],
    ["a bad EHLO name", { clientName: "bad name" }, "clientName"],
    ["a negative timeout", { timeouts: { command: -1 } }, "timeouts.command"],
  ];
  it.each(badOptions)("transport option: %s", (_name, patch, field) => {
    const connector = spyConnector();
    let error: unknown;
    try {
      createTransport({ ...transport, ...patch, connector } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SmtpValidationError);
    expect((error as SmtpValidationError).field).toBe(field);
    expect(connector.calls).toBe(0);
  });
});
