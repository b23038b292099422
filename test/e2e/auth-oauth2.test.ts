// OAuth2 end to end: XOAUTH2 (smtp-server's own implementation) and OAUTHBEARER (RFC 7628,
// added to smtp-server by the harness) through the Node adapter, with static tokens and
// with a token provider that refreshes after the server's "401" error challenge.
import { afterEach, describe, expect, it } from "vitest";
import {
  createTransport,
  SmtpAuthError,
  SmtpError,
  type Transport,
  type TransportOptions,
  type TranscriptLine,
} from "../../entries/node.ts";
import type { TokenContext } from "../../src/options.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/smtp-server.ts";

const USER = "user@example.com";
const TOKEN = "ya29.a0-Fresh_Token~for.user";
const STALE = "ya29.a0-Stale_Token~expired";

const servers: TestServer[] = [];
const transports: Transport[] = [];

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer({ authMethods: ["LOGIN", "PLAIN", "XOAUTH2", "OAUTHBEARER"], tokens: { [USER]: TOKEN }, ...options });
  servers.push(s);
  return s;
}

function transport(s: TestServer, auth: TransportOptions["auth"], extra: Partial<TransportOptions> = {}): { smtp: Transport; log: TranscriptLine[] } {
  const log: TranscriptLine[] = [];
  const smtp = createTransport({
    host: "localhost", port: s.port, encryption: "starttls", ca: s.caPem, auth, logger: (line) => log.push(line), ...extra,
  });
  transports.push(smtp);
  return { smtp, log };
}

async function failure(promise: Promise<unknown>): Promise<SmtpError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SmtpError);
  return error as SmtpError;
}

/** A provider that hands out `tokens` in turn and records every call. */
function provider(...tokens: string[]): { fn: (context: TokenContext) => Promise<string>; calls: TokenContext[] } {
  const calls: TokenContext[] = [];
  return {
    calls,
    fn: async (context) => {
      calls.push({ ...context });
      await new Promise((resolve) => setTimeout(resolve, 5));
      return tokens[Math.min(calls.length - 1, tokens.length - 1)] as string;
    },
  };
}

const clientLines = (log: TranscriptLine[]): string[] => log.filter((l) => l.direction === "client").map((l) => l.line);

describe("XOAUTH2", () => {
  it("logs in with a static token: the server sees the user and the token, and mail goes through", async () => {
    const s = await server();
    const { smtp, log } = transport(s, { username: USER, method: "xoauth2", accessToken: TOKEN });
    const report = await smtp.verify();
    expect(report).toMatchObject({ authenticated: true, authMethod: "xoauth2", secure: true });
    expect(s.authAttempts).toEqual([{ method: "XOAUTH2", username: USER, success: true, secure: true, accessToken: TOKEN }]);
    await smtp.send({ to: "ada@example.com", subject: "Hi", text: "Hello" });
    const [message] = await s.waitForMessages(1);
    expect(message?.user).toBe(USER);
    // One round trip: the token rides on the AUTH line as the initial response.
    expect(clientLines(log).filter((l) => l.startsWith("AUTH"))).toEqual(["AUTH XOAUTH2 [redacted]", "AUTH XOAUTH2 [redacted]"]);
  });

  it("accepts the token as a Secret", async () => {
    const { Secret } = await import("../../entries/node.ts");
    const s = await server();
    const { smtp } = transport(s, { username: USER, method: "xoauth2", accessToken: new Secret(TOKEN) });
    await expect(smtp.verify()).resolves.toMatchObject({ authMethod: "xoauth2" });
  });

  it("sends a token too long for one AUTH line after the server's empty challenge (RFC 4954 §4)", async () => {
    const long = `eyJ0eXAiOiJKV1Qi.${"x".repeat(10_000)}.sig`;
    const s = await server({ tokens: { [USER]: long } });
    const { smtp, log } = transport(s, { username: USER, method: "xoauth2", accessToken: long });
    await expect(smtp.verify()).resolves.toMatchObject({ authMethod: "xoauth2" });
    expect(s.authAttempts[0]).toMatchObject({ method: "XOAUTH2", success: true, accessToken: long });
    const auth = clientLines(log).findIndex((l) => l.startsWith("AUTH"));
    expect(clientLines(log).slice(auth, auth + 2)).toEqual(["AUTH XOAUTH2", "[redacted]"]);
  });
});

