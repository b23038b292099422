// The NINA "SMTP" credential with authMethod "oauth2": its checks, and validateCredential
// and executeSmtpNode against a real smtp-server speaking XOAUTH2.
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  executeSmtpNode,
  parseCredential,
  Secret,
  SmtpAuthError,
  SmtpError,
  SmtpValidationError,
  validateCredential,
} from "../../entries/node.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/smtp-server.ts";

const USER = "alerts@example.com";
const TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6.oauth2-Credential_Token.never-print-me";
const BASE = Object.freeze({ host: "smtp.office365.com", username: USER, authMethod: "oauth2", accessToken: TOKEN });

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  // Office 365 offers LOGIN and XOAUTH2 after STARTTLS.
  const s = await startTestServer({ authMethods: ["LOGIN", "XOAUTH2"], tokens: { [USER]: TOKEN }, ...options });
  servers.push(s);
  return s;
}

function credentialFor(s: TestServer, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: "127.0.0.1", port: s.port, encryption: "starttls", username: USER, authMethod: "oauth2", accessToken: TOKEN, ...overrides };
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpValidationError);
    return (error as SmtpValidationError).field;
  }
  return undefined;
}

function expectNoToken(value: unknown): void {
  const views = [JSON.stringify(value) ?? "", inspect(value, { depth: 10, showHidden: true }), String(value)];
  if (value instanceof Error) views.push(value.message, value.stack ?? "");
  for (const view of views) {
    expect(view).not.toContain("never-print-me");
    expect(view).not.toContain(Buffer.from(`user=${USER}\x01auth=Bearer ${TOKEN}\x01\x01`).toString("base64"));
  }
}

describe("parseCredential with authMethod oauth2", () => {
  it("needs no password and turns the token into XOAUTH2 auth", () => {
    const { credential, transport } = parseCredential({ ...BASE });
    expect(credential).toEqual({ host: BASE.host, port: 587, encryption: "starttls", username: USER, authMethod: "oauth2" });
    expect(transport.auth?.method).toBe("xoauth2");
    expect(transport.auth?.password).toBeUndefined();
    expect((transport.auth?.accessToken as Secret).reveal()).toBe(TOKEN);
    expectNoToken(credential);
    expectNoToken(transport);
  });

  it("accepts the method in any case and ignores a leftover password", () => {
    const { credential, transport } = parseCredential({ ...BASE, authMethod: "OAuth2", password: "old-password" });
    expect(credential.authMethod).toBe("oauth2");
    expect(transport.auth?.password).toBeUndefined();
  });

  it("names a missing or empty access token", () => {
    const { accessToken: _, ...noToken } = BASE;
    expect(fieldOf(() => parseCredential(noToken))).toBe("credential.accessToken");
    expect(fieldOf(() => parseCredential({ ...BASE, accessToken: "" }))).toBe("credential.accessToken");
    expect(fieldOf(() => parseCredential({ ...BASE, accessToken: null }))).toBe("credential.accessToken");
    try {
      parseCredential(noToken);
    } catch (error) {
      expect((error as Error).message).toBe('Invalid credential.accessToken: is required for authMethod "oauth2"');
    }
  });

  it("names a malformed access token without repeating it", () => {
    for (const bad of ["two words", "line\r\nbreak", "ctl\x01byte", 42]) {
      let error: unknown;
      try {
        parseCredential({ ...BASE, accessToken: bad });
      } catch (e) {
        error = e;
      }
      expect((error as SmtpValidationError).field).toBe("credential.accessToken");
      if (typeof bad === "string") expect((error as Error).message).not.toContain(bad);
    }
  });

  it("still requires the password for login and plain, and still rejects unknown methods", () => {
    const { accessToken: _, authMethod: __, ...rest } = BASE;
    expect(fieldOf(() => parseCredential(rest))).toBe("credential.password");
    expect(fieldOf(() => parseCredential({ ...rest, authMethod: "plain" }))).toBe("credential.password");
    expect(fieldOf(() => parseCredential({ ...BASE, authMethod: "xoauth" }))).toBe("credential.authMethod");
  });

  it("names every field in turn", () => {
    expect(fieldOf(() => parseCredential({ ...BASE, host: "" }))).toBe("credential.host");
    expect(fieldOf(() => parseCredential({ ...BASE, username: "" }))).toBe("credential.username");
    expect(fieldOf(() => parseCredential({ ...BASE, port: "x" }))).toBe("credential.port");
    expect(fieldOf(() => parseCredential({ ...BASE, encryption: "ssl" }))).toBe("credential.encryption");
    expect(fieldOf(() => parseCredential({ ...BASE, refreshToken: "r" }))).toBe("credential.refreshToken");
  });
});

describe("validateCredential with oauth2", () => {
  it("logs in with XOAUTH2 and reports it", async () => {
    const s = await server();
    const report = await validateCredential(credentialFor(s), { ca: s.caPem });
    expect(report).toMatchObject({ valid: true, secure: true, authenticated: true, authMethod: "xoauth2" });
    expect(s.authAttempts).toEqual([{ method: "XOAUTH2", username: USER, success: true, secure: true, accessToken: TOKEN }]);
  });

  it("is never valid with a refused token: EAUTH with the refresh hint, no token anywhere", async () => {
    const s = await server({ tokens: { [USER]: "some-other-token" } });
    const error = await validateCredential(credentialFor(s), { ca: s.caPem }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error).toMatchObject({ code: "EAUTH", replyCode: 535 });
    expect((error as SmtpError).hint).toMatch(/expired/);
    expectNoToken(error);
  });

  it("fails with EAUTHMECH when the server offers no XOAUTH2", async () => {
    const s = await server({ authMethods: ["LOGIN", "PLAIN"] });
    const error = await validateCredential(credentialFor(s), { ca: s.caPem }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: "EAUTHMECH" });
    expect(s.authAttempts).toHaveLength(0);
  });
});

describe("executeSmtpNode with oauth2", () => {
  it("sends the message as the token's user", async () => {
    const s = await server();
    const node = { resource: "email", operation: "send", parameters: { to: ["ada@example.com"], subject: "OAuth2", body: "Sent with a token" } };
    const result = await executeSmtpNode(node, { credential: credentialFor(s) }, { ca: s.caPem });
    expect(result.accepted).toEqual(["ada@example.com"]);
    expect(result.envelope.from).toBe(USER);
    const [message] = await s.waitForMessages(1);
    expect(message?.user).toBe(USER);
    expect(message?.parsed.subject).toBe("OAuth2");
    expectNoToken(result);
  });
});
