// The neutral messages the scenarios send (see libs/common.mjs for the shape).

import { randomBytes } from "node:crypto";

const LINE = "The quick brown fox jumps over the lazy dog, again and again.";

/** A small plain-text body of about `bytes` octets, with one line that starts with a dot. */
export function smallText(bytes = 400) {
  const lines = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = i === 2 ? `.${LINE}` : `${LINE} ${i}`;
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join("\n") + "\n";
}

/** `count` small messages, each to `recipients` recipients. */
export function smallMessages({ count, recipients = 1, textBytes = 400 }) {
  const text = smallText(textBytes);
  const to = Array.from({ length: recipients }, (_, i) => `rcpt${i}@example.com`);
  return Array.from({ length: count }, (_, i) => ({
    from: "sender@example.com",
    to,
    subject: `Benchmark message ${i}`,
    text,
  }));
}

/** A message with one attachment of `bytes` random octets given as a base64 string. */
export function attachmentMessage(bytes) {
  const base64 = randomBytes(bytes).toString("base64");
  return {
    from: "sender@example.com",
    to: ["rcpt0@example.com"],
    subject: "Benchmark attachment",
    text: smallText(200),
    attachments: [{ filename: "data.bin", contentType: "application/octet-stream", base64 }],
  };
}
