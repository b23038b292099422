/**
 * The e2e fixtures, driven through the Node adapter with hand-written SMTP: the harness must
 * capture exactly what arrives, and every option must do what it says.
 */
import { afterEach, describe, expect, it } from "vitest";
import { nodeConnector } from "../../../adapters/node.ts";
import { SocketError, type SmtpSocket } from "../../../src/socket.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../../helpers/smtp-server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A minimal line-level SMTP client over an {@link SmtpSocket}. */
class Dialog {
  #buffer = "";
  constructor(public socket: SmtpSocket) {}

  /** Reads one complete (possibly multi-line) reply. */
  async reply(): Promise<string> {
    for (;;) {
      const match = /(^|\r\n)\d{3} [^\r\n]*\r\n/.exec(this.#buffer);
      if (match) {
        const end = match.index + match[0].length;
        const text = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end);
        return text;
      }
      const chunk = await this.socket.read();
      if (chunk === null) throw new Error(`EOF inside a reply: ${JSON.stringify(this.#buffer)}`);
      this.#buffer += decoder.decode(chunk);
    }
  }

  async send(line: string): Promise<string> {
    await this.socket.write(encoder.encode(`${line}\r\n`));
    return this.reply();
  }

  async starttls(): Promise<void> {
    expect(await this.send("STARTTLS")).toMatch(/^220 /);
    expect(this.#buffer).toBe("");
    this.socket = await this.socket.startTls({ servername: "localhost", ca: [server.caPem] });
    cleanups.push(() => this.socket.abort());
  }
}

let server: TestServer;

async function start(options: TestServerOptions = {}): Promise<TestServer> {
  server = await startTestServer(options);
  cleanups.push(() => server.close());
  return server;
}

async function open(tls: "on" | "starttls" = "starttls"): Promise<Dialog> {
  const socket = await nodeConnector.connect({
    hostname: server.host,
    port: server.port,
    tls,
    servername: "localhost",
    ca: [server.caPem],
  });
  cleanups.push(() => socket.abort());
  const dialog = new Dialog(socket);
  expect(await dialog.reply()).toMatch(/^220 smtp\.test /);
  return dialog;
}

const b64 = (text: string): string => Buffer.from(text).toString("base64");

describe("startTestServer", () => {
  it("captures a message byte-exact after STARTTLS and AUTH PLAIN", async () => {
    await start();
    const d = await open();
    let ehlo = await d.send("EHLO client.test");
    expect(ehlo).toContain("STARTTLS");
    // smtp-server advertises AUTH before TLS but refuses it there (allowInsecureAuth false).
    expect(await d.send(`AUTH PLAIN ${b64("\0user@example.com\0secret")}`)).toMatch(/^538 /);
    await d.starttls();
    ehlo = await d.send("EHLO client.test");
    expect(ehlo).toContain("AUTH PLAIN LOGIN");
    expect(await d.send(`AUTH PLAIN ${b64("\0user@example.com\0secret")}`)).toMatch(/^235 /);
    expect(await d.send("MAIL FROM:<from@example.com>")).toMatch(/^250 /);
    expect(await d.send("RCPT TO:<a@example.com>")).toMatch(/^250 /);
    expect(await d.send("RCPT TO:<b@example.com>")).toMatch(/^250 /);
    expect(await d.send("DATA")).toMatch(/^354 /);
    const body = "Subject: Hello\r\nFrom: from@example.com\r\n\r\n..a stuffed dot line\r\nend\r\n";
    expect(await d.send(`${body}.`)).toMatch(/^250 /);
    const [message] = await server.waitForMessages(1);
    expect(message?.raw.toString("latin1")).toBe(body.replace("\r\n..a", "\r\n.a"));
    expect(message?.mailFrom).toBe("from@example.com");
    expect(message?.rcptTo).toEqual(["a@example.com", "b@example.com"]);
    expect(message?.parsed.subject).toBe("Hello");
    expect(message?.parsed.text).toBe(".a stuffed dot line\nend\n");
    expect(message?.secure).toBe(true);
    expect(message?.user).toBe("user@example.com");
    expect(server.authAttempts).toEqual([{ method: "PLAIN", username: "user@example.com", success: true, secure: true }]);
    expect(await d.send("QUIT")).toMatch(/^221 /);
  });

  it("records failed AUTH LOGIN in plain mode and requires AUTH by default", async () => {
    await start({ mode: "plain" });
    const d = await open();
    const ehlo = await d.send("EHLO client.test");
    expect(ehlo).not.toContain("STARTTLS");
    expect(await d.send("MAIL FROM:<from@example.com>")).toMatch(/^530 /);
    expect(await d.send("AUTH LOGIN")).toMatch(/^334 /);
    expect(await d.send(b64("user@example.com"))).toMatch(/^334 /);
    expect(await d.send(b64("wrong"))).toMatch(/^535 /);
    expect(server.authAttempts).toEqual([{ method: "LOGIN", username: "user@example.com", success: false, secure: false }]);
  });

  it("noAuth hides AUTH and accepts mail without it; messages keep no user", async () => {
    await start({ mode: "plain", noAuth: true });
    const d = await open();
    expect(await d.send("EHLO client.test")).not.toContain("AUTH");
    expect(await d.send("MAIL FROM:<>")).toMatch(/^250 /);
    expect(await d.send("RCPT TO:<a@example.com>")).toMatch(/^250 /);
    expect(await d.send("DATA")).toMatch(/^354 /);
    expect(await d.send("Subject: x\r\n\r\nbody\r\n.")).toMatch(/^250 /);
    const [message] = await server.waitForMessages(1);
    expect(message?.mailFrom).toBe("");
    expect(message?.user).toBeUndefined();
    expect(message?.secure).toBe(false);
  });

  it("applies the sender, recipient and data rejection hooks", async () => {
    await start({
      mode: "plain",
      noAuth: true,
      rejectSender: (a) => (a === "bad@example.com" ? { code: 553, message: "Sender not allowed" } : undefined),
      rejectRecipient: (a) => (a.startsWith("full") ? { code: 452, message: "Mailbox full" } : undefined),
      rejectData: () => ({ code: 554, message: "Looks like spam" }),
    });
    const d = await open();
    await d.send("EHLO client.test");
    expect(await d.send("MAIL FROM:<bad@example.com>")).toBe("553 Sender not allowed\r\n");
    expect(await d.send("MAIL FROM:<good@example.com>")).toMatch(/^250 /);
    expect(await d.send("RCPT TO:<full@example.com>")).toBe("452 Mailbox full\r\n");
    expect(await d.send("RCPT TO:<ok@example.com>")).toMatch(/^250 /);
    expect(await d.send("DATA")).toMatch(/^354 /);
    const big = "x".repeat(998) + "\r\n";
    expect(await d.send(`Subject: spam\r\n\r\n${big.repeat(200)}.`)).toBe("554 Looks like spam\r\n");
    expect(await d.send("RSET")).toMatch(/^250 /);
    expect(await d.send("QUIT")).toMatch(/^221 /);
    expect(server.messages).toEqual([]);
  });

  it("advertises and enforces SIZE", async () => {
    await start({ mode: "plain", noAuth: true, size: 1000 });
    const d = await open();
    expect(await d.send("EHLO client.test")).toContain("SIZE 1000");
    expect(await d.send("MAIL FROM:<a@example.com> SIZE=2000")).toMatch(/^552 /);
    expect(await d.send("MAIL FROM:<a@example.com>")).toMatch(/^250 /);
    expect(await d.send("RCPT TO:<b@example.com>")).toMatch(/^250 /);
    expect(await d.send("DATA")).toMatch(/^354 /);
    expect(await d.send(`Subject: big\r\n\r\n${"y".repeat(2000)}\r\n.`)).toMatch(/^552 /);
    expect(server.messages).toEqual([]);
  });

  it("runs implicit TLS and counts sessions", async () => {
    await start({ mode: "tls" });
    const d = await open("on");
    expect(d.socket.secure).toBe(true);
    expect(await d.send("EHLO client.test")).toContain("AUTH PLAIN LOGIN");
    await open("on");
    expect(server.sessions).toBe(2);
  });

  it("presents the self-signed and wrong-host certificates on request", async () => {
    await start({ mode: "tls", cert: "self-signed" });
    const untrusted = await nodeConnector
      .connect({ hostname: server.host, port: server.port, tls: "on", servername: "localhost", ca: [server.caPem] })
      .catch((err: unknown) => err);
    expect((untrusted as SocketError).kind).toBe("TLS_UNTRUSTED");
    await server.close();

    await start({ mode: "tls", cert: "wrong-host" });
    const mismatch = await nodeConnector
      .connect({ hostname: server.host, port: server.port, tls: "on", servername: "localhost", ca: [server.caPem] })
      .catch((err: unknown) => err);
    expect((mismatch as SocketError).kind).toBe("TLS_HOSTNAME");
  });

  it("waitForMessages rejects after its timeout", async () => {
    await start();
    await expect(server.waitForMessages(1, 50)).rejects.toThrow(/Expected "1" messages within 50 ms/);
  });
});
