// Richer bodies end to end: text + HTML, inline images, custom headers and streamed
// attachments sent through the Node adapter to a real smtp-server, read back by mailparser.
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, type MailMessage, type TransportOptions } from "../../entries/node.ts";
import { randomBytes, streamOf } from "../helpers/bytes.ts";
import { startTestServer, type CapturedMessage, type TestServer } from "../helpers/smtp-server.ts";

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  servers.push(s);
  return s;
}

function options(s: TestServer): TransportOptions {
  return { host: "localhost", port: s.port, encryption: "starttls", ca: s.caPem, auth: { username: "user@example.com", password: "secret" } };
}

async function sendOne(message: MailMessage): Promise<CapturedMessage> {
  const s = await server();
  const smtp = createTransport(options(s));
  try {
    await smtp.send(message);
    const [captured] = await s.waitForMessages(1);
    return captured!;
  } finally {
    await smtp.close();
  }
}

describe("richer bodies over SMTP", () => {
  it("text and html arrive as multipart/alternative, plain text first", async () => {
    const captured = await sendOne({ to: "bob@example.org", subject: "Both", text: "Plain Grüße", html: "<p>HTML Grüße</p>" });
    const raw = captured.raw.toString("latin1");
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw.indexOf("text/plain")).toBeLessThan(raw.indexOf("text/html"));
    expect(captured.parsed.text?.trim()).toBe("Plain Grüße");
    expect(captured.parsed.html).toBe("<p>HTML Grüße</p>");
  });

  it("inline images arrive in multipart/related with their Content-ID, attachments beside them", async () => {
    const logo = randomBytes(4000, 1);
    const pdf = randomBytes(20_000, 2);
    const captured = await sendOne({
      to: "bob@example.org",
      subject: "Inline",
      text: "logo below",
      html: '<p><img src="cid:logo@example.com" alt="logo"></p>',
      attachments: [
        { filename: "logo.png", content: logo, cid: "logo@example.com" },
        { filename: "terms.pdf", content: pdf },
      ],
    });
    const raw = captured.raw.toString("latin1");
    expect(raw).toMatch(/^Content-Type: multipart\/mixed;/m);
    expect(raw).toMatch(/Content-Type: multipart\/related; type="multipart\/alternative";/);
    const image = captured.parsed.attachments.find((a) => a.filename === "logo.png")!;
    expect(image).toMatchObject({ cid: "logo@example.com", contentDisposition: "inline", related: true });
    expect(Buffer.compare(image.content, Buffer.from(logo))).toBe(0);
    const file = captured.parsed.attachments.find((a) => a.filename === "terms.pdf")!;
    expect(file.contentDisposition).toBe("attachment");
    expect(Buffer.compare(file.content, Buffer.from(pdf))).toBe(0);
  });

  it("custom headers arrive, encoded where needed", async () => {
    const captured = await sendOne({
      to: "bob@example.org",
      subject: "Headers",
      text: "x",
      headers: [
        ["List-Unsubscribe", "<mailto:unsubscribe@example.com>, <https://example.com/u?id=42>"],
        ["X-Campaign", "Frühling 2025"],
        ["X-Tag", "a"],
        ["X-Tag", "b"],
      ],
    });
    const lines = captured.parsed.headerLines;
    expect(lines.find((h) => h.key === "list-unsubscribe")!.line.replace(/\r\n/g, "")).toBe(
      "List-Unsubscribe: <mailto:unsubscribe@example.com>, <https://example.com/u?id=42>",
    );
    expect(lines.filter((h) => h.key === "x-tag").map((h) => h.line)).toEqual(["X-Tag: a", "X-Tag: b"]);
    expect(lines.find((h) => h.key === "x-campaign")!.line).toMatch(/^X-Campaign: =\?utf-8\?/);
  });

  it("a 5 MB ReadableStream attachment arrives byte for byte", async () => {
    const content = randomBytes(5 * 1024 * 1024, 3);
    const s = await server();
    const smtp = createTransport(options(s));
    try {
      const sent = await smtp
        .send({ to: "bob@example.org", subject: "Stream", text: "x", attachments: [{ filename: "big.bin", content: streamOf(content), size: content.length }] })
        .catch((error: unknown) => error);
      expect(sent).not.toBeInstanceOf(Error);
      const [captured] = await s.waitForMessages(1);
      const file = captured!.parsed.attachments[0]!;
      expect(file.filename).toBe("big.bin");
      expect(Buffer.compare(file.content, Buffer.from(content))).toBe(0);
    } finally {
      await smtp.close();
    }
  });

  it("a stream shorter than its size fails the send; nothing is delivered; the next send works", async () => {
    const s = await server();
    const smtp = createTransport(options(s));
    try {
      const error = await smtp
        .send({ to: "bob@example.org", subject: "Short", text: "x", attachments: [{ filename: "s.bin", content: streamOf(randomBytes(1000, 4)), size: 2000 }] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "EATTACHMENT", field: "attachments[0].size" });
      await smtp.send({ to: "bob@example.org", subject: "Next", text: "fine" });
      const [captured] = await s.waitForMessages(1);
      expect(captured!.parsed.subject).toBe("Next");
      expect(s.messages).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });
});
