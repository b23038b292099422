// The auth options' checks: each mistake names its field before any socket opens, and the
// resolved credentials hide the token like a password.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createTransport, Secret, SmtpValidationError, type Connector, type TransportOptions } from "../../entries/node.ts";
import { resolveOptions } from "../../src/options.ts";

const TOKEN = "ya29.validation-Token_never-print-me";
const provider = (): string => TOKEN;

function spyConnector(): Connector & { calls: number } {
  const spy = {
    calls: 0,
    connect(): never {
      spy.calls++;
      throw new Error("must not connect");
    },
  };
  return spy as unknown as Connector & { calls: number };
}

function fieldOf(auth: unknown): { field?: string; message?: string; connects: number } {
  const connector = spyConnector();
  try {
    createTransport({ host: "smtp.example.com", auth, connector } as TransportOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(SmtpValidationError);
    return { field: (error as SmtpValidationError).field, message: (error as Error).message, connects: connector.calls };
  }
  return { connects: connector.calls };
}

describe("auth options that are refused, by field", () => {
  it.each<[string, unknown, string]>([
    ["xoauth2 without a token", { username: "u", method: "xoauth2" }, "auth.accessToken"],
    ["oauthbearer with only a password", { username: "u", method: "oauthbearer", password: "p" }, "auth.accessToken"],
    ["both a token and a provider", { username: "u", accessToken: TOKEN, tokenProvider: provider }, "auth.tokenProvider"],
    ["a provider that is not a function", { username: "u", method: "xoauth2", tokenProvider: TOKEN }, "auth.tokenProvider"],
    ["an empty token", { username: "u", method: "xoauth2", accessToken: "" }, "auth.accessToken"],
    ["a token with a space", { username: "u", method: "xoauth2", accessToken: "Bearer abc" }, "auth.accessToken"],
    ["a token with 0x01", { username: "u", method: "xoauth2", accessToken: "abc\x01user=evil" }, "auth.accessToken"],
    ["a token that is a number", { username: "u", method: "xoauth2", accessToken: 42 }, "auth.accessToken"],
    ["a token and a password", { username: "u", method: "auto", accessToken: TOKEN, password: "p" }, "auth.password"],
    ["a token with a password method", { username: "u", method: "plain", accessToken: TOKEN }, "auth.password"],
    ["cram-md5 without a password", { username: "u", method: "cram-md5" }, "auth.password"],
    ["auto with neither", { username: "u", method: "auto" }, "auth.password"],
    ["an unknown method", { username: "u", password: "p", method: "gssapi" }, "auth.method"],
    ["a method that is not a string", { username: "u", password: "p", method: 5 }, "auth.method"],
    ["a control byte in the user name of a token", { username: "u\x01auth=Bearer x", accessToken: TOKEN }, "auth.username"],
    ["an empty user name", { username: "", accessToken: TOKEN }, "auth.username"],
  ])("%s → %s", (_label, auth, field) => {
    const result = fieldOf(auth);
    expect(result.field).toBe(field);
    expect(result.connects).toBe(0);
    expect(result.message).not.toContain("never-print-me");
  });

  it("lists every method when the method is unknown", () => {
    expect(fieldOf({ username: "u", password: "p", method: "gssapi" }).message).toBe(
      'Invalid auth.method: must be one of "login", "plain", "cram-md5", "xoauth2", "oauthbearer", "auto"',
    );
  });
});

describe("auth options that resolve", () => {
  it("a password alone: LOGIN, as before", () => {
    expect(resolveOptions({ host: "h.example", auth: { username: "u", password: "p" } }).auth).toMatchObject({ kind: "password", method: "login" });
  });

  it("a password with auto, cram-md5 or plain", () => {
    for (const method of ["auto", "cram-md5", "plain"] as const) {
      expect(resolveOptions({ host: "h.example", auth: { username: "u", password: "p", method } }).auth).toMatchObject({ kind: "password", method });
    }
  });

  it("a token alone: auto", () => {
    const auth = resolveOptions({ host: "h.example", auth: { username: "u", accessToken: TOKEN } }).auth;
    expect(auth).toMatchObject({ kind: "token", method: "auto" });
  });

  it("a provider with an explicit mechanism", () => {
    const auth = resolveOptions({ host: "h.example", auth: { username: "u", tokenProvider: provider, method: "oauthbearer" } }).auth;
    expect(auth).toMatchObject({ kind: "token", method: "oauthbearer", tokenProvider: provider });
  });

  it("holds the token in a Secret: not in JSON, inspect or String", () => {
    for (const accessToken of [TOKEN, new Secret(TOKEN)]) {
      const resolved = resolveOptions({ host: "h.example", auth: { username: "u", method: "xoauth2", accessToken } });
      expect((resolved.auth as { accessToken: Secret }).accessToken.reveal()).toBe(TOKEN);
      for (const view of [JSON.stringify(resolved), inspect(resolved, { depth: 10, showHidden: true }), String(resolved.auth)]) {
        expect(view).not.toContain("never-print-me");
      }
    }
  });
});
