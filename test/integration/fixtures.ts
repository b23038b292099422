/**
 * Shared fixtures for the integration tests: servers closed after each test, a credential
 * for a test server, and a minimal valid node.
 *
 * @module
 */

import { afterEach, expect } from "vitest";
import { SmtpError } from "../../entries/node.ts";
import { startRawServer, startTestServer, type RawServer, type TestServer, type TestServerOptions } from "../helpers/smtp-server.ts";
import type { Socket } from "node:net";

/** The harness's default account. */
export const USER = "user@example.com";
/** Its password, distinctive so tests can check that it never leaks. */
export const PASSWORD = "Pw-9qZ!never-print-me";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Starts a test server (account {@link USER} / {@link PASSWORD}) that is closed after the test. */
export async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startTestServer({ users: { [USER]: PASSWORD }, ...options });
  cleanups.push(() => s.close());
  return s;
}

/** Starts a raw scripted server that is closed after the test. */
export async function rawServer(handler: (socket: Socket) => void): Promise<RawServer> {
  const s = await startRawServer(handler);
  cleanups.push(() => s.close());
  return s;
}

/** A credential for `s` (STARTTLS unless the server is plain or implicit TLS). */
export function credentialFor(
  s: { port: number },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return { host: "127.0.0.1", port: s.port, encryption: "starttls", username: USER, password: PASSWORD, ...overrides };
}

/** A valid email/send node with the given parameters. */
export function nodeWith(parameters: Record<string, unknown>): Record<string, unknown> {
  return { resource: "email", operation: "send", parameters };
}

/** The smallest valid parameters. */
export const MINIMAL: Readonly<{ to: string[]; subject: string; body: string }> = Object.freeze({ to: ["ada@example.com"], subject: "Hello", body: "Hi Ada" });

/** Awaits `promise`, expects an SmtpError with `code`, and returns it. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<SmtpError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, but it succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmtpError);
  expect((error as SmtpError).code, (error as Error).message).toBe(code);
  return error as SmtpError;
}

/** Throws unless `error` (message, JSON, stack, hint) never mentions `secret`. */
export function expectNoSecret(error: unknown, secret: string): void {
  const e = error as SmtpError;
  expect(e.message).not.toContain(secret);
  expect(JSON.stringify(e.toJSON())).not.toContain(secret);
  expect(JSON.stringify(e)).not.toContain(secret);
  expect(String(e.stack)).not.toContain(secret);
  expect(e.hint ?? "").not.toContain(secret);
}
