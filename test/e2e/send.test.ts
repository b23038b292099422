// End to end through the real Node adapter: a real smtp-server on loopback receives the
// mail, mailparser reads what arrived.
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, SmtpAuthError, SmtpTlsError, type MailMessage, type TransportOptions } from "../../entries/node.ts";
import { startTestServer, type CapturedMessage, type TestServer, type TestServerOptions } from "../helpers/smtp-server.ts";

const USER = "user@example.com";
const PASSWORD = "secret";
const servers: TestServer[] = [];

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function options(s: TestServer, extra: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: "localhost",
    port: s.port,
    encryption: "starttls",
    ca: s.caPem,
    auth: { username: USER, password: PASSWORD },
    ...extra,
  };
}

async function sendOne(s: TestServer, message: MailMessage, extra: Partial<TransportOptions> = {}) {
  const smtp = createTransport(options(s, extra));
  try {
    const receipt = await smtp.send(message);
    const [captured] = await s.waitForMessages(1);
    return { receipt, captured: captured! };
  } finally {
    await smtp.close();
  }
}

// Raw header value as sent (mailparser folds the importance headers into "priority").
const rawHeader = (captured: CapturedMessage, name: string): string | undefined =>
  captured.parsed.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]*:\s*/, "");
const header = (captured: CapturedMessage, name: string): unknown => captured.parsed.headers.get(name);

describe("the spec's four examples, sent over STARTTLS", () => {
  it("plain text security alert: subject, from defaults to the username, text/plain, no importance headers", async () => {
    const s = await server();
    const body = "A suspicious login attempt was detected on your account from IP 203.0.113.42. Please review your recent activity.";
    const { receipt, captured } = await sendOne(s, {
      to: ["security-team@example.com"],
      subject: "Security Alert: Suspicious Login Detected",
      text: body,
    });
    expect(captured.parsed.subject).toBe("Security Alert: Suspicious Login Detected");
    expect(captured.parsed.from?.value[0]?.address).toBe(USER);
    expect(captured.parsed.text?.trimEnd()).toBe(body);
    expect(captured.parsed.html).toBe(false);
    expect((header(captured, "content-type") as { value: string }).value).toBe("text/plain");
    for (const name of ["importance", "x-priority", "x-msmail-priority"]) expect(rawHeader(captured, name)).toBeUndefined();
    expect(captured.secure).toBe(true);
    expect(receipt.accepted).toEqual(["security-team@example.com"]);
    expect(receipt.rejected).toEqual([]);
    expect(receipt.messageId).toBe(captured.parsed.messageId);
    expect(receipt.messageId).toMatch(/^<[^@\s]+@example\.com>$/);
    expect(receipt.response).toMatch(/^250 /);
  });

  it("HTML weekly report: text/html, cc, and the three high-importance headers", async () => {
    const s = await server();
    const html = "<h1>Threat Intelligence Report</h1><p>Week of March 10, 2025</p>";
    const { captured } = await sendOne(s, {
      to: ["soc-team@example.com"],
      cc: ["ciso@example.com"],
      subject: "Weekly Threat Intelligence Report",
      html,
      importance: "high",
    });
    // The single body part ends with the line break that closes it.
    expect(captured.parsed.html).toBe(`${html}\n`);
    expect((header(captured, "content-type") as { value: string }).value).toBe("text/html");
    expect(captured.parsed.cc && !Array.isArray(captured.parsed.cc) ? captured.parsed.cc.value.map((a) => a.address) : []).toEqual(["ciso@example.com"]);
    expect(rawHeader(captured, "importance")).toBe("High");
    expect(rawHeader(captured, "x-priority")).toBe("1 (Highest)");
    expect(rawHeader(captured, "x-msmail-priority")).toBe("High");
    expect(captured.rcptTo).toEqual(["soc-team@example.com", "ciso@example.com"]);
  });

  it("monthly audit: the base64 CSV attachment arrives byte-exact with its filename", async () => {
    const s = await server();
    const content = "aWQsdGltZXN0YW1wLGV2ZW50LHNldmVyaXR5CjEsMjAyNS0wMy0wMVQxMDowMDowMFosImxvZ2luX2ZhaWx1cmUiLCJoaWdoIg==";
    const { captured } = await sendOne(s, {
      to: ["compliance@example.com"],
      subject: "Monthly Audit Report",
      text: "Please find the audit report attached.",
      attachments: [{ filename: "audit-report-march-2025.csv", content }],
    });
    const [attachment] = captured.parsed.attachments;
    expect(attachment?.filename).toBe("audit-report-march-2025.csv");
    expect(attachment?.contentType).toBe("text/csv");
    expect(attachment?.content.equals(Buffer.from(content, "base64"))).toBe(true);
  });

  it("incident notification: Reply-To, cc, bcc delivered through the envelope but absent from headers", async () => {
    const s = await server();
    const { receipt, captured } = await sendOne(s, {
      to: ["incident-response@example.com", "it-ops@example.com"],
      cc: ["management@example.com"],
      bcc: ["legal@example.com"],
      subject: "CRITICAL: Active Incident - Ransomware Detected",
      html: "<h2>Incident Notification</h2><p>Host <code>WS-FIN-042</code> isolated.</p>",
      importance: "high",
      replyTo: "soc@example.com",
    });
    expect(captured.parsed.replyTo?.value[0]?.address).toBe("soc@example.com");
    expect(captured.parsed.bcc).toBeUndefined();
    expect(captured.raw.toString("latin1")).not.toMatch(/^bcc:/im);
    expect(captured.raw.toString("latin1")).not.toContain("legal@example.com");
    expect(captured.rcptTo).toEqual([
      "incident-response@example.com", "it-ops@example.com", "management@example.com", "legal@example.com",
    ]);
    expect(receipt.envelope.to).toContain("legal@example.com");
    expect(receipt.accepted).toHaveLength(4);
  });
});

