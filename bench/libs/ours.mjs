// @nina/smtp behind the benchmark's adapter interface. The library is loaded from the
// module path the runner chose (the fresh build, or entries/node.ts through tsx).
//
// The library is changing (connection reuse, a pool, CHUNKING), so the options this
// adapter may use are detected at load time by asking the library itself: an option
// exists when an invalid value for it is refused with an error that names it.

import { HOST, PASS, USER } from "./common.mjs";

let createTransport;
export const features = {};

const PROBES = {
  idleTimeout: -1,
  pool: "not-a-boolean",
  maxConnections: 0,
  maxMessagesPerConnection: 0,
  maxPipelinedMessages: 0,
};

export async function load({ ourEntry }) {
  ({ createTransport } = await import(ourEntry));
  for (const [field, bad] of Object.entries(PROBES)) {
    try {
      createTransport({ host: HOST, port: 25, encryption: "none", [field]: bad });
      features[field] = false;
    } catch (error) {
      features[field] = error?.field === field || String(error?.message).includes(field);
    }
  }
  return features;
}

/** Variants of "many messages over one connection" this version supports. */
export function oneConnectionVariants() {
  const list = [{ id: "concurrent", label: "ours: concurrent send() (Promise.all)" }];
  if (features.idleTimeout) list.push({ id: "sequential", label: "ours: sequential send(), idleTimeout" });
  return list;
}

function base(port, tls, method = "plain") {
  const options = {
    host: HOST,
    port,
    encryption: tls ? "starttls" : "none",
    auth: { username: USER, password: PASS, method },
  };
  if (tls) options.ca = tls.ca;
  return options;
}

/** Options that keep every message of a batch of `count` on a single connection. */
function oneConnectionOptions(count) {
  const options = {};
  if (features.maxConnections) options.maxConnections = 1;
  if (features.maxMessagesPerConnection) options.maxMessagesPerConnection = Math.max(count, 1);
  if (features.pool) options.pool = true;
  return options;
}

function convert(m) {
  const message = { from: m.from, to: m.to, subject: m.subject, text: m.text };
  if (m.attachments) {
    message.attachments = m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.base64 }));
  }
  return message;
}

export async function oneConnection({ port, messages, variant, tls }) {
  const options = { ...base(port, tls), ...oneConnectionOptions(messages.length) };
  if (variant === "sequential") {
    const transport = createTransport({ ...options, idleTimeout: 10_000 });
    for (const m of messages) await transport.send(convert(m));
    await transport.close();
    return;
  }
  const transport = createTransport(options);
  await Promise.all(messages.map((m) => transport.send(convert(m))));
  await transport.close();
}

/** Each message on a new transport, so on a new connection, one after another. */
export async function fresh({ port, messages, tls, authMethod = "plain" }) {
  for (const m of messages) {
    const transport = createTransport(base(port, tls, authMethod));
    await transport.send(convert(m));
    await transport.close();
  }
}
