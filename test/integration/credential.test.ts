import { describe, expect, it } from "vitest";
import type { Secret } from "../../src/secret.ts";
import { SmtpAuthError, SmtpValidationError, parseCredential, validateCredential } from "../../entries/node.ts";
import { credentialFor, expectCode, expectNoSecret, PASSWORD, server, USER } from "./fixtures.ts";

const BASE = Object.freeze({ host: "smtp.office365.com", username: "alerts@example.com", password: "app-password" });

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpValidationError);
    expect((error as SmtpValidationError).code).toBe("EVALIDATION");
    return (error as SmtpValidationError).field;
  }
  throw new Error("expected a validation error");
}

describe("parseCredential: each field", () => {
  it.each(["host", "username", "password"])("names a missing %s", (field) => {
    const input: Record<string, unknown> = { ...BASE };
    delete input[field];
    expect(fieldOf(() => parseCredential(input))).toBe(`credential.${field}`);
    expect(fieldOf(() => parseCredential({ ...BASE, [field]: "" }))).toBe(`credential.${field}`);
    expect(fieldOf(() => parseCredential({ ...BASE, [field]: 42 }))).toBe(`credential.${field}`);
  });

  it("rejects CR/LF in host and username", () => {
    expect(fieldOf(() => parseCredential({ ...BASE, username: "a@example.com\r\nRCPT TO:<x@y>" }))).toBe("credential.username");
    expect(fieldOf(() => parseCredential({ ...BASE, host: "smtp.example.com\n" }))).toBe("credential.host");
  });

  it("accepts the port as a number or a numeric string", () => {
    expect(parseCredential({ ...BASE, port: 587 }).credential.port).toBe(587);
    expect(parseCredential({ ...BASE, port: "587" }).credential.port).toBe(587);
    expect(parseCredential({ ...BASE, port: "2525" }).transport.port).toBe(2525);
  });

  it.each([0, 70000, "abc", -1, 25.5, "587abc", true])("rejects port %j", (port) => {
    expect(fieldOf(() => parseCredential({ ...BASE, port }))).toBe("credential.port");
  });

  it("checks encryption and authMethod against their enums", () => {
    expect(fieldOf(() => parseCredential({ ...BASE, encryption: "ssl" }))).toBe("credential.encryption");
    expect(fieldOf(() => parseCredential({ ...BASE, authMethod: "cram-md5" }))).toBe("credential.authMethod");
    expect(fieldOf(() => parseCredential({ ...BASE, authMethod: 1 }))).toBe("credential.authMethod");
    expect(parseCredential({ ...BASE, encryption: "TLS", authMethod: "Plain" }).credential).toMatchObject({
      encryption: "tls",
      authMethod: "plain",
    });
  });

  it("rejects a field that is not in the credential table", () => {
    expect(fieldOf(() => parseCredential({ ...BASE, hostname: "x" }))).toBe("credential.hostname");
    expect(fieldOf(() => parseCredential({ ...BASE, secure: true }))).toBe("credential.secure");
  });

  it("rejects a JSON __proto__ key instead of reading through it", () => {
    const input = JSON.parse('{"host":"smtp.example.com","username":"a@example.com","__proto__":{"password":"x"}}');
    expect(fieldOf(() => parseCredential(input))).toBe("credential.__proto__");
  });

  it("rejects what is not an object", () => {
    for (const input of [null, undefined, "host", [BASE], 5]) {
      expect(fieldOf(() => parseCredential(input))).toBe("credential");
    }
  });

  it("applies the defaults: starttls on 587, login", () => {
    const { credential, transport } = parseCredential({ ...BASE });
    expect(credential).toEqual({ host: BASE.host, port: 587, encryption: "starttls", username: BASE.username, authMethod: "login" });
    expect(transport.auth?.username).toBe(BASE.username);
    expect(transport.auth?.method).toBe("login");
    // The password travels wrapped: it reaches the wire, never a log.
    const password = transport.auth?.password as Secret;
    expect(password.reveal()).toBe("app-password");
    expect(JSON.stringify(transport)).not.toContain("app-password");
  });

  it("defaults the port per encryption: 465 for tls, 25 for none", () => {
    expect(parseCredential({ ...BASE, encryption: "tls" }).credential.port).toBe(465);
    expect(parseCredential({ ...BASE, encryption: "none" }).credential.port).toBe(25);
    expect(parseCredential({ ...BASE, encryption: "starttls" }).credential.port).toBe(587);
    expect(parseCredential({ ...BASE, encryption: "tls", port: 2465 }).credential.port).toBe(2465);
  });

  it("treats null and empty optional fields as absent", () => {
    const { credential } = parseCredential({ ...BASE, port: null, encryption: "", authMethod: null });
    expect(credential).toMatchObject({ port: 587, encryption: "starttls", authMethod: "login" });
  });

  it("never returns the password in the resolved credential", () => {
    expect(JSON.stringify(parseCredential({ ...BASE }).credential)).not.toContain("app-password");
  });
});