describe("OAUTHBEARER (RFC 7628)", () => {
  it("logs in with a static token and reports host and port", async () => {
    const s = await server();
    const { smtp } = transport(s, { username: USER, method: "oauthbearer", accessToken: TOKEN });
    expect(await smtp.verify()).toMatchObject({ authenticated: true, authMethod: "oauthbearer" });
    expect(s.authAttempts).toEqual([
      { method: "OAUTHBEARER", username: USER, success: true, secure: true, accessToken: TOKEN, host: "localhost", port: String(s.port) },
    ]);
  });

  it("escapes , and = in the user name, and the server reads it back unchanged", async () => {
    const odd = "a,b=c@example.com";
    const s = await server({ tokens: { [odd]: TOKEN } });
    const { smtp } = transport(s, { username: odd, method: "oauthbearer", accessToken: TOKEN });
    await smtp.verify();
    expect(s.authAttempts[0]).toMatchObject({ username: odd, success: true });
  });
});

describe("automatic choice with a token", () => {
  it("prefers OAUTHBEARER when both are offered", async () => {
    const s = await server();
    const { smtp } = transport(s, { username: USER, method: "auto", accessToken: TOKEN });
    expect((await smtp.verify()).authMethod).toBe("oauthbearer");
  });

  it("uses XOAUTH2 when only it is offered (Office 365 offers LOGIN and XOAUTH2)", async () => {
    const s = await server({ authMethods: ["LOGIN", "XOAUTH2"] });
    const { smtp } = transport(s, { username: USER, method: "auto", accessToken: TOKEN });
    expect((await smtp.verify()).authMethod).toBe("xoauth2");
  });

  it("is the default when a token is given without a method", async () => {
    const s = await server({ authMethods: ["XOAUTH2"] });
    const { smtp } = transport(s, { username: USER, accessToken: TOKEN });
    expect((await smtp.verify()).authMethod).toBe("xoauth2");
  });

  it("fails with EAUTHMECH, before asking the provider, when the server offers no OAuth2 mechanism", async () => {
    const s = await server({ authMethods: ["PLAIN", "LOGIN"] });
    const p = provider(TOKEN);
    const { smtp } = transport(s, { username: USER, tokenProvider: p.fn });
    const error = await failure(smtp.verify());
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error).toMatchObject({ code: "EAUTHMECH", phase: "auth" });
    expect(error.message).toMatch(/OAuth2/);
    expect(p.calls).toHaveLength(0);
    expect(s.authAttempts).toHaveLength(0);
  });

  it("names the mechanism when an explicit one is not offered", async () => {
    const s = await server({ authMethods: ["LOGIN", "XOAUTH2"] });
    const { smtp } = transport(s, { username: USER, method: "oauthbearer", accessToken: TOKEN });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTHMECH" });
    expect(error.message).toContain("OAUTHBEARER");
    expect(error.hint).toContain('"xoauth2"');
  });
});

describe.each(["xoauth2", "oauthbearer"] as const)("an expired token (%s)", (method) => {
  const ack = method === "xoauth2" ? "" : "AQ==";

  it("with a provider: answers the error challenge, asks for a fresh token and logs in on the same connection", async () => {
    const s = await server();
    const p = provider(STALE, TOKEN);
    const { smtp, log } = transport(s, { username: USER, method, tokenProvider: p.fn });
    const report = await smtp.verify();
    expect(report.authMethod).toBe(method);
    expect(p.calls).toEqual([
      { username: USER, host: "localhost", refresh: false },
      { username: USER, host: "localhost", refresh: true },
    ]);
    expect(s.authAttempts.map((a) => [a.accessToken, a.success])).toEqual([[STALE, false], [TOKEN, true]]);
    expect(s.sessions).toBe(1);
    const mechanism = method.toUpperCase();
    // The 334 error challenge is answered (empty line / ^A) before the retry.
    expect(clientLines(log).filter((l) => l.startsWith("AUTH") || l === ack)).toEqual([
      `AUTH ${mechanism} [redacted]`, ack, `AUTH ${mechanism} [redacted]`,
    ]);
    const challenge = log.find((l) => l.direction === "server" && l.line.startsWith("334 "));
    expect(Buffer.from(challenge?.line.slice(4) ?? "", "base64").toString()).toContain('"status":"401"');
  });

  it("with a static token: EAUTH with a hint to refresh it, after one attempt", async () => {
    const s = await server();
    const { smtp } = transport(s, { username: USER, method, accessToken: STALE });
    const error = await failure(smtp.verify());
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error).toMatchObject({ code: "EAUTH", phase: "auth", retryable: false, replyCode: 535, command: `AUTH ${method.toUpperCase()}` });
    expect(error.message).toContain("OAuth2 status 401");
    expect(error.hint).toMatch(/expired/);
    expect(error.hint).toMatch(/tokenProvider/);
    expect(s.authAttempts).toHaveLength(1);
  });

  it("with a provider whose fresh token is refused too: EAUTH after exactly two attempts", async () => {
    const s = await server();
    const p = provider(STALE, "ya29.still-wrong");
    const { smtp } = transport(s, { username: USER, method, tokenProvider: p.fn });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTH", replyCode: 535 });
    expect(error.hint).toMatch(/freshly issued/);
    expect(p.calls.map((c) => c.refresh)).toEqual([false, true]);
    expect(s.authAttempts).toHaveLength(2);
  });
});

