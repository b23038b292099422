// The mechanics behind the speed targets, counted on the wire (not timed).
import { simpleParser } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, SmtpMessageError, type TransportOptions } from "../../entries/node.ts";
import { randomBytes, streamOf } from "../helpers/bytes.ts";
import { startRecordingServer, type RecordingServer } from "../helpers/recording-server.ts";

const servers: RecordingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function recording(extensions: string[], acceptDelayMs = 0): Promise<RecordingServer> {
  const s = await startRecordingServer({ extensions, acceptDelayMs });
  servers.push(s);
  return s;
}

const opts = (s: RecordingServer, extra: Partial<TransportOptions> = {}): TransportOptions => ({
  host: "127.0.0.1", port: s.port, encryption: "none", ...extra,
});

const to = Array.from({ length: 10 }, (_, i) => `r${i}@example.com`);

describe("round trips", () => {
  it("with CHUNKING and PIPELINING the envelope, BDAT and the body go out in one write, with no DATA", async () => {
    const s = await recording(["PIPELINING", "CHUNKING", "SIZE 100000"]);
    const smtp = createTransport(opts(s));
    const receipt = await smtp.send({ from: "a@example.com", to, subject: "s", text: ".dot line\nend" });
    expect(receipt.accepted).toEqual(to);
    expect(s.commands).not.toContain("DATA");
    const write = s.chunks[0]!.find((c) => c.startsWith("MAIL FROM"))!;
    expect(write.startsWith(`MAIL FROM:<a@example.com> SIZE=`)).toBe(true);
    expect(write).toContain(`RCPT TO:<r9@example.com>\r\nBDAT `);
    expect(write).toContain("\r\n.dot line\r\n"); // BDAT carries the body unstuffed
    expect(s.messages[0]).toContain("Subject: s");
  });

  it("without CHUNKING, one send with 10 recipients writes the envelope and DATA as one write", async () => {
    const s = await recording(["PIPELINING"]);
    await createTransport(opts(s)).send({ from: "a@example.com", to, subject: "s", text: ".x" });
    const envelope = s.chunks[0]!.find((c) => c.startsWith("MAIL FROM"))!;
    expect(envelope.split("\r\n").filter(Boolean)).toEqual(["MAIL FROM:<a@example.com>", ...to.map((r) => `RCPT TO:<${r}>`), "DATA"]);
    expect(s.messages[0]).toContain("\r\n.x\r\n");
  });

  it("an over-SIZE message is refused before MAIL, DATA or BDAT", async () => {
    const s = await recording(["PIPELINING", "CHUNKING", "SIZE 1000"]);
    const error = await createTransport(opts(s)).send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "x".repeat(2000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpMessageError);
    expect(error).toMatchObject({ code: "ESIZE", phase: "envelope" });
    expect(s.commands.filter((c) => /^(MAIL|DATA|BDAT)/.test(c))).toEqual([]);
  });

  it("concurrent sends share one connection and each message follows the previous without waiting for its reply", async () => {
    const s = await recording(["PIPELINING", "CHUNKING"]);
    const smtp = createTransport(opts(s));
    const receipts = await Promise.all(Array.from({ length: 20 }, (_, i) => smtp.send({ from: "a@example.com", to: "b@example.com", subject: `m${i}`, text: "t" })));
    await smtp.close();
    expect(receipts).toHaveLength(20);
    expect(s.chunks).toHaveLength(1);
    expect(s.messages.map((m) => /Subject: (m\d+)/.exec(m)?.[1])).toEqual(receipts.map((_, i) => `m${i}`));
    // Fewer writes than messages: later messages were written before earlier replies came back.
    const mailWrites = s.chunks[0]!.filter((c) => c.includes("MAIL FROM")).length;
    expect(mailWrites).toBeLessThan(20);
  });

  it("with idleTimeout the connection is kept between sequential sends and RSET is not sent after success", async () => {
    const s = await recording(["PIPELINING"]);
    const smtp = createTransport(opts(s, { idleTimeout: 5000 }));
    for (let i = 0; i < 3; i++) await smtp.send({ from: "a@example.com", to: "b@example.com", subject: `m${i}`, text: "t" });
    await smtp.close();
    expect(s.chunks).toHaveLength(1);
    expect(s.messages).toHaveLength(3);
    expect(s.commands).not.toContain("RSET");
    expect(s.commands[s.commands.length - 1]).toBe("QUIT");
  });

  it("maxMessagesPerConnection replaces the connection", async () => {
    const s = await recording([]);
    const smtp = createTransport(opts(s, { idleTimeout: 5000, maxMessagesPerConnection: 2 }));
    for (let i = 0; i < 5; i++) await smtp.send({ from: "a@example.com", to: "b@example.com", subject: `m${i}`, text: "t" });
    await smtp.close();
    expect(s.chunks).toHaveLength(3);
    expect(s.messages).toHaveLength(5);
  });

  it("maxConnections opens parallel connections for concurrent sends", async () => {
    const s = await recording([]);
    const smtp = createTransport(opts(s, { maxConnections: 3 }));
    await Promise.all(Array.from({ length: 9 }, (_, i) => smtp.send({ from: "a@example.com", to: "b@example.com", subject: `m${i}`, text: "t" })));
    await smtp.close();
    expect(s.chunks).toHaveLength(3);
    expect(s.messages).toHaveLength(9);
  });

  // The writer reads attachments into reused buffers: each must be on the wire before the next is made.
  it("with CHUNKING, concurrent sends of large attachments of every kind arrive intact", async () => {
    const s = await recording(["PIPELINING", "CHUNKING"]);
    const smtp = createTransport(opts(s));
    const raw = new Uint8Array(400_000).map((_, i) => (i * 7919) % 256);
    const b64 = Buffer.from(new Uint8Array(300_000).map((_, i) => (i * 104_729) % 256)).toString("base64");
    const attachments = [
      { filename: "raw.bin", content: raw },
      { filename: "clean.b64", content: b64 },
      { filename: "messy.b64", content: b64.replace(/(.{60})/g, "$1\r\n") },
    ];
    await Promise.all([1, 2, 3].map((n) => smtp.send({ from: "a@example.com", to: "b@example.com", subject: `m${n}`, text: "t", attachments })));
    await smtp.close();
    expect(s.commands).not.toContain("DATA");
    expect(s.messages).toHaveLength(3);
    for (const message of s.messages) {
      const parsed = await simpleParser(Buffer.from(message, "latin1"));
      const files = Object.fromEntries(parsed.attachments.map((a) => [a.filename, a.content]));
      expect(Buffer.compare(files["raw.bin"]!, Buffer.from(raw))).toBe(0);
      expect(files["clean.b64"]!.toString("base64")).toBe(b64);
      expect(files["messy.b64"]!.toString("base64")).toBe(b64);
    }
  });

  it("onProgress reports bytes written up to the exact total", async () => {
    const s = await recording(["PIPELINING", "CHUNKING"]);
    const seen: { written: number; total: number }[] = [];
    const content = Buffer.from(new Uint8Array(300_000).map((_, i) => i % 251)).toString("base64");
    await createTransport(opts(s)).send(
      { from: "a@example.com", to: "b@example.com", subject: "s", text: "t", attachments: [{ filename: "a.bin", content }] },
      { onProgress: (p) => seen.push(p) },
    );
    expect(seen.length).toBeGreaterThan(2);
    const last = seen[seen.length - 1]!;
    expect(last.written).toBe(last.total);
    expect(last.total).toBe(s.messages[0]!.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.written).toBeGreaterThanOrEqual(seen[i - 1]!.written);
  });
});

