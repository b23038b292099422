// CRAM-MD5 (RFC 2195) and the automatic choice among password mechanisms, end to end
// against smtp-server, whose CRAM-MD5 check is node:crypto's HMAC-MD5: an implementation
// independent of ours.
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTransport,
  SmtpAuthError,
  SmtpError,
  type Transport,
  type TransportOptions,
  type TranscriptLine,
} from "../../entries/node.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/smtp-server.ts";

const USER = "user@example.com";
const PASSWORD = "Cram-\u00e4-Pa55word!";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer({ users: { [USER]: PASSWORD }, ...options });
  cleanups.push(() => s.close());
  return s;
}

function transport(port: number, s: TestServer, auth: TransportOptions["auth"], extra: Partial<TransportOptions> = {}): { smtp: Transport; log: TranscriptLine[] } {
  const log: TranscriptLine[] = [];
  const smtp = createTransport({
    host: "localhost", port, encryption: "starttls", ca: s.caPem, auth, logger: (line) => log.push(line), ...extra,
  });
  cleanups.push(() => smtp.close());
  return { smtp, log };
}

async function failure(promise: Promise<unknown>): Promise<SmtpError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SmtpError);
  return error as SmtpError;
}

/** A TCP relay in front of `target` that keeps every byte the client sent. */
async function wiretap(target: number): Promise<{ port: number; sent(): string }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.once("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    relay.close(() => resolve());
  }));
  return { port: (relay.address() as AddressInfo).port, sent: () => Buffer.concat(chunks).toString("latin1") };
}

describe("CRAM-MD5", () => {
  it("logs in: the server's HMAC-MD5 check passes, with a non-ASCII password", async () => {
    const s = await server({ authMethods: ["CRAM-MD5"] });
    const { smtp, log } = transport(s.port, s, { username: USER, password: PASSWORD, method: "cram-md5" });
    const report = await smtp.verify();
    expect(report).toMatchObject({ authenticated: true, authMethod: "cram-md5", secure: true });
    expect(s.authAttempts).toEqual([{ method: "CRAM-MD5", username: USER, success: true, secure: true }]);
    const client = log.filter((l) => l.direction === "client").map((l) => l.line);
    const at = client.indexOf("AUTH CRAM-MD5");
    expect(client.slice(at, at + 2)).toEqual(["AUTH CRAM-MD5", "[redacted]"]);
    // The challenge is shown: it is no secret.
    expect(log.some((l) => l.direction === "server" && /^334 \S+/.test(l.line))).toBe(true);
  });

  it("sends mail after logging in", async () => {
    const s = await server({ authMethods: ["CRAM-MD5"] });
    const { smtp } = transport(s.port, s, { username: USER, password: PASSWORD, method: "cram-md5" });
    await smtp.send({ to: "ada@example.com", subject: "Hi", text: "Hello" });
    const [message] = await s.waitForMessages(1);
    expect(message?.user).toBe(USER);
  });

  it("keeps the password off the wire, even in plaintext", async () => {
    const s = await server({ mode: "plain", authMethods: ["CRAM-MD5", "PLAIN", "LOGIN"] });
    const tap = await wiretap(s.port);
    const { smtp } = transport(tap.port, s, { username: USER, password: PASSWORD, method: "cram-md5" }, { encryption: "none" });
    await smtp.verify();
    const sent = tap.sent();
    expect(sent).toContain("AUTH CRAM-MD5\r\n");
    for (const form of [PASSWORD, "Pa55word", Buffer.from(PASSWORD).toString("base64"), Buffer.from(`\0${USER}\0${PASSWORD}`).toString("base64")]) {
      expect(sent).not.toContain(form);
    }
    // What was sent is "user <32 hex digits>", base64-encoded.
    const response = sent.split("\r\n")[sent.split("\r\n").indexOf("AUTH CRAM-MD5") + 1] ?? "";
    expect(Buffer.from(response, "base64").toString()).toMatch(new RegExp(`^${USER} [0-9a-f]{32}$`));
  });

  it("fails with EAUTH for a wrong password, without the password anywhere", async () => {
    const s = await server({ authMethods: ["CRAM-MD5"] });
    const wrong = "Wrong-\u00fc-password-4711";
    const { smtp, log } = transport(s.port, s, { username: USER, password: wrong, method: "cram-md5" });
    const error = await failure(smtp.verify());
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error).toMatchObject({ code: "EAUTH", phase: "auth", replyCode: 535, command: "AUTH CRAM-MD5", retryable: false });
    expect(error.hint).toMatch(/"plain"/);
    expect(s.authAttempts).toEqual([{ method: "CRAM-MD5", username: USER, success: false, secure: true }]);
    const views = [JSON.stringify(error), String(error), error.stack ?? "", JSON.stringify(log)];
    for (const view of views) expect(view).not.toContain("password-4711");
  });

  it("fails with EAUTHMECH when asked for but not offered, suggesting what is", async () => {
    const s = await server({ authMethods: ["PLAIN", "LOGIN"] });
    const { smtp } = transport(s.port, s, { username: USER, password: PASSWORD, method: "cram-md5" });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTHMECH" });
    expect(error.message).toContain("CRAM-MD5");
    expect(error.hint).toContain('"plain"');
    expect(error.hint).toContain('"auto"');
    expect(s.authAttempts).toHaveLength(0);
  });
});

describe('method "auto" with a password', () => {
  it.each([
    [["PLAIN", "LOGIN", "CRAM-MD5"], "cram-md5"],
    [["LOGIN", "PLAIN"], "plain"],
    [["PLAIN"], "plain"],
    [["LOGIN"], "login"],
    [["XOAUTH2", "LOGIN"], "login"],
  ])("the server offers %j: uses %s", async (offered, chosen) => {
    const s = await server({ authMethods: offered });
    const { smtp } = transport(s.port, s, { username: USER, password: PASSWORD, method: "auto" });
    const report = await smtp.verify();
    expect(report.authMethod).toBe(chosen);
    expect(report.authMechanisms).toEqual(offered);
    expect(s.authAttempts).toEqual([{ method: chosen.toUpperCase(), username: USER, success: true, secure: true }]);
  });

  it("fails with EAUTHMECH when only token mechanisms are offered", async () => {
    const s = await server({ authMethods: ["XOAUTH2"] });
    const { smtp } = transport(s.port, s, { username: USER, password: PASSWORD, method: "auto" });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTHMECH", phase: "auth" });
    expect(error.message).toMatch(/password/);
  });

  it("reports a refusal under the mechanism it chose", async () => {
    const s = await server({ authMethods: ["LOGIN", "PLAIN"] });
    const { smtp } = transport(s.port, s, { username: USER, password: "not-it", method: "auto" });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTH", command: "AUTH PLAIN" });
  });

  it("leaves the default at LOGIN when no method is given", async () => {
    const s = await server({ authMethods: ["CRAM-MD5", "PLAIN", "LOGIN"] });
    const { smtp } = transport(s.port, s, { username: USER, password: PASSWORD });
    expect((await smtp.verify()).authMethod).toBe("login");
  });
});
