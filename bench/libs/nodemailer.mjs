// nodemailer behind the benchmark's adapter interface. Its own defaults otherwise; the
// AUTH mechanism is its default choice, which is PLAIN when the server offers it.

import { HOST, PASS, USER } from "./common.mjs";

let nodemailer;
export const features = {};

export async function load() {
  nodemailer = (await import("nodemailer")).default;
  return features;
}

export function oneConnectionVariants() {
  return [
    { id: "pool", label: "nodemailer: pool, maxConnections 1" },
    { id: "default", label: "nodemailer: default (a connection per message)" },
  ];
}

function base(port, tls) {
  const options = { host: HOST, port, secure: false, auth: { user: USER, pass: PASS } };
  if (tls) {
    options.requireTLS = true;
    options.tls = { ca: [tls.ca] };
  } else {
    options.ignoreTLS = true;
  }
  return options;
}

function convert(m) {
  const mail = { from: m.from, to: m.to, subject: m.subject, text: m.text };
  if (m.attachments) {
    mail.attachments = m.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.base64,
      encoding: "base64",
    }));
  }
  return mail;
}

function closed(transport) {
  transport.close();
}

export async function oneConnection({ port, messages, variant, tls }) {
  if (variant === "pool") {
    // maxMessages defaults to 100 in pool mode, which would open a new connection every
    // 100 messages; Infinity keeps the whole batch on one.
    const transport = nodemailer.createTransport({ ...base(port, tls), pool: true, maxConnections: 1, maxMessages: Infinity });
    await Promise.all(messages.map((m) => transport.sendMail(convert(m))));
    closed(transport);
    return;
  }
  // Default mode: every sendMail opens its own connection; sent one after another.
  const transport = nodemailer.createTransport(base(port, tls));
  for (const m of messages) await transport.sendMail(convert(m));
  closed(transport);
}

export async function fresh({ port, messages, tls }) {
  for (const m of messages) {
    const transport = nodemailer.createTransport(base(port, tls));
    await transport.sendMail(convert(m));
    closed(transport);
  }
}