describe("QUIT with the last message (RFC 2920 §3.1: QUIT may end a pipelined group)", () => {
  const message = { from: "a@example.com", to: "b@example.com", subject: "s", text: "t" };

  it.each([
    ["DATA", ["PIPELINING"], ".\r\nQUIT\r\n"],
    ["BDAT", ["PIPELINING", "CHUNKING"], "\r\nQUIT\r\n"],
  ])("a transport's only send puts QUIT in the same write as the end of the message (%s)", async (_kind, extensions, ending) => {
    const s = await recording(extensions);
    const smtp = createTransport(opts(s));
    await smtp.send(message);
    await smtp.close();
    expect(s.messages).toHaveLength(1);
    // Received as one chunk: written together, not after the message's reply came back.
    const last = s.chunks[0]![s.chunks[0]!.length - 1]!;
    expect(last.endsWith(ending)).toBe(true);
    expect(last.length).toBeGreaterThan(ending.length);
    expect(s.commands.filter((c) => c === "QUIT")).toHaveLength(1);
  });

  it("without PIPELINING, QUIT waits for the message's reply", async () => {
    const s = await recording([]);
    const smtp = createTransport(opts(s));
    await smtp.send(message);
    await smtp.close();
    expect(s.chunks[0]![s.chunks[0]!.length - 1]).toBe("QUIT\r\n");
  });

  it("with idleTimeout the connection stays open after the message, and QUIT comes with close()", async () => {
    const s = await recording(["PIPELINING"]);
    const smtp = createTransport(opts(s, { idleTimeout: 5000 }));
    await smtp.send(message);
    expect(s.commands).not.toContain("QUIT");
    await smtp.send(message);
    await smtp.close();
    expect(s.chunks).toHaveLength(1);
    expect(s.commands.filter((c) => c === "QUIT")).toHaveLength(1);
  });

  it("a send made while that message's reply is pending goes on a new connection, and both arrive", async () => {
    const s = await recording(["PIPELINING"], 150);
    const smtp = createTransport(opts(s));
    let second: Promise<unknown> | undefined;
    const first = await smtp.send(message, {
      onProgress: (p) => {
        // The whole message (and QUIT) is written; its reply is held back by the server.
        if (p.written === p.total) second ??= smtp.send({ ...message, subject: "second" });
      },
    });
    expect(second).toBeDefined();
    await expect(second).resolves.toMatchObject({ accepted: ["b@example.com"] });
    await smtp.close();
    expect(first.accepted).toEqual(["b@example.com"]);
    expect(s.messages).toHaveLength(2);
    expect(s.chunks).toHaveLength(2);
  });
});