describe("token refusals that a fresh token cannot fix", () => {
  it("a missing scope (status 403) is not retried and the hint names the scope", async () => {
    const s = await server({ oauthError: { status: "403", scope: "https://mail.google.com/" } });
    const p = provider(STALE, TOKEN);
    const { smtp } = transport(s, { username: USER, method: "xoauth2", tokenProvider: p.fn });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTH" });
    expect(error.message).toContain("OAuth2 status 403");
    expect(error.hint).toContain("https://mail.google.com/");
    expect(p.calls).toHaveLength(1);
  });
});

describe("the token provider", () => {
  it("that throws: a clear EAUTH naming its message, and no AUTH is sent", async () => {
    const s = await server();
    const { smtp } = transport(s, {
      username: USER, method: "xoauth2",
      tokenProvider: () => {
        throw new Error("token endpoint unreachable");
      },
    });
    const error = await failure(smtp.verify());
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error).toMatchObject({ code: "EAUTH", phase: "auth", retryable: false });
    expect(error.message).toBe("The OAuth2 token provider failed: token endpoint unreachable");
    expect(error.hint).toMatch(/token provider/);
    expect(s.authAttempts).toHaveLength(0);
  });

  it("that rejects while refreshing: EAUTH that says the refresh failed", async () => {
    const s = await server();
    let calls = 0;
    const { smtp } = transport(s, {
      username: USER, method: "oauthbearer",
      tokenProvider: async ({ refresh }) => {
        calls++;
        if (refresh) throw new Error("invalid_grant");
        return STALE;
      },
    });
    const error = await failure(smtp.verify());
    expect(error.message).toContain("invalid_grant");
    expect(error.hint).toMatch(/fresh one failed/);
    expect(calls).toBe(2);
  });

  it.each([
    ["an empty string", ""],
    ["undefined", undefined],
    ["a token with a space", "two words"],
  ])("that returns %s: EAUTH, nothing sent", async (_label, value) => {
    const s = await server();
    const { smtp } = transport(s, { username: USER, method: "xoauth2", tokenProvider: () => value as string });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "EAUTH" });
    expect(error.message).toMatch(/token provider returned/);
    expect(s.authAttempts).toHaveLength(0);
  });

  it("that hangs: ETIMEDOUT after the command timeout", async () => {
    const s = await server();
    const { smtp } = transport(s, { username: USER, method: "xoauth2", tokenProvider: () => new Promise<string>(() => {}) }, {
      timeouts: { command: 300 },
    });
    const error = await failure(smtp.verify());
    expect(error).toMatchObject({ code: "ETIMEDOUT", phase: "auth" });
    expect(error.message).toMatch(/token provider/);
  });

  it("stops waiting as soon as the caller aborts", async () => {
    const s = await server();
    const { smtp } = transport(s, { username: USER, method: "xoauth2", tokenProvider: () => new Promise<string>(() => {}) });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const error = await failure(smtp.verify({ signal: controller.signal }));
    expect(error.code).toBe("EABORT");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("is asked once per connection, not once per message", async () => {
    const s = await server();
    const p = provider(TOKEN);
    const { smtp } = transport(s, { username: USER, method: "xoauth2", tokenProvider: p.fn }, { idleTimeout: 5_000 });
    await smtp.send({ to: "a@example.com", subject: "1", text: "1" });
    await smtp.send({ to: "b@example.com", subject: "2", text: "2" });
    await s.waitForMessages(2);
    expect(p.calls).toEqual([{ username: USER, host: "localhost", refresh: false }]);
    expect(s.sessions).toBe(1);
  });
});