describe("validateCredential against a real server", () => {
  it("reports TLS, the auth method, the SIZE limit and the extensions", async () => {
    const s = await server({ size: 1_000_000 });
    const report = await validateCredential(credentialFor(s), { ca: s.caPem });
    expect(report.valid).toBe(true);
    expect(report.secure).toBe(true);
    expect(report.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(report.authenticated).toBe(true);
    expect(report.authMethod).toBe("login");
    expect(report.sizeLimit).toBe(1_000_000);
    expect(Object.keys(report.extensions)).toEqual(expect.arrayContaining(["SIZE", "AUTH", "PIPELINING"]));
    expect(report.serverName).toBe("smtp.test");
    expect(s.authAttempts).toEqual([{ method: "LOGIN", username: USER, success: true, secure: true }]);
  });

  it("uses PLAIN when the credential says so", async () => {
    const s = await server();
    const report = await validateCredential(credentialFor(s, { authMethod: "plain" }), { ca: s.caPem });
    expect(report.authMethod).toBe("plain");
    expect(s.authAttempts.map((a) => a.method)).toEqual(["PLAIN"]);
  });

  it("works with implicit TLS", async () => {
    const s = await server({ mode: "tls" });
    const report = await validateCredential(credentialFor(s, { encryption: "tls" }), { ca: s.caPem });
    expect(report).toMatchObject({ valid: true, secure: true, encryption: "tls", authenticated: true });
  });

  it("fails with EAUTH for a wrong password, without the password anywhere", async () => {
    const s = await server();
    const wrong = "Wrong-Pw-7731-do-not-leak";
    const error = await expectCode(validateCredential(credentialFor(s, { password: wrong }), { ca: s.caPem }), "EAUTH");
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error.retryable).toBe(false);
    expect(error.replyCode).toBe(535);
    expect(error.hint).toMatch(/app password/);
    expect(error.hint).toMatch(/plain/);
    expectNoSecret(error, wrong);
    expectNoSecret(error, PASSWORD);
    expect(s.authAttempts).toEqual([{ method: "LOGIN", username: USER, success: false, secure: true }]);
  });

  it("fails with EAUTHMECH when the server offers no AUTH", async () => {
    const s = await server({ noAuth: true });
    const error = await expectCode(validateCredential(credentialFor(s), { ca: s.caPem }), "EAUTHMECH");
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(s.authAttempts).toHaveLength(0);
  });

  it("fails with EAUTHMECH when the chosen mechanism is not offered, naming the other", async () => {
    const s = await server({ authMethods: ["PLAIN"] });
    const error = await expectCode(validateCredential(credentialFor(s), { ca: s.caPem }), "EAUTHMECH");
    expect(error.hint).toContain('"plain"');
  });

  it("fails with ESTARTTLS when STARTTLS is not offered, before any AUTH", async () => {
    const s = await server({ mode: "plain" });
    const error = await expectCode(validateCredential(credentialFor(s), { ca: s.caPem }), "ESTARTTLS");
    expect(error.retryable).toBe(false);
    expect(s.authAttempts).toHaveLength(0);
    expectNoSecret(error, PASSWORD);
  });
});