describe("DATA with base64 attachments", () => {
  // Base64 chunks skip the dot-stuffing scan; the dots of the text next to them must not.
  it("is dot-stuffed exactly as the reference stuffs the received message, with every attachment intact", async () => {
    const s = await recording(["PIPELINING"]);
    const smtp = createTransport(opts(s));
    const text = ".first\n" + "..x\n.\nmid.dle\n".repeat(9000) + ".last";
    const html = "<p>\n.dot</p>\n.".repeat(50);
    const raw = randomBytes(150_001, 1);
    const b64 = Buffer.from(randomBytes(130_000, 2)).toString("base64");
    const streamed = randomBytes(70_000, 3);
    for (const n of [1, 2]) {
      await smtp.send({
        from: "a@example.com",
        to: "b@example.com",
        subject: `m${n}`,
        text,
        html,
        attachments: [
          { filename: "raw.bin", content: raw },
          { filename: "clean.b64", content: b64 },
          { filename: "text.txt", content: new TextEncoder().encode(".a\r\n.b\r\n") },
          { filename: "messy.b64", content: b64.replace(/(.{60})/g, "$1\r\n") },
          {
            filename: "streamed.bin",
            size: streamed.length,
            content: streamOf(streamed, 9_999),
          },
        ],
      });
    }
    await smtp.close();
    const wire = s.chunks.flat().join("");
    let from = 0;
    for (const [i, message] of s.messages.entries()) {
      const start = wire.indexOf("DATA\r\n", from) + 6;
      const end = wire.indexOf("\r\n.\r\n", start) + 5;
      from = end;
      // The server undid the stuffing; stuffing its result again must give the wire bytes.
      const reference = ("\n" + message).replace(/\n\./g, "\n..").slice(1) + ".\r\n";
      expect(wire.slice(start, end) === reference, `message ${i}`).toBe(true);
      const parsed = await simpleParser(Buffer.from(message, "latin1"));
      expect(parsed.text?.replace(/\n$/, "")).toBe(text);
      const files = Object.fromEntries(parsed.attachments.map((a) => [a.filename, a.content]));
      expect(Buffer.compare(files["raw.bin"]!, Buffer.from(raw))).toBe(0);
      expect(files["clean.b64"]!.toString("base64")).toBe(b64);
      expect(files["messy.b64"]!.toString("base64")).toBe(b64);
      expect(files["text.txt"]!.toString("latin1")).toBe(".a\r\n.b\r\n");
      expect(Buffer.compare(files["streamed.bin"]!, Buffer.from(streamed))).toBe(0);
    }
    expect(s.messages).toHaveLength(2);
  });
});
