// buildMessage: the exact bytes send() would transmit, as a stream, text or bytes.
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { buildMessage } from "../../../src/mime/build.ts";
import { SmtpValidationError } from "../../../src/errors.ts";
import { randomBytes } from "./support.ts";

const DATE = new Date(Date.UTC(2025, 2, 10, 12, 0, 0));
const MESSAGE = {
  from: "Ada <ada@example.com>",
  to: ["bob@example.org"],
  bcc: "hidden@example.net",
  subject: "Preview",
  text: "plain",
  html: "<p>html</p>",
  attachments: [{ filename: "a.bin", content: randomBytes(100_000, 4) }],
};

async function readStream(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(parts);
    parts.push(Buffer.from(value));
  }
}

describe("buildMessage", () => {
  it("gives the same bytes through stream(), bytes() and text(), of exactly size octets, repeatably", async () => {
    const built = await buildMessage(MESSAGE, { date: DATE });
    const fromStream = await readStream(built.stream());
    const bytes = Buffer.from(await built.bytes());
    const text = await built.text();
    expect(fromStream.length).toBe(built.size);
    expect(Buffer.compare(fromStream, bytes)).toBe(0);
    expect(text).toBe(bytes.toString("latin1"));
    expect(Buffer.compare(Buffer.from(await built.bytes()), bytes)).toBe(0);
    expect(text.startsWith("Date: Mon, 10 Mar 2025 12:00:00 +0000\r\nFrom: Ada <ada@example.com>\r\n")).toBe(true);
  });

  it("reports the Message-ID and envelope (Bcc in the envelope only)", async () => {
    const built = await buildMessage(MESSAGE, { date: DATE });
    expect(built.envelope).toEqual({ from: "ada@example.com", to: ["bob@example.org", "hidden@example.net"] });
    const parsed = await simpleParser(Buffer.from(await built.bytes()));
    expect(parsed.messageId).toBe(built.messageId);
    expect(await built.text()).not.toContain("hidden@example.net");
  });

  it("uses defaultFrom when the message has no from", async () => {
    const built = await buildMessage({ to: "bob@example.org", subject: "x", text: "y" }, { defaultFrom: "me@example.com" });
    expect(built.envelope.from).toBe("me@example.com");
  });

  it("hands out copies: changing a chunk does not change the next read", async () => {
    const built = await buildMessage(MESSAGE, { date: DATE });
    const reader = built.stream().getReader();
    const first = (await reader.read()).value!;
    first.fill(0);
    await reader.cancel();
    expect((await built.text()).startsWith("Date:")).toBe(true);
  });

  it("with a stream attachment, can be read once", async () => {
    const content = randomBytes(1000, 2);
    const built = await buildMessage({
      ...MESSAGE,
      attachments: [{ filename: "s.bin", content: new ReadableStream({ start: (c) => (c.enqueue(content), c.close()) }), size: 1000 }],
    });
    const parsed = await simpleParser(Buffer.from(await built.bytes()));
    expect(Buffer.compare(parsed.attachments[0]!.content, Buffer.from(content))).toBe(0);
    await expect(built.text()).rejects.toMatchObject({ field: "attachments[0].content" });
  });

  it("rejects bad input naming the field, as send() would", async () => {
    await expect(buildMessage({ ...MESSAGE, to: [] })).rejects.toSatisfy((e: unknown) => e instanceof SmtpValidationError && e.field === "to");
    await expect(buildMessage({ ...MESSAGE, headers: { Subject: "x" } })).rejects.toMatchObject({ field: "headers.Subject" });
    await expect(buildMessage(MESSAGE, { dkim: { domainName: "example.com", keySelector: "s", privateKey: "nope" } })).rejects.toMatchObject({
      field: "dkim.privateKey",
    });
  });
});
