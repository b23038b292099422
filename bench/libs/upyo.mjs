// @upyo/smtp (with @upyo/core for messages) behind the benchmark's adapter interface.
// Upyo reports failures in receipts instead of throwing; the adapter turns an
// unsuccessful receipt into an error. Attachments must be bytes, so the base64 input is
// decoded inside the timed region.

import { HOST, PASS, USER } from "./common.mjs";

let SmtpTransport;
let createMessage;
export const features = {};

export async function load() {
  ({ SmtpTransport } = await import("@upyo/smtp"));
  ({ createMessage } = await import("@upyo/core"));
  return features;
}

export function oneConnectionVariants() {
  return [{ id: "sendMany", label: "upyo: sendMany() (one connection)" }];
}

function base(port, tls, pool) {
  const options = { host: HOST, port, secure: false, auth: { user: USER, pass: PASS, method: "plain" }, pool };
  if (pool) options.poolSize = 1;
  if (tls) options.tls = { ca: tls.ca };
  return options;
}

function convert(m) {
  const message = { from: m.from, to: m.to, subject: m.subject, content: { text: m.text } };
  if (m.attachments) {
    message.attachments = m.attachments.map((a, i) => ({
      inline: false,
      filename: a.filename,
      contentType: a.contentType,
      contentId: `att${i}@bench.localhost`,
      content: Buffer.from(a.base64, "base64"),
    }));
  }
  return createMessage(message);
}

function check(receipt) {
  if (!receipt.successful) throw new Error(`upyo: ${receipt.errorMessages.join("; ")}`);
}

export async function oneConnection({ port, messages, tls }) {
  const transport = new SmtpTransport(base(port, tls, true));
  for await (const receipt of transport.sendMany(messages.map(convert))) check(receipt);
  await transport.closeAllConnections();
}

export async function fresh({ port, messages, tls }) {
  for (const m of messages) {
    const transport = new SmtpTransport(base(port, tls, false));
    check(await transport.send(convert(m)));
    await transport.closeAllConnections();
  }
}