describe("message content", () => {
  it("low importance gets the mirror headers", async () => {
    const s = await server();
    const { captured } = await sendOne(s, { to: "a@example.com", subject: "low", text: "x", importance: "low" });
    expect(rawHeader(captured, "importance")).toBe("Low");
    expect(rawHeader(captured, "x-priority")).toBe("5 (Lowest)");
    expect(rawHeader(captured, "x-msmail-priority")).toBe("Low");
  });

  it("a non-ASCII subject and body, a line starting with '.', and a 4,000-character line arrive intact", async () => {
    const s = await server();
    const long = "x".repeat(3990) + "ümlaut";
    const text = `Grüße aus Zürich — 日本語 🎉\n.leading dot\n..two dots\n.\n${long}\nend`;
    const subject = "Überprüfung: Ação necessária — 警告 🚨";
    const { captured } = await sendOne(s, { to: "a@example.com", subject, text });
    expect(captured.parsed.subject).toBe(subject);
    expect(captured.parsed.text?.replace(/\r?\n$/, "")).toBe(text);
    for (const line of captured.raw.toString("latin1").split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
  });

  it("a 5 MB attachment arrives byte-exact", async () => {
    const s = await server();
    const bytes = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const { captured } = await sendOne(s, {
      to: "a@example.com",
      subject: "big",
      text: "see attached",
      attachments: [{ filename: "blob.bin", content: Buffer.from(bytes).toString("base64") }],
    });
    const got = captured.parsed.attachments[0]!.content;
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
  });
});

describe("encryption modes and authentication", () => {
  it.each(["login", "plain"] as const)("AUTH %s succeeds over STARTTLS with the right password", async (method) => {
    const s = await server();
    const { captured } = await sendOne(s, { to: "a@example.com", subject: "s", text: "t" }, { auth: { username: USER, password: PASSWORD, method } });
    expect(s.authAttempts).toEqual([{ method: method.toUpperCase(), username: USER, success: true, secure: true }]);
    expect(captured.user).toBe(USER);
  });

  it.each(["login", "plain"] as const)("AUTH %s with the wrong password fails with a typed auth error", async (method) => {
    const s = await server();
    const smtp = createTransport(options(s, { auth: { username: USER, password: "wrong-password", method } }));
    const error = await smtp.send({ to: "a@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error).toMatchObject({ code: "EAUTH", phase: "auth", replyCode: 535, retryable: false });
    expect(String((error as Error).message) + JSON.stringify(error)).not.toContain("wrong-password");
    expect(s.messages).toHaveLength(0);
    await smtp.close();
  });

  it("implicit TLS with AUTH PLAIN", async () => {
    const s = await server({ mode: "tls" });
    const { captured } = await sendOne(s, { to: "a@example.com", subject: "tls", text: "t" }, {
      encryption: "tls", auth: { username: USER, password: PASSWORD, method: "plain" },
    });
    expect(captured.secure).toBe(true);
    expect(captured.parsed.subject).toBe("tls");
  });

  it("encryption none sends in plaintext on a trusted network", async () => {
    const s = await server({ mode: "plain" });
    const { captured } = await sendOne(s, { to: "a@example.com", subject: "plain", text: "t" }, { encryption: "none" });
    expect(captured.secure).toBe(false);
    expect(s.authAttempts[0]).toMatchObject({ success: true, secure: false });
  });

  it("starttls against a server without STARTTLS fails with a TLS error before any AUTH", async () => {
    const s = await server({ mode: "plain" });
    const smtp = createTransport(options(s));
    const error = await smtp.send({ to: "a@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect(error).toMatchObject({ code: "ESTARTTLS", phase: "tls" });
    expect(s.authAttempts).toEqual([]);
    expect(s.messages).toEqual([]);
    await smtp.close();
  });

  it("an untrusted certificate fails unless its CA is given", async () => {
    const s = await server();
    const withoutCa = createTransport({ ...options(s), ca: undefined });
    const error = await withoutCa.send({ to: "a@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect(error).toMatchObject({ code: "ECERT", phase: "tls" });
    expect(s.authAttempts).toEqual([]);
    await withoutCa.close();
    const { captured } = await sendOne(s, { to: "a@example.com", subject: "trusted", text: "t" });
    expect(captured.parsed.subject).toBe("trusted");
  });

  it("a certificate for another host name is rejected even with the CA", async () => {
    const s = await server({ cert: "wrong-host" });
    const smtp = createTransport(options(s));
    const error = await smtp.send({ to: "a@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ECERT", phase: "tls" });
    await smtp.close();
  });

  it("a self-signed certificate is rejected for implicit TLS", async () => {
    const s = await server({ mode: "tls", cert: "self-signed" });
    const smtp = createTransport(options(s, { encryption: "tls" }));
    const error = await smtp.send({ to: "a@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ECERT", phase: "connect" });
    await smtp.close();
  });

  it("the transcript logger never sees the password or its base64 forms", async () => {
    const s = await server();
    const lines: string[] = [];
    for (const method of ["login", "plain"] as const) {
      await sendOne(s, { to: "a@example.com", subject: "log", text: "t" }, {
        auth: { username: USER, password: PASSWORD, method },
        logger: ({ direction, line }) => lines.push(`${direction} ${line}`),
      });
      s.messages.length = 0;
    }
    const transcript = lines.join("\n");
    expect(transcript).toContain("AUTH PLAIN [redacted]");
    expect(transcript).toContain("client [redacted]");
    for (const secret of [PASSWORD, btoa(PASSWORD), btoa(`\0${USER}\0${PASSWORD}`)]) expect(transcript).not.toContain(secret);
  });

  it("sends queued messages back to back over one connection", async () => {
    const s = await server();
    const smtp = createTransport(options(s));
    const receipts = await Promise.all([1, 2, 3].map((n) => smtp.send({ to: "a@example.com", subject: `n${n}`, text: "t" })));
    await smtp.close();
    expect(receipts).toHaveLength(3);
    expect(s.messages.map((m) => m.parsed.subject)).toEqual(["n1", "n2", "n3"]);
    expect(s.sessions).toBe(1);
  });
});
